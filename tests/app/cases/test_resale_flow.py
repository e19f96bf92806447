"""A resale transfer from draft to register entry, with the three departments."""

from __future__ import annotations

from typing import Any

from pypdf import PdfReader
from sqlalchemy import select

from app.cases.workflow import CaseStatus
from app.jobs import run_once
from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.register.service import current_entry
from app.staff.models import StaffRole
from tests import flow_fixtures as application
from tests.app.staff.factories import csrf_token, log_in, make_staff
from tests.flow import (
    Citizen,
    Reviewer,
    case_row,
    fill_resale,
    flashes,
    legacy_owner,
    task_of,
)

# The one-window application's fixtures (as tests/app/fees/conftest.py has them).
_clean_sandbox, app = application._clean_sandbox, application.app
buyer, seller, reviewers = application.buyer, application.seller, application.reviewers


def test_resale_transfer_from_draft_to_register_entry(
        app: Any, make_app: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    legacy_owner("440402003001GB00012F00010203", seller.person_id)
    number = fill_resale(buyer, seller)

    submitted = buyer.post(f"/api/cases/{number}/submit", claim=True)
    assert submitted.status_code == 200, submitted.get_json()
    detail = submitted.get_json()
    # The automatic checks ran at once against the data-sharing services: accepted.
    assert detail["status"] == "accepted"
    assert {c["kind"] for c in detail["checks"]} == {
        "identity", "marital", "court", "register"}
    assert all(c["status"] == "passed" for c in detail["checks"])
    marital = [c["message"] for c in detail["checks"] if c["kind"] == "marital"]
    assert any("已婚" in m for m in marital) and any("未婚" in m for m in marital)
    assert [r["status"] for r in detail["review"]] == ["open", "open", "open"]
    assert detail["clock_label"].startswith("剩余")
    assert detail["application_pdf_url"]

    # The combined application form was archived as a PDF with the parties in it.
    pdf = buyer.get(detail["application_pdf_url"])
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    import io

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert number in text and "李四" in text and "存量房转移登记" in text

    # The seller sees the same case; nobody can edit it any more.
    assert seller.get(f"/api/cases/{number}").status_code == 200
    edit = buyer.put(f"/api/cases/{number}/form/transaction", {"contract_number": "X"})
    assert edit.status_code == 409 and edit.get_json()["code"] == "CASE_NOT_EDITABLE"

    # Three departments review in parallel, each in its own queue.
    for department in ("tax", "housing"):
        queue = reviewers[department].client.get("/admin/review").get_data(as_text=True)
        assert number in queue
        page = reviewers[department].approve(number)
        assert "审核通过" in flashes(page)
    assert case_row(number).status == CaseStatus.ACCEPTED  # registration still to come
    reviewers["registration"].approve(number)
    assert case_row(number).status == CaseStatus.FEES_ASSESSED

    # Resale: pay first (here at the counter), then register.
    page = reviewers["registration"].page(number)
    assert 'id="register-form"' not in page
    helpdesk = make_app().test_client()
    log_in(helpdesk, make_staff(username="sun.fuwu", display_name="孙服务",
                                roles=(StaffRole.HELPDESK,)))
    desk = f"/admin/cases?case_number={number}"
    paid = helpdesk.post(f"/admin/cases/{number}/counter-payment", data={
        "csrf_token": csrf_token(helpdesk, desk), "amount": "80.00",
        "reference": "POS-20261123-0001"})
    assert paid.status_code == 302
    assert case_row(number).status == CaseStatus.PAID

    page = reviewers["registration"].act(number, "register")
    assert "登簿完成，已写入登记簿" in flashes(page)
    case = case_row(number)
    assert case.status == CaseStatus.REGISTERED
    entry = current_entry(case.unit.id)
    assert entry is not None and entry.version == 2
    assert [(o.person_id, o.share) for o in entry.owners] == [(buyer.person_id, "1/1")]
    assert str(entry.area_m2) == "89.50" and entry.term_end.isoformat() == "2077-06-30"

    # The buyer looks the unit up in the archive (查档); the timeline names departments.
    units = buyer.client.get("/api/register/units", headers=buyer.claim_headers).get_json()
    assert [u["unit_number"] for u in units] == ["440402003001GB00012F00010203"]
    timeline = buyer.get(f"/api/cases/{number}").get_json()["timeline"]
    steps = [t["step_label"] for t in timeline]
    assert "税务局审核通过" in steps and "住房和城乡建设局审核通过" in steps
    assert any(t["actor_role_label"] == "税务局审核员" for t in timeline)
    assert steps[-1].startswith("已登簿")
    accepted = next(i for i, step in enumerate(steps) if step.startswith("已受理"))
    assert accepted < steps.index("税务局开始审核") < steps.index("税务局审核通过")

    # The acceptance notice went out through the outbox (SMS to the seller's phone).
    run_once()
    texts = [m["text"] for m in sandbox.state.sms_messages()]
    assert any(number in t and "已受理" in t for t in texts)
    assert any(number in t and "已登簿" in t for t in texts)
    actions = db.session.scalars(select(AuditRecord.action).where(
        AuditRecord.entity_id == number)).all()
    assert "payment.counter_recorded" in actions and actions.count("review.approved") == 3


def test_every_department_sees_only_its_own_queue(
        app: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer]) -> None:
    legacy_owner("440402003001GB00012F00010203", seller.person_id)
    number = fill_resale(buyer, seller)
    assert buyer.post(f"/api/cases/{number}/submit", claim=True).status_code == 200
    tax_task = task_of(number, "tax")
    response = reviewers["housing"].client.get(f"/admin/review/tasks/{tax_task.id}")
    assert response.status_code == 403
    page = reviewers["housing"].client.get("/admin/review").get_data(as_text=True)
    assert "住房和城乡建设局" in page and "税务局</td>" not in page
