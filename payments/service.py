"""Orders and what gateways say about them: idempotent, verified, double-entry.

The core of payments knows orders, their items and the ledger; the case and its fees
are the application's (the use cases in app/usecases/payments.py), which call these
functions and commit. Nothing here commits: every function flushes at most.

* :func:`prepare_order` — one order per payment request; the same request twice (same
  case, assessment, gateway and payer) returns the same order. The caller commits the
  row *before* the gateway is called (:func:`create_at_gateway`), so a notification can
  never arrive for an order we do not have.
* :func:`apply_result` — a verified notification or query result. The app id, the
  merchant id, the order number and the amount must match the order; anything else is
  recorded and changes nothing. Applying the same payment twice (100 notifications, a
  notification racing a query) changes the order once: the order row is locked and the
  transition is conditional.
* The ledger: a payment debits ``clearing:<gateway>`` and credits
  ``department:<code>`` for each item; a refund reverses the items refunded.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.kernel.db import db
from app.kernel.timeutil import local_date, utcnow
from payments.gateways.base import (
    CreatedPayment,
    Gateway,
    GatewayUnavailable,
    PaymentResult,
    RefundResult,
    TradeState,
)
from payments.models import (
    ORDER_STATES,
    REFUND_STATES,
    LedgerEntry,
    OrderItem,
    OrderStatus,
    PaymentEvent,
    PaymentOrder,
    Refund,
    RefundStatus,
)

logger = logging.getLogger(__name__)
OPEN = (OrderStatus.CREATED, OrderStatus.PAYING)


@dataclass(frozen=True)
class ItemIn:
    fee_id: int
    item_code: str
    name: str
    department: str
    amount_fen: int


@dataclass(frozen=True)
class Applied:
    outcome: str  # applied | duplicate | rejected | mismatch | unknown_order | not_paid
    order: PaymentOrder | None
    newly_paid: bool = False


def new_out_trade_no() -> str:
    """'BDC' + Beijing date + 13 random digits: unique, unguessable, ≤ 32 characters."""
    return f"BDC{local_date().strftime('%Y%m%d')}{secrets.randbelow(10**13):013d}"


def idempotency_key(case_id: int, fee_ids: Iterable[int], gateway: str, payer: int) -> str:
    raw = f"{case_id}|{','.join(map(str, sorted(fee_ids)))}|{gateway}|{payer}"
    return hashlib.sha256(raw.encode()).hexdigest()


def prepare_order(*, gateway: Gateway, case_id: int, payer_account_id: int,
                  items: list[ItemIn], channel: str,
                  ttl: timedelta = timedelta(minutes=30)) -> PaymentOrder:
    """The open order for this request, or a new one (flushes; the caller commits it
    before the gateway hears of it, see :func:`needs_gateway`).

    An expired unpaid order is closed at the gateway first (before any write) and
    replaced; a closed one no longer answers the request."""
    if not items or any(i.amount_fen <= 0 for i in items):
        raise ValueError("an order needs items with positive amounts")
    key = idempotency_key(case_id, [i.fee_id for i in items], gateway.name, payer_account_id)
    now = utcnow()
    order = db.session.scalar(select(PaymentOrder).where(PaymentOrder.idempotency_key == key))
    if order is not None and order.status_enum in OPEN and order.expires_at <= now:
        close_expired(order, gateway)  # expired unpaid: start again with a new number
    if order is not None and order.status_enum == OrderStatus.CLOSED:
        _release_key(order)  # closed unpaid (expired, cancelled): pay again with a new number
        db.session.flush()
        order = None
    if order is not None:
        return order
    order = PaymentOrder(
        out_trade_no=new_out_trade_no(), idempotency_key=key, case_id=case_id,
        payer_account_id=payer_account_id, gateway=gateway.name,
        amount_fen=sum(i.amount_fen for i in items), status=OrderStatus.CREATED,
        channel=channel, created_at=now, expires_at=now + ttl,
        items=[OrderItem(fee_id=i.fee_id, item_code=i.item_code, name=i.name,
                         department=i.department, amount_fen=i.amount_fen) for i in items],
    )
    db.session.add(order)
    db.session.flush()
    return order


def needs_gateway(order: PaymentOrder) -> bool:
    """The gateway has not created this order's payment yet."""
    return order.status_enum == OrderStatus.CREATED


