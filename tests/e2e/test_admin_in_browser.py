"""A staff member signs in through the real pages in Chromium: password, TOTP, dashboard."""

import pyotp
import pytest

from app.staff import service
from app.staff.models import StaffRole

pytestmark = pytest.mark.e2e


def test_a_supervisor_signs_in_with_password_and_code_and_sees_the_dashboard(
        app, live_server, page, screenshot):
    created = service.create_staff("chen.sup", "陈主管", [StaffRole.SUPERVISOR])
    page.goto(f"{live_server}/admin/")
    assert "/admin/login" in page.url  # not logged in: sent to the login page
    screenshot("admin-login")
    page.get_by_label("用户名").fill("chen.sup")
    page.get_by_label("密码").fill(created.password)
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url("**/admin/login/totp**")
    assert page.locator("svg").count() >= 1  # first login: the enrolment QR code
    screenshot("admin-totp-enrolment")
    page.get_by_label("验证码").fill(pyotp.TOTP(created.totp_secret).now())
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/admin/")
    body = page.locator("body").inner_text()
    assert "主管" in body and "人员管理" in body
    screenshot("admin-dashboard-supervisor")
    page.goto(f"{live_server}/admin/staff")
    assert "陈*管" in page.locator("body").inner_text()
    screenshot("admin-staff-list")


def test_a_wrong_password_shows_a_chinese_message(app, live_server, page):
    service.create_staff("zhou.reg", "周登记", [StaffRole.REGISTRATION_REVIEWER])
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("用户名").fill("zhou.reg")
    page.get_by_label("密码").fill("not the password at all")
    page.get_by_role("button", name="下一步").click()
    assert "用户名或密码" in page.locator("body").inner_text()
