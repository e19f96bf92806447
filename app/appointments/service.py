"""Online appointments for cases that need one visit: halls, slots, booking, cancelling.

Capacity is enforced by one conditional UPDATE (``booked < capacity``), so concurrent
bookings of the last seat cannot both succeed; an account holds at most one active
booking per slot (a unique key cleared on cancellation).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Account
from app.appointments.models import BOOKING_STATES, Booking, BookingStatus, ServiceHall, TimeSlot
from app.kernel import audit
from app.kernel.audit import ActorType
from app.kernel.db import db
from app.kernel.errors import Conflict, NotFound, ValidationFailed
from app.kernel.timeutil import SHANGHAI, as_utc, utcnow

HALLS_FILE = Path(__file__).with_name("halls.json")


class SlotFull(Conflict):
    code = "SLOT_FULL"
    message = "该时段已约满，请选择其他时段"


class AlreadyBooked(Conflict):
    code = "ALREADY_BOOKED"
    message = "您已预约该时段"


class SlotPast(Conflict):
    code = "SLOT_PAST"
    message = "该时段已过，请选择其他时段"


def load_halls(path: Path = HALLS_FILE) -> list[dict[str, Any]]:
    """Insert the service halls from the data file (existing ones are kept)."""
    halls = json.loads(path.read_text(encoding="utf-8"))
    for item in halls:
        if db.session.scalar(select(ServiceHall).where(ServiceHall.code == item["code"])) is None:
            db.session.add(ServiceHall(code=item["code"], name=item["name"],
                                       address=item["address"]))
    db.session.commit()
    return list(halls)


def generate_slots(start: date, days: int, path: Path = HALLS_FILE) -> int:
    """Create the slots of the next working days (Monday–Friday) from each hall's sessions."""
    created = 0
    for item in load_halls(path):
        hall = db.session.scalar(select(ServiceHall).where(ServiceHall.code == item["code"]))
        assert hall is not None
        for offset in range(days):
            day = start + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            for begin, end in item["sessions"]:
                moment = datetime.combine(day, time.fromisoformat(begin), tzinfo=SHANGHAI)
                stop = datetime.combine(day, time.fromisoformat(end), tzinfo=SHANGHAI)
                while moment < stop:
                    following = moment + timedelta(minutes=int(item["slot_minutes"]))
                    exists_already = db.session.scalar(select(TimeSlot.id).where(
                        TimeSlot.hall_id == hall.id, TimeSlot.starts_at == moment))
                    if exists_already is None:
                        db.session.add(TimeSlot(hall_id=hall.id, starts_at=moment,
                                                ends_at=following, capacity=item["capacity"]))
                        created += 1
                    moment = following
    db.session.commit()
    return created


def list_halls() -> list[ServiceHall]:
    return list(db.session.scalars(
        select(ServiceHall).where(ServiceHall.is_active.is_(True)).order_by(ServiceHall.id)))


def open_slots(hall_code: str, day: date) -> list[TimeSlot]:
    hall = db.session.scalar(select(ServiceHall).where(ServiceHall.code == hall_code))
    if hall is None:
        raise NotFound("未找到该服务大厅")
    start = datetime.combine(day, time.min, tzinfo=SHANGHAI)
    return list(db.session.scalars(
        select(TimeSlot).where(TimeSlot.hall_id == hall.id, TimeSlot.starts_at >= start,
                               TimeSlot.starts_at < start + timedelta(days=1),
                               TimeSlot.starts_at > utcnow())
        .order_by(TimeSlot.starts_at)))


def book(account: Account, slot_id: int, channel: str, case_id: int | None = None) -> Booking:
    slot = db.session.get(TimeSlot, slot_id)
    if slot is None:
        raise ValidationFailed({"slot_id": ["未找到该预约时段"]})
    if as_utc(slot.starts_at) <= utcnow():
        raise SlotPast()
    taken = cast(CursorResult[Any], db.session.execute(
        update(TimeSlot).where(TimeSlot.id == slot_id, TimeSlot.booked < TimeSlot.capacity)
        .values(booked=TimeSlot.booked + 1)))
    if taken.rowcount != 1:
        db.session.rollback()
        raise SlotFull()
    booking = Booking(slot_id=slot_id, account_id=account.id, case_id=case_id,
                      status=BookingStatus.BOOKED, active_key=f"{account.id}:{slot_id}")
    db.session.add(booking)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()  # gives the seat back too: same transaction
        raise AlreadyBooked() from None
    audit.record(actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
                 action="appointment.booked", entity_type="booking", entity_id=booking.id,
                 after={"slot": slot_id})
    db.session.commit()
    return booking


def my_bookings(account: Account) -> list[Booking]:
    return list(db.session.scalars(
        select(Booking).where(Booking.account_id == account.id)
        .order_by(Booking.created_at.desc())))


def cancel(account: Account, booking_id: int, channel: str) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.account_id != account.id:
        raise NotFound("未找到该预约")
    if booking.status != BookingStatus.BOOKED:
        raise Conflict("该预约已取消")
    BOOKING_STATES.move(booking, BookingStatus.CANCELLED)
    booking.cancelled_at = utcnow()
    booking.active_key = None
    db.session.execute(update(TimeSlot).where(TimeSlot.id == booking.slot_id)
                       .values(booked=TimeSlot.booked - 1))
    audit.record(actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
                 action="appointment.cancelled", entity_type="booking", entity_id=booking.id)
    db.session.commit()
    return booking
