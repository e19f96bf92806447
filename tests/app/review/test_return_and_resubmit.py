"""A return for supplement, the citizen's fix, and the approvals that survive it."""

from __future__ import annotations

from typing import Any

from app.cases.workflow import CaseStatus
from app.jobs import run_once
from app.review.models import TaskStatus
from tests.flow import (
    Citizen,
    Reviewer,
    case_row,
    fill_resale,
    flashes,
    legacy_owner,
    scan,
    task_of,
)


def _accepted_case(buyer: Citizen, seller: Citizen) -> str:
    legacy_owner("440402003001GB00012F00010203", seller.person_id)
    number = fill_resale(buyer, seller)
    assert buyer.post(f"/api/cases/{number}/submit", claim=True).get_json()["status"] == "accepted"
    return number


def test_return_reopens_only_the_items_concerned_and_keeps_other_approvals(
        app: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
        sandbox: Any) -> None:
    number = _accepted_case(buyer, seller)
    reviewers["housing"].approve(number)
    housing_task = task_of(number, "housing")

    page = reviewers["tax"].act(number, "return", {
        "item": "material:marital_status:buyer",
        "reason-material:marital_status:buyer": "婚姻证明不清晰，请重新拍照上传",
    })
    assert "已退回补正，并已通知申请人" in flashes(page)
    assert case_row(number).status == CaseStatus.RETURNED

    # The citizen is told by SMS (the seller has a phone) and by WeChat (the buyer).
    run_once()
    sms = [m["text"] for m in sandbox.state.sms_messages()]
    assert any(number in text and "补正" in text for text in sms)
    wechat = sandbox.state.wechat.messages()
    assert any(m["data"]["character_string1"]["value"] == number for m in wechat)

    detail = buyer.get(f"/api/cases/{number}").get_json()
    assert detail["returned_items"] == [{
        "kind": "material", "code": "marital_status", "name": "婚姻状况证明", "role": "buyer",
        "role_label": "买受人", "reason": "婚姻证明不清晰，请重新拍照上传",
        "department_label": "税务局"}]
    # Only the returned item may change: other materials and the form stay as they were.
    other = buyer.upload(number, "sale_contract", "buyer", scan())
    assert other.status_code == 409 and other.get_json()["code"] == "CASE_NOT_EDITABLE"
    form = buyer.put(f"/api/cases/{number}/form/transaction",
                     {"contract_number": "CHANGED", "contract_date": "2026-11-01",
                      "price_fen": 1, "payment_method": "一次性付款"})
    assert form.status_code == 409
    materials = buyer.get(f"/api/cases/{number}/materials").get_json()["materials"]
    old = next(m for m in materials if m["item"] == "marital_status" and m["role"] == "buyer")
    replaced = buyer.client.post(
        f"/api/cases/{number}/materials", headers=buyer.headers, data={
            "item": "marital_status", "role": "buyer", "replaces": str(old["id"]),
            "file": (__import__("io").BytesIO(scan()), "marriage.png")},
        content_type="multipart/form-data")
    assert replaced.status_code == 201, replaced.get_json()

    resubmitted = buyer.post(f"/api/cases/{number}/submit", claim=True).get_json()
    assert resubmitted["status"] == "accepted"
    # Housing never looked at the marital certificate: its approval stands.
    assert task_of(number, "housing").id == housing_task.id
    assert task_of(number, "housing").status == TaskStatus.APPROVED
    # Tax (which returned it) and registration (which reviews everything) look again.
    assert task_of(number, "tax").round == 2 and task_of(number, "tax").status == "open"
    assert task_of(number, "registration").status == "open"
    review = {r["department"]: r["status"] for r in resubmitted["review"]}
    assert review == {"registration": "open", "housing": "approved", "tax": "open"}

    reviewers["tax"].approve(number)
    reviewers["registration"].approve(number)
    assert case_row(number).status == CaseStatus.FEES_ASSESSED


def test_two_departments_returning_add_up_and_section_returns_open_the_form(
        app: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer]) -> None:
    number = _accepted_case(buyer, seller)
    reviewers["housing"].act(number, "return", {
        "item": "section:transaction", "reason-section:transaction": "合同编号与备案不符"})
    # The case is already back with the citizen; tax can still add its own items.
    reviewers["tax"].act(number, "return", {
        "item": "material:sale_contract:seller",
        "reason-material:sale_contract:seller": "缺少签字页"})
    items = buyer.get(f"/api/cases/{number}").get_json()["returned_items"]
    assert {(i["kind"], i["code"]) for i in items} == {
        ("section", "transaction"), ("material", "sale_contract")}
    form = buyer.get(f"/api/cases/{number}/form").get_json()
    assert form["editable_sections"] == ["transaction"]
    saved = buyer.put(f"/api/cases/{number}/form/transaction", {
        "contract_number": "ZH-2026-0001-A", "contract_date": "2026-11-01",
        "price_fen": 215000000, "payment_method": "一次性付款"})
    assert saved.status_code == 200
    # The form changed, so everyone confirms again before the resubmission.
    refused = buyer.post(f"/api/cases/{number}/submit", claim=True)
    assert refused.status_code == 422
    details = refused.get_json()["details"]
    assert {u["role"] for u in details["unconfirmed"]} == {"buyer", "seller"}
    assert details["missing_materials"] == []


def test_a_return_needs_an_item_and_a_reason(
        app: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer]) -> None:
    number = _accepted_case(buyer, seller)
    page = reviewers["tax"].act(number, "return", {})
    assert flashes(page) == ["请至少选择一项需要补正的内容"]
    page = reviewers["tax"].act(number, "return", {"item": "material:marital_status:buyer"})
    assert flashes(page) == ["请为每一项填写退回理由"]
    # An item outside the department's scope is refused (housing does not see marital status).
    page = reviewers["housing"].act(number, "return", {
        "item": "material:marital_status:buyer", "reason-material:marital_status:buyer": "x"})
    assert flashes(page) == ["所选材料不在本部门审核范围内"]
    assert case_row(number).status == CaseStatus.ACCEPTED


def test_the_registration_department_can_refuse_with_a_reason(
        app: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
        sandbox: Any) -> None:
    number = _accepted_case(buyer, seller)
    assert flashes(reviewers["registration"].act(number, "reject", {"reason": "短"})) == [
        "请填写不予登记的理由和依据（4 至 300 字）"]
    page = reviewers["registration"].act(number, "reject", {
        "reason": "申请登记的不动产权属有争议（《不动产登记暂行条例》第二十二条）"})
    assert "已作出不予登记决定，并已通知申请人" in flashes(page)
    assert case_row(number).status == CaseStatus.REJECTED
    detail = buyer.get(f"/api/cases/{number}").get_json()
    assert "权属有争议" in detail["timeline"][-1]["step_label"]
    assert detail["allowed_actions"] == ["rate"]  # only rating the service remains
    run_once()
    assert any(number in m["text"] and "不予登记" in m["text"]
               for m in sandbox.state.sms_messages())
    # Refused cases leave the queues; their open tasks are closed.
    assert number not in reviewers["tax"].client.get("/admin/review").get_data(as_text=True)
    assert task_of(number, "tax").status == "closed"


def test_withdrawing_during_review_closes_the_open_tasks(
        app: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer]) -> None:
    number = _accepted_case(buyer, seller)
    reviewers["housing"].approve(number)
    withdrawn = buyer.post(f"/api/cases/{number}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    assert task_of(number, "tax").status == "closed"
    assert task_of(number, "housing").status == "approved"  # decisions stay as they were
