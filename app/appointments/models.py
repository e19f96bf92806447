"""Service halls, bookable time slots with a capacity, and citizens' bookings (预约)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.db import Model, UTCDateTime
from app.kernel.states import StateMachine
from app.kernel.timeutil import utcnow


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


BOOKING_STATES: StateMachine[BookingStatus] = StateMachine(
    "booking", {(BookingStatus.BOOKED, BookingStatus.CANCELLED)})


class ServiceHall(Model):
    __tablename__ = "service_halls"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)


class TimeSlot(Model):
    __tablename__ = "time_slots"
    __table_args__ = (
        UniqueConstraint("hall_id", "starts_at"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("service_halls.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column()
    booked: Mapped[int] = mapped_column(default=0)

    hall: Mapped[ServiceHall] = relationship(lazy="joined")


class Booking(Model):
    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("time_slots.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    status: Mapped[str] = mapped_column(String(20), default=BookingStatus.BOOKED, index=True)
    # One active booking per account and slot: the key is cleared on cancellation.
    active_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    slot: Mapped[TimeSlot] = relationship(lazy="joined")
