"""A case's payment state (due / paid / none), for every case status × order status, on
both paths (pay then register, register then pay), with and without fees assessed."""

from __future__ import annotations

import pytest

from app.cases.workflow import CaseRules, CaseStatus, StepOrder
from app.ebills.receipts import RECEIPT_STATUSES
from app.policies.payments import (
    SETTLED_ORDER_STATUSES,
    OrderOutcome,
    PaymentState,
    state_for,
)
from payments.models import OrderStatus

S = CaseStatus
PAY_FIRST = CaseRules(StepOrder.PAY_THEN_REGISTER, issues_certificate=True)
REGISTER_FIRST = CaseRules(StepOrder.REGISTER_THEN_PAY, issues_certificate=True)
PATHS = {"pay_first": PAY_FIRST, "register_first": REGISTER_FIRST}

# Where the pay button shows (fees assessed): the status from which the path moves to paid.
DUE_ON = {"pay_first": S.FEES_ASSESSED, "register_first": S.REGISTERED}
# Paid whatever the orders say: paid or past it (a counter payment leaves no order); a
# pay-first case is registered only once paid.
PAID_ON = {"pay_first": {S.PAID, S.REGISTERED, S.CERTIFICATE_ISSUED, S.ARCHIVED},
           "register_first": {S.PAID, S.CERTIFICATE_ISSUED, S.ARCHIVED}}
TOOK_THE_MONEY = {OrderStatus.PAID, OrderStatus.REFUNDING, OrderStatus.REFUNDED,
                  OrderStatus.PARTIALLY_REFUNDED}
ORDER_STATUSES = [None, *OrderStatus]


def expected(path: str, status: CaseStatus, order: OrderStatus | None,
             assessed_fen: int) -> PaymentState:
    if status == DUE_ON[path]:
        return PaymentState.DUE if assessed_fen else PaymentState.NONE
    if order in TOOK_THE_MONEY:
        return PaymentState.PAID
    if status in PAID_ON[path] and (assessed_fen or status != S.REGISTERED):
        return PaymentState.PAID
    return PaymentState.NONE


@pytest.mark.parametrize("assessed_fen", [0, 150_00])
@pytest.mark.parametrize("order", ORDER_STATUSES, ids=lambda o: f"order_{o or 'none'}")
@pytest.mark.parametrize("status", list(CaseStatus), ids=str)
@pytest.mark.parametrize("path", PATHS)
def test_the_payment_state_of_a_case_follows_its_status_and_its_orders(
        path: str, status: CaseStatus, order: OrderStatus | None, assessed_fen: int) -> None:
    orders = [order] if order is not None else []
    assert state_for(status, PATHS[path], assessed_fen, orders) == expected(
        path, status, order, assessed_fen)


def test_a_case_with_fees_assessed_is_due_on_its_path_and_paid_after_it() -> None:
    assert state_for(S.FEES_ASSESSED, PAY_FIRST, 100, []) == PaymentState.DUE
    assert state_for(S.REGISTERED, PAY_FIRST, 100, []) == PaymentState.PAID
    assert state_for(S.REGISTERED, REGISTER_FIRST, 100, []) == PaymentState.DUE
    assert state_for(S.FEES_ASSESSED, REGISTER_FIRST, 100, []) == PaymentState.NONE


def test_a_refused_case_whose_order_was_refunded_still_counts_as_paid() -> None:
    assert state_for(S.REJECTED, PAY_FIRST, 100, [OrderStatus.REFUNDED]) == PaymentState.PAID
    assert state_for(S.REJECTED, PAY_FIRST, 100, [OrderStatus.CLOSED]) == PaymentState.NONE


def test_the_orders_that_took_the_money_are_those_the_receipts_list() -> None:
    assert SETTLED_ORDER_STATUSES == TOOK_THE_MONEY == set(RECEIPT_STATUSES)


@pytest.mark.parametrize("status", list(OrderStatus), ids=str)
def test_the_page_back_from_the_cashier_says_paid_closed_or_pending(
        status: OrderStatus) -> None:
    from app.policies.payments import order_outcome

    class Order:
        status_enum = status

    want = (OrderOutcome.PAID if status in TOOK_THE_MONEY
            else OrderOutcome.CLOSED if status == OrderStatus.CLOSED else OrderOutcome.PENDING)
    assert order_outcome(Order()) == want  # type: ignore[arg-type]
