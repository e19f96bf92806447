"""The fees and taxes assessed for a case, one row per item, in integer fen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db import Model, Money, UTCDateTime
from app.kernel.timeutil import utcnow


class CaseFee(Model):
    __tablename__ = "case_fees"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(60))
    department: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(Money)
    # How the amount was found, for the citizen and the reviewers ("89.50 m² × 40.00 元").
    basis: Mapped[str] = mapped_column(String(200))
    exempt: Mapped[bool] = mapped_column(default=False)
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A reassessment replaces the rows; the old ones stay for the record.
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
