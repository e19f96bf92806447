"""Appointment reminders: the day before a hall booking (app/appointments), one message.

The job runner calls :func:`remind_due` every pass; it looks at most every few minutes,
and only from 09:00 (Asia/Shanghai), so a reminder is sent in the daytime of the day
before and a booking cancelled overnight is not reminded. Each booking is reminded
once (the outbox's event key ``appointment_reminder:<booking id>``).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import select

from app.accounts.models import Account
from app.appointments.models import Booking, BookingStatus, TimeSlot
from app.kernel.db import db
from app.kernel.timeutil import SHANGHAI, as_utc, local_date, utcnow
from app.notifications import service

REMIND_FROM = time(9, 0)  # local time from which tomorrow's bookings are reminded
LOOK_EVERY = timedelta(minutes=5)
_LAST_LOOK = "bdc.reminders_last_look"


def remind_appointments(now: datetime | None = None) -> int:
    """Queue a reminder for every active booking of tomorrow (Asia/Shanghai); commits.
    Returns the messages queued."""
    now = now or utcnow()
    tomorrow = local_date(now) + timedelta(days=1)
    start = as_utc(datetime.combine(tomorrow, time.min, tzinfo=SHANGHAI))
    bookings = db.session.scalars(
        select(Booking).join(TimeSlot, TimeSlot.id == Booking.slot_id)
        .where(Booking.status == BookingStatus.BOOKED, TimeSlot.starts_at >= start,
               TimeSlot.starts_at < start + timedelta(days=1))
        .order_by(Booking.id)).all()
    queued = 0
    for booking in bookings:
        account = db.session.get(Account, booking.account_id)
        if account is None or not account.is_active:
            continue
        begins = as_utc(booking.slot.starts_at).astimezone(SHANGHAI)
        hall = booking.slot.hall
        queued += service.enqueue([account], "appointment_reminder", {
            "date": f"{begins.month}月{begins.day}日",
            "time": begins.strftime("%H:%M"),
            "starts_at": f"{begins.year}年{begins.month}月{begins.day}日 "
                         f"{begins.strftime('%H:%M')}",
            "hall": hall.name, "address": hall.address, "hint": "请携带身份证件按时前往",
        }, f"appointment_reminder:{booking.id}")
    db.session.commit()
    return queued


def remind_due(now: datetime | None = None) -> int:
    """The job step: :func:`remind_appointments` from 09:00, at most every 5 minutes."""
    now = now or utcnow()
    if as_utc(now).astimezone(SHANGHAI).time() < REMIND_FROM:
        return 0
    last = current_app.extensions.get(_LAST_LOOK)
    if last is not None and now - last < LOOK_EVERY:
        return 0
    current_app.extensions[_LAST_LOOK] = now
    return remind_appointments(now)