def create_at_gateway(order: PaymentOrder, gateway: Gateway, description: str,
                      payer_openid: str | None, notify_url: str,
                      return_url: str | None) -> CreatedPayment:
    """Ask the gateway to create the order's payment (no database access)."""
    return gateway.create_payment(
        out_trade_no=order.out_trade_no, amount_fen=order.amount_fen,
        description=description, expires_at=order.expires_at, payer_openid=payer_openid,
        notify_url=notify_url, return_url=return_url)


def record_created(order_id: int, created: CreatedPayment) -> PaymentOrder:
    """What the client needs to pay; the order is now the gateway's too (flushes)."""
    order = _locked(order_id)
    order.client_params = dict(created.client_params)
    order.pay_url = created.pay_url
    if order.status_enum == OrderStatus.CREATED:
        ORDER_STATES.move(order, OrderStatus.PAYING)
    db.session.flush()
    return order


def _locked(order_id: int) -> PaymentOrder:
    order = db.session.scalar(select(PaymentOrder).where(PaymentOrder.id == order_id)
                              .with_for_update(of=PaymentOrder)
                              .execution_options(populate_existing=True))
    assert order is not None
    return order


def _event(gateway: str, source: str, result: PaymentResult | None, outcome: str,
           reason: str | None = None, out_trade_no: str | None = None) -> None:
    db.session.add(PaymentEvent(
        gateway=gateway, source=source,
        out_trade_no=(result.out_trade_no if result else out_trade_no),
        transaction_id=result.transaction_id if result else None,
        amount_fen=result.amount_fen if result else None, outcome=outcome,
        reason=(reason or "")[:200] or None))
    if outcome not in ("applied", "duplicate", "not_paid"):
        logger.warning("payment %s from %s refused: %s (%s)", source, gateway, outcome, reason)
    elif outcome == "duplicate":
        logger.info("payment %s from %s absorbed as a duplicate (%s)", source, gateway,
                    result.out_trade_no if result else out_trade_no)


def record_rejected(gateway: str, source: str, reason: str) -> None:
    """A notification that failed verification: logged, nothing else (the caller commits)."""
    _event(gateway, source, None, "rejected", reason)


def apply_result(gateway: Gateway, result: PaymentResult, source: str) -> Applied:
    """Apply a verified gateway statement to its order (the caller commits)."""
    order_id = db.session.scalar(select(PaymentOrder.id).where(
        PaymentOrder.out_trade_no == result.out_trade_no))
    if order_id is None:
        _event(gateway.name, source, result, "unknown_order", "no such order")
        return Applied("unknown_order", None)
    order = _locked(order_id)
    problems = []
    if order.gateway != gateway.name:
        problems.append(f"gateway {gateway.name} for a {order.gateway} order")
    if result.app_id is not None and result.app_id != getattr(gateway, "app_id", result.app_id):
        problems.append("app id")
    merchant = getattr(gateway, "merchant_id", None)
    if merchant is not None and result.merchant_id is not None and result.merchant_id != merchant:
        problems.append("merchant id")
    if result.state == TradeState.PAID and result.amount_fen != order.amount_fen:
        problems.append(f"amount {result.amount_fen} ≠ {order.amount_fen}")
    if problems:
        _event(gateway.name, source, result, "mismatch", "; ".join(problems))
        return Applied("mismatch", order)
    if result.state != TradeState.PAID:
        if result.state == TradeState.CLOSED and order.status_enum in OPEN:
            ORDER_STATES.move(order, OrderStatus.CLOSED)
            order.closed_at = utcnow()
            _release_key(order)
        _event(gateway.name, source, result, "not_paid", result.state.value)
        return Applied("not_paid", order)
    if order.paid_at is not None:
        same = order.transaction_id == result.transaction_id
        _event(gateway.name, source, result, "duplicate" if same else "mismatch",
               None if same else "another transaction for a paid order")
        return Applied("duplicate" if same else "mismatch", order)
    ORDER_STATES.move(order, OrderStatus.PAID)
    order.paid_at = result.paid_at or utcnow()
    order.transaction_id = result.transaction_id
    _post_payment(order)
    _event(gateway.name, source, result, "applied")
    return Applied("applied", order, newly_paid=True)


