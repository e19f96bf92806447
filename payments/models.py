"""Payment orders, their items, every notification or query result, refunds, the ledger."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.db import Model, Money, UTCDateTime
from app.kernel.states import StateMachine
from app.kernel.timeutil import utcnow


class OrderStatus(enum.StrEnum):
    CREATED = "created"  # row committed, the gateway not called yet
    PAYING = "paying"  # the gateway has the order; waiting for the payer
    PAID = "paid"
    CLOSED = "closed"  # expired or closed unpaid
    REFUNDING = "refunding"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"

    @property
    def label(self) -> str:
        return {"created": "待支付", "paying": "支付中", "paid": "已支付", "closed": "已关闭",
                "refunding": "退款中", "refunded": "已退款",
                "partially_refunded": "部分退款"}[self.value]


S = OrderStatus
ORDER_STATES: StateMachine[OrderStatus] = StateMachine("payment order", {
    (S.CREATED, S.PAYING), (S.CREATED, S.CLOSED), (S.CREATED, S.PAID),
    (S.PAYING, S.PAID), (S.PAYING, S.CLOSED),
    # A payment the gateway reports after we closed the order still took the money.
    (S.CLOSED, S.PAID),
    (S.PAID, S.REFUNDING), (S.PARTIALLY_REFUNDED, S.REFUNDING),
    (S.REFUNDING, S.REFUNDED), (S.REFUNDING, S.PARTIALLY_REFUNDED),
    (S.REFUNDING, S.PAID),  # a refund that failed, nothing refunded before
})


class PaymentOrder(Model):
    __tablename__ = "payment_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    out_trade_no: Mapped[str] = mapped_column(String(32), unique=True)
    # Same request twice = one order: hash of (case, assessment, gateway, payer).
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    payer_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(10))
    amount_fen: Mapped[int] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.CREATED, index=True)
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transaction_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    refunded_fen: Mapped[int] = mapped_column(Money, default=0)
    # What the client needs to pay (wx.requestPayment parameters or a cashier URL).
    client_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pay_url: Mapped[str | None] = mapped_column(String(2000))
    version: Mapped[int] = mapped_column(default=1)

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_enum(self) -> OrderStatus:
        return OrderStatus(self.status)


class OrderItem(Model):
    __tablename__ = "payment_order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("payment_orders.id"), index=True)
    fee_id: Mapped[int] = mapped_column(ForeignKey("case_fees.id"))
    item_code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(60))
    department: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(Money)
    refunded_fen: Mapped[int] = mapped_column(Money, default=0)

    order: Mapped[PaymentOrder] = relationship(back_populates="items")


class PaymentEvent(Model):
    """Every notification or query result, verified or not, and what it did."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(20))  # notification | query
    out_trade_no: Mapped[str | None] = mapped_column(String(64), index=True)
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    amount_fen: Mapped[int | None] = mapped_column(Money)
    # applied | duplicate | rejected | mismatch | unknown_order | not_paid | double_payment
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerEntry(Model):
    """Double entry in fen: every transaction's debits equal its credits.

    Accounts: ``clearing:<gateway>`` (money the gateway holds for the platform) and
    ``department:<code>`` (what the platform owes each department).
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (UniqueConstraint("txn", "account", "order_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    txn: Mapped[str] = mapped_column(String(40), index=True)  # "pay:<out_trade_no>" …
    account: Mapped[str] = mapped_column(String(40), index=True)
    debit_fen: Mapped[int] = mapped_column(Money, default=0)
    credit_fen: Mapped[int] = mapped_column(Money, default=0)
    order_id: Mapped[int] = mapped_column(ForeignKey("payment_orders.id"), index=True)
    order_item_id: Mapped[int | None] = mapped_column(ForeignKey("payment_order_items.id"))
    memo: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RefundStatus(enum.StrEnum):
    REQUESTED = "requested"  # by the helpdesk (or the system, after a refusal)
    REJECTED = "rejected"  # by a supervisor
    # Approved (by a supervisor, or by the system for a double payment); the gateway is
    # asked after the approval is committed, by the approving request or by the job.
    APPROVED = "approved"
    PROCESSING = "processing"  # sent to the gateway, result to come
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"requested": "待主管审批", "rejected": "已驳回", "approved": "退款中",
                "processing": "退款中", "succeeded": "已退款", "failed": "退款失败"}[self.value]


R = RefundStatus
REFUND_STATES: StateMachine[RefundStatus] = StateMachine("refund", {
    (R.REQUESTED, R.APPROVED), (R.REQUESTED, R.REJECTED),
    (R.APPROVED, R.PROCESSING),  # claimed by whoever sends it to the gateway
    (R.PROCESSING, R.SUCCEEDED), (R.PROCESSING, R.FAILED),
})


class Refund(Model):
    """A refund of some items of a paid order: requested, approved by someone else, sent."""

    __tablename__ = "payment_refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("payment_orders.id"), index=True)
    out_refund_no: Mapped[str] = mapped_column(String(40), unique=True)
    amount_fen: Mapped[int] = mapped_column(Money)
    # [{"order_item_id": 1, "amount_fen": 8000}]
    items: Mapped[list[dict[str, int]]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default=RefundStatus.REQUESTED, index=True)
    requested_by: Mapped[str] = mapped_column(String(40))  # "staff:<id>" or "system"
    decided_by: Mapped[str | None] = mapped_column(String(40))
    gateway_refund_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    order: Mapped[PaymentOrder] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_enum(self) -> RefundStatus:
        return RefundStatus(self.status)


class ReconciliationStatus(enum.StrEnum):
    MATCHED = "matched"  # every line of the bill is the platform's, and the reverse
    DIFFERENCES = "differences"
    FAILED = "failed"  # the bill could not be fetched (not ready, gateway down): retried

    @property
    def label(self) -> str:
        return {"matched": "一致", "differences": "有差异", "failed": "未取得对账单"}[self.value]


C = ReconciliationStatus
# Running a day again replaces its result, whatever it was: a bill fetched after a
# failure, a difference settled by the order query, or a gateway down on the second run.
RECONCILIATION_STATES: StateMachine[ReconciliationStatus] = StateMachine("reconciliation", {
    (C.MATCHED, C.DIFFERENCES), (C.MATCHED, C.FAILED),
    (C.DIFFERENCES, C.MATCHED), (C.DIFFERENCES, C.FAILED),
    (C.FAILED, C.MATCHED), (C.FAILED, C.DIFFERENCES),
})


class Reconciliation(Model):
    """One gateway's bill for one Beijing-time day, compared with the platform's records.
    Running it again for the same day replaces the result."""

    __tablename__ = "payment_reconciliations"
    __table_args__ = (UniqueConstraint("gateway", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(10))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_by: Mapped[str] = mapped_column(String(40))  # "staff:<id>" or "system"
    bill_lines: Mapped[int] = mapped_column(default=0)
    bill_payments_fen: Mapped[int] = mapped_column(Money, default=0)
    bill_refunds_fen: Mapped[int] = mapped_column(Money, default=0)
    platform_payments_fen: Mapped[int] = mapped_column(Money, default=0)
    platform_refunds_fen: Mapped[int] = mapped_column(Money, default=0)
    error: Mapped[str | None] = mapped_column(String(200))

    differences: Mapped[list[ReconciliationDifference]] = relationship(
        back_populates="reconciliation", cascade="all, delete-orphan",
        order_by="ReconciliationDifference.id")

    @property
    def status_enum(self) -> ReconciliationStatus:
        return ReconciliationStatus(self.status)


class DifferenceKind(enum.StrEnum):
    MISSING_ON_PLATFORM = "missing_on_platform"  # in the bill, not done here
    MISSING_IN_BILL = "missing_in_bill"  # done here that day, not in the bill
    AMOUNT = "amount"  # both have it, the amounts differ
    TRANSACTION = "transaction"  # both have it, the gateway's transaction ids differ
    OTHER_DAY = "other_day"  # both have it, on different days

    @property
    def label(self) -> str:
        return {"missing_on_platform": "渠道有、平台无", "missing_in_bill": "平台有、渠道无",
                "amount": "金额不一致", "transaction": "交易号不一致",
                "other_day": "记账日期不同"}[self.value]


class ReconciliationDifference(Model):
    __tablename__ = "payment_reconciliation_differences"

    id: Mapped[int] = mapped_column(primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(
        ForeignKey("payment_reconciliations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    line_kind: Mapped[str] = mapped_column(String(10))  # payment | refund
    out_trade_no: Mapped[str] = mapped_column(String(64))
    out_refund_no: Mapped[str | None] = mapped_column(String(64))
    bill_fen: Mapped[int | None] = mapped_column(Money)
    platform_fen: Mapped[int | None] = mapped_column(Money)
    note: Mapped[str] = mapped_column(String(200))

    reconciliation: Mapped[Reconciliation] = relationship(back_populates="differences")

    @property
    def kind_enum(self) -> DifferenceKind:
        return DifferenceKind(self.kind)
