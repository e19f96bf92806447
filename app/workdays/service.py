"""Working days, deadlines and review clocks on the official Chinese calendar.

Whether a day is a working day is decided, in this order, by:

1. an override row (``calendar_days``), which staff set with ``flask calendar set``;
2. the chinese_calendar library (statutory holidays and make-up workdays), for the
   years it covers;
3. Monday–Friday, for years the library does not cover yet; a warning is logged once
   per such year so that somebody enters that year's holidays as overrides.

Days are local (Asia/Shanghai) dates; a datetime is first converted to its local date.
Overrides are read once per year and application context (``flask.g``), i.e. once per
request; writes through this module clear that cache. Outside an application context
there is no database, so only the library and the weekday rule apply.
"""

from __future__ import annotations

import enum
import functools
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import chinese_calendar
from flask import g, has_app_context
from sqlalchemy import select

from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.errors import ValidationFailed
from app.kernel.timeutil import SHANGHAI, as_utc, utcnow
from app.workdays.models import CalendarDay

logger = logging.getLogger(__name__)

END_OF_DAY = time(23, 59, 59, 999999)
NOTE_MAX_LENGTH = 60
AUDIT_ENTITY = "calendar_day"
_CACHE_KEY = "workdays_overrides"

# chinese_calendar names holidays in English; the calendar shows them in Chinese.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


class DaySource(enum.StrEnum):
    """Where a day's status comes from."""

    OVERRIDE = "override"
    LIBRARY = "library"
    WEEKDAY_RULE = "weekday-rule"


@dataclass(frozen=True)
class DayInfo:
    day: date
    is_workday: bool
    source: DaySource
    # The override's note, or the library's holiday in Chinese ("国庆节",
    # "国庆节调休上班"); empty for ordinary days.
    note: str

    @property
    def weekday_name(self) -> str:
        return WEEKDAY_NAMES[self.day.weekday()]


@dataclass(frozen=True)
class Clock:
    """Where a review stands against its time limit in working days."""

    due_at: datetime  # aware UTC: 23:59:59.999999 Asia/Shanghai of the last working day
    used_days: int  # working days elapsed since the start (start day excluded)
    remaining_days: int  # limit − used; negative once working days pass the due day
    overdue: bool  # now is after due_at
    label: str  # "剩余 3 个工作日", "今日到期", "已超期 2 个工作日"


# --- the library and the warning ------------------------------------------------------

_warned_years: set[int] = set()


@functools.lru_cache(maxsize=8192)
def _library_day(day: date) -> tuple[bool, str] | None:
    """(is working day, note) from chinese_calendar; None for a year it does not cover."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    if not name:
        return (not on_holiday, "")
    label = HOLIDAY_NAMES.get(name, name)
    return (not on_holiday, label if on_holiday else f"{label}调休上班")


def library_covers(year: int) -> bool:
    """Whether chinese_calendar knows the holidays and make-up workdays of ``year``."""
    return 1 <= year <= 9999 and _library_day(date(year, 6, 30)) is not None


def _warn_uncovered(year: int) -> None:
    if year in _warned_years:
        return
    _warned_years.add(year)
    logger.warning(
        "calendar year %d not covered by chinese_calendar; "
        "using Monday–Friday plus the holiday table", year,
    )


# --- overrides -------------------------------------------------------------------------


def _overrides(year: int) -> dict[date, tuple[bool, str]]:
    """The override rows of one year, read once per application context."""
    if not has_app_context():
        return {}
    cache: dict[int, dict[date, tuple[bool, str]]] = g.setdefault(_CACHE_KEY, {})
    if year not in cache:
        rows = db.session.execute(
            select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.note).where(
                CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)
            )
        ).all()
        cache[year] = {row.day: (bool(row.is_workday), row.note or "") for row in rows}
    return cache[year]


def forget_cached_overrides() -> None:
    """Drop the overrides read in this context (after writing the table directly)."""
    if has_app_context():
        g.pop(_CACHE_KEY, None)


# --- questions about days --------------------------------------------------------------


def _as_local_date(value: date) -> date:
    if isinstance(value, datetime):
        return as_utc(value).astimezone(SHANGHAI).date()
    return value


def day_info(day: date) -> DayInfo:
    """A day's status and where it comes from: override, library or weekday rule."""
    day = _as_local_date(day)
    override = _overrides(day.year).get(day)
    if override is not None:
        return DayInfo(day, override[0], DaySource.OVERRIDE, override[1])
    library = _library_day(day)
    if library is not None:
        return DayInfo(day, library[0], DaySource.LIBRARY, library[1])
    _warn_uncovered(day.year)
    return DayInfo(day, day.weekday() < 5, DaySource.WEEKDAY_RULE, "")


def is_workday(d: date) -> bool:
    """Whether ``d`` is a working day (a datetime counts by its Asia/Shanghai date)."""
    return day_info(d).is_workday


