"""Staff login through the pages: password, then TOTP, then a session that ends."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.kernel.db import db
from app.staff import service
from tests.app.staff.factories import (
    Clock,
    audit_records,
    csrf_token,
    log_in,
    make_staff,
    staff_row,
    submit_code,
    submit_password,
    text,
)

GENERIC_FAILURE = "用户名或密码错误"


def test_password_then_totp_code_leads_to_the_dashboard(app: Flask, pages: FlaskClient) -> None:
    """A reviewer types the password, then the code, and lands on a dashboard that greets them."""
    account = make_staff(display_name="周登记")

    first = submit_password(pages, account.username, account.password)
    assert first.status_code == 302
    assert first.location.endswith("/admin/login/totp")
    code_page = pages.get("/admin/login/totp")
    assert "输入动态验证码" in text(code_page)

    done = submit_code(pages, account.code())
    assert done.status_code == 302
    assert done.location.endswith("/admin/")
    dashboard = pages.get("/admin/")
    assert dashboard.status_code == 200
    assert "您好，周登记" in text(dashboard)
    assert "登记审核员" in text(dashboard)
    assert staff_row(account.username).last_login_at is not None
    [login] = audit_records("staff.login")
    assert (login.actor_id, login.channel) == (str(account.id), "admin")


def test_a_wrong_password_gets_a_generic_message(app: Flask, pages: FlaskClient) -> None:
    """The message does not say whether the username exists."""
    make_staff(username="zhou.dengji")

    wrong_password = submit_password(pages, "zhou.dengji", "not-the-password-at-all")
    unknown_user = submit_password(pages, "nobody.here", "not-the-password-at-all")

    assert wrong_password.status_code == unknown_user.status_code == 200
    assert GENERIC_FAILURE in text(wrong_password)
    assert GENERIC_FAILURE in text(unknown_user)
    assert "不存在" not in text(unknown_user)


def test_failed_logins_are_audited_without_the_password(app: Flask, pages: FlaskClient) -> None:
    account = make_staff()

    submit_password(pages, account.username, "Secret-Guess-12345")
    submit_password(pages, "nobody.here", "Secret-Guess-12345")

    failures = audit_records("staff.login_failed")
    assert [record.entity_id for record in failures] == [str(account.id), "unknown"]
    for record in failures:
        assert "Secret-Guess" not in str(record.after)
        assert "nobody" not in str(record.after)


def test_five_wrong_passwords_lock_the_account(
    app: Flask, pages: FlaskClient, clock: Clock
) -> None:
    """After the fifth failure even the right password is refused, with the same message."""
    account = make_staff()
    for _ in range(5):
        assert GENERIC_FAILURE in text(submit_password(pages, account.username, "wrong-password-1"))

    refused = submit_password(pages, account.username, account.password)

    assert refused.status_code == 200
    assert GENERIC_FAILURE in text(refused)
    assert staff_row(account.username).locked_until is not None
    assert len(audit_records("staff.locked")) == 1
    assert audit_records("staff.login_refused")[0].after == {
        "stage": "password", "reason": "locked",
    }


def test_the_lock_expires_after_the_lock_minutes(
    app: Flask, pages: FlaskClient, clock: Clock
) -> None:
    account = make_staff()
    for _ in range(5):
        submit_password(pages, account.username, "wrong-password-1")

    clock.advance(minutes=14)
    assert GENERIC_FAILURE in text(submit_password(pages, account.username, account.password))

    clock.advance(minutes=1, seconds=1)
    log_in(pages, account, at=clock.now)
    assert pages.get("/admin/").status_code == 200


def test_wrong_totp_codes_count_toward_the_same_lock(
    app: Flask, pages: FlaskClient, clock: Clock
) -> None:
    account = make_staff()
    for _ in range(3):
        submit_password(pages, account.username, "wrong-password-1")
    submit_password(pages, account.username, account.password)
    submit_code(pages, "000000" if account.code(clock.now) != "000000" else "111111")

    last = submit_code(pages, "000000" if account.code(clock.now) != "000000" else "111111")

    assert last.location.endswith("/admin/login")
    assert "账号已被锁定" in text(pages.get("/admin/login"))
    assert staff_row(account.username).locked_until is not None


def test_a_session_that_passed_only_the_password_cannot_reach_the_dashboard(
    app: Flask, pages: FlaskClient
) -> None:
    account = make_staff()
    submit_password(pages, account.username, account.password)

    response = pages.get("/admin/")

    assert response.status_code == 302
    assert response.location.endswith("/admin/login/totp")


def test_a_wrong_totp_code_keeps_the_staff_member_on_the_code_page(
    app: Flask, pages: FlaskClient, clock: Clock
) -> None:
    account = make_staff()
    submit_password(pages, account.username, account.password)
    wrong = "123456" if account.code(clock.now) != "123456" else "654321"

    response = submit_code(pages, wrong)

    assert response.location.endswith("/admin/login/totp")
    assert "动态验证码错误" in text(pages.get("/admin/login/totp"))
    assert pages.get("/admin/").location.endswith("/admin/login/totp")


def test_a_replayed_totp_code_is_refused(app: Flask, pages: FlaskClient, clock: Clock) -> None:
    """A code that has logged in once cannot log in again, even within its 30 seconds."""
    account = make_staff()
    code = account.code(clock.now)
    log_in(pages, account, at=clock.now)
    pages.post("/admin/logout", data={"csrf_token": csrf_token(pages, "/admin/")})

    submit_password(pages, account.username, account.password)
    replay = submit_code(pages, code)

    assert replay.location.endswith("/admin/login/totp")
    assert "已使用过" in text(pages.get("/admin/login/totp"))
    assert audit_records("staff.login_failed")[-1].after == {
        "stage": "totp_replayed", "failed_logins": 1,
    }
    clock.advance(seconds=30)
    assert submit_code(pages, account.code(clock.now)).location.endswith("/admin/")


def test_the_first_login_enrols_the_authenticator(
    app: Flask, pages: FlaskClient, clock: Clock
) -> None:
    """Until the first code is accepted, the code page shows the secret and its QR code."""
    account = make_staff(enrolled=False)
    submit_password(pages, account.username, account.password)

    enrolment = text(pages.get("/admin/login/totp"))
    assert "绑定验证器" in enrolment
    assert "<svg" in enrolment
    assert account.secret[:4] in enrolment

    submit_code(pages, account.code(clock.now))
    assert staff_row(account.username).totp_confirmed_at is not None
    assert len(audit_records("staff.totp_enrolled")) == 1

    pages.post("/admin/logout", data={"csrf_token": csrf_token(pages, "/admin/")})
    submit_password(pages, account.username, account.password)
    later = text(pages.get("/admin/login/totp"))
    assert "<svg" not in later
    assert account.secret[:4] not in later


def test_the_password_step_expires(app: Flask, pages: FlaskClient, clock: Clock) -> None:
    account = make_staff()
    submit_password(pages, account.username, account.password)
    token = csrf_token(pages, "/admin/login/totp")

    clock.advance(minutes=service.PASSWORD_STEP_MINUTES, seconds=1)
    response = pages.post("/admin/login/totp", data={
        "csrf_token": token, "code": account.code(clock.now),
    })

    assert response.location.endswith("/admin/login")
    assert "登录已超时" in text(pages.get("/admin/login"))
    assert pages.get("/admin/").location.startswith("/admin/login")


def test_a_post_without_csrf_token_gets_the_400_page(app: Flask, pages: FlaskClient) -> None:
    """CSRF protection is on (the default); a form posted without its token is refused."""
    account = make_staff()

    response = pages.post("/admin/login", data={
        "username": account.username, "password": account.password,
    })

    assert response.status_code == 400
    assert "页面已过期" in text(response)
    assert pages.get("/admin/").location.startswith("/admin/login")


def test_logout_ends_the_session(app: Flask, pages: FlaskClient) -> None:
    account = make_staff()
    log_in(pages, account)

    response = pages.post("/admin/logout", data={"csrf_token": csrf_token(pages, "/admin/")})

    assert response.location.endswith("/admin/login")
    assert "您已退出登录" in text(pages.get("/admin/login"))
    assert pages.get("/admin/").location.startswith("/admin/login")
    assert len(audit_records("staff.logout")) == 1


def test_logout_without_csrf_token_is_refused(app: Flask, pages: FlaskClient) -> None:
    log_in(pages, make_staff())

    assert pages.post("/admin/logout").status_code == 400
    assert pages.get("/admin/").status_code == 200


def test_the_session_expires_after_the_staff_session_hours(
    app: Flask, pages: FlaskClient, clock: Clock
) -> None:
    account = make_staff()
    log_in(pages, account, at=clock.now)
    clock.advance(hours=app.config["STAFF_SESSION_HOURS"] - 1)
    assert pages.get("/admin/").status_code == 200

    clock.advance(hours=1, minutes=1)
    response = pages.get("/admin/")

    assert response.location.startswith("/admin/login")
    assert "登录已过期" in text(pages.get("/admin/login"))


def test_a_deactivated_staff_member_is_logged_out(app: Flask, pages: FlaskClient) -> None:
    account = make_staff()
    log_in(pages, account)

    user = staff_row(account.username)
    user.is_active = False
    db.session.commit()

    assert pages.get("/admin/").location.startswith("/admin/login")
    assert GENERIC_FAILURE in text(submit_password(pages, account.username, account.password))


def test_login_starts_a_new_session(app: Flask, pages: FlaskClient) -> None:
    """Nothing planted in the session before the login survives it (no fixation)."""
    account = make_staff()
    pages.get("/admin/login")
    with pages.session_transaction() as before:
        before["planted"] = "by-an-attacker"
        before["staff_id"] = 999

    log_in(pages, account)

    with pages.session_transaction() as after:
        assert "planted" not in after
        assert after["staff_id"] == account.id
        assert after["staff_2fa"] is True
        assert len(after["staff_nonce"]) >= 16


def test_a_page_asked_for_before_login_is_shown_after_it(app: Flask, pages: FlaskClient) -> None:
    account = make_staff()
    redirect = pages.get("/admin/audit?action=staff.")
    assert redirect.status_code == 302
    assert "next=/admin/audit?action%3Dstaff." in redirect.location

    submit_password(pages, account.username, account.password, next_path="/admin/audit")
    done = submit_code(pages, account.code())

    assert done.location == "/admin/audit"


def test_a_next_outside_the_admin_pages_is_ignored(app: Flask, pages: FlaskClient) -> None:
    account = make_staff()

    submit_password(pages, account.username, account.password, next_path="//evil.example/")
    done = submit_code(pages, account.code())

    assert done.location.endswith("/admin/")


def test_login_posts_are_rate_limited_per_ip(app: Flask, make_app: Any) -> None:
    browser = make_app(RATELIMIT_STAFF_LOGIN_PER_IP="2 per minute").test_client()
    for _ in range(2):
        assert submit_password(browser, "nobody.here", "wrong-password-1").status_code == 200

    limited = submit_password(browser, "nobody.here", "wrong-password-1")

    assert limited.status_code == 429
    assert "操作过于频繁" in text(limited)


@pytest.mark.parametrize("path", ["/admin/", "/admin/staff", "/admin/audit", "/admin/staff/new"])
def test_every_admin_page_needs_a_login(app: Flask, pages: FlaskClient, path: str) -> None:
    response = pages.get(path)

    assert response.status_code == 302
    assert response.location.startswith("/admin/login?next=")


def test_a_staff_member_locked_while_logged_in_is_logged_out(
    app: Flask, pages: FlaskClient, make_app: Any
) -> None:
    account = make_staff()
    log_in(pages, account)
    guesser = make_app().test_client()
    for _ in range(5):
        submit_password(guesser, account.username, "wrong-password-1")

    assert pages.get("/admin/").location.startswith("/admin/login")


def test_a_code_typed_with_full_width_digits_is_accepted(
    app: Flask, pages: FlaskClient, clock: Clock
) -> None:
    """Chinese input methods often type ０-９; they mean the same digits."""
    account = make_staff()
    submit_password(pages, account.username, account.password)
    to_full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    full_width = account.code(clock.now).translate(to_full_width)

    assert submit_code(pages, full_width).location.endswith("/admin/")
