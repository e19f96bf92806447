"""The API, the mobile-web case page and the mini-program's case page offer the same
actions for every business type × status × party.

The API's ``allowed_actions`` and the mobile-web page's links are compared here; the
API's answers are also written to ``miniprogram/tests/fixtures/case-actions.json``,
which the mini-program's jest test renders to check its buttons
(``case-actions-cross-channel.test.js``). This test fails if that file is not what the
server answers today: run it with ``UPDATE_CROSS_CHANNEL_FIXTURE=1`` to write it anew.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.accounts import tokens
from app.cases import service as cases
from app.cases.models import CaseApplicant
from app.cases.workflow import CaseStatus
from app.certificates.models import Certificate, CertificateHolder
from app.fees.models import CaseFee
from app.kernel.db import db
from app.policies.cases import HOLDER_ROLES
from tests.app.links.support import log_in_h5, someone, text

FIXTURE = Path(__file__).resolve().parents[2] / "miniprogram/tests/fixtures/case-actions.json"
WANG = ("13800000003", "王五", "440402199205050034")
PEOPLE = {"filer": ("13800000001", "张三", "440402198801010018"),
          "co_applicant": ("13800000002", "李四", "440402199003150029"),
          "agent": WANG}
BUSINESS_TYPES = ("resale_transfer", "new_home_transfer", "mortgage_first",
                  "mortgage_discharge", "change", "correction")
# Which business role each party holds (the filer is on the holder's side where there is
# one; the agent holds the 代理人 role).
ROLES = {
    "resale_transfer": {"filer": "buyer", "co_applicant": "seller", "agent": "agent"},
    "new_home_transfer": {"filer": "buyer", "co_applicant": "seller", "agent": "agent"},
    "mortgage_first": {"filer": "mortgagor", "co_applicant": "mortgagee", "agent": "agent"},
    "mortgage_discharge": {"filer": "mortgagee", "co_applicant": "mortgagor", "agent": "agent"},
    "change": {"filer": "owner", "co_applicant": "owner", "agent": "agent"},
    "correction": {"filer": "owner", "co_applicant": "owner", "agent": "agent"},
}
ACTION_ATTRIBUTE = re.compile(r'data-testid="case-action" data-action="([a-z_]+)"')


def _case(business_type: str, people: dict[str, Any], status: CaseStatus, serial: int) -> str:
    filer = people["filer"]
    case = cases.create_draft(filer.account, business_type, channel="miniprogram",
                              prefix="ZH")
    for party, role in ROLES[business_type].items():
        case.applicants.append(CaseApplicant(person_id=people[party].person_id, role=role,
                                             share="1/2" if role == "owner" else None))
    case.status = status
    db.session.add(CaseFee(case_id=case.id, item_code="registration_fee", name="不动产登记费",
                           department="registration", amount_fen=8000, basis="住宅 80 元/件"))
    if status in (CaseStatus.CERTIFICATE_ISSUED, CaseStatus.ARCHIVED):
        certificate = Certificate(
            number=f"粤(2026)珠海市不动产权第{serial:07d}号", kind="certificate",
            authority_code="440400", year=2026, serial=serial, case_id=case.id,
            content_json="{}", content_hash="0" * 64, payload=f"p{serial}", status="valid",
            issue_date=date(2026, 11, 24))
        db.session.add(certificate)
        db.session.flush()
        holder_role = HOLDER_ROLES.get(business_type)
        for party, role in ROLES[business_type].items():
            if role == holder_role:
                db.session.add(CertificateHolder(certificate_id=certificate.id,
                                                 person_id=people[party].person_id,
                                                 role="holder"))
    db.session.commit()
    return case.case_number


def _h5_actions(client: FlaskClient, number: str) -> list[str]:
    page = client.get(f"/m/cases/{number}")
    assert page.status_code == 200, (number, page.status_code)
    return ACTION_ATTRIBUTE.findall(text(page))


@pytest.mark.parametrize("business_type", BUSINESS_TYPES)
def test_the_api_and_the_mobile_web_page_offer_the_same_actions(
        app, site, sandbox, business_type):
    people = {party: someone(who) for party, who in PEOPLE.items()}
    bearer = {party: {"Authorization": "Bearer " + tokens.start_session(
        p.account, "miniprogram").access_token} for party, p in people.items()}
    db.session.commit()
    api = site.test_client()
    browsers = {party: site.test_client() for party in people}
    for party, browser in browsers.items():
        log_in_h5(browser, sandbox, people[party].phone)

    found: list[dict[str, Any]] = []
    for serial, status in enumerate(CaseStatus, start=1):
        number = _case(business_type, people, status, serial)
        for party in people:
            detail = api.get(f"/api/cases/{number}", headers=bearer[party])
            assert detail.status_code == 200, (party, status, detail.get_json())
            body = detail.get_json()
            web = _h5_actions(browsers[party], number)
            assert web == body["allowed_actions"], (business_type, status.value, party)
            found.append({"name": f"{business_type}/{status.value}/{party}", "detail": body})
    _store_for_the_miniprogram(business_type, found)


def _stable(detail: dict[str, Any]) -> dict[str, Any]:
    """The detail without what differs between runs (numbers, times, ids)."""
    kept = {k: v for k, v in detail.items()
            if k in ("business_type", "status", "status_label", "allowed_actions",
                     "party_role", "party_role_label", "applicants", "returned_items",
                     "materials_editable", "confirmation_needed")}
    kept["case_number"] = "ZH2026120400001"
    kept["applicants"] = [{k: v for k, v in a.items() if k != "id"} for a in detail["applicants"]]
    kept["timeline"] = []
    return kept


def _store_for_the_miniprogram(business_type: str, found: list[dict[str, Any]]) -> None:
    stored = json.loads(FIXTURE.read_text(encoding="utf-8")) if FIXTURE.exists() else {}
    others = [c for c in stored.get("cases", [])
              if not c["name"].startswith(business_type + "/")]
    mine = [{"name": c["name"], "detail": _stable(c["detail"])} for c in found]
    if os.environ.get("UPDATE_CROSS_CHANNEL_FIXTURE"):
        cases_ = sorted(others + mine, key=lambda c: c["name"])
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        FIXTURE.write_text(json.dumps({"cases": cases_}, ensure_ascii=False, indent=1) + "\n",
                           encoding="utf-8")
        return
    recorded = {c["name"]: c["detail"]["allowed_actions"] for c in stored.get("cases", [])
                if c["name"].startswith(business_type + "/")}
    answered = {c["name"]: c["detail"]["allowed_actions"] for c in mine}
    assert recorded == answered, (
        "miniprogram/tests/fixtures/case-actions.json is not what the server answers: "
        "run UPDATE_CROSS_CHANNEL_FIXTURE=1 pytest tests/cross_channel")
