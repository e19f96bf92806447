"""Reconciliation: one gateway's daily bill against the platform's own records.

Every line of the bill must be a payment or refund the platform has booked, for the same
amount, the same gateway transaction and on the same Beijing-time day; every payment
and refund the platform booked that day must be in the bill. Each exception is one
:class:`ReconciliationDifference`, in words a clerk can act on. Nothing is corrected
automatically: a payment missing on the platform is settled by the order query job, and
what remains needs a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, select

from app.kernel.db import db
from app.kernel.timeutil import SHANGHAI, local_date, utcnow
from payments.gateways.base import StatementLine
from payments.models import (
    RECONCILIATION_STATES,
    DifferenceKind,
    PaymentOrder,
    Reconciliation,
    ReconciliationDifference,
    ReconciliationStatus,
    Refund,
    RefundStatus,
)


@dataclass(frozen=True)
class Difference:
    kind: DifferenceKind
    line_kind: str  # payment | refund
    out_trade_no: str
    note: str
    out_refund_no: str | None = None
    bill_fen: int | None = None
    platform_fen: int | None = None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def compare(gateway: str, day: date, lines: list[StatementLine]) -> list[Difference]:
    """Every difference between ``lines`` (the bill of ``day``) and the platform."""
    start, end = day_bounds(day)
    found: list[Difference] = []
    billed_orders: set[str] = set()
    billed_refunds: set[str] = set()
    for line in lines:
        if line.kind == "payment":
            billed_orders.add(line.out_trade_no)
            found.extend(_payment_line(gateway, day, line))
        else:
            billed_refunds.add(line.out_refund_no or "")
            found.extend(_refund_line(gateway, day, line))
    for order in db.session.scalars(select(PaymentOrder).where(
            PaymentOrder.gateway == gateway, PaymentOrder.paid_at >= start,
            PaymentOrder.paid_at < end).order_by(PaymentOrder.id)):
        if order.out_trade_no not in billed_orders:
            found.append(Difference(
                DifferenceKind.MISSING_IN_BILL, "payment", order.out_trade_no,
                "平台记为已支付，渠道对账单无此笔收款", platform_fen=order.amount_fen))
    for refund in db.session.scalars(_refunds_of(gateway, start, end)):
        if refund.out_refund_no not in billed_refunds:
            found.append(Difference(
                DifferenceKind.MISSING_IN_BILL, "refund", refund.order.out_trade_no,
                "平台记为已退款，渠道对账单无此笔退款", out_refund_no=refund.out_refund_no,
                platform_fen=refund.amount_fen))
    return found


def _refunds_of(gateway: str, start: datetime, end: datetime) -> Select[Refund]:
    return (select(Refund).join(PaymentOrder, Refund.order_id == PaymentOrder.id)
            .where(PaymentOrder.gateway == gateway, Refund.status == RefundStatus.SUCCEEDED,
                   Refund.completed_at >= start, Refund.completed_at < end)
            .order_by(Refund.id))


def _payment_line(gateway: str, day: date, line: StatementLine) -> list[Difference]:
    order = db.session.scalar(select(PaymentOrder).where(
        PaymentOrder.out_trade_no == line.out_trade_no, PaymentOrder.gateway == gateway))

    def diff(kind: DifferenceKind, note: str) -> Difference:
        return Difference(kind, "payment", line.out_trade_no, note, bill_fen=line.amount_fen,
                          platform_fen=order.amount_fen if order else None)

    if order is None:
        return [diff(DifferenceKind.MISSING_ON_PLATFORM, "渠道已收款，平台无此订单")]
    if order.paid_at is None:
        return [diff(DifferenceKind.MISSING_ON_PLATFORM,
                     f"渠道已收款，平台订单为“{order.status_enum.label}”（待订单查询补记）")]
    found = []
    if line.amount_fen != order.amount_fen:
        found.append(diff(DifferenceKind.AMOUNT, f"渠道收款 {_yuan(line.amount_fen)} 元，"
                          f"平台订单 {_yuan(order.amount_fen)} 元"))
    if line.transaction_id and line.transaction_id != order.transaction_id:
        found.append(diff(DifferenceKind.TRANSACTION, "渠道交易号与平台记录不一致"))
    if local_date(order.paid_at) != day:
        found.append(diff(DifferenceKind.OTHER_DAY,
                          f"平台记在 {local_date(order.paid_at).isoformat()}"))
    return found


def _refund_line(gateway: str, day: date, line: StatementLine) -> list[Difference]:
    refund = db.session.scalar(select(Refund).join(
        PaymentOrder, Refund.order_id == PaymentOrder.id).where(
        Refund.out_refund_no == (line.out_refund_no or ""), PaymentOrder.gateway == gateway))

    def diff(kind: DifferenceKind, note: str) -> Difference:
        return Difference(kind, "refund", line.out_trade_no, note,
                          out_refund_no=line.out_refund_no, bill_fen=line.amount_fen,
                          platform_fen=refund.amount_fen if refund else None)

    if refund is None:
        return [diff(DifferenceKind.MISSING_ON_PLATFORM, "渠道已退款，平台无此退款申请")]
    if refund.status_enum != RefundStatus.SUCCEEDED or refund.completed_at is None:
        return [diff(DifferenceKind.MISSING_ON_PLATFORM,
                     f"渠道已退款，平台退款为“{refund.status_enum.label}”")]
    found = []
    if line.amount_fen != refund.amount_fen:
        found.append(diff(DifferenceKind.AMOUNT, f"渠道退款 {_yuan(line.amount_fen)} 元，"
                          f"平台退款 {_yuan(refund.amount_fen)} 元"))
    if local_date(refund.completed_at) != day:
        found.append(diff(DifferenceKind.OTHER_DAY,
                          f"平台记在 {local_date(refund.completed_at).isoformat()}"))
    return found


def record(gateway: str, day: date, checked_by: str, lines: list[StatementLine] | None,
           error: str | None = None, at: datetime | None = None) -> Reconciliation:
    """Compare and store the result for (gateway, day), replacing an earlier run; a bill
    that could not be fetched (``lines`` None) is stored as failed with ``error``.
    The caller commits."""
    start, end = day_bounds(day)
    platform_payments = sum(db.session.scalars(select(PaymentOrder.amount_fen).where(
        PaymentOrder.gateway == gateway, PaymentOrder.paid_at >= start,
        PaymentOrder.paid_at < end)))
    platform_refunds = sum(r.amount_fen for r in db.session.scalars(
        _refunds_of(gateway, start, end)))
    differences = compare(gateway, day, lines) if lines is not None else []
    if lines is None:
        status = ReconciliationStatus.FAILED
    elif differences:
        status = ReconciliationStatus.DIFFERENCES
    else:
        status = ReconciliationStatus.MATCHED
    row = db.session.scalar(select(Reconciliation).where(
        Reconciliation.gateway == gateway, Reconciliation.day == day))
    if row is None:
        row = Reconciliation(gateway=gateway, day=day, status=status)
        db.session.add(row)
    elif row.status != status:
        RECONCILIATION_STATES.move(row, status)
    row.differences.clear()
    row.checked_at, row.checked_by = at or utcnow(), checked_by
    row.platform_payments_fen, row.platform_refunds_fen = platform_payments, platform_refunds
    if lines is None:
        row.error = (error or "")[:200]
        row.bill_lines = row.bill_payments_fen = row.bill_refunds_fen = 0
        return row
    row.error = None
    row.bill_lines = len(lines)
    row.bill_payments_fen = sum(line.amount_fen for line in lines if line.kind == "payment")
    row.bill_refunds_fen = sum(line.amount_fen for line in lines if line.kind == "refund")
    for found in differences:
        row.differences.append(ReconciliationDifference(
            kind=found.kind, line_kind=found.line_kind, out_trade_no=found.out_trade_no,
            out_refund_no=found.out_refund_no, bill_fen=found.bill_fen,
            platform_fen=found.platform_fen, note=found.note))
    return row
