"""Supervisors keep the working-day calendar for the years the library does not know."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask
from flask.testing import FlaskClient

from app.staff.models import StaffRole
from app.workdays import service as workdays
from tests.app.staff.factories import log_in, make_staff, make_supervisor, post_form, text


def test_a_supervisor_declares_a_holiday_and_the_clock_counts_it(
        app: Flask, pages: FlaskClient) -> None:
    log_in(pages, make_supervisor())
    page = text(pages.get("/admin/calendar?month=2027-01"))
    assert "该年度尚未收录法定节假日" in page and "周一至周五规则" in page
    start = datetime(2026, 12, 31, 2, tzinfo=UTC)  # Thursday 31 December, Shanghai
    before = workdays.add_working_days(start, 1)
    response = post_form(pages, "/admin/calendar?month=2027-01", "/admin/calendar?month=2027-01",
                         {"day": "2027-01-01", "kind": "holiday", "note": "元旦"})
    assert response.status_code == 302
    page = text(pages.get(response.location))
    assert "已保存" in page and "手工设置" in page and "元旦" in page
    workdays.forget_cached_overrides()
    assert workdays.is_workday(date(2027, 1, 1)) is False
    assert workdays.add_working_days(start, 1) > before  # Friday no longer counts
    response = post_form(pages, "/admin/calendar?month=2027-01", "/admin/calendar?month=2027-01",
                         {"day": "2027-01-01", "kind": "unset"})
    assert "已恢复为法定日历" in text(pages.get(response.location))


def test_only_supervisors_edit_the_calendar(app: Flask, pages: FlaskClient) -> None:
    log_in(pages, make_staff(roles=(StaffRole.HELPDESK,)))
    assert pages.get("/admin/calendar").status_code == 403
