"""The staff use cases, called directly."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

import pytest
from argon2 import PasswordHasher
from flask import Flask

from app.kernel.db import db
from app.kernel.errors import Conflict, Forbidden, ValidationFailed
from app.staff import service
from app.staff.models import StaffRole
from tests.app.staff.factories import (
    PASSWORD,
    Clock,
    audit_records,
    make_staff,
    make_supervisor,
    staff_row,
)


def test_a_generated_password_is_long_readable_and_different_each_time() -> None:
    passwords = {service.generate_password() for _ in range(20)}

    assert len(passwords) == 20
    for password in passwords:
        assert len(password) >= 16
        assert not set(password) & set("0O1lI")


def test_create_staff_returns_a_password_and_a_totp_enrolment(app: Flask) -> None:
    created = service.create_staff("Zhou.Dengji", "周登记", [StaffRole.REGISTRATION_REVIEWER])

    assert created.user.username == "zhou.dengji"
    assert len(created.password) >= 16
    assert len(created.totp_secret) == 32
    uri = unquote(created.provisioning_uri)
    assert uri.startswith("otpauth://totp/")
    assert "zhou.dengji" in uri
    assert app.config["TOTP_ISSUER"] in uri
    assert created.user.password_hash.startswith("$argon2id$")
    assert created.password not in created.user.password_hash


@pytest.mark.parametrize(("password", "reason"), [
    ("short-pass1", "密码至少需要12个字符"),
    ("aaaaaaaaaaaaaaaa", "密码过于简单"),
    ("zhou.dengji-2025!", "密码不能包含用户名"),
])
def test_weak_passwords_are_refused_in_chinese(app: Flask, password: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        service.create_staff("zhou.dengji", "周登记", [StaffRole.HELPDESK], password)

    assert any(reason in message for message in refused.value.details["fields"]["password"])


def test_a_username_is_unique(app: Flask) -> None:
    make_staff(username="zhou.dengji")

    with pytest.raises(Conflict, match="已被使用"):
        service.create_staff("ZHOU.DENGJI", "周登记", [StaffRole.HELPDESK])


def test_only_a_supervisor_creates_staff_outside_the_command_line(app: Flask) -> None:
    auditor = make_staff(username="feng.shenji", roles=(StaffRole.AUDITOR,))

    with pytest.raises(Forbidden):
        service.create_staff("sun.fuwu", "孙服务", [StaffRole.HELPDESK],
                             actor_id=auditor.id, channel="admin")
    with pytest.raises(Forbidden):
        service.create_staff("sun.fuwu", "孙服务", [StaffRole.HELPDESK], channel="admin")


def test_only_a_supervisor_grants_roles(app: Flask) -> None:
    auditor = make_staff(username="feng.shenji", roles=(StaffRole.AUDITOR,))
    user = staff_row("feng.shenji")

    with pytest.raises(Forbidden):
        service.grant_roles(user, auditor.id, [StaffRole.SUPERVISOR])
    assert staff_row("feng.shenji").roles == {StaffRole.AUDITOR}


def test_a_password_hashed_with_old_parameters_is_rehashed_at_login(app: Flask) -> None:
    account = make_staff()
    user = staff_row(account.username)
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    db.session.commit()

    service.check_password(account.username, PASSWORD)

    assert "m=8," not in staff_row(account.username).password_hash
    assert len(audit_records("staff.password_rehashed")) == 1


def test_a_code_from_the_previous_step_is_accepted_once(app: Flask, clock: Clock) -> None:
    account = make_staff()
    previous = account.code(clock.now.replace(microsecond=0) - timedelta(seconds=30))

    service.verify_totp(staff_row(account.username), previous)
    with pytest.raises(service.TotpInvalid):
        service.verify_totp(staff_row(account.username), previous)

    assert staff_row(account.username).totp_last_step is not None


def test_a_code_two_steps_old_is_refused(app: Flask, clock: Clock) -> None:
    account = make_staff()
    stale = account.code(clock.now - timedelta(seconds=61))

    with pytest.raises(service.TotpInvalid):
        service.verify_totp(staff_row(account.username), stale)
    assert staff_row(account.username).failed_logins == 1


def test_an_older_code_is_refused_after_a_newer_one(app: Flask, clock: Clock) -> None:
    account = make_staff()
    older = account.code(clock.now - timedelta(seconds=30))
    service.verify_totp(staff_row(account.username), account.code(clock.now))

    with pytest.raises(service.TotpInvalid):
        service.verify_totp(staff_row(account.username), older)


def test_a_successful_login_clears_the_failure_count(app: Flask, clock: Clock) -> None:
    account = make_staff()
    for _ in range(3):
        with pytest.raises(service.StaffLoginFailed):
            service.check_password(account.username, "wrong-password-1")

    service.verify_totp(service.check_password(account.username, PASSWORD),
                        account.code(clock.now))

    assert staff_row(account.username).failed_logins == 0


def test_the_current_code_is_refused_in_production(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = make_staff()
    monkeypatch.setitem(app.config, "APP_ENV", "production")

    with pytest.raises(Forbidden, match="生产环境"):
        service.current_totp_code(account.username)


def test_the_staff_list_masks_display_names(app: Flask) -> None:
    make_supervisor(display_name="陈主管")
    make_staff(username="ou.yang", display_name="欧阳明月", enrolled=False)

    listed = {row.username: row for row in service.list_staff()}

    assert listed["chen.zhuguan"].masked_name == "陈*管"
    assert listed["ou.yang"].masked_name == "欧**月"
    assert listed["ou.yang"].totp_enrolled is False
    assert listed["chen.zhuguan"].roles == (StaffRole.SUPERVISOR,)
