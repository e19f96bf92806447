"""The outbox: messages written in the same transaction as the event, sent afterwards."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db import Model, UTCDateTime
from app.kernel.states import StateMachine
from app.kernel.timeutil import utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry: the helpdesk sees it
    SKIPPED = "skipped"  # no channel reaches the recipient


OUTBOX_STATES: StateMachine[OutboxStatus] = StateMachine("outbox_message", {
    (OutboxStatus.PENDING, OutboxStatus.SENT),
    (OutboxStatus.PENDING, OutboxStatus.FAILED),
    (OutboxStatus.PENDING, OutboxStatus.SKIPPED),
    (OutboxStatus.FAILED, OutboxStatus.PENDING),  # the helpdesk sends it again
})


class OutboxMessage(Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One event sends once: e.g. "case_returned:ZH…:2:sms:17".
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # sms | wechat
    template: Mapped[str] = mapped_column(String(40))
    # Template variables: case numbers, labels and counts, never ID numbers or names.
    variables: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