def _post_payment(order: PaymentOrder) -> None:
    txn = f"pay:{order.out_trade_no}"
    db.session.add(LedgerEntry(txn=txn, account=f"clearing:{order.gateway}",
                               debit_fen=order.amount_fen, order_id=order.id,
                               memo="收款"))
    for item in order.items:
        db.session.add(LedgerEntry(txn=txn, account=f"department:{item.department}",
                                   credit_fen=item.amount_fen, order_id=order.id,
                                   order_item_id=item.id, memo=item.name))


def close_expired(order: PaymentOrder, gateway: Gateway) -> None:
    """Close an unpaid order at the gateway and here (the caller commits)."""
    try:
        gateway.close(order.out_trade_no)
    except GatewayUnavailable:
        raise
    except Exception as exc:  # the gateway may not know an order it never created
        logger.info("close %s: %s", order.out_trade_no, exc)
    if order.status_enum in OPEN:
        ORDER_STATES.move(order, OrderStatus.CLOSED)
        order.closed_at = utcnow()
        _release_key(order)


def _release_key(order: PaymentOrder) -> None:
    """A closed order no longer answers its request: the next one opens a new order."""
    order.idempotency_key = f"closed:{order.out_trade_no}"


def allocations(order_id: int) -> dict[str, int]:
    """Net amount allocated to each department for an order (credits − debits)."""
    rows = db.session.execute(
        select(LedgerEntry.account, func.sum(LedgerEntry.credit_fen - LedgerEntry.debit_fen))
        .where(LedgerEntry.order_id == order_id, LedgerEntry.account.like("department:%"))
        .group_by(LedgerEntry.account)).all()
    return {account.split(":", 1)[1]: int(total) for account, total in rows}


def unbalanced_transactions() -> list[str]:
    """Ledger transactions whose debits and credits differ (must always be empty)."""
    rows = db.session.execute(
        select(LedgerEntry.txn).group_by(LedgerEntry.txn)
        .having(func.sum(LedgerEntry.debit_fen) != func.sum(LedgerEntry.credit_fen))).all()
    return [row[0] for row in rows]


def due_for_query(now: datetime, older_than: timedelta = timedelta(minutes=2),
                  limit: int = 100) -> list[PaymentOrder]:
    """Open orders whose notification has not come: the job asks the gateway."""
    return list(db.session.scalars(select(PaymentOrder).where(
        PaymentOrder.status.in_([s.value for s in OPEN]),
        PaymentOrder.created_at <= now - older_than).order_by(PaymentOrder.id).limit(limit)))


# --- refunds ---------------------------------------------------------------------------------

class RefundRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def request_refund(order: PaymentOrder, items: list[tuple[int, int]], reason: str,
                   requested_by: str) -> Refund:
    """Ask to refund ``items`` [(order item id, fen)] of a paid order (the caller commits)."""
    if order.status_enum not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
        raise RefundRefused("只有已支付的订单可以退款")
    reason = reason.strip()
    if not 2 <= len(reason) <= 200:
        raise RefundRefused("请填写退款原因（2 至 200 字）")
    by_id = {item.id: item for item in order.items}
    pending = pending_by_item(order)
    clean = []
    for item_id, amount in items:
        item = by_id.get(item_id)
        if item is None:
            raise RefundRefused("退款项目不属于该订单")
        left = item.amount_fen - item.refunded_fen - pending.get(item_id, 0)
        if not 0 < amount <= left:
            raise RefundRefused(f"“{item.name}”可退金额为 {left} 分")
        clean.append({"order_item_id": item_id, "amount_fen": amount})
    if not clean:
        raise RefundRefused("请选择要退款的项目")
    refund = Refund(order=order, out_refund_no="R" + order.out_trade_no[3:] + secrets.token_hex(2),
                    amount_fen=sum(i["amount_fen"] for i in clean), items=clean,
                    reason=reason, status=RefundStatus.REQUESTED, requested_by=requested_by)
    db.session.add(refund)
    db.session.flush()
    return refund


def pending_by_item(order: PaymentOrder) -> dict[int, int]:
    pending: dict[int, int] = {}
    for refund in db.session.scalars(select(Refund).where(
            Refund.order_id == order.id,
            Refund.status.in_([RefundStatus.REQUESTED, RefundStatus.APPROVED,
                               RefundStatus.PROCESSING]))):
        for item in refund.items:
            pending[item["order_item_id"]] = pending.get(item["order_item_id"], 0) + item[
                "amount_fen"]
    return pending


