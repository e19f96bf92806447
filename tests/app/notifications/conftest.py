"""Fixtures for the notification centre: citizens with phones and persons, a case and a
certificate to link to, a frozen clock for quiet hours and caps."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.cases.models import Case
from app.cases.workflow import CaseStatus
from app.kernel.db import db
from app.kernel.timeutil import SHANGHAI
from app.notifications.models import OutboxMessage
from tests.flow import Citizen, citizen_by_sms, citizen_by_wechat

_serials = itertools.count(1)


@pytest.fixture(autouse=True)
def _clean_sandbox(sandbox: Any) -> Iterator[None]:
    yield
    sandbox.reset()


@pytest.fixture
def sms_citizen(app: Flask, client: Any, sandbox: Any) -> Citizen:
    """李四: logs in by SMS (138 0000 0002), identity verified (a person with that phone)."""
    return citizen_by_sms(app, client, sandbox, "13800000002", "李四", "440402199003150029")


@pytest.fixture
def wechat_citizen(app: Flask, client: Any) -> Citizen:
    """张三: a mini-program user with no phone on file."""
    return citizen_by_wechat(app, client, "zhangsan", "张三", "440402198801010018")


def make_case(account_id: int) -> str:
    """A case row of this account (its number is what links point at)."""
    number = f"ZH20261124{next(_serials) + 900:05d}"
    db.session.add(Case(case_number=number, business_type_code="resale_transfer",
                        status=CaseStatus.FEES_ASSESSED, created_by_account_id=account_id,
                        created_channel="mobile_web"))
    db.session.commit()
    return number


def messages(template: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if template is not None:
        query = query.where(OutboxMessage.template == template)
    return list(db.session.scalars(query))


def notices(sandbox: Any) -> list[dict[str, Any]]:
    """SMS the sandbox delivered, login codes left out."""
    return [m for m in sandbox.state.sms_messages() if m["template"] != "login_code"]


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Set the notification service's "now" (quiet hours, cap and due times read it)."""
    import app.notifications.service as service

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(service, "utcnow", lambda: moment)

    return set_now
