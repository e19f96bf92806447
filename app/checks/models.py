"""Automatic checks run on submission through the data-sharing adapters."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db import Model, UTCDateTime
from app.kernel.states import StateMachine
from app.kernel.timeutil import utcnow


class CheckStatus(enum.StrEnum):
    PENDING = "pending"  # not run yet
    WAITING = "waiting"  # the service was down or slow: retried later, never passed blindly
    PASSED = "passed"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"pending": "待核查", "waiting": "等待共享平台响应", "passed": "通过",
                "failed": "未通过"}[self.value]


C = CheckStatus
# A check that is still waiting after another attempt stays where it is (no edge): only
# its next attempt time changes.
CHECK_STATES: StateMachine[CheckStatus] = StateMachine("check", {
    (C.PENDING, C.WAITING), (C.PENDING, C.PASSED), (C.PENDING, C.FAILED),
    (C.WAITING, C.PASSED), (C.WAITING, C.FAILED),
})


class CaseCheck(Model):
    """One check of one subject (an applicant, the unit) for one submission of a case."""

    __tablename__ = "case_checks"
    __table_args__ = (UniqueConstraint("case_id", "submission", "kind", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    submission: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(30))
    # "applicant:<id>" or "unit": never personal data.
    subject: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default=CheckStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(String(200))
    # What the citizen and the reviewers read: {"message": "…", "facts": {...}}.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def status_enum(self) -> CheckStatus:
        return CheckStatus(self.status)
