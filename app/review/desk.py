"""What staff see of a case (review pages, helpdesk), and 不予登记 (refusal).

登簿 is app/usecases/register_case.py (the register part in app/register/from_case.py);
a payment at the counter is app/usecases/payments.py (record_counter_payment).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.cases import application, form
from app.cases.models import Case
from app.cases.service import transition
from app.cases.workflow import CaseStatus, can_move
from app.checks import service as checks
from app.departments import Department
from app.fees import service as fees
from app.fees.checkout import refund_everything_paid
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.errors import CaseStateConflict, NotFound, ValidationFailed
from app.materials.service import checklist, list_materials
from app.notifications import service as notifications
from app.review import service as review
from app.review.models import TaskStatus
from app.staff.service import StaffIdentity
from app.workdays.service import review_clock


def find_case(case_number: str) -> Case:
    case = db.session.scalar(select(Case).where(Case.case_number == case_number.strip()))
    if case is None:
        raise NotFound("未找到该办件")
    return case


def find_case_by_id(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound("未找到该办件")
    return case


def all_approved(case: Case) -> bool:
    """Every department of the business type approved the case's latest review."""
    tasks = review.latest_tasks(case)
    return all(d in tasks and tasks[d].status_enum == TaskStatus.APPROVED
               for d in case.business_type.departments)


def can_register(case: Case) -> bool:
    """登簿 is open: every review approved and the case's status table allows it."""
    return all_approved(case) and can_move(case.status_enum, CaseStatus.REGISTERED,
                                           case.business_type.rules)


def staff_case_view(case: Case) -> dict[str, Any]:
    materials = {m.id: m for m in list_materials(case)}
    sections = []
    for code in case.business_type.definition.get("form_sections", []):
        definition = form.SECTIONS[code]
        if code == form.APPLICANTS_SECTION:
            continue
        stored = case.form_data.get(code) or {}
        sections.append({"code": code, "title": definition.title, "fields": [
            (f.label, form.display_value(f, stored.get(f.name))) for f in definition.fields]})
    tasks = review.latest_tasks(case)
    clock = None
    if case.accepted_at is not None and case.status_enum in (CaseStatus.ACCEPTED,
                                                             CaseStatus.RETURNED):
        opened = min((t.opened_at for t in tasks.values()), default=case.accepted_at)
        clock = review_clock(opened, case.business_type.time_limit_working_days)
    return {
        "case": case,
        "applicants": [{
            "id": a.id, "role_label": case.business_type.role_label(a.role),
            "kind_label": "单位" if a.person.is_legal else "个人", "name": a.person.name,
            "id_masked": a.person.uscc if a.person.is_legal else a.person.id_number_masked,
            "share": a.share, "confirmed_at": a.confirmed_at,
            "representative": a.representative.name_masked if a.representative else None,
        } for a in case.applicants],
        "sections": sections,
        "checklist": [{"entry": e, "materials": [materials[i] for i in e.material_ids]}
                      for e in checklist(case)],
        "checks": checks.checks_of(case) if case.submission_count else [],
        "check_labels": checks.KIND_LABELS,
        "tasks": tasks,
        "all_tasks": review.case_tasks(case),
        "notes": review.notes_of(case),
        "clock": clock,
        "application_form": application.latest_application_form(case),
        "can_register": can_register(case),
        "can_reject": can_move(case.status_enum, CaseStatus.REJECTED, case.business_type.rules),
        "fees": fees.current_fees(case),
        "fee_preview": fees.compute(case) if case.status_enum == CaseStatus.ACCEPTED else [],
        "yuan": fees.yuan,
        "can_record_payment": can_move(case.status_enum, CaseStatus.PAID,
                                       case.business_type.rules),
    }


def reject_case(case_number: str, staff: StaffIdentity, reason: str) -> Case:
    """不予登记: the registration department refuses the case, with the reason in law."""

    if Department.REGISTRATION not in review.departments_of(staff):
        raise CaseStateConflict("只有登记部门审核员可以作出不予登记决定")
    reason = reason.strip()
    if not 4 <= len(reason) <= 300:
        raise ValidationFailed({"reason": ["请填写不予登记的理由和依据（4 至 300 字）"]})
    case = find_case(case_number)
    if not can_move(case.status_enum, CaseStatus.REJECTED, case.business_type.rules):
        raise CaseStateConflict("办件当前状态不能作出不予登记决定", status=case.status)
    notifications.enqueue(
        review.case_accounts(case), "case_rejected",
        {"case_number": case.case_number, "status_label": "不予登记",
         "hint": "请在小程序查看理由"},
        f"case_rejected:{case.case_number}")
    review.close_active(case)
    if case.status_enum == CaseStatus.PAID:

        refund_everything_paid(case, "不予登记，退还已缴税费")
    return transition(case, CaseStatus.REJECTED, actor_type=ActorType.STAFF, actor_id=staff.id,
                      channel=Channel.ADMIN, reason=f"不予登记：{reason}")
