"""The working-day calendar: library, weekday rule beyond it, overrides, clocks, CLI.

Tests without the ``app`` fixture run without a database (no overrides); the others
need the ``calendar_days`` table from the migrations.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.kernel.timeutil import SHANGHAI
from app.workdays import service
from app.workdays.cli import register_cli
from app.workdays.models import CalendarDay
from app.workdays.service import (
    DaySource,
    add_working_days,
    day_info,
    is_workday,
    review_clock,
    working_days_between,
)

WARNING = "not covered by chinese_calendar"


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, 999999,
                    tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "_warned_years", set())


def warnings_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and WARNING in r.getMessage()]


# --- the library -----------------------------------------------------------------------


def test_the_2026_national_day_holiday_comes_from_the_library() -> None:
    for n in range(1, 8):  # 1–7 October, Thursday to Wednesday
        assert not is_workday(date(2026, 10, n))
    assert is_workday(date(2026, 10, 8))
    info = day_info(date(2026, 10, 1))
    assert (info.source, info.note) == (DaySource.LIBRARY, "国庆节")


def test_a_make_up_sunday_is_a_working_day() -> None:
    sunday = date(2026, 9, 20)
    assert sunday.weekday() == 6
    assert is_workday(sunday)
    assert day_info(sunday).note == "国庆节调休上班"
    assert is_workday(date(2026, 10, 10))  # and the make-up Saturday after it
    assert not is_workday(date(2026, 10, 11))  # an ordinary Sunday


def test_a_datetime_counts_by_its_shanghai_date() -> None:
    # 30 September 16:30 UTC is already 1 October in Shanghai.
    assert is_workday(datetime(2026, 9, 30, 15, 59, tzinfo=UTC))
    assert not is_workday(datetime(2026, 9, 30, 16, 30, tzinfo=UTC))


# --- beyond the library ----------------------------------------------------------------


def test_2027_uses_monday_to_friday_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    assert not service.library_covers(2027)
    with caplog.at_level(logging.WARNING, logger="app.workdays.service"):
        assert is_workday(date(2027, 1, 1))  # a Friday: New Year's Day only with an override
        assert not is_workday(date(2027, 1, 2))
        assert is_workday(date(2027, 10, 8))
        assert day_info(date(2027, 1, 4)).source == DaySource.WEEKDAY_RULE
        assert add_working_days(shanghai(2027, 1, 1, 9), 1) == end_of(date(2027, 1, 4))
    assert warnings_logged(caplog) == [
        "calendar year 2027 not covered by chinese_calendar; "
        "using Monday–Friday plus the holiday table"
    ]


def test_each_uncovered_year_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="app.workdays.service"):
        for _ in range(3):
            is_workday(date(2027, 5, 1))
            is_workday(date(2031, 5, 1))
    assert len(warnings_logged(caplog)) == 2


@pytest.mark.parametrize("day", [date.min, date(1999, 12, 31), date(2100, 2, 28), date.max])
def test_no_date_makes_it_crash(day: date) -> None:
    assert is_workday(day) == (day.weekday() < 5)


# --- deadlines -------------------------------------------------------------------------


def test_a_deadline_skips_the_weekend() -> None:
    friday = shanghai(2026, 3, 13, 16, 30)
    due = add_working_days(friday, 1)
    assert due == end_of(date(2026, 3, 16))  # Monday
    assert due.tzinfo == UTC
    assert due.astimezone(SHANGHAI).isoformat() == "2026-03-16T23:59:59.999999+08:00"
    assert add_working_days(friday, 6) == end_of(date(2026, 3, 23))


def test_the_start_day_is_its_shanghai_date() -> None:
    # 17:00 UTC on Thursday is 01:00 on Friday in Shanghai.
    assert add_working_days(datetime(2026, 3, 12, 17, 0, tzinfo=UTC), 1) == end_of(
        date(2026, 3, 16))
    assert add_working_days(datetime(2026, 3, 12, 15, 0), 1) == end_of(date(2026, 3, 13))


def test_a_deadline_across_the_2026_spring_festival() -> None:
    start = shanghai(2026, 2, 13, 10)  # Friday before the holiday (15–23 February)
    assert add_working_days(start, 1) == end_of(date(2026, 2, 14))  # make-up Saturday
    assert add_working_days(start, 2) == end_of(date(2026, 2, 24))  # first day back
    assert add_working_days(start, 5) == end_of(date(2026, 2, 27))
    assert add_working_days(start, 6) == end_of(date(2026, 2, 28))  # make-up Saturday
    assert add_working_days(start, 7) == end_of(date(2026, 3, 2))


def test_zero_days_is_the_end_of_the_start_day_and_negative_is_refused() -> None:
    assert add_working_days(shanghai(2026, 2, 15, 10), 0) == end_of(date(2026, 2, 15))
    with pytest.raises(ValueError):
        add_working_days(shanghai(2026, 2, 15, 10), -1)


def test_working_days_between_excludes_the_start_and_includes_the_end() -> None:
    start = shanghai(2026, 2, 13, 10)
    assert working_days_between(start, shanghai(2026, 2, 13, 18)) == 0
    assert working_days_between(start, shanghai(2026, 2, 14, 9)) == 1
    assert working_days_between(start, shanghai(2026, 2, 23, 9)) == 1
    assert working_days_between(start, shanghai(2026, 2, 24, 9)) == 2
    assert working_days_between(shanghai(2026, 2, 24, 9), start) == -2


# --- review clocks ---------------------------------------------------------------------


@pytest.mark.parametrize(("now", "used", "remaining", "overdue", "label"), [
    (shanghai(2026, 3, 9, 15), 0, 5, False, "剩余 5 个工作日"),
    (shanghai(2026, 3, 11, 9), 2, 3, False, "剩余 3 个工作日"),
    (shanghai(2026, 3, 14, 9), 4, 1, False, "剩余 1 个工作日"),  # Saturday
    (shanghai(2026, 3, 16, 23, 59), 5, 0, False, "今日到期"),
    (shanghai(2026, 3, 17, 0, 30), 6, -1, True, "已超期 1 个工作日"),
    (shanghai(2026, 3, 18, 9), 7, -2, True, "已超期 2 个工作日"),
])
def test_review_clock(now: datetime, used: int, remaining: int, overdue: bool,
                      label: str) -> None:
    clock = review_clock(shanghai(2026, 3, 9, 9), 5, now=now)  # Monday, 5 working days
    assert clock.due_at == end_of(date(2026, 3, 16))
    assert (clock.used_days, clock.remaining_days, clock.overdue, clock.label) == (
        used, remaining, overdue, label)


def test_a_review_due_on_friday_is_overdue_on_saturday_without_a_working_day_count() -> None:
    clock = review_clock(shanghai(2026, 3, 9, 9), 4, now=shanghai(2026, 3, 14, 10))
    assert clock.overdue and clock.remaining_days == 0
    assert clock.label == "已超期"


def test_review_clock_defaults_to_now() -> None:
    clock = review_clock(datetime.now(UTC) - timedelta(days=1), 20)
    assert not clock.overdue and clock.remaining_days >= 19


# --- overrides (need the calendar_days table) ------------------------------------------


def test_an_override_wins_over_the_library_and_the_weekday_rule(app: Flask) -> None:
    assert is_workday(date(2026, 10, 8))  # read once: the cache must be refreshed below
    service.set_override(date(2026, 10, 8), is_workday=False, note="本地调整",
                         updated_by="tester")
    service.set_override(date(2026, 10, 10), is_workday=False, updated_by="tester")
    service.set_override(date(2027, 1, 1), is_workday=False, note="元旦", updated_by="tester")
    service.set_override(date(2027, 2, 20), is_workday=True, note="春节调休上班",
                         updated_by="tester")

    assert not is_workday(date(2026, 10, 8))
    assert not is_workday(date(2026, 10, 10))
    assert not is_workday(date(2027, 1, 1))
    assert is_workday(date(2027, 2, 20))  # a Saturday
    info = day_info(date(2027, 1, 1))
    assert (info.source, info.note) == (DaySource.OVERRIDE, "元旦")
    # Friday 31 December 2026 + 1 working day: 1 January is now a holiday.
    assert add_working_days(shanghai(2026, 12, 31, 10), 1) == end_of(date(2027, 1, 4))


def test_overrides_can_be_changed_and_removed_and_are_audited(app: Flask) -> None:
    day = date(2027, 1, 1)
    service.set_override(day, is_workday=False, note="元旦", updated_by="tester")
    service.set_override(day, is_workday=True, note="", updated_by="tester")
    assert is_workday(day)
    assert db.session.get(CalendarDay, day).updated_by == "tester"

    assert service.remove_override(day, updated_by="tester")
    assert not service.remove_override(day, updated_by="tester")
    assert day_info(day).source == DaySource.WEEKDAY_RULE

    records = db.session.scalars(
        select(AuditRecord).where(AuditRecord.entity_type == "calendar_day")
        .order_by(AuditRecord.id)).all()
    assert [(r.action, r.entity_id, r.before, r.after) for r in records] == [
        ("calendar.day_set", "2027-01-01", None, {"is_workday": False, "note": "元旦"}),
        ("calendar.day_set", "2027-01-01", {"is_workday": False, "note": "元旦"},
         {"is_workday": True, "note": ""}),
        ("calendar.day_unset", "2027-01-01", {"is_workday": True, "note": ""}, None),
    ]


def test_a_review_clock_counts_overrides(app: Flask) -> None:
    service.set_override(date(2027, 1, 1), is_workday=False, note="元旦", updated_by="t")
    clock = review_clock(shanghai(2026, 12, 30, 9), 3, now=shanghai(2027, 1, 4, 9))
    assert clock.due_at == end_of(date(2027, 1, 5))
    assert (clock.used_days, clock.label) == (2, "剩余 1 个工作日")


# --- the CLI ---------------------------------------------------------------------------


def _runner(app: Flask) -> FlaskCliRunner:
    if "calendar" not in app.cli.commands:  # until app/cli.py registers the group
        register_cli(app)
    return app.test_cli_runner()


def test_cli_sets_shows_and_unsets_days(app: Flask) -> None:
    runner = _runner(app)
    result = runner.invoke(args=["calendar", "set", "2027-01-01", "--holiday", "--note", "元旦"])
    assert result.exit_code == 0, result.output
    assert "2027-01-01（星期五）为休息日" in result.output
    assert "2027 年不在 chinese_calendar 覆盖范围内" in result.output
    result = runner.invoke(args=["calendar", "set", "2027-02-20", "--workday",
                                 "--note", "春节调休上班", "--by", "王科长"])
    assert result.exit_code == 0, result.output
    assert db.session.get(CalendarDay, date(2027, 2, 20)).updated_by == "王科长"
    assert not is_workday(date(2027, 1, 1))

    shown = runner.invoke(args=["calendar", "show", "2027-01"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert "2027 年 1 月（工作日 20 天）" in lines[0]
    assert "2027-01-01  星期五  休息日  override      元旦" in lines
    assert "2027-01-02  星期六  休息日  weekday-rule" in lines
    assert "2027-01-04  星期一  工作日  weekday-rule" in lines
    assert sum(line.startswith("2027-01-") for line in lines) == 31

    result = runner.invoke(args=["calendar", "unset", "2027-01-01"])
    assert result.exit_code == 0, result.output
    assert "现为：工作日，来源：周一至周五规则" in result.output
    assert is_workday(date(2027, 1, 1))
    again = runner.invoke(args=["calendar", "unset", "2027-01-01"])
    assert again.exit_code == 0 and "没有人工设置" in again.output


def test_cli_shows_library_days_with_their_holiday(app: Flask) -> None:
    shown = _runner(app).invoke(args=["calendar", "show", "2026-10"])
    assert shown.exit_code == 0, shown.output
    assert "2026-10-01  星期四  休息日  library       国庆节" in shown.output
    assert "2026-10-10  星期六  工作日  library       国庆节调休上班" in shown.output
    assert "覆盖范围" not in shown.output


@pytest.mark.parametrize(("args", "code", "message"), [
    (["set", "2027-01-01"], 2, "请指定 --holiday"),
    (["set", "2027-13-01", "--holiday"], 2, "日期无效"),
    (["set", "2027-01-01", "--holiday", "--note", "长" * 61], 1, "备注不能超过 60 个字"),
    (["show", "2027-1"], 2, "月份无效"),
    (["show", "2027-00"], 2, "月份无效"),
])
def test_cli_refuses_bad_input(app: Flask, args: list[str], code: int, message: str) -> None:
    result = _runner(app).invoke(args=["calendar", *args])
    assert result.exit_code == code
    assert message in result.output
    assert db.session.get(CalendarDay, date(2027, 1, 1)) is None


def test_cli_registers_a_calendar_group(app: Any) -> None:
    _runner(app)
    assert "calendar" in app.cli.commands
