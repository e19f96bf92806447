"""When a case counts as paid: which orders took the money, and a case's payment state.

One rule for every channel: the mobile-web pay page's button and "paid" screen, the
case page's link to the e-bills, and the PAY action of :mod:`app.policies.cases`
(``case_payable``: a case is *due* exactly when that action is offered).

- An order *took the money* when it was paid, even if it was refunded since
  (``SETTLED_ORDER_STATUSES``; created, paying and closed orders never did) — the same
  orders the citizen's receipts list (``app.ebills.receipts.RECEIPT_STATUSES``).
- A case is **due** when its business type's path allows the move to paid now and
  something is assessed; **paid** when an order took the money, when the case is paid or
  past it (a counter payment leaves no order), or when a pay-first case was registered
  with fees assessed; **none** otherwise (nothing assessed yet, nothing to pay, ended).

tests/app/policies/test_payment_state_policy.py walks every case status × order status.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from app.cases.models import Case
from app.cases.workflow import CaseRules, CaseStatus, can_move
from app.fees import checkout
from app.fees.service import current_fees, total_fen
from payments.models import OrderStatus, PaymentOrder


class PaymentState(enum.StrEnum):
    DUE = "due"  # the pay button
    PAID = "paid"  # online or at the counter
    NONE = "none"  # nothing assessed yet, nothing to pay, or the case ended


class OrderOutcome(enum.StrEnum):
    """What the page back from the cashier says about one order."""

    PAID = "paid"
    CLOSED = "closed"
    PENDING = "pending"


# Orders that took the money (refunded since or not).
SETTLED_ORDER_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.REFUNDING,
                                    OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED})
# Orders still waiting for the payer (or for the gateway's word).
OPEN_ORDER_STATUSES = frozenset({OrderStatus.CREATED, OrderStatus.PAYING})
# A case in these statuses has been paid, online or at the counter.
PAID_CASE_STATUSES = frozenset({CaseStatus.PAID, CaseStatus.CERTIFICATE_ISSUED,
                                CaseStatus.ARCHIVED})


def order_settled(order: PaymentOrder) -> bool:
    return order.status_enum in SETTLED_ORDER_STATUSES


def order_outcome(order: PaymentOrder) -> OrderOutcome:
    if order_settled(order):
        return OrderOutcome.PAID
    if order.status_enum == OrderStatus.CLOSED:
        return OrderOutcome.CLOSED
    return OrderOutcome.PENDING


def settled_order(case: Case) -> PaymentOrder | None:
    """The case's first order that took the money, if any."""
    return next((o for o in checkout.orders_of(case) if order_settled(o)), None)


def state_for(status: CaseStatus, rules: CaseRules, assessed_fen: int,
              order_statuses: Iterable[OrderStatus]) -> PaymentState:
    """The rule itself, on plain values (the case's status and path, what is assessed,
    the statuses of its orders)."""
    if can_move(status, CaseStatus.PAID, rules):
        return PaymentState.DUE if assessed_fen > 0 else PaymentState.NONE
    if any(s in SETTLED_ORDER_STATUSES for s in order_statuses) \
            or status in PAID_CASE_STATUSES \
            or (status == CaseStatus.REGISTERED and assessed_fen > 0):
        return PaymentState.PAID
    return PaymentState.NONE


def payment_state(case: Case) -> PaymentState:
    """The case's payment state now."""
    return state_for(case.status_enum, case.business_type.rules,
                     total_fen(current_fees(case)),
                     (o.status_enum for o in checkout.orders_of(case)))


def is_due(case: Case) -> bool:
    """Fees assessed, not paid yet, and something to pay (the PAY action)."""
    return payment_state(case) == PaymentState.DUE