def reject_refund(refund: Refund, decided_by: str) -> Refund:
    if refund.status_enum != RefundStatus.REQUESTED:
        raise RefundRefused("该退款申请已处理")
    REFUND_STATES.move(refund, RefundStatus.REJECTED)
    refund.decided_by, refund.decided_at = decided_by, utcnow()
    db.session.flush()
    return refund


def approve_refund(refund: Refund, decided_by: str) -> Refund:
    """A second person approves; the order is refunding (flushes). The gateway is asked
    once the approval is committed (:func:`claim_approved`, :func:`send_to_gateway`)."""
    if refund.status_enum != RefundStatus.REQUESTED:
        raise RefundRefused("该退款申请已处理")
    if decided_by == refund.requested_by:
        raise RefundRefused("退款须由申请人以外的主管审批")
    order = _locked(refund.order_id)
    REFUND_STATES.move(refund, RefundStatus.APPROVED)
    refund.decided_by, refund.decided_at = decided_by, utcnow()
    if order.status_enum != OrderStatus.REFUNDING:
        ORDER_STATES.move(order, OrderStatus.REFUNDING)
    db.session.flush()
    return refund


def approved_refunds(limit: int = 100) -> list[int]:
    """Approved refunds the gateway has not been asked about yet (the job sends them)."""
    return list(db.session.scalars(select(Refund.id).where(
        Refund.status == RefundStatus.APPROVED).order_by(Refund.id).limit(limit)))


def claim_approved(refund_id: int) -> Refund | None:
    """Take an approved refund for sending (flushes; the caller commits before it asks
    the gateway); None when someone else took it first. The order's row lock makes the
    approving request and the job send it once."""
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        return None
    _locked(refund.order_id)
    db.session.refresh(refund)
    if refund.status_enum != RefundStatus.APPROVED:
        return None
    REFUND_STATES.move(refund, RefundStatus.PROCESSING)
    db.session.flush()
    return refund


def send_to_gateway(refund: Refund, gateway: Gateway,
                    notify_url: str) -> tuple[str | None, RefundResult]:
    """Ask the gateway to refund (no writes): the gateway's refund id and its word on
    the result (a refund still processing is asked about once more at once)."""
    order = refund.order
    result = gateway.refund(out_trade_no=order.out_trade_no, out_refund_no=refund.out_refund_no,
                            total_fen=order.amount_fen, refund_fen=refund.amount_fen,
                            reason=refund.reason, notify_url=notify_url)
    refund_id = result.refund_id
    if result.state == "processing" and hasattr(gateway, "refund_query"):
        result = gateway.refund_query(refund.out_refund_no)
    return refund_id, result


def record_sent(refund: Refund, refund_id: str | None, result: RefundResult) -> Refund:
    """Book the gateway's first answer to a refund sent to it (flushes)."""
    refund.gateway_refund_id = refund_id
    if result.state == "success":
        _complete_refund(refund)
    elif result.state == "failed":
        _fail_refund(refund)
    db.session.flush()
    return refund


def processing_refunds(now: datetime, older_than: timedelta = timedelta(minutes=1),
                       limit: int = 100) -> list[Refund]:
    """Approved refunds the gateway is still working on: the job asks about them."""
    return list(db.session.scalars(select(Refund).where(
        Refund.status == RefundStatus.PROCESSING,
        Refund.decided_at <= now - older_than).order_by(Refund.id).limit(limit)))


