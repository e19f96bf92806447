"""The outbox end to end against the sandbox: every template goes out with its link,
a provider outage loses nothing, one event sends once."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.accounts.models import Account
from app.cases.models import Case
from app.integrations.sms import SmsReceipt, SmsUnavailable
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.links import service as links
from app.notifications import service
from app.notifications.models import OutboxMessage, OutboxStatus
from app.notifications.templates import LINK_VARIABLE
from tests.app.institutions.helpers import issue_certificate
from tests.app.notifications.conftest import make_case, messages, notices
from tests.flow import Citizen

ALL = sorted(service.TEMPLATES)


def _due_now() -> None:
    """Skip the back-off: every pending message is due."""
    db.session.execute(update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def _variables(name: str, case_number: str, certificate_number: str) -> dict[str, Any]:
    values = {k: v for k, v in service.TEMPLATES[name].example.items() if k != LINK_VARIABLE}
    if "case_number" in values:
        values["case_number"] = case_number
    if "certificate_number" in values:
        values["certificate_number"] = certificate_number
    return values


@pytest.mark.parametrize("name", ALL)
def test_every_template_reaches_the_sandbox_as_the_file_renders_it(
        app: Flask, sandbox: Any, sms_citizen: Citizen, wechat_citizen: Citizen,
        name: str) -> None:
    spec = service.TEMPLATES[name]
    certificate = issue_certificate(sms_citizen.account_id,
                                    [(sms_citizen.person_id, "李四", "440402199003150029", "1/1")])
    number = make_case(sms_citizen.account_id)
    values = _variables(name, number, certificate.number)
    accounts = [db.session.get(Account, c.account_id) for c in (sms_citizen, wechat_citizen)]
    queued = service.enqueue(accounts, name, values, f"test:{name}")
    db.session.commit()
    assert queued == (2 if spec.wechat_template_id else 1)
    # Until it is sent the link's code is in the row only encrypted.
    [sms_row] = [m for m in messages(name) if m.channel == "sms"]
    assert "/s/" not in json.dumps(sms_row.variables, ensure_ascii=False)

    earlier = len(sandbox.state.sms_messages())  # the login codes of the fixtures
    assert service.drain()["sent"] == queued
    [sms] = sandbox.state.sms_messages()[earlier:]
    assert sms["phone"] == "+8613800000002" and sms["template"] == name
    sent_values = dict(values)
    if spec.link:
        url = sms["params"][-1]
        assert url.startswith(app.config["PUBLIC_BASE_URL"].rstrip("/") + "/s/")
        link = links.resolve(url.rsplit("/", 1)[1])
        assert link is not None and link.person_id == sms_citizen.person_id
        assert link.purpose == spec.link
        assert link.target == (certificate.number if spec.link == "view_certificate"
                               else number)
        sent_values[LINK_VARIABLE] = url
    assert sms["text"] == spec.render_sms(sent_values)
    [sms_row] = [m for m in messages(name) if m.channel == "sms"]
    assert sms_row.status == OutboxStatus.SENT and service.LINK_SEALED not in sms_row.variables
    if spec.wechat_template_id:
        [wechat] = sandbox.state.wechat_messages()
        assert wechat["template_id"] == spec.wechat_template_id
        assert wechat["data"] == spec.wechat_values(values)
        assert wechat["page"] == spec.page_for(values)


def test_certificate_issued_links_to_the_cases_certificate(
        app: Flask, sandbox: Any, sms_citizen: Citizen) -> None:
    certificate = issue_certificate(sms_citizen.account_id,
                                    [(sms_citizen.person_id, "李四", "440402199003150029", "1/1")])
    case_number = db.session.scalar(select(Case.case_number).where(
        Case.id == certificate.case_id))
    account = db.session.get(Account, sms_citizen.account_id)
    service.enqueue([account], "certificate_issued",
                    {"case_number": case_number, "status_label": "已发证", "hint": "查看"},
                    f"certificate_issued:{case_number}")
    db.session.commit()
    service.drain()
    [sms] = notices(sandbox)
    link = links.resolve(sms["params"][-1].rsplit("/", 1)[1])
    assert link is not None and (link.purpose, link.target) == (
        "view_certificate", certificate.number)


class Outage:
    """An SMS provider that is down until :attr:`up` is set, then the real one."""

    def __init__(self, real: Any):
        self.real = real
        self.up = False
        self.calls = 0

    def send(self, phone: str, template: str, params: list[str]) -> SmsReceipt:
        self.calls += 1
        if not self.up:
            raise SmsUnavailable("ServerNetworkError", "connection refused")
        return self.real.send(phone, template, params)  # type: ignore[no-any-return]


def test_a_provider_outage_then_recovery_loses_no_message(
        app: Flask, sandbox: Any, sms_citizen: Citizen) -> None:
    outage = Outage(app.extensions["bdc.sms"])
    app.extensions["bdc.sms"] = outage
    account = db.session.get(Account, sms_citizen.account_id)
    numbers = [make_case(sms_citizen.account_id) for _ in range(3)]
    for number in numbers:
        service.enqueue([account], "case_registered",
                        {"case_number": number, "status_label": "已登簿", "hint": "查看"},
                        f"case_registered:{number}")
    db.session.commit()

    assert service.drain() == {"sent": 0, "retry": 3, "failed": 0, "skipped": 0, "deferred": 0}
    assert service.drain()["retry"] == 0  # backing off: not due yet
    for _ in range(2):
        _due_now()
        assert service.drain()["retry"] == 3
    rows = messages()
    assert {(m.status, m.attempts) for m in rows} == {(OutboxStatus.PENDING, 3)}
    assert all("ServerNetworkError" in (m.last_error or "") for m in rows)
    assert notices(sandbox) == []

    outage.up = True
    _due_now()
    assert service.drain()["sent"] == 3
    assert sorted(m["params"][0] for m in notices(sandbox)) == sorted(numbers)
    assert {m.status for m in messages()} == {OutboxStatus.SENT}
    assert all(m.last_error is None for m in messages())


def test_a_long_outage_ends_failed_for_the_helpdesk(
        app: Flask, sandbox: Any, sms_citizen: Citizen) -> None:
    app.extensions["bdc.sms"] = Outage(app.extensions["bdc.sms"])
    account = db.session.get(Account, sms_citizen.account_id)
    number = make_case(sms_citizen.account_id)
    service.enqueue([account], "case_rejected",
                    {"case_number": number, "status_label": "不予登记", "hint": "查看"},
                    f"case_rejected:{number}")
    db.session.commit()
    for _ in service.RETRY_DELAYS:
        _due_now()
        assert service.drain()["retry"] == 1
    _due_now()
    assert service.drain()["failed"] == 1
    [row] = messages()
    assert row.status == OutboxStatus.FAILED and row.attempts == len(service.RETRY_DELAYS) + 1
    assert service.failed_messages() == [row]


def test_a_refused_phone_fails_at_once(app: Flask, sandbox: Any, sms_citizen: Citizen) -> None:
    from app.integrations.sms import MemorySmsSender

    app.extensions["bdc.sms"] = MemorySmsSender(failing_phones=["+8613800000002"])
    account = db.session.get(Account, sms_citizen.account_id)
    number = make_case(sms_citizen.account_id)
    service.enqueue([account], "case_registered",
                    {"case_number": number, "status_label": "已登簿", "hint": "查看"}, "e:1")
    db.session.commit()
    assert service.drain()["failed"] == 1
    [row] = messages()
    assert row.attempts == 1 and "PhoneNumberInBlacklist" in (row.last_error or "")


def test_the_same_event_queued_twice_sends_once(
        app: Flask, sandbox: Any, sms_citizen: Citizen) -> None:
    account = db.session.get(Account, sms_citizen.account_id)
    number = make_case(sms_citizen.account_id)
    values = {"case_number": number, "total_yuan": "1,000.00", "status_label": "待缴费",
              "hint": "请缴费"}
    assert service.enqueue([account, account], "fees_assessed", values, f"fees:{number}") == 1
    assert service.enqueue([account], "fees_assessed", values, f"fees:{number}") == 0
    db.session.commit()
    assert service.enqueue([account], "fees_assessed", values, f"fees:{number}") == 0
    db.session.commit()
    service.drain()
    service.drain()
    assert len(notices(sandbox)) == 1
    assert len(messages()) == 1


def test_one_phone_gets_one_sms_per_event_whatever_accounts_lead_to_it(
        app: Flask, client: Any, sandbox: Any, sms_citizen: Citizen) -> None:
    from tests.flow import citizen_by_wechat

    # 李四 also uses the mini-program: the same person, so the same phone on file.
    in_wechat = citizen_by_wechat(app, client, "lisi", "李四", "440402199003150029")
    accounts = [db.session.get(Account, c.account_id) for c in (in_wechat, sms_citizen)]
    number = make_case(sms_citizen.account_id)
    queued = service.enqueue(accounts, "case_accepted", {
        "case_number": number, "due_date": "2026-11-27", "status_label": "已受理"},
        f"case_accepted:{number}")
    db.session.commit()
    assert queued == 2  # one WeChat message, one SMS (NOTIFY_WECHAT_FIRST is off)
    assert service.drain()["sent"] == 2
    assert len(notices(sandbox)) == 1 and len(sandbox.state.wechat_messages()) == 1


def test_wechat_first_a_mini_program_user_gets_the_subscribe_message_alone(
        app: Flask, client: Any, sandbox: Any, sms_citizen: Citizen) -> None:
    from tests.flow import citizen_by_wechat

    app.config["NOTIFY_WECHAT_FIRST"] = True
    # 李四 also uses the mini-program: the same person, with a phone on file.
    in_wechat = citizen_by_wechat(app, client, "lisi", "李四", "440402199003150029")
    assert in_wechat.person_id == sms_citizen.person_id
    accounts = [db.session.get(Account, c.account_id) for c in (in_wechat, sms_citizen)]
    number = make_case(sms_citizen.account_id)
    queued = service.enqueue(accounts, "case_accepted", {
        "case_number": number, "due_date": "2026-11-27", "status_label": "已受理"},
        f"case_accepted:{number}")
    db.session.commit()
    assert queued == 1  # one person, one notice: the subscribe message
    assert service.drain()["sent"] == 1
    assert notices(sandbox) == [] and len(sandbox.state.wechat_messages()) == 1
    assert service.drain()["sent"] == 0  # and no SMS follows


def test_wechat_first_an_unsubscribed_user_gets_the_sms_instead(
        app: Flask, client: Any, sandbox: Any, sms_citizen: Citizen) -> None:
    from tests.flow import citizen_by_wechat

    app.config["NOTIFY_WECHAT_FIRST"] = True
    # 李四 refused the subscribe message (the sandbox answers 43101 to "refused").
    in_wechat = citizen_by_wechat(app, client, "refused", "李四", "440402199003150029")
    assert in_wechat.person_id == sms_citizen.person_id
    accounts = [db.session.get(Account, c.account_id) for c in (in_wechat, sms_citizen)]
    number = make_case(sms_citizen.account_id)
    service.enqueue(accounts, "case_accepted", {
        "case_number": number, "due_date": "2026-11-27", "status_label": "已受理"},
        f"case_accepted:{number}")
    db.session.commit()
    assert service.drain()["skipped"] == 1  # the subscribe message cannot arrive
    assert service.drain()["sent"] == 1  # the SMS queued in its place goes
    [sms] = notices(sandbox)
    assert number in sms["text"] and sandbox.state.wechat_messages() == []
    assert service.drain()["sent"] == 0  # once


def test_a_user_who_did_not_subscribe_is_skipped_not_failed(
        app: Flask, client: Any, sandbox: Any) -> None:
    from tests.flow import citizen_by_wechat

    refusing = citizen_by_wechat(app, client, "refused", "王五", "440402198506200038")
    number = make_case(refusing.account_id)
    service.enqueue([db.session.get(Account, refusing.account_id)], "case_registered",
                    {"case_number": number, "status_label": "已登簿", "hint": "查看"}, "e:2")
    db.session.commit()
    assert service.drain()["skipped"] == 1
    [row] = messages()
    assert row.status == OutboxStatus.SKIPPED and "43101" in (row.last_error or "")


def test_an_event_missing_a_variable_is_refused_when_queued(
        app: Flask, sms_citizen: Citizen) -> None:
    account = db.session.get(Account, sms_citizen.account_id)
    with pytest.raises(ValueError, match="total_yuan"):
        service.enqueue([account], "fees_assessed", {"case_number": "ZH1"}, "e:3")
    with pytest.raises(ValueError, match="unknown template"):
        service.enqueue([account], "marketing", {}, "e:4")


def test_a_recipient_without_a_person_gets_the_platforms_address(
        app: Flask, client: Any, sandbox: Any) -> None:
    from tests.helpers import sms_login

    tokens = sms_login(client, sandbox, "13800000007")  # never verified: no person
    account = db.session.get(Account, tokens["account"]["id"])
    assert account is not None and account.person_id is None
    number = make_case(account.id)
    service.enqueue([account], "case_returned", {
        "case_number": number, "item_count": 1, "status_label": "退回补正", "hint": "补正"},
        "e:5")
    db.session.commit()
    assert service.drain()["sent"] == 1
    [sms] = notices(sandbox)
    assert sms["params"][-1] == app.config["PUBLIC_BASE_URL"].rstrip("/") + "/"


def test_a_provider_error_quoting_the_phone_is_kept_masked(
        app: Flask, sms_citizen: Citizen) -> None:
    class Quoting:
        def send(self, phone: str, template: str, params: list[str]) -> SmsReceipt:
            raise SmsUnavailable("InternalError", f"request for {phone} timed out")

    app.extensions["bdc.sms"] = Quoting()
    number = make_case(sms_citizen.account_id)
    service.enqueue([db.session.get(Account, sms_citizen.account_id)], "case_registered",
                    {"case_number": number, "status_label": "已登簿", "hint": "查看"}, "e:6")
    db.session.commit()
    assert service.drain()["retry"] == 1
    [row] = messages()
    assert row.last_error == "SmsUnavailable: InternalError: request for 138****0002 timed out"
