"""Bad input on the application: a clear 4xx with its code, and nothing half-saved."""

from __future__ import annotations

from typing import Any

from tests import flow_fixtures as application
from tests.flow import RESALE_FORM, Citizen, case_row, fill_resale

# The one-window application's fixtures (as tests/app/fees/conftest.py has them).
_clean_sandbox, app = application._clean_sandbox, application.app
buyer, seller, reviewers = application.buyer, application.seller, application.reviewers


def _draft(buyer: Citizen) -> str:
    response = buyer.post("/api/cases", {"business_type": "resale_transfer"})
    assert response.status_code == 201
    return str(response.get_json()["case_number"])


def test_unknown_business_type(app: Any, buyer: Citizen) -> None:
    response = buyer.post("/api/cases", {"business_type": "castle_transfer"})
    assert response.status_code == 422
    assert response.get_json()["details"]["fields"]["business_type"] == ["不支持的业务类型"]


def test_the_business_types_carry_the_wizard_fields(app: Any, client: Any) -> None:
    types = {t["code"]: t for t in client.get("/api/business-types").get_json()}
    sections = {s["code"]: s for s in types["resale_transfer"]["form_sections"]}
    assert list(sections) == ["unit", "parties", "transaction", "tax_declaration",
                              "certificate_delivery"]
    assert sections["parties"]["kind"] == "applicants"
    price = next(f for f in sections["transaction"]["fields"] if f["name"] == "price_fen")
    assert price["type"] == "money" and price["required"] is True
    assert types["mortgage_first"]["departments"] == [
        {"code": "registration", "label": "不动产登记中心"}]


def test_a_section_with_errors_saves_nothing(app: Any, buyer: Citizen) -> None:
    number = _draft(buyer)
    assert buyer.put(f"/api/cases/{number}/form/transaction",
                     RESALE_FORM["transaction"]).status_code == 200
    bad = buyer.put(f"/api/cases/{number}/form/transaction", {
        "contract_number": "ZH-2", "contract_date": "2099-01-01", "price_fen": 12.5,
        "payment_method": "以物易物"})
    assert bad.status_code == 422
    fields = bad.get_json()["details"]["fields"]
    assert fields == {"contract_date": ["日期不能晚于今天"],
                      "price_fen": ["应为整数（金额以分为单位）"],
                      "payment_method": ["请从选项中选择"]}
    saved = buyer.get(f"/api/cases/{number}/form").get_json()
    transaction = next(s for s in saved["sections"] if s["code"] == "transaction")
    assert transaction["data"]["contract_number"] == "ZH-2026-0001"
    assert transaction["complete"] is True


def test_bad_unit_number_and_unknown_section(app: Any, buyer: Citizen) -> None:
    number = _draft(buyer)
    bad = buyer.put(f"/api/cases/{number}/form/unit", {
        **RESALE_FORM["unit"], "unit_number": "440402003001GB00012F0001020"})
    assert bad.status_code == 422 and "unit_number" in bad.get_json()["details"]["fields"]
    assert case_row(number).unit is None
    unknown = buyer.put(f"/api/cases/{number}/form/mortgage", {"mortgage_kind": "一般抵押"})
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "FORM_SECTION_UNKNOWN"
    not_object = buyer.put(f"/api/cases/{number}/form/transaction", ["x"])
    assert not_object.status_code == 422


def test_paper_certificate_needs_an_address(app: Any, buyer: Citizen) -> None:
    number = _draft(buyer)
    bad = buyer.put(f"/api/cases/{number}/form/certificate_delivery", {"form": "paper"})
    assert bad.status_code == 422
    assert bad.get_json()["details"]["fields"] == {"address": ["选择纸质证书邮寄时请填写邮寄地址"]}


def test_submitting_an_incomplete_case_lists_what_is_missing(
        app: Any, buyer: Citizen) -> None:
    number = _draft(buyer)
    assert buyer.put(f"/api/cases/{number}/form/unit", RESALE_FORM["unit"]).status_code == 200
    assert buyer.post(f"/api/cases/{number}/applicants", {
        "role": "buyer", "kind": "natural", "name": "张三",
        "id_number": "440402198801010018", "share": "1/2"}).status_code == 201
    response = buyer.post(f"/api/cases/{number}/submit", claim=True)
    assert response.status_code == 422 and response.get_json()["code"] == "CASE_INCOMPLETE"
    details = response.get_json()["details"]
    assert details["missing_sections"] == ["transaction", "tax_declaration",
                                           "certificate_delivery"]
    problems = [r["problem"] for r in details["roles"]]
    assert "至少需要 1 名出卖人" in problems and "买受人的份额之和应为 1" in problems
    assert {(m["item"], m["role"]) for m in details["missing_materials"]} >= {
        ("identity_document", "buyer"), ("property_certificate", "seller")}
    assert details["unconfirmed"] == [{"role": "buyer", "role_label": "买受人",
                                       "name_masked": "张*"}]
    assert case_row(number).status == "draft" and case_row(number).submission_count == 0


def test_submission_needs_every_applicant_confirmed_with_a_claim(
        app: Any, buyer: Citizen, seller: Citizen) -> None:
    number = fill_resale(buyer, seller)
    without_claim = buyer.post(f"/api/cases/{number}/submit")
    assert without_claim.status_code == 403
    assert without_claim.get_json()["code"] == "IDENTITY_CLAIM_REQUIRED"
    # A change after the confirmations clears them: both must confirm again.
    assert buyer.put(f"/api/cases/{number}/form/tax_declaration", {
        "buyer_first_home": "no", "seller_only_home_over_5_years": "no"}).status_code == 200
    response = buyer.post(f"/api/cases/{number}/submit", claim=True)
    assert response.status_code == 422
    assert len(response.get_json()["details"]["unconfirmed"]) == 2
    # Someone who is not a party cannot confirm for anyone.
    assert seller.post(f"/api/cases/{number}/confirm", claim=True).status_code == 200
    detail = buyer.get(f"/api/cases/{number}").get_json()
    assert [a["confirmed"] for a in detail["applicants"]] == [False, True]


def test_a_stranger_cannot_confirm_or_see_the_case(
        app: Any, buyer: Citizen, client: Any, sandbox: Any) -> None:
    from tests.flow import citizen_by_sms

    number = _draft(buyer)
    stranger = citizen_by_sms(app, client, sandbox, "13800000007", "赵六", "440402199208080044")
    assert stranger.get(f"/api/cases/{number}").status_code == 404
    assert stranger.post(f"/api/cases/{number}/confirm", claim=True).status_code == 404


def test_applicant_errors(app: Any, buyer: Citizen) -> None:
    number = _draft(buyer)
    path = f"/api/cases/{number}/applicants"
    base = {"role": "buyer", "kind": "natural", "name": "张三", "id_number": "440402198801010018"}
    assert buyer.post(path, {**base, "role": "landlord"}).status_code == 422
    bad_id = buyer.post(path, {**base, "id_number": "440402198801010019"})
    assert bad_id.status_code == 422 and "id_number" in bad_id.get_json()["details"]["fields"]
    assert buyer.post(path, {**base, "share": "3/2"}).status_code == 422
    assert buyer.post(path, {**base, "kind": "legal"}).status_code == 422
    assert buyer.post(path, base).status_code == 201
    again = buyer.post(path, base)
    assert again.status_code == 409
    assert len(case_row(number).applicants) == 1
