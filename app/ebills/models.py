"""One e-bill: the obligation (written when the job finds a paid order without its
bills), then the issuer's code, number and check code, then the PDF.

``issuing`` (not asked yet) → ``issued``; a failed attempt is ``failed`` with
``attempts`` and ``next_attempt_at`` (retried with back-off, never dropped); an issued
bill whose every item was refunded in full becomes ``voided`` (红冲).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db import EncryptedText, Model, Money, UTCDateTime
from app.kernel.states import StateMachine
from app.kernel.timeutil import utcnow


class EBillKind(enum.StrEnum):
    FISCAL = "fiscal"  # 财政电子票据: registration fee, paper-certificate fee
    TAX = "tax"  # 完税证明: deed tax
    FUND = "fund"  # 专项维修资金收据: maintenance fund

    @property
    def label(self) -> str:
        return {"fiscal": "财政电子票据", "tax": "税收完税证明",
                "fund": "专项维修资金收据"}[self.value]


class EBillStatus(enum.StrEnum):
    ISSUING = "issuing"
    ISSUED = "issued"
    FAILED = "failed"
    VOIDED = "voided"

    @property
    def label(self) -> str:
        return {"issuing": "开具中", "issued": "已开具", "failed": "开具中",
                "voided": "已红冲"}[self.value]


B = EBillStatus
EBILL_STATES: StateMachine[EBillStatus] = StateMachine("e-bill", {
    (B.ISSUING, B.ISSUED), (B.ISSUING, B.FAILED),
    (B.FAILED, B.ISSUED),  # a retry that worked (a failure again stays failed)
    (B.ISSUED, B.VOIDED),  # every item refunded in full: red-letter bill (红冲)
})


class EBill(Model):
    __tablename__ = "ebills"
    # One bill of each kind per order: the job may run twice, the bill is issued once.
    __table_args__ = (UniqueConstraint("order_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("payment_orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=EBillStatus.ISSUING, index=True)
    # Sent to the issuer with every attempt: the same request number gets the same bill,
    # so a timeout after the issuer issued it cannot make a second one.
    request_no: Mapped[str] = mapped_column(String(40), unique=True)
    bill_code: Mapped[str | None] = mapped_column(String(20))  # 票据代码
    bill_number: Mapped[str | None] = mapped_column(String(20))  # 票据号码
    check_code: Mapped[str | None] = mapped_column(String(20))  # 校验码
    payer_name: Mapped[str] = mapped_column(EncryptedText("ebills.payer_name"))
    # [{"order_item_id": 1, "name": "契税", "amount_fen": 2150000}]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    total_fen: Mapped[int] = mapped_column(Money)
    issuer_name: Mapped[str] = mapped_column(String(60))
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verify_url: Mapped[str | None] = mapped_column(String(500))
    pdf_key: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(String(200))
    # The order's refunded amount when the bill was last compared with it: the job looks
    # again only when the order's refunds change.
    refunds_seen_fen: Mapped[int] = mapped_column(Money, default=0)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def kind_enum(self) -> EBillKind:
        return EBillKind(self.kind)

    @property
    def status_enum(self) -> EBillStatus:
        return EBillStatus(self.status)