def month_days(year: int, month: int) -> list[DayInfo]:
    """Every day of a month with its status."""
    first = date(year, month, 1)
    days = []
    day = first
    while day.month == month:
        days.append(day_info(day))
        if day == date.max:
            break
        day += timedelta(days=1)
    return days


def local_day_end(day: date) -> datetime:
    """23:59:59.999999 Asia/Shanghai of ``day``, as an aware UTC datetime."""
    return datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI).astimezone(UTC)


def add_working_days(start: datetime, days: int) -> datetime:
    """The deadline: the end of the ``days``-th working day after ``start``'s local date.

    The start day itself does not count, whether or not it is a working day; with
    ``days == 0`` the deadline is the end of the start day. Naive datetimes are UTC.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    day = _as_local_date(as_utc(start))
    left = days
    while left:
        day += timedelta(days=1)
        if is_workday(day):
            left -= 1
    return local_day_end(day)


def working_days_between(start: datetime, end: datetime) -> int:
    """Working days elapsed from ``start`` to ``end``, by local dates.

    The start day is excluded and the end day included (if it is a working day); an
    ``end`` on an earlier date gives the same count, negative.
    """
    first, last = _as_local_date(as_utc(start)), _as_local_date(as_utc(end))
    if last < first:
        return -working_days_between(end, start)
    return sum(1 for n in range(1, (last - first).days + 1)
               if is_workday(first + timedelta(days=n)))


def _label(remaining: int, overdue: bool) -> str:
    if overdue:
        # Overdue with no working day since the due day: a weekend or holiday after it.
        return f"已超期 {-remaining} 个工作日" if remaining < 0 else "已超期"
    if remaining == 0:
        return "今日到期"
    return f"剩余 {remaining} 个工作日"


def review_clock(started_at: datetime, limit_days: int, now: datetime | None = None) -> Clock:
    """The review's due time, working days used and left, and a label for people."""
    now = utcnow() if now is None else as_utc(now)
    due_at = add_working_days(started_at, limit_days)
    used = working_days_between(started_at, now)
    remaining = limit_days - used
    overdue = now > due_at
    return Clock(due_at=due_at, used_days=used, remaining_days=remaining, overdue=overdue,
                 label=_label(remaining, overdue))


# --- maintaining the override table ----------------------------------------------------


def _check_text(field: str, value: str, required: bool, what: str) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed({field: [f"请填写{what}"]})
    if len(value) > NOTE_MAX_LENGTH:
        raise ValidationFailed({field: [f"{what}不能超过 {NOTE_MAX_LENGTH} 个字"]})
    return value


def _state(row: CalendarDay) -> dict[str, Any]:
    return {"is_workday": row.is_workday, "note": row.note}


def set_override(
    day: date,
    *,
    is_workday: bool,
    note: str = "",
    updated_by: str,
    channel: Channel | str = Channel.SYSTEM,
    actor_type: ActorType | str = ActorType.SYSTEM,
    actor_id: object = None,
) -> CalendarDay:
    """Declare ``day`` a working day or a holiday, whatever the library says (committed)."""
    note = _check_text("note", note, False, "备注")
    updated_by = _check_text("updated_by", updated_by, True, "操作人")
    row = db.session.get(CalendarDay, day)
    before = None if row is None else _state(row)
    if row is None:
        row = CalendarDay(day=day, is_workday=is_workday, note=note, updated_by=updated_by)
        db.session.add(row)
    else:
        row.is_workday, row.note, row.updated_by = is_workday, note, updated_by
        row.updated_at = utcnow()
    audit.record(
        actor_type=actor_type, actor_id=updated_by if actor_id is None else actor_id,
        channel=channel, action="calendar.day_set", entity_type=AUDIT_ENTITY,
        entity_id=day.isoformat(), before=before, after=_state(row),
    )
    db.session.commit()
    forget_cached_overrides()
    return row


def remove_override(
    day: date,
    *,
    updated_by: str,
    channel: Channel | str = Channel.SYSTEM,
    actor_type: ActorType | str = ActorType.SYSTEM,
    actor_id: object = None,
) -> bool:
    """Remove ``day``'s override (committed); False if it had none."""
    updated_by = _check_text("updated_by", updated_by, True, "操作人")
    row = db.session.get(CalendarDay, day)
    if row is None:
        return False
    audit.record(
        actor_type=actor_type, actor_id=updated_by if actor_id is None else actor_id,
        channel=channel, action="calendar.day_unset", entity_type=AUDIT_ENTITY,
        entity_id=day.isoformat(), before=_state(row), after=None,
    )
    db.session.delete(row)
    db.session.commit()
    forget_cached_overrides()
    return True


def overrides_between(first: date, last: date) -> list[CalendarDay]:
    """The override rows from ``first`` to ``last`` (inclusive), by date."""
    return list(db.session.scalars(
        select(CalendarDay).where(CalendarDay.day >= first, CalendarDay.day <= last)
        .order_by(CalendarDay.day)
    ))
