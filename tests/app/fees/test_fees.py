"""Fee assessment: every tax and fee at once, in fen, confirmed by the tax reviewer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from app.fees.service import deed_tax, yuan
from app.jobs import run_once
from tests.flow import Citizen, Reviewer, case_row, fill_resale, legacy_owner


@pytest.mark.parametrize(("price", "area", "residential", "first", "expected"), [
    (215000000, "89.50", True, True, 2150000),     # 1% first home ≤ 140 m²
    (215000000, "140.00", True, True, 2150000),    # the boundary belongs to the lower tier
    (215000000, "140.01", True, True, 3225000),    # 1.5% above
    (215000000, "89.50", True, False, 2150000),    # second home ≤ 140 m²: 1%
    (215000000, "150.00", True, False, 4300000),   # second home above: 2%
    (215000000, "89.50", False, True, 6450000),    # non-residential: 3%
    (12345, "50", True, True, 123),                # 123.45 fen rounds half up… to 123
    (12350, "50", True, True, 124),                # 123.5 → 124
])
def test_deed_tax_rules(price: int, area: str, residential: bool, first: bool,
                        expected: int) -> None:
    assert deed_tax(price, Decimal(area), residential, first).amount_fen == expected


def test_yuan_formatting_is_exact() -> None:
    assert yuan(215000000) == "2,150,000.00" and yuan(5) == "0.05" and yuan(-1050) == "-10.50"


def _approved(buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
              deed_tax: str = "") -> str:
    legacy_owner("440402003001GB00012F00010203", seller.person_id)
    number = fill_resale(buyer, seller)
    assert buyer.post(f"/api/cases/{number}/submit", claim=True).get_json()["status"] == "accepted"
    page = reviewers["tax"].page(number)
    assert "成交价 2,150,000.00 元 × 1%（首套住房" in page and "21,500.00" in page
    reviewers["tax"].act(number, "claim")
    reviewers["tax"].act(number, "approve", {"deed_tax": deed_tax})
    reviewers["housing"].approve(number)
    reviewers["registration"].approve(number)
    return number


def test_all_fees_are_assessed_when_every_department_approves(
        app: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
        sandbox: Any) -> None:
    number = _approved(buyer, seller, reviewers)
    assert case_row(number).status == "fees_assessed"
    fees = buyer.get(f"/api/cases/{number}/fees").get_json()
    assert [(i["item"], i["department"], i["amount_fen"]) for i in fees["items"]] == [
        ("registration_fee_housing", "registration", 8000), ("deed_tax", "tax", 2150000)]
    assert fees["total_fen"] == 2158000  # the electronic certificate costs nothing
    # The payment notice went out with the assessment.
    run_once()
    assert any(number in m["text"] and "21,580.00" in m["text"]
               for m in sandbox.state.sms_messages())


def test_the_tax_reviewer_can_set_the_deed_tax(
        app: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer]) -> None:
    number = _approved(buyer, seller, reviewers, deed_tax="20000.50")
    items = buyer.get(f"/api/cases/{number}/fees").get_json()["items"]
    tax = next(i for i in items if i["item"] == "deed_tax")
    assert tax["amount_fen"] == 2000050 and "税务部门核定" in tax["basis"]


def test_a_bad_deed_tax_amount_is_refused_and_nothing_is_approved(
        app: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer]) -> None:
    legacy_owner("440402003001GB00012F00010203", seller.person_id)
    number = fill_resale(buyer, seller)
    buyer.post(f"/api/cases/{number}/submit", claim=True)
    reviewers["tax"].act(number, "claim")
    page = reviewers["tax"].act(number, "approve", {"deed_tax": "12.345"})
    assert "核定契税金额应为元，最多两位小数" in page
    from tests.flow import task_of

    assert task_of(number, "tax").status == "claimed"
    assert case_row(number).status == "accepted"


def _case(code: str, fee_items: list[str], form: dict[str, Any], payers: list[Any]) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(
        business_type_code=code, business_type=SimpleNamespace(fee_items=fee_items),
        form_data=form, applicants=[SimpleNamespace(role="mortgagee", person=p) for p in payers])


def test_small_and_micro_enterprises_pay_no_registration_fee() -> None:
    from types import SimpleNamespace

    from app.fees.service import compute

    small = SimpleNamespace(is_legal=True, small_micro_enterprise=True)
    bank = SimpleNamespace(is_legal=True, small_micro_enterprise=False)
    form = {"unit": {"area_m2": "89.50", "use": "住宅"}}
    [line] = compute(_case("mortgage_first", ["registration_fee_housing"], form, [small]))
    assert line.amount_fen == 0 and line.exempt and line.basis == "小微企业免收"
    [line] = compute(_case("mortgage_first", ["registration_fee_housing"], form, [bank]))
    assert line.amount_fen == 8000 and not line.exempt


def test_paper_certificate_and_maintenance_fund() -> None:
    from app.fees.service import compute

    form = {"unit": {"area_m2": "89.50", "use": "住宅"},
            "certificate_delivery": {"form": "paper", "address": "珠海市"},
            "maintenance_fund": {"building_kind": "高层（有电梯）"}}
    lines = compute(_case("new_home_transfer", ["paper_certificate", "maintenance_fund"],
                          form, []))
    assert [(x.item_code, x.department, x.amount_fen) for x in lines] == [
        ("paper_certificate", "registration", 1000), ("maintenance_fund", "housing", 358000)]
    assert lines[1].basis == "建筑面积 89.50 m² × 40.00 元/m²（高层（有电梯））"
