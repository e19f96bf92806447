"""What staff see of a case (review pages, helpdesk) and the steps after review.

登簿 (register entry) from an approved case, and a payment made at the counter's POS
terminal, recorded by the helpdesk (online payment is the payments module's).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app import audit
from app.audit import ActorType, Channel
from app.cases import application, form
from app.cases.models import Case
from app.cases.service import transition
from app.cases.workflow import CaseStatus, can_move
from app.checks import service as checks
from app.db import db
from app.errors import CaseStateConflict, NotFound, ValidationFailed
from app.fees import service as fees
from app.review import service as review
from app.review.models import Department, TaskStatus
from app.staff.service import StaffIdentity
from app.workdays.service import review_clock

RIGHT_TYPE = "国有建设用地使用权/房屋所有权"
RIGHT_NATURE = {"resale_transfer": "存量商品房", "new_home_transfer": "市场化商品房"}


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


def staff_case_view(case: Case) -> dict[str, Any]:
    from app.materials.service import checklist, list_materials

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
        "fees": fees.current_fees(case),
        "fee_preview": fees.compute(case) if case.status_enum == CaseStatus.ACCEPTED else [],
        "yuan": fees.yuan,
        "can_record_payment": can_move(case.status_enum, CaseStatus.PAID,
                                       case.business_type.rules),
    }


def all_approved(case: Case) -> bool:
    tasks = review.latest_tasks(case)
    return all(d in tasks and tasks[d].status_enum == TaskStatus.APPROVED
               for d in case.business_type.departments)


def can_register(case: Case) -> bool:
    return all_approved(case) and can_move(case.status_enum, CaseStatus.REGISTERED,
                                           case.business_type.rules)


def _holder_shares(case: Case, role: str) -> list[Any]:
    from app.register.service import OwnerShare

    return [OwnerShare(person_id=a.person_id, share=a.share or "1")
            for a in case.applicants if a.role == role]


def _still_owned_by_disposers(case: Case) -> None:
    """The register may have changed since the automatic check: look again at 登簿."""
    from app.register.service import current_entry

    disposer = application.DISPOSER_ROLES.get(case.business_type_code)
    if disposer is None or case.unit is None:
        return
    entry = current_entry(case.unit.id)
    owners = {o.person_id for o in entry.owners} if entry else set()
    if owners != {a.person_id for a in case.applicants if a.role == disposer}:
        raise CaseStateConflict("登记簿记载的权利人已发生变化，不能登簿，请退回核实",
                                status=case.status)


def _notify_registered(case: Case) -> None:
    from app.notifications import service as notifications

    notifications.enqueue(
        review.case_accounts(case), "case_registered",
        {"case_number": case.case_number, "status_label": "已登簿",
         "hint": "登记结果可在小程序查看"},
        f"case_registered:{case.case_number}")


def register_case(case_number: str, staff: StaffIdentity) -> str:
    """登簿 by a registration reviewer, from the approved application."""
    from app.register import service as register

    if Department.REGISTRATION not in review.departments_of(staff):
        raise CaseStateConflict("只有登记部门审核员可以登簿")
    case = find_case(case_number)
    if not all_approved(case):
        raise CaseStateConflict("各部门审核通过后才能登簿", status=case.status)
    if not can_move(case.status_enum, CaseStatus.REGISTERED, case.business_type.rules):
        raise CaseStateConflict("办件当前状态不能登簿（先缴费后登簿的业务须先缴费）",
                                status=case.status)
    _still_owned_by_disposers(case)
    _notify_registered(case)  # in the same transaction as the register entry
    code = case.business_type_code
    unit_form = case.form_data.get("unit") or {}
    if code == "mortgage_first":
        mortgage = case.form_data.get("mortgage") or {}
        holder = next(a for a in case.applicants if a.role == "mortgagee")
        register.register_encumbrance(
            case, "mortgage", holder_id=holder.person_id,
            amount_fen=int(mortgage["secured_amount_fen"]),
            description=(f"{mortgage.get('mortgage_kind')}，债务履行期限 "
                         f"{mortgage.get('debt_start')} 至 {mortgage.get('debt_end')}"),
            staff_id=staff.id)
        return "抵押权已登记"
    if code == "mortgage_discharge":
        holder_ids = {a.person_id for a in case.applicants if a.role == "mortgagee"}
        current = [e for e in register.encumbrances_on(case.unit.id) if e.kind == "mortgage"
                   and e.holder_id in holder_ids] if case.unit else []
        if not current:
            raise ValidationFailed({"unit": ["该单元上没有该抵押权人的抵押权"]})
        register.discharge_encumbrance(case, current[0].id, staff_id=staff.id)
        return "抵押权已注销"
    if code in ("change", "correction"):
        entry = register.current_entry(case.unit.id) if case.unit else None
        if entry is None:
            raise ValidationFailed({"unit": ["登记簿中没有该单元的现有权利"]})
        details = case.form_data.get("change_details") or case.form_data.get(
            "correction_details") or {}
        note = "；".join(f"{k}：{v}" for k, v in details.items())
        owners = [register.OwnerShare(person_id=o.person_id, share=o.share) for o in entry.owners]
        register.enter_right(case, register.RightDetails(
            right_type=entry.right_type, right_nature=entry.right_nature, use=entry.use,
            area_m2=entry.area_m2, term_start=entry.term_start, term_end=entry.term_end,
            notes=f"{case.business_type.name}：{note}"[:500]), owners, staff_id=staff.id)
        return "已登簿"
    holder_role = application.HOLDER_ROLES[code]
    term_end = unit_form.get("land_term_end")
    register.enter_right(case, register.RightDetails(
        right_type=RIGHT_TYPE, right_nature=RIGHT_NATURE.get(code, "其他"),
        use=str(unit_form.get("use") or (case.unit.use if case.unit else "住宅")),
        area_m2=Decimal(str(unit_form.get("area_m2") or (case.unit.area_m2 if case.unit else 0))),
        term_end=date.fromisoformat(term_end) if term_end else None,
    ), _holder_shares(case, holder_role), staff_id=staff.id)
    return "已登簿"


def record_counter_payment(case_number: str, staff: StaffIdentity, reference: str,
                           amount_fen: int) -> Case:
    """The citizen paid at the counter's POS terminal; the helpdesk records the receipt."""
    case = find_case(case_number)
    reference = reference.strip()
    if not reference or len(reference) > 40:
        raise ValidationFailed({"reference": ["请填写 POS 凭条参考号（不超过 40 位）"]})
    if amount_fen <= 0:
        raise ValidationFailed({"amount": ["金额应大于 0"]})
    audit.record(actor_type=ActorType.STAFF, actor_id=staff.id, channel=Channel.ADMIN,
                 action="payment.counter_recorded", entity_type="case",
                 entity_id=case.case_number,
                 after={"amount_fen": amount_fen, "reference": reference})
    yuan = f"{amount_fen // 100}.{amount_fen % 100:02d}"
    return transition(case, CaseStatus.PAID, actor_type=ActorType.STAFF, actor_id=staff.id,
                      channel=Channel.ADMIN, reason=f"窗口缴费 {yuan} 元")


def reject_case(case_number: str, staff: StaffIdentity, reason: str) -> Case:
    """不予登记: the registration department refuses the case, with the reason in law."""
    from app.notifications import service as notifications

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
    return transition(case, CaseStatus.REJECTED, actor_type=ActorType.STAFF, actor_id=staff.id,
                      channel=Channel.ADMIN, reason=f"不予登记：{reason}")
