"""Each party does its own part of a case (docs/policies.md): the filer runs the
application, a co-applicant confirms and adds their own documents, and one party's
personal documents are not shown to another."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from sqlalchemy import text as sql

from app.cases.workflow import CaseStatus
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from payments.models import PaymentOrder
from tests.flow import Citizen, case_row, fill_resale, scan


def _refused(response: Any) -> bool:
    return response.status_code == 403 and response.get_json()["code"] == "ACTION_NOT_ALLOWED"


def test_a_co_applicant_cannot_change_or_withdraw_the_filers_application(
        buyer: Citizen, seller: Citizen) -> None:
    number = fill_resale(buyer, seller)
    before = buyer.get(f"/api/cases/{number}").get_json()

    assert _refused(seller.put(f"/api/cases/{number}/form/transaction", {
        "contract_number": "X-1", "contract_date": "2026-11-01", "price_fen": 1,
        "payment_method": "一次性付款"}))
    assert _refused(seller.post(f"/api/cases/{number}/applicants", {
        "role": "buyer", "kind": "natural", "name": "王五",
        "id_number": "440402199205050034", "share": "1/2"}))
    buyer_entry = next(a for a in before["applicants"] if a["role"] == "buyer")
    assert _refused(seller.client.delete(
        f"/api/cases/{number}/applicants/{buyer_entry['id']}", headers=seller.headers))
    assert _refused(seller.post(f"/api/cases/{number}/withdraw"))
    assert _refused(seller.post(f"/api/cases/{number}/submit", claim=True))

    after = buyer.get(f"/api/cases/{number}").get_json()
    assert after["status"] == "draft" and after["applicants"] == before["applicants"]
    assert case_row(number).form_data["transaction"]["contract_number"] == "ZH-2026-0001"


def test_each_party_sees_its_own_role_and_actions(buyer: Citizen, seller: Citizen) -> None:
    number = fill_resale(buyer, seller)
    mine = buyer.get(f"/api/cases/{number}").get_json()
    theirs = seller.get(f"/api/cases/{number}").get_json()
    assert (mine["party_role"], mine["party_role_label"]) == ("filer", "申请提交人")
    assert (theirs["party_role"], theirs["party_role_label"]) == ("co_applicant", "其他申请人")
    assert mine["allowed_actions"] == ["edit", "upload_materials", "submit", "withdraw"]
    assert theirs["allowed_actions"] == ["upload_materials"]  # already confirmed
    form = seller.get(f"/api/cases/{number}/form").get_json()
    assert (form["editable"], form["editable_sections"]) == (False, [])
    assert form["notice"] == "申请表由申请提交人填写，您可以查看并确认本人的部分。"
    assert buyer.get(f"/api/cases/{number}/form").get_json()["notice"] == ""


def test_a_co_applicant_adds_only_their_own_documents(buyer: Citizen, seller: Citizen) -> None:
    created = buyer.post("/api/cases", {"business_type": "resale_transfer"}).get_json()
    number = created["case_number"]
    for body in ({"role": "buyer", "kind": "natural", "name": "张三",
                  "id_number": "440402198801010018", "share": "1/1"},
                 {"role": "seller", "kind": "natural", "name": "李四",
                  "id_number": "440402199003150029"}):
        assert buyer.post(f"/api/cases/{number}/applicants", body).status_code == 201

    refused = seller.upload(number, "identity_document", "buyer", scan())
    assert _refused(refused)
    assert refused.get_json()["message"] == "只能上传本人角色的材料"
    own = seller.upload(number, "identity_document", "seller", scan())
    assert own.status_code == 201, own.get_json()
    # The filer collects every party's documents, as at the counter.
    assert buyer.upload(number, "marital_status", "seller", scan()).status_code == 201


def test_one_partys_personal_documents_are_not_shown_to_the_other(
        buyer: Citizen, seller: Citizen) -> None:
    created = buyer.post("/api/cases", {"business_type": "resale_transfer"}).get_json()
    number = created["case_number"]
    for body in ({"role": "buyer", "kind": "natural", "name": "张三",
                  "id_number": "440402198801010018", "share": "1/1"},
                 {"role": "seller", "kind": "natural", "name": "李四",
                  "id_number": "440402199003150029"}):
        buyer.post(f"/api/cases/{number}/applicants", body)
    buyers_id = buyer.upload(number, "identity_document", "buyer", scan(),
                             name="张三身份证440402198801010018_13800000001.png").get_json()
    sellers_id = seller.upload(number, "identity_document", "seller", scan(),
                               name="李四身份证.png").get_json()

    seen_by_seller = seller.get(f"/api/cases/{number}/materials").get_json()
    assert [m["id"] for m in seen_by_seller["materials"]] == [sellers_id["id"]]
    assert "张三" not in str(seen_by_seller["materials"])
    # The checklist still says the buyer's item is there (the filer needs it complete).
    assert any(e["item"] == "identity_document" and e["role"] == "buyer" and e["present"]
               for e in seen_by_seller["checklist"])
    assert seller.get(f"/api/cases/{number}/materials/{buyers_id['id']}/file").status_code == 404
    assert seller.client.delete(f"/api/cases/{number}/materials/{buyers_id['id']}",
                                headers=seller.headers).status_code == 404

    # What each may change is the server's answer, entry by entry.
    assert {(e["role"], e["may_upload"]) for e in seen_by_seller["checklist"]} == {
        ("buyer", False), ("seller", True)}
    seen_by_buyer = buyer.get(f"/api/cases/{number}/materials").get_json()
    assert all(e["may_upload"] for e in seen_by_buyer["checklist"])
    names = {m["original_filename"] for m in seen_by_buyer["materials"]}
    assert "张三身份证440402198801010018_13800000001.png" in names
    assert buyer.get(f"/api/cases/{number}/materials/{buyers_id['id']}/file").status_code == 200


def test_an_uploads_original_file_name_is_encrypted_at_rest(
        buyer: Citizen, seller: Citizen) -> None:
    number = buyer.post("/api/cases", {"business_type": "resale_transfer"}).get_json()[
        "case_number"]
    buyer.post(f"/api/cases/{number}/applicants", {
        "role": "buyer", "kind": "natural", "name": "张三",
        "id_number": "440402198801010018", "share": "1/1"})
    uploaded = buyer.client.post(
        f"/api/cases/{number}/materials", headers=buyer.headers,
        data={"item": "identity_document", "role": "buyer",
              "file": (io.BytesIO(scan()), "张三身份证440402198801010018.png")},
        content_type="multipart/form-data")
    assert uploaded.status_code == 201
    assert uploaded.get_json()["original_filename"] == "张三身份证440402198801010018.png"
    stored = db.session.execute(sql("SELECT original_filename FROM case_materials")).scalars()
    for value in stored:
        assert "张三" not in value and "440402198801010018" not in value


def test_a_party_rates_a_finished_case_once(buyer: Citizen, seller: Citizen) -> None:
    number = fill_resale(buyer, seller)
    early = buyer.post(f"/api/cases/{number}/rating", {"score": 5})
    assert early.status_code == 409 and early.get_json()["code"] == "CONFLICT"

    case = case_row(number)
    case.status = CaseStatus.REJECTED
    db.session.commit()
    assert "rate" in seller.get(f"/api/cases/{number}").get_json()["allowed_actions"]
    bad = seller.post(f"/api/cases/{number}/rating", {"score": 6})
    assert bad.status_code == 422
    rated = seller.post(f"/api/cases/{number}/rating", {"score": 2, "comment": "等待时间较长"})
    assert rated.status_code == 201, rated.get_json()
    assert rated.get_json()["score"] == 2
    again = seller.post(f"/api/cases/{number}/rating", {"score": 5})
    assert again.status_code == 409
    assert "rate" not in seller.get(f"/api/cases/{number}").get_json()["allowed_actions"]
    assert "rate" in buyer.get(f"/api/cases/{number}").get_json()["allowed_actions"]
    comments = db.session.execute(sql("SELECT comment FROM case_ratings")).scalars().all()
    assert comments and "等待" not in comments[0]


def test_a_payment_order_is_shown_to_its_payer_only(buyer: Citizen, seller: Citizen) -> None:
    number = fill_resale(buyer, seller)
    db.session.add(PaymentOrder(
        out_trade_no="BDC20261204000001", idempotency_key="k" * 64,
        case_id=case_row(number).id, payer_account_id=buyer.account_id, gateway="wechat",
        amount_fen=8000, status="paying", channel="miniprogram",
        expires_at=utcnow() + timedelta(minutes=30)))
    db.session.commit()

    assert buyer.get("/api/payments/BDC20261204000001").status_code == 200
    # The seller is a party of the case, but the order (like its receipt) is the buyer's.
    refused = seller.get("/api/payments/BDC20261204000001")
    assert refused.status_code == 404 and refused.get_json()["code"] == "NOT_FOUND"
