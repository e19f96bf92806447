"""``flask staff …`` commands."""

from __future__ import annotations

import re
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskCliRunner

from app.staff.cli import register_staff_cli
from app.staff.models import StaffRole
from tests.app.staff.factories import audit_records, make_staff, staff_row


def _runner(app: Flask) -> FlaskCliRunner:
    if "staff" not in app.cli.commands:  # until app/cli.py registers the group itself
        register_staff_cli(app)
    return app.test_cli_runner()


def test_create_supervisor_prints_a_password_and_creates_a_supervisor(app: Flask) -> None:
    result = _runner(app).invoke(args=["staff", "create-supervisor", "chen.zhuguan",
                                       "--name", "陈主管"])

    assert result.exit_code == 0, result.output
    password = re.search(r"初始密码：(\S+)", result.output)
    secret = re.search(r"TOTP 密钥：([A-Z2-7]+)", result.output)
    assert password and len(password.group(1)) >= 16
    assert secret
    assert "otpauth://totp/" in result.output
    user = staff_row("chen.zhuguan")
    assert user.roles == {StaffRole.SUPERVISOR}
    assert user.display_name == "陈主管"
    assert user.totp_secret == secret.group(1)
    assert audit_records("staff.created")[0].channel == "cli"


def test_create_supervisor_refuses_an_existing_username(app: Flask) -> None:
    make_staff(username="chen.zhuguan")

    result = _runner(app).invoke(args=["staff", "create-supervisor", "chen.zhuguan",
                                       "--name", "陈主管", "--no-qr"])

    assert result.exit_code == 1
    assert "已被使用" in result.output


def test_create_gives_the_roles_asked_for(app: Flask) -> None:
    result = _runner(app).invoke(args=[
        "staff", "create", "zheng.shuiwu", "--name", "郑税务",
        "--role", "tax_reviewer", "--role", "helpdesk", "--no-qr",
    ])

    assert result.exit_code == 0, result.output
    assert staff_row("zheng.shuiwu").roles == {StaffRole.TAX_REVIEWER, StaffRole.HELPDESK}


def test_create_refuses_an_unknown_role(app: Flask) -> None:
    result = _runner(app).invoke(args=[
        "staff", "create", "zheng.shuiwu", "--name", "郑税务", "--role", "janitor",
    ])

    assert result.exit_code == 2
    assert audit_records("staff.created") == []


def test_totp_code_prints_the_current_code_in_development(app: Flask) -> None:
    account = make_staff()

    result = _runner(app).invoke(args=["staff", "totp-code", account.username])

    assert result.exit_code == 0, result.output
    assert pyotp.TOTP(account.secret).verify(result.output.strip(), valid_window=1)


def test_totp_code_is_refused_in_production(app: Flask, make_app: Any) -> None:
    account = make_staff()
    production = make_app(APP_ENV="production")

    with production.app_context():  # the command runs in the app it was started with
        result = _runner(production).invoke(args=["staff", "totp-code", account.username])

    assert result.exit_code == 1
    assert "生产环境不允许" in result.output
    assert not re.search(r"\b\d{6}\b", result.output)
