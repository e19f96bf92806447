"""The one-working-day answer time of a correction request, on the official calendar."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from app.certificates.corrections import ANSWER_WITHIN_WORKING_DAYS
from app.kernel.timeutil import SHANGHAI
from app.workdays.service import add_working_days, review_clock


def _due(reported: datetime) -> datetime:
    return add_working_days(reported, ANSWER_WITHIN_WORKING_DAYS).astimezone(SHANGHAI)


@pytest.mark.parametrize(("reported", "due_day"), [
    (datetime(2026, 11, 24, 10, 0), "2026-11-25"),  # Tuesday → Wednesday evening
    (datetime(2026, 11, 27, 16, 30), "2026-11-30"),  # Friday → over the weekend → Monday
    (datetime(2026, 11, 28, 9, 0), "2026-11-30"),  # on a Saturday: the next working day
    (datetime(2026, 9, 30, 11, 0), "2026-10-08"),  # before National Day: after the holiday
    (datetime(2026, 10, 3, 11, 0), "2026-10-08"),  # during it
    (datetime(2026, 10, 9, 17, 0), "2026-10-10"),  # Friday before a make-up Saturday
])
def test_answers_are_due_at_the_end_of_the_next_working_day(
        app: Any, reported: datetime, due_day: str) -> None:
    due = _due(reported.replace(tzinfo=SHANGHAI))
    assert due.date().isoformat() == due_day
    assert (due.hour, due.minute) == (23, 59)


def test_a_year_the_library_does_not_know_falls_back_without_crashing(app: Any) -> None:
    # 2027 is past chinese-calendar 1.11: Monday–Friday plus the editable table.
    friday = datetime(2027, 3, 5, 15, 0, tzinfo=SHANGHAI)
    assert _due(friday).date().isoformat() == "2027-03-08"


def test_the_clock_reads_overdue_after_the_deadline(app: Any) -> None:
    reported = datetime(2026, 11, 27, 16, 30, tzinfo=SHANGHAI)
    monday = review_clock(reported, 1, now=datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI))
    assert (monday.overdue, monday.label) == (False, "今日到期")
    tuesday = review_clock(reported, 1, now=datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI))
    assert tuesday.overdue and tuesday.label.startswith("已超期")
