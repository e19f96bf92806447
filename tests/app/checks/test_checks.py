"""Automatic checks through the data-sharing services: failures, outages, retries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from app.cases.workflow import CaseStatus
from app.checks.models import CaseCheck
from app.jobs import run_once
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.staff.models import StaffRole
from tests.app.staff.factories import log_in, make_staff
from tests.flow import Citizen, case_row, fill_resale, legacy_owner


def _submit(buyer: Citizen, number: str) -> dict[str, Any]:
    response = buyer.post(f"/api/cases/{number}/submit", claim=True)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def _due_now() -> None:
    """Let the back-off delay pass."""
    db.session.execute(update(CaseCheck).where(CaseCheck.next_attempt_at.is_not(None))
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_a_service_down_leaves_the_case_waiting_then_it_is_retried(
        app: Any, make_app: Any, buyer: Citizen, seller: Citizen, sandbox: Any) -> None:
    legacy_owner("440402003001GB00012F00010203", seller.person_id)
    number = fill_resale(buyer, seller)
    sandbox.state.datasharing.set_outage("courts", "down")

    detail = _submit(buyer, number)
    assert detail["status"] == "submitted"  # never accepted blindly
    court = next(c for c in detail["checks"] if c["kind"] == "court")
    assert court["status"] == "waiting" and "自动重试" in court["message"]

    # The helpdesk sees the waiting check.
    desk = make_app().test_client()
    log_in(desk, make_staff(username="sun.fuwu", display_name="孙服务",
                            roles=(StaffRole.HELPDESK,)))
    page = desk.get("/admin/cases").get_data(as_text=True)
    assert number in page and "司法查封（法院）" in page and "SERVICE_UNAVAILABLE" in page

    # Still down at the next pass: still waiting, one more attempt recorded.
    _due_now()
    run_once()
    assert case_row(number).status == CaseStatus.SUBMITTED
    # Back up: the next pass finishes the checks and accepts the case.
    sandbox.state.datasharing.set_outage("courts", "up")
    run_once()  # not due yet: the back-off is respected
    assert case_row(number).status == CaseStatus.SUBMITTED
    _due_now()
    run_once()
    assert case_row(number).status == CaseStatus.ACCEPTED
    checks = buyer.get(f"/api/cases/{number}").get_json()["checks"]
    court = next(c for c in checks if c["kind"] == "court")
    assert court["status"] == "passed"


def test_a_slow_service_is_treated_like_one_that_is_down(
        app: Any, buyer: Citizen, seller: Citizen, sandbox: Any, make_app: Any) -> None:
    legacy_owner("440402003001GB00012F00010203", seller.person_id)
    number = fill_resale(buyer, seller)
    sandbox.state.datasharing.set_outage("civil-affairs", "slow", seconds=5)
    app.extensions["bdc.datasharing"].timeout = 0.3
    detail = _submit(buyer, number)
    assert detail["status"] == "submitted"
    assert {c["status"] for c in detail["checks"] if c["kind"] == "marital"} == {"waiting"}


def test_a_seizure_returns_the_case_with_the_court_named(
        app: Any, buyer: Citizen, seller: Citizen, sandbox: Any) -> None:
    legacy_owner("440402003001GB00012F00010203", seller.person_id)
    number = fill_resale(buyer, seller)
    sandbox.state.datasharing.add_restriction(
        "440402003001GB00012F00010203", "SEIZURE", "珠海市香洲区人民法院",
        "(2026)粤0402执456号", "2026-01-01")
    detail = _submit(buyer, number)
    assert detail["status"] == "returned"
    court = next(c for c in detail["checks"] if c["kind"] == "court")
    assert court["status"] == "failed"
    assert "珠海市香洲区人民法院查封" in court["message"]
    assert "(2026)粤0402执456号" in court["message"]
    run_once()
    assert any(number in m["text"] for m in sandbox.state.sms_messages())


def test_a_seller_who_is_not_the_registered_owner_is_refused(
        app: Any, buyer: Citizen, seller: Citizen) -> None:
    legacy_owner("440402003001GB00012F00010203", buyer.person_id)  # owned by someone else
    number = fill_resale(buyer, seller)
    detail = _submit(buyer, number)
    assert detail["status"] == "returned"
    register = next(c for c in detail["checks"] if c["kind"] == "register")
    assert "登记簿记载的权利人不一致" in register["message"]
    # The parties are what the citizen can fix.
    assert [i["code"] for i in detail["returned_items"]] == ["parties"]
    assert "edit" in detail["allowed_actions"]


def test_an_applicant_unknown_to_the_population_registry_is_refused(
        app: Any, buyer: Citizen, seller: Citizen, sandbox: Any) -> None:
    legacy_owner("440402003001GB00012F00010203", seller.person_id)
    number = fill_resale(buyer, seller)
    sandbox.state.registry.add_person("李四", "440402199003150029", status="DECEASED")
    detail = _submit(buyer, number)
    assert detail["status"] == "returned"
    identity = [c for c in detail["checks"] if c["kind"] == "identity"]
    assert any(c["status"] == "failed" and "户籍状态异常" in c["message"] for c in identity)
