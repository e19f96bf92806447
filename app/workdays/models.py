"""The override table: days staff declared working days or holidays by hand."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db import Model, UTCDateTime
from app.kernel.timeutil import utcnow


class CalendarDay(Model):
    """One day whose status is set by hand; it always wins over the library.

    Used for the years chinese_calendar does not cover yet (the State Council publishes
    each year's holidays in the November before) and for local decisions.
    """

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column()
    note: Mapped[str] = mapped_column(String(60), default="")
    updated_by: Mapped[str] = mapped_column(String(60))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
