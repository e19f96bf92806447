"""Append-only audit log: who changed what, when, from which channel, before and after.

Rows are never updated or deleted: the ORM refuses it here and database triggers
(see the initial migration) refuse it for anyone else. Personal data never goes into
``before``/``after``: callers pass states, statuses and ids only.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, event
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db import Model, UTCDateTime, db
from app.kernel.timeutil import utcnow


class Channel(enum.StrEnum):
    MINIPROGRAM = "miniprogram"
    MOBILE_WEB = "mobile_web"
    ADMIN = "admin"
    API = "api"
    SYSTEM = "system"
    CLI = "cli"


class ActorType(enum.StrEnum):
    CITIZEN = "citizen"
    STAFF = "staff"
    SYSTEM = "system"
    INSTITUTION = "institution"


class AuditRecord(Model):
    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))


class AuditAppendOnly(RuntimeError):
    pass


@event.listens_for(AuditRecord, "before_update")
def _refuse_update(mapper: Any, connection: Any, target: AuditRecord) -> None:
    raise AuditAppendOnly("audit records are append-only")


@event.listens_for(AuditRecord, "before_delete")
def _refuse_delete(mapper: Any, connection: Any, target: AuditRecord) -> None:
    raise AuditAppendOnly("audit records are append-only")


def record(
    *,
    actor_type: ActorType | str,
    actor_id: object,
    channel: Channel | str,
    action: str,
    entity_type: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> AuditRecord:
    """Add an audit record to the current transaction (committed with the change)."""
    row = AuditRecord(
        actor_type=str(actor_type),
        actor_id=None if actor_id is None else str(actor_id),
        channel=str(channel),
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
        note=note,
    )
    db.session.add(row)
    return row
