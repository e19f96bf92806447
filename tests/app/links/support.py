"""People with a phone on file, their cases, and a browser driving the mobile web pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.accounts.models import Account
from app.accounts.service import account_for_phone
from app.cases import service as cases
from app.cases.models import Case
from app.certificates.models import Certificate
from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.people import service as people

ZHANG = ("13800000001", "张三", "440402198801010018")
LI = ("13800000002", "李四", "440402199003150029")

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Someone:
    account_id: int
    person_id: int
    phone: str  # 11 digits

    @property
    def e164(self) -> str:
        return "+86" + self.phone

    @property
    def account(self) -> Account:
        account = db.session.get(Account, self.account_id)
        assert account is not None
        return account


def someone(who: tuple[str, str, str] = ZHANG, *, openid: str | None = None) -> Someone:
    """A verified person whose SMS account gave the person its phone; with ``openid``, a
    WeChat account of the same person too."""
    phone, name, id_number = who
    account = account_for_phone("+86" + phone, "mobile_web")
    person = people.bind_verified_identity(account, name, id_number, method="test",
                                           channel="mobile_web")
    if openid:
        wechat = Account(wechat_openid=openid)
        db.session.add(wechat)
        db.session.flush()
        people.bind_verified_identity(wechat, name, id_number, method="test",
                                      channel="miniprogram")
    db.session.commit()
    return Someone(account.id, person.id, phone)


def case_of(owner: Someone, business_type: str = "resale_transfer") -> str:
    case = cases.create_draft(owner.account, business_type, channel="mobile_web", prefix="ZH")
    return case.case_number


def certificate_for(case_number: str, number: str = "粤(2026)珠海市不动产权第0000001号") -> str:
    case = db.session.scalar(select(Case).where(Case.case_number == case_number))
    assert case is not None
    db.session.add(Certificate(number=number, kind="certificate", authority_code="440400",
                               year=2026, serial=1, case_id=case.id, content_json="{}",
                               content_hash="0" * 64, payload="test", status="valid",
                               issue_date=date(2026, 11, 24)))
    db.session.commit()
    return number


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def last_code(sandbox: Any, e164: str) -> str:
    message = sandbox.state.latest_sms(e164)
    assert message is not None, f"no SMS to {e164}"
    assert message["template"] == "login_code"
    return str(message["params"][0])


def open_link(client: FlaskClient, code: str) -> TestResponse:
    return client.get(f"/s/{code}")


def request_link_code(client: FlaskClient, code: str) -> TestResponse:
    page = open_link(client, code)
    assert page.status_code == 200, page.status_code
    return client.post(f"/s/{code}/code", data={"csrf_token": csrf_of(text(page))})


def verify_link(client: FlaskClient, code: str, otp: str) -> TestResponse:
    page = open_link(client, code)
    assert page.status_code == 200, page.status_code
    return client.post(f"/s/{code}/verify", data={"csrf_token": csrf_of(text(page)),
                                                  "code": otp})


def follow_link(client: FlaskClient, sandbox: Any, code: str, e164: str) -> TestResponse:
    """Open a link, have the code sent to the phone on file, read it, enter it."""
    sent = request_link_code(client, code)
    assert sent.status_code == 302, text(sent)
    return verify_link(client, code, last_code(sandbox, e164))


def log_in_h5(client: FlaskClient, sandbox: Any, phone: str, next_path: str = "") -> TestResponse:
    page = client.get("/m/login" + (f"?next={next_path}" if next_path else ""))
    sent = client.post("/m/login", data={"csrf_token": csrf_of(text(page)), "phone": phone})
    assert sent.status_code == 302, text(sent)
    page = client.get("/m/login")
    return client.post("/m/login/verify", data={"csrf_token": csrf_of(text(page)),
                                                "code": last_code(sandbox, "+86" + phone)})


def audit_rows(prefix: str) -> list[AuditRecord]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditRecord).where(
        AuditRecord.action.like(prefix + "%")).order_by(AuditRecord.id)))
