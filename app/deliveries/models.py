"""A paper certificate's way to its owner: one delivery per case and issue.

Mail: ``waiting`` (the documents are being gathered) → ``shipped`` (a waybill) →
``delivered`` (signed for with the sign-off code), or ``returned`` to the centre, where
the owner collects it like a window delivery. Window: ``waiting`` → ``ready`` →
``collected``. The pickup code is the same for both: the courier or the clerk asks for it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db import EncryptedText, Model, UTCDateTime
from app.kernel.states import StateMachine
from app.kernel.timeutil import utcnow


class DeliveryMethod(enum.StrEnum):
    MAIL = "mail"
    WINDOW = "window"

    @property
    def label(self) -> str:
        return {"mail": "邮寄", "window": "窗口领取"}[self.value]


class DeliveryStatus(enum.StrEnum):
    WAITING = "waiting"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETURNED = "returned"
    READY = "ready"
    COLLECTED = "collected"

    @property
    def label(self) -> str:
        return {"waiting": "正在准备", "shipped": "已寄出", "delivered": "已签收",
                "returned": "已退回登记中心，请到窗口领取", "ready": "可到窗口领取",
                "collected": "已领取"}[self.value]


# Mail: waiting → shipped → delivered, or returned to the centre and collected there;
# window: waiting → ready → collected.
DELIVERY_STATES = StateMachine("delivery", {
    (DeliveryStatus.WAITING, DeliveryStatus.SHIPPED),
    (DeliveryStatus.SHIPPED, DeliveryStatus.DELIVERED),
    (DeliveryStatus.SHIPPED, DeliveryStatus.RETURNED),
    (DeliveryStatus.RETURNED, DeliveryStatus.COLLECTED),
    (DeliveryStatus.WAITING, DeliveryStatus.READY),
    (DeliveryStatus.READY, DeliveryStatus.COLLECTED),
})

# Where the pickup code still opens the parcel at the window.
AT_WINDOW = (DeliveryStatus.READY, DeliveryStatus.RETURNED)
OPEN = (DeliveryStatus.WAITING, DeliveryStatus.SHIPPED, *AT_WINDOW)


class Delivery(Model):
    __tablename__ = "deliveries"
    # One delivery per case and issue (a re-issued certificate travels again).
    __table_args__ = (UniqueConstraint("case_id", "reissue_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # the courier's orderId
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reissue_no: Mapped[int] = mapped_column(default=0)
    method: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), default=DeliveryStatus.WAITING, index=True)
    recipient_name: Mapped[str] = mapped_column(EncryptedText("deliveries.recipient_name"))
    recipient_phone: Mapped[str] = mapped_column(EncryptedText("deliveries.recipient_phone"))
    address: Mapped[str | None] = mapped_column(EncryptedText("deliveries.address"))
    # Shown to the owner (as a QR); found at the window by its keyed hash.
    pickup_code: Mapped[str] = mapped_column(EncryptedText("deliveries.pickup_code"))
    pickup_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # [{"kind": "certificate" | "ebill", "title": "不动产权证书", "number": "…"}]
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    courier: Mapped[str | None] = mapped_column(String(20))
    tracking_number: Mapped[str | None] = mapped_column(String(30), index=True)
    # The courier's route, as last asked: [{"at", "op_code", "place", "remark"}]
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_over_by: Mapped[str | None] = mapped_column(String(40))  # staff:<id> | courier
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_enum(self) -> DeliveryStatus:
        return DeliveryStatus(self.status)

    @property
    def method_enum(self) -> DeliveryMethod:
        return DeliveryMethod(self.method)
