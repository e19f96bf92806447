"""A first mortgage: a bank acting through its representative, register first, then pay."""

from __future__ import annotations

from typing import Any

from app.cases.workflow import CaseStatus
from app.register.service import encumbrances_on
from tests import flow_fixtures as application
from tests.flow import (
    MORTGAGE_UNIT,
    Citizen,
    Reviewer,
    case_row,
    citizen_by_sms,
    citizen_by_wechat,
    flashes,
    legacy_owner,
    scan,
)

# The one-window application's fixtures (as tests/app/fees/conftest.py has them).
_clean_sandbox, app = application._clean_sandbox, application.app
buyer, seller, reviewers = application.buyer, application.seller, application.reviewers

BANK = {"role": "mortgagee", "kind": "legal", "name": "示范银行股份有限公司珠海分行",
        "id_number": "91440400MA4U67890W", "representative_name": "赵六",
        "representative_id_number": "440402199208080044"}


def test_mortgage_from_draft_to_registered_encumbrance(
        app: Any, client: Any, sandbox: Any, reviewers: dict[str, Reviewer]) -> None:
    owner = citizen_by_wechat(app, client, "wangji", "王𠮷", "440402198506200038")
    banker: Citizen = citizen_by_sms(app, client, sandbox, "13800000006", "赵六",
                                     "440402199208080044")
    legacy_owner(MORTGAGE_UNIT, owner.person_id, "海滨路6号3栋801房")

    number = owner.post("/api/cases", {"business_type": "mortgage_first"}).get_json()[
        "case_number"]
    form = {
        "unit": {"unit_number": MORTGAGE_UNIT, "location": "珠海市香洲区海滨路6号3栋801房",
                 "area_m2": "89.50", "use": "住宅"},
        "mortgage": {"mortgage_kind": "一般抵押", "secured_amount_fen": 120000000,
                     "debt_start": "2026-12-01", "debt_end": "2056-11-30",
                     "contract_number": "DY-2026-88"},
        "certificate_delivery": {"form": "electronic"},
    }
    for section, data in form.items():
        assert owner.put(f"/api/cases/{number}/form/{section}", data).status_code == 200
    assert owner.post(f"/api/cases/{number}/applicants", {
        "role": "mortgagor", "kind": "natural", "name": "王𠮷",
        "id_number": "440402198506200038"}).status_code == 201
    # A bank without the person who acts for it is refused, then accepted with one.
    no_rep = {k: v for k, v in BANK.items() if not k.startswith("representative")}
    refused = owner.post(f"/api/cases/{number}/applicants", no_rep)
    assert refused.status_code == 422
    assert "representative_name" in refused.get_json()["details"]["fields"]
    assert owner.post(f"/api/cases/{number}/applicants", BANK).status_code == 201

    for entry in owner.get(f"/api/cases/{number}/materials").get_json()["checklist"]:
        if entry["required"]:
            assert owner.upload(number, entry["item"], entry["role"], scan()).status_code == 201
    # The representative sees the case and confirms for the bank, with their own claim.
    detail = banker.get(f"/api/cases/{number}").get_json()
    assert detail["confirmation_needed"] is True
    assert [a["is_me"] for a in detail["applicants"]] == [False, True]
    assert banker.post(f"/api/cases/{number}/confirm", claim=True).status_code == 200
    assert owner.post(f"/api/cases/{number}/confirm", claim=True).status_code == 200

    submitted = owner.post(f"/api/cases/{number}/submit", claim=True).get_json()
    assert submitted["status"] == "accepted", submitted["checks"]
    kinds = sorted(c["kind"] for c in submitted["checks"])
    assert kinds == ["company", "court", "identity", "identity", "register"]
    assert [r["department"] for r in submitted["review"]] == ["registration"]

    reviewers["registration"].approve(number)
    assert case_row(number).status == CaseStatus.FEES_ASSESSED
    # Register first, then pay (Zhuhai order): 登簿 is offered at once.
    page = reviewers["registration"].act(number, "register")
    assert "登簿完成，已写入登记簿" in flashes(page)
    case = case_row(number)
    assert case.status == CaseStatus.REGISTERED
    [mortgage] = encumbrances_on(case.unit.id)
    assert mortgage.kind == "mortgage" and mortgage.amount_fen == 120000000
    assert "2056-11-30" in (mortgage.description or "")
