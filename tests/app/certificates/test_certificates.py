"""The e-certificate from payment to the owner's phone, the QR page, the verification
tool, and a correction that revokes and re-issues it."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from app.cases.workflow import CaseStatus
from app.certificates import verify
from app.certificates.models import Certificate
from app.certificates.service import status_of
from app.jobs import run_once
from app.kernel.db import db
from app.usecases.issue_certificate import issue_due
from tests import flow_fixtures as application
from tests.app.fees.test_payment_flow import (  # noqa: F401 - fixtures
    _manual_delivery,
    _paid_by_wechat,
    app,
)
from tests.app.staff.factories import make_staff
from tests.flow import Citizen, Reviewer, case_row, flashes

# The one-window application's fixtures (as tests/app/fees/conftest.py has them).
_clean_sandbox = application._clean_sandbox
buyer, seller, reviewers = application.buyer, application.seller, application.reviewers

YEAR = r"\(20\d\d\)"


def _registered(client: Any, buyer: Citizen, seller: Citizen,
                reviewers: dict[str, Reviewer], sandbox: Any) -> str:
    number, _order = _paid_by_wechat(client, buyer, seller, reviewers, sandbox)
    page = reviewers["registration"].act(number, "register")
    assert "登簿完成，已写入登记簿" in flashes(page)
    return number


def _path(number: str, tail: str = "") -> str:
    return f"/api/certificates/{quote(number)}{tail}"


def _tool_status(number: str) -> Any:
    found = status_of(number)
    return None if found is None else (found.status, found.content_hash, found.reason)


def test_paid_and_registered_gives_a_signed_certificate_without_staff_action(
        client: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
        sandbox: Any) -> None:
    number = _registered(client, buyer, seller, reviewers, sandbox)
    assert buyer.get("/api/certificates").get_json() == []  # not yet made
    run_once()  # the job runner: no clerk prints or hands over anything
    assert case_row(number).status == CaseStatus.CERTIFICATE_ISSUED

    [listed] = buyer.get("/api/certificates").get_json()
    assert re.fullmatch(r"粤" + YEAR + r"珠海市不动产权第0000001号", listed["number"])
    assert (listed["status"], listed["kind_label"]) == ("valid", "不动产权证书")
    assert seller.get("/api/certificates").get_json() == []  # the seller is not an owner
    cert_no = listed["number"]

    # The content, the image and the PDF need a fresh identity claim.
    assert buyer.get(_path(cert_no)).status_code == 403
    detail = buyer.client.get(_path(cert_no), headers=buyer.claim_headers).get_json()
    assert detail["content"]["holders"][0]["name"] == "张三"
    assert detail["content"]["holders"][0]["id_number"] == "440402198801010018"
    assert detail["content"]["unit_number"] == "440402003001GB00012F00010203"
    image = buyer.client.get(_path(cert_no, "/image"), headers=buyer.claim_headers)
    assert image.status_code == 200 and image.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.headers["Cache-Control"] == "no-store"
    pdf = buyer.client.get(_path(cert_no, "/pdf"), headers=buyer.claim_headers)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    verdict = verify.verify_pdf(pdf.data, ca_cert_pem=client.application.config["CERT_CA_CERT"],
                                status_of=_tool_status)
    assert verdict.ok, verdict.reason
    # Someone else asking for it by number learns nothing.
    assert seller.client.get(_path(cert_no, "/pdf"),
                             headers=seller.claim_headers).status_code == 404
    # The owner sees every look at it.
    seen = buyer.get(_path(cert_no, "/accesses")).get_json()
    assert [a["action"] for a in seen] == ["download_pdf", "view_image", "view"]

    # The QR opens the public page: valid, the masked owner, the issue date; nothing else.
    row = db.session.scalar(select(Certificate))
    page = client.get(f"/v/{row.payload}").get_data(as_text=True)
    assert "有效" in page and "张*" in page and "张三" not in page
    assert "440402" not in page and "海滨" not in page
    forged = row.payload[:-3] + ("AAA" if not row.payload.endswith("AAA") else "BBB")
    assert client.get(f"/v/{forged}").status_code == 404
    assert buyer.get(_path(cert_no, "/accesses")).get_json()[0]["who"] == "扫码核验"


def test_a_correction_revokes_everywhere_and_reissues_with_a_new_number(
        client: Any, make_app: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    from app.staff.models import StaffRole
    from tests.app.staff.factories import csrf_token, log_in

    number = _registered(client, buyer, seller, reviewers, sandbox)
    issue_due()
    old = db.session.scalar(select(Certificate))
    old_pdf = buyer.client.get(_path(old.number, "/pdf"), headers=buyer.claim_headers).data

    reported = buyer.post(_path(old.number, "/corrections"),
                          {"item": "坐落", "description": "门牌号应为 1203 房，证书写成 1230 房"},
                          claim=True)
    assert reported.status_code == 201, reported.get_json()
    assert reported.get_json()["status_label"] == "处理中"
    again = buyer.post(_path(old.number, "/corrections"),
                       {"item": "坐落", "description": "再报一次同一个错误"}, claim=True)
    assert again.status_code == 409

    helpdesk = make_app().test_client()
    log_in(helpdesk, make_staff(username="sun.fuwu", display_name="孙服务",
                                roles=(StaffRole.HELPDESK,)))
    queue = helpdesk.get("/admin/corrections").get_data(as_text=True)
    assert old.number in queue and "门牌号应为" in queue
    correction_id = reported.get_json()["id"]
    answered = helpdesk.post(f"/admin/corrections/{correction_id}/answer", data={
        "csrf_token": csrf_token(helpdesk, "/admin/corrections"), "outcome": "reissued",
        "answer": "经核对登记簿，证书坐落记载有误，已作废并换发新证"})
    assert "已答复" in helpdesk.get(answered.location).get_data(as_text=True)

    db.session.rollback()
    old = db.session.get(Certificate, old.id)
    new = db.session.scalar(select(Certificate).where(Certificate.id != old.id))
    assert old.status == "revoked" and old.replaced_by_id == new.id
    assert new.number.endswith("第0000002号") and new.status == "valid"
    assert case_row(number).status == CaseStatus.CERTIFICATE_ISSUED
    # Revoked everywhere at once: the owner's list, the QR page, the tool.
    listed = {c["number"]: c for c in buyer.get("/api/certificates").get_json()}
    assert listed[old.number]["status_label"] == "已作废"
    assert listed[old.number]["replaced_by"] == new.number
    page = client.get(f"/v/{old.payload}").get_data(as_text=True)
    assert "已作废" in page and new.number in page
    verdict = verify.verify_pdf(old_pdf, ca_cert_pem=client.application.config["CERT_CA_CERT"],
                                status_of=_tool_status)
    assert not verdict.ok and "已作废" in verdict.reason
    answer = buyer.get(_path(old.number, "/corrections")).get_json()[0]
    assert answer["outcome_label"] == "已作废并换发新证"
    assert answer["new_certificate"] == new.number