def apply_refund_result(gateway: str, result: RefundResult,
                        source: str) -> tuple[str, Refund | None]:
    """Book a gateway's word on a refund (a confirmed notification or a query); the
    outcome: applied | duplicate | processing | mismatch | unknown_refund (caller commits)."""
    refund = db.session.scalar(select(Refund).where(
        Refund.out_refund_no == result.out_refund_no)
        .execution_options(populate_existing=True))

    def event(outcome: str, reason: str | None = None) -> None:
        db.session.add(PaymentEvent(
            gateway=gateway, source=source, out_trade_no=result.out_trade_no,
            transaction_id=result.refund_id, amount_fen=result.amount_fen, outcome=outcome,
            reason=(f"refund {result.out_refund_no}" + (f": {reason}" if reason else ""))[:200]))
        if outcome not in ("applied", "duplicate", "processing"):
            logger.warning("refund %s from %s refused: %s (%s)", source, gateway, outcome, reason)

    if refund is None:
        event("unknown_refund", "no such refund")
        return "unknown_refund", None
    _locked(refund.order_id)  # a notification and the job's query: one books it
    db.session.refresh(refund)
    problems = []
    if refund.order.gateway != gateway:
        problems.append(f"gateway {gateway} for a {refund.order.gateway} order")
    if result.out_trade_no != refund.order.out_trade_no:
        problems.append("order number")
    if result.amount_fen != refund.amount_fen:
        problems.append(f"amount {result.amount_fen} ≠ {refund.amount_fen}")
    if problems:
        event("mismatch", "; ".join(problems))
        return "mismatch", refund
    if refund.status_enum != RefundStatus.PROCESSING:
        event("duplicate", refund.status)
        return "duplicate", refund
    if result.state == "success":
        refund.gateway_refund_id = refund.gateway_refund_id or result.refund_id
        _complete_refund(refund)
    elif result.state == "failed":
        _fail_refund(refund)
    else:
        event("processing")
        return "processing", refund
    event("applied", result.state)
    return "applied", refund


def _complete_refund(refund: Refund) -> None:
    order = _locked(refund.order_id)
    by_id = {item.id: item for item in order.items}
    txn = f"refund:{refund.out_refund_no}"
    db.session.add(LedgerEntry(txn=txn, account=f"clearing:{order.gateway}",
                               credit_fen=refund.amount_fen, order_id=order.id, memo="退款"))
    for part in refund.items:
        item = by_id[part["order_item_id"]]
        item.refunded_fen += part["amount_fen"]
        db.session.add(LedgerEntry(txn=txn, account=f"department:{item.department}",
                                   debit_fen=part["amount_fen"], order_id=order.id,
                                   order_item_id=item.id, memo=f"退款：{item.name}"))
    order.refunded_fen += refund.amount_fen
    REFUND_STATES.move(refund, RefundStatus.SUCCEEDED)
    refund.completed_at = utcnow()
    still_pending = db.session.scalar(select(func.count()).select_from(Refund).where(
        Refund.order_id == order.id,
        Refund.status.in_([RefundStatus.APPROVED, RefundStatus.PROCESSING]),
        Refund.id != refund.id)) or 0
    if not still_pending:
        ORDER_STATES.move(order, OrderStatus.REFUNDED if order.refunded_fen == order.amount_fen
                          else OrderStatus.PARTIALLY_REFUNDED)


def _fail_refund(refund: Refund) -> None:
    order = _locked(refund.order_id)
    REFUND_STATES.move(refund, RefundStatus.FAILED)
    refund.completed_at = utcnow()
    if order.status_enum == OrderStatus.REFUNDING:
        ORDER_STATES.move(order, OrderStatus.PARTIALLY_REFUNDED if order.refunded_fen
                          else OrderStatus.PAID)


# --- daily settlement ------------------------------------------------------------------------

@dataclass(frozen=True)
class SettlementRow:
    department: str
    payments_fen: int
    refunds_fen: int
    items_paid: int
    items_refunded: int

    @property
    def net_fen(self) -> int:
        return self.payments_fen - self.refunds_fen


def settlement(start: datetime, end: datetime) -> list[SettlementRow]:
    """What each department is owed for ledger entries in [start, end): payments credited,
    refunds debited, from the ledger alone (one query)."""
    rows = db.session.execute(
        select(LedgerEntry.account,
               func.coalesce(func.sum(LedgerEntry.credit_fen), 0),
               func.coalesce(func.sum(LedgerEntry.debit_fen), 0),
               func.count().filter(LedgerEntry.credit_fen > 0),
               func.count().filter(LedgerEntry.debit_fen > 0))
        .where(LedgerEntry.account.like("department:%"), LedgerEntry.created_at >= start,
               LedgerEntry.created_at < end)
        .group_by(LedgerEntry.account).order_by(LedgerEntry.account)).all()
    return [SettlementRow(account.split(":", 1)[1], int(credit), int(debit), int(paid),
                          int(refunded)) for account, credit, debit, paid, refunded in rows]
