"""Parallel review (并联审核): one task per department and round, with notes."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.departments import Department
from app.kernel.db import Model, UTCDateTime
from app.kernel.states import StateMachine
from app.kernel.timeutil import utcnow


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    APPROVED = "approved"
    RETURNED = "returned"
    SUPERSEDED = "superseded"  # replaced by the task of a later round
    CLOSED = "closed"  # the case was withdrawn or refused while the task was open

    @property
    def label(self) -> str:
        return {"open": "待审核", "claimed": "审核中", "approved": "已通过",
                "returned": "已退回补正", "superseded": "已重新审核",
                "closed": "已终止"}[self.value]


T = TaskStatus
TASK_STATES: StateMachine[TaskStatus] = StateMachine("review_task", {
    (T.OPEN, T.CLAIMED), (T.CLAIMED, T.OPEN),  # claim, release
    (T.OPEN, T.APPROVED), (T.CLAIMED, T.APPROVED),
    (T.OPEN, T.RETURNED), (T.CLAIMED, T.RETURNED),
    # A new round replaces a decision whose evidence changed, or a return.
    (T.APPROVED, T.SUPERSEDED), (T.RETURNED, T.SUPERSEDED),
    # The case was withdrawn or refused while the task was in a queue.
    (T.OPEN, T.CLOSED), (T.CLAIMED, T.CLOSED),
})


def task_sources(target: TaskStatus) -> list[TaskStatus]:
    """The statuses a task may leave for ``target``: the WHERE of a conditional UPDATE."""
    return sorted({src for (src, dst) in TASK_STATES.edges if dst == target})


class ReviewTask(Model):
    __tablename__ = "review_tasks"
    __table_args__ = (UniqueConstraint("case_id", "department", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    department: Mapped[str] = mapped_column(String(20), index=True)
    round: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(12), default=TaskStatus.OPEN, index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # [{"kind": "material"|"section", "code", "role", "reason"}]
    returned_items: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # What the approval relied on:
    # {"materials": {"item:role": [sha256…]}, "sections": {code: digest}}
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # What the decision fixed besides yes/no, e.g. the tax reviewer's {"deed_tax_fen": …}.
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_enum(self) -> TaskStatus:
        return TaskStatus(self.status)

    @property
    def department_enum(self) -> Department:
        return Department(self.department)


class ReviewNote(Model):
    __tablename__ = "review_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    department: Mapped[str] = mapped_column(String(20))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
