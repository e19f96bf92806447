"""Fixtures for the one-window application: citizens with verified identities, reviewers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from app.staff.models import StaffRole
from tests.app.staff.factories import make_staff
from tests.flow import Citizen, Reviewer, citizen_by_sms, citizen_by_wechat


@pytest.fixture
def app(make_app: Any, tmp_path: Any) -> Iterator[Flask]:
    """The app with its files under this test's own instance directory."""
    instance = tmp_path / "instance"
    instance.mkdir()
    app = make_app(INSTANCE_DIR=str(instance))
    with app.app_context():
        yield app


@pytest.fixture(autouse=True)
def _clean_sandbox(sandbox: Any) -> Iterator[None]:
    yield
    sandbox.reset()


@pytest.fixture
def buyer(app: Flask, client: Any) -> Citizen:
    return citizen_by_wechat(app, client, "zhangsan", "张三", "440402198801010018")


@pytest.fixture
def seller(app: Flask, client: Any, sandbox: Any) -> Citizen:
    return citizen_by_sms(app, client, sandbox, "13800000002", "李四", "440402199003150029")


@pytest.fixture
def reviewers(app: Flask, make_app: Any) -> dict[str, Reviewer]:
    """One logged-in reviewer per department, each with their own browser."""
    result = {}
    for department, role, username, name in [
        ("registration", StaffRole.REGISTRATION_REVIEWER, "zhou.dengji", "周登记"),
        ("housing", StaffRole.HOUSING_REVIEWER, "wu.zhujian", "吴住建"),
        ("tax", StaffRole.TAX_REVIEWER, "zheng.shuiwu", "郑税务"),
    ]:
        account = make_staff(username=username, display_name=name, roles=(role,))
        result[department] = Reviewer.logged_in(make_app().test_client(), account, department)
    return result
