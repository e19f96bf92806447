"""A mortgage's 不动产登记证明 is revoked by the 登簿 of its 抵押权注销登记, in the same
transaction; the owner's 不动产权证书 stays valid. End to end: a resale gives 张三 his
certificate, he mortgages the flat to a bank (registered, paid, proof issued), then the
bank discharges the mortgage."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.cases.workflow import CaseStatus
from app.certificates import verify
from app.certificates.models import Certificate
from app.certificates.service import status_of
from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.kernel.errors import Conflict
from app.notifications.models import OutboxMessage
from app.register.service import encumbrances_on
from app.usecases import register_case
from app.usecases.issue_certificate import issue_due
from tests.app.cases.test_mortgage_flow import BANK
from tests.app.certificates.test_certificates import _path, _registered, _tool_status
from tests.app.fees.test_payment_flow import (  # noqa: F401 - fixtures
    _manual_delivery,
    _notify,
    app,
)
from tests.app.institutions.conftest import make_bank
from tests.flow import (
    RESALE_UNIT,
    Citizen,
    Reviewer,
    case_row,
    citizen_by_sms,
    flashes,
    scan,
)
from tests.flow_fixtures import (  # noqa: F401 - fixtures
    _clean_sandbox,
    buyer,
    reviewers,
    seller,
)

UNIT_FORM = {"unit_number": RESALE_UNIT, "location": "珠海市香洲区示范路1号1栋203房",
             "area_m2": "89.50", "use": "住宅"}
MORTGAGOR = {"role": "mortgagor", "kind": "natural", "name": "张三",
             "id_number": "440402198801010018"}


def _filed(owner: Citizen, banker: Citizen, business_type: str,
           form: dict[str, Any]) -> str:
    """A case of 张三 and the bank (represented by 赵六), confirmed by both, submitted."""
    created = owner.post("/api/cases", {"business_type": business_type})
    assert created.status_code == 201, created.get_json()
    number = created.get_json()["case_number"]
    for section, data in form.items():
        saved = owner.put(f"/api/cases/{number}/form/{section}", data)
        assert saved.status_code == 200, saved.get_json()
    for body in (MORTGAGOR, BANK):
        added = owner.post(f"/api/cases/{number}/applicants", body)
        assert added.status_code == 201, added.get_json()
    for entry in owner.get(f"/api/cases/{number}/materials").get_json()["checklist"]:
        if entry["required"]:
            assert owner.upload(number, entry["item"], entry["role"], scan()).status_code == 201
    for person in (banker, owner):
        confirmed = person.post(f"/api/cases/{number}/confirm", claim=True)
        assert confirmed.status_code == 200, confirmed.get_json()
    submitted = owner.post(f"/api/cases/{number}/submit", claim=True).get_json()
    assert submitted["status"] == "accepted", submitted
    return number


def _registered_by(reviewer: Reviewer, number: str) -> None:
    reviewer.approve(number)
    assert case_row(number).status == CaseStatus.FEES_ASSESSED
    page = reviewer.act(number, "register")
    assert "登簿完成，已写入登记簿" in flashes(page), flashes(page)
    assert case_row(number).status == CaseStatus.REGISTERED


def _paid(client: Any, owner: Citizen, number: str, sandbox: Any) -> None:
    order = owner.post(f"/api/cases/{number}/payments", {"gateway": "wechat"},
                       claim=True).get_json()
    sandbox.state.wechatpay.pay(order["out_trade_no"])
    _notify(client, "wechat", sandbox.state.wechatpay.notification_for(order["out_trade_no"]))
    assert case_row(number).status == CaseStatus.PAID


def _certificate(kind: str) -> Certificate:
    db.session.rollback()  # see what the requests committed
    found = db.session.scalar(select(Certificate).where(Certificate.kind == kind))
    assert found is not None
    return found


def test_the_discharge_revokes_the_mortgage_proof_and_leaves_the_owners_certificate(
        app: Flask, client: Any, buyer: Citizen, seller: Citizen,  # noqa: F811
        reviewers: dict[str, Reviewer], sandbox: Any,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    registration = reviewers["registration"]
    # 张三 buys the flat and gets his 不动产权证书.
    _registered(client, buyer, seller, reviewers, sandbox)
    issue_due()
    ownership = _certificate("certificate")
    assert ownership.status == "valid"

    # He mortgages it to the bank: registered first, then paid, then the proof.
    banker = citizen_by_sms(app, client, sandbox, "13800000006", "赵六", "440402199208080044")
    mortgage_number = _filed(buyer, banker, "mortgage_first", {
        "unit": UNIT_FORM,
        "mortgage": {"mortgage_kind": "一般抵押", "secured_amount_fen": 120000000,
                     "debt_start": "2026-12-01", "debt_end": "2056-11-30",
                     "contract_number": "DY-2026-88"},
        "certificate_delivery": {"form": "electronic"}})
    _registered_by(registration, mortgage_number)
    _paid(client, buyer, mortgage_number, sandbox)
    issue_due()
    assert case_row(mortgage_number).status == CaseStatus.CERTIFICATE_ISSUED
    proof = _certificate("proof")
    proof_pdf = buyer.client.get(_path(proof.number, "/pdf"), headers=buyer.claim_headers).data
    ca = app.config["CERT_CA_CERT"]
    assert verify.verify_pdf(proof_pdf, ca_cert_pem=ca, status_of=_tool_status).ok
    assert "有效" in client.get(f"/v/{proof.payload}").get_data(as_text=True)

    # The bank discharges the mortgage. One transaction: a 登簿 that fails at its commit
    # leaves the mortgage and the proof as they were.
    discharge_number = _filed(buyer, banker, "mortgage_discharge", {
        "unit": UNIT_FORM, "discharge": {"proof_number": proof.number, "reason": "主债权消灭"}})
    registration.approve(discharge_number)

    def lost_race(*args: Any, **kwargs: Any) -> None:
        db.session.flush()  # the revocation has reached the database, uncommitted
        raise Conflict("办件已被他人更新，请刷新后重试")

    with monkeypatch.context() as patch:
        patch.setattr(register_case, "transition", lost_race)
        page = registration.act(discharge_number, "register")
    assert "办件已被他人更新，请刷新后重试" in flashes(page)
    assert _certificate("proof").status == "valid"
    assert len(encumbrances_on(case_row(discharge_number).unit.id)) == 1

    # Its 登簿 discharges the mortgage and revokes the proof.
    page = registration.act(discharge_number, "register")
    assert "登簿完成，已写入登记簿" in flashes(page), flashes(page)
    assert encumbrances_on(case_row(discharge_number).unit.id) == []

    proof = _certificate("proof")
    reason = f"抵押权已注销（注销登记办件 {discharge_number}）"
    assert proof.status == "revoked" and proof.revoked_reason == reason
    assert proof.revoked_at is not None and proof.replaced_by_id is None
    assert proof.revoked_by == f"staff:{registration.account.id}"
    [record] = db.session.scalars(select(AuditRecord).where(
        AuditRecord.action == "certificate.revoked", AuditRecord.entity_id == proof.number))
    assert (record.actor_type, record.actor_id) == ("staff", str(registration.account.id))
    assert record.after["reason"] == reason and record.after["case"] == discharge_number

    # Revoked everywhere: the tool, the QR page, the institution API, the owner's list.
    assert status_of(proof.number).status == "revoked"  # type: ignore[union-attr]
    verdict = verify.verify_pdf(proof_pdf, ca_cert_pem=ca, status_of=_tool_status)
    assert not verdict.ok and verdict.reason.startswith("已作废") and reason in verdict.reason
    page = client.get(f"/v/{proof.payload}").get_data(as_text=True)
    assert "已作废" in page and "有效" not in page.replace("无效", "")
    verifier = make_bank(client, "珠海诚信房产中介有限公司", ["certificates:verify"], kind="agency")
    assert verifier.verify(proof.number).get_json()["status"] == "revoked"
    listed = {c["number"]: c for c in buyer.get("/api/certificates").get_json()}
    assert listed[proof.number]["status"] == "revoked"
    assert listed[proof.number]["revoked_reason"] == reason

    # The owner's certificate is untouched; the applicants are told (same transaction).
    ownership_now = db.session.get(Certificate, ownership.id)
    assert ownership_now is not None and ownership_now.status == "valid"
    assert ownership_now.version == ownership.version and ownership_now.revoked_at is None
    assert listed[ownership.number]["status"] == "valid"
    hints = {m.variables["hint"] for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "case_registered"))
        if m.variables["case_number"] == discharge_number}
    assert hints == {"抵押权已注销，登记证明已作废"}


def test_a_mortgage_without_a_proof_is_discharged_without_error(
        app: Flask, client: Any, buyer: Citizen, seller: Citizen,  # noqa: F811
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:  # noqa: F811
    """A mortgage registered before certificates existed (legacy or demo data) has no
    proof: the discharge revokes nothing and still succeeds."""
    from app.people import service as people
    from app.register.models import Encumbrance

    _registered(client, buyer, seller, reviewers, sandbox)
    issue_due()
    ownership = _certificate("certificate")
    assert ownership.unit_id is not None
    bank = people.register_legal_person(BANK["name"], BANK["id_number"])
    db.session.add(Encumbrance(unit_id=ownership.unit_id, kind="mortgage", holder_id=bank.id,
                               amount_fen=50_000_000, description="迁移的抵押登记"))
    db.session.commit()
    banker = citizen_by_sms(app, client, sandbox, "13800000006", "赵六", "440402199208080044")
    discharge_number = _filed(buyer, banker, "mortgage_discharge", {
        "unit": UNIT_FORM, "discharge": {"proof_number": "粤(2019)珠海市不动产证明第0012345号",
                                         "reason": "主债权消灭"}})
    _registered_by(reviewers["registration"], discharge_number)
    assert encumbrances_on(ownership.unit_id) == []
    assert db.session.scalar(select(AuditRecord).where(
        AuditRecord.action == "certificate.revoked")) is None
    assert _certificate("certificate").status == "valid"
