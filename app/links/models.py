"""Short links carried by SMS: only a keyed hash of the code is stored, never the code."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db import Model, UTCDateTime
from app.kernel.timeutil import utcnow


class LinkPurpose(enum.StrEnum):
    PAY_CASE = "pay_case"  # target: a case number
    VIEW_CERTIFICATE = "view_certificate"  # target: a certificate number
    TRACK_CASE = "track_case"  # target: a case number

    @property
    def label(self) -> str:
        return PURPOSE_LABELS[self]


PURPOSE_LABELS = {
    LinkPurpose.PAY_CASE: "缴纳登记费税",
    LinkPurpose.VIEW_CERTIFICATE: "查看电子证书",
    LinkPurpose.TRACK_CASE: "查看办件进度",
}


class ShortLink(Model):
    """One link for one person: opening it needs the one-time code sent to their phone."""

    __tablename__ = "short_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    # HMAC-SHA256 of the code (app.crypto.lookup_hash); the code itself is only in the SMS.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(64))
    # Who it is for: the code goes to this person's phone on file.
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(40))
    # Successful opens: the code was verified (or a fresh session of the person) and the
    # citizen landed on the target page.
    open_count: Mapped[int] = mapped_column(default=0)
    last_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def purpose_enum(self) -> LinkPurpose:
        return LinkPurpose(self.purpose)
