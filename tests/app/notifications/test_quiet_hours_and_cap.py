"""Quiet hours (22:00–08:00 Asia/Shanghai) and the per-phone daily cap defer SMS, never
drop them; codes and WeChat messages are not held."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask

from app.accounts.models import Account
from app.kernel.db import db
from app.kernel.settings import SettingsError
from app.kernel.timeutil import SHANGHAI, as_utc
from app.notifications import service
from app.notifications.models import OutboxStatus
from tests.app.notifications.conftest import make_case, messages, notices, shanghai
from tests.flow import Citizen

Clock = Callable[[datetime], None]


@pytest.fixture(autouse=True)
def _quiet_hours(app: Flask) -> None:
    app.config.update(SMS_QUIET_HOURS="22:00-08:00", SMS_DAILY_CAP_PER_PHONE=10)


def _registered(citizen: Citizen, event: str) -> int:
    account = db.session.get(Account, citizen.account_id)
    number = make_case(citizen.account_id)
    queued = service.enqueue([account], "case_registered",
                             {"case_number": number, "status_label": "已登簿", "hint": "查看"},
                             event)
    db.session.commit()
    return queued


def _local(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(SHANGHAI)


@pytest.mark.parametrize(("at", "until"), [
    (shanghai(2026, 11, 24, 22, 0), shanghai(2026, 11, 25, 8, 0)),
    (shanghai(2026, 11, 24, 23, 30), shanghai(2026, 11, 25, 8, 0)),
    (shanghai(2026, 11, 25, 0, 10), shanghai(2026, 11, 25, 8, 0)),
    (shanghai(2026, 11, 25, 7, 59), shanghai(2026, 11, 25, 8, 0)),
    (shanghai(2026, 11, 25, 8, 0), None),
    (shanghai(2026, 11, 25, 21, 59), None),
])
def test_quiet_hours_end_at_eight_beijing_time(
        app: Flask, at: datetime, until: datetime | None) -> None:
    assert service.quiet_until(at) == until
    assert service.quiet_until(at, "off") is None
    assert service.quiet_until(shanghai(2026, 11, 25, 12, 30), "12:00-13:00") == shanghai(
        2026, 11, 25, 13, 0)


def test_a_malformed_quiet_hours_setting_is_named(app: Flask) -> None:
    with pytest.raises(SettingsError, match="SMS_QUIET_HOURS"):
        service.quiet_hours("10pm to 8am")


def test_an_sms_queued_at_night_waits_for_the_morning_then_goes(
        app: Flask, sandbox: Any, sms_citizen: Citizen, clock: Clock) -> None:
    clock(shanghai(2026, 11, 24, 23, 30))
    assert _registered(sms_citizen, "e:night") == 1
    [row] = messages()
    assert _local(row.next_attempt_at) == shanghai(2026, 11, 25, 8, 0)
    assert service.drain()["sent"] == 0 and notices(sandbox) == []

    clock(shanghai(2026, 11, 25, 8, 0, 30))
    assert service.drain()["sent"] == 1
    assert len(notices(sandbox)) == 1
    [row] = messages()
    assert row.status == OutboxStatus.SENT and row.attempts == 1


def test_a_message_due_in_quiet_hours_is_deferred_without_an_attempt(
        app: Flask, sandbox: Any, sms_citizen: Citizen, clock: Clock) -> None:
    clock(shanghai(2026, 11, 24, 21, 59))
    _registered(sms_citizen, "e:late")  # queued just before 22:00 …
    clock(shanghai(2026, 11, 24, 22, 5))  # … the worker gets to it after
    counts = service.drain()
    assert counts["deferred"] == 1 and counts["sent"] == 0
    [row] = messages()
    assert row.status == OutboxStatus.PENDING and row.attempts == 0
    assert _local(row.next_attempt_at) == shanghai(2026, 11, 25, 8, 0)
    assert row in service.helpdesk_messages("pending")  # the helpdesk sees it waiting
    clock(shanghai(2026, 11, 25, 8, 1))
    assert service.drain()["sent"] == 1


def test_codes_and_wechat_messages_are_not_held_at_night(
        app: Flask, sandbox: Any, sms_citizen: Citizen, wechat_citizen: Citizen,
        clock: Clock) -> None:
    clock(shanghai(2026, 11, 24, 23, 30))
    sms_account = db.session.get(Account, sms_citizen.account_id)
    service.enqueue([sms_account], "login_code", {"code": "654321", "minutes": "5"}, "e:code")
    _registered(wechat_citizen, "e:wechat")
    db.session.commit()
    assert service.drain()["sent"] == 2
    assert [m["params"][0] for m in sandbox.state.sms_messages()][-1] == "654321"
    assert len(sandbox.state.wechat_messages()) == 1


def test_over_the_daily_cap_an_sms_waits_for_the_next_day(
        app: Flask, sandbox: Any, sms_citizen: Citizen, clock: Clock) -> None:
    app.config["SMS_DAILY_CAP_PER_PHONE"] = 2
    clock(shanghai(2026, 11, 24, 15, 0))
    for n in range(3):
        _registered(sms_citizen, f"e:cap:{n}")
    counts = service.drain()
    assert (counts["sent"], counts["deferred"]) == (2, 1)
    waiting = [m for m in messages() if m.status == OutboxStatus.PENDING]
    assert len(waiting) == 1 and waiting[0].attempts == 0
    # The next day begins in quiet hours: it goes at 08:00.
    assert _local(waiting[0].next_attempt_at) == shanghai(2026, 11, 25, 8, 0)
    clock(shanghai(2026, 11, 24, 20, 0))
    assert service.drain()["sent"] == 0
    clock(shanghai(2026, 11, 25, 8, 0))
    assert service.drain()["sent"] == 1
    assert len(notices(sandbox)) == 3
    assert service.sent_today("+8613800000002", shanghai(2026, 11, 25, 9, 0)) == 1


def test_without_quiet_hours_the_cap_defers_to_midnight(
        app: Flask, sms_citizen: Citizen, clock: Clock) -> None:
    app.config.update(SMS_DAILY_CAP_PER_PHONE=1, SMS_QUIET_HOURS="off")
    clock(shanghai(2026, 11, 24, 15, 0))
    _registered(sms_citizen, "e:a")
    _registered(sms_citizen, "e:b")
    assert service.drain()["deferred"] == 1
    [waiting] = [m for m in messages() if m.status == OutboxStatus.PENDING]
    assert _local(waiting.next_attempt_at) == shanghai(2026, 11, 25, 0, 0)


def test_the_cap_counts_the_phone_not_the_account(
        app: Flask, client: Any, sandbox: Any, sms_citizen: Citizen, clock: Clock) -> None:
    from tests.flow import citizen_by_wechat

    app.config["SMS_DAILY_CAP_PER_PHONE"] = 1
    clock(shanghai(2026, 11, 24, 15, 0))
    _registered(sms_citizen, "e:sms-account")
    assert service.drain()["sent"] == 1
    # The same person in the mini-program: SMS go to the same phone on file.
    in_wechat = citizen_by_wechat(app, client, "lisi", "李四", "440402199003150029")
    _registered(in_wechat, "e:wechat-account")
    counts = service.drain()
    assert counts["sent"] == 1 and counts["deferred"] == 1  # the WeChat message went
