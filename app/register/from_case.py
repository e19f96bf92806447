"""登簿 from an approved case: the register entry its business type writes.

Transfers write the buyers and their shares as a new register version; a first mortgage
writes an encumbrance, a discharge removes it (and revokes the mortgage's 不动产登记证明 in
the same transaction); a change or correction writes its own kind of version. The
current owners are checked again at 登簿 (the register may have changed since the
automatic check)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.cases import application
from app.cases.models import Case
from app.cases.workflow import CaseStatus, can_move
from app.kernel.errors import CaseStateConflict, ValidationFailed
from app.review import service as review
from app.review.models import Department, TaskStatus
from app.staff.service import StaffIdentity

if TYPE_CHECKING:
    from app.register.models import Encumbrance

RIGHT_TYPE = "国有建设用地使用权/房屋所有权"
RIGHT_NATURE = {"resale_transfer": "存量商品房", "new_home_transfer": "市场化商品房"}
# A discharge's 登簿 also revokes the mortgage's 不动产登记证明 (WeChat shows 20 characters).
DISCHARGE_HINT = "抵押权已注销，登记证明已作废"


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


def _notify_registered(case: Case, hint: str | None = None) -> None:
    from app.notifications import service as notifications

    notifications.enqueue(
        review.case_accounts(case), "case_registered",
        {"case_number": case.case_number, "status_label": "已登簿",
         "hint": hint or "登记结果可在小程序查看"},
        f"case_registered:{case.case_number}")


def _mortgage_to_discharge(case: Case, current: list[Encumbrance]) -> Encumbrance:
    """The mortgage the 注销 names by its proof number, else the mortgagee's oldest."""
    from app.certificates.lifecycle import proof_numbers

    named = str((case.form_data.get("discharge") or {}).get("proof_number") or "").strip()
    if named:
        for encumbrance in current:
            if named in proof_numbers(encumbrance):
                return encumbrance
    return current[0]


def _discharge(case: Case, current: list[Encumbrance], staff: StaffIdentity) -> None:
    """注销登簿: the mortgage ends and its 不动产登记证明 is revoked, in one transaction
    (the revocation is added first; the discharge's status change commits both)."""
    from app.certificates.lifecycle import revoke_for_discharge
    from app.kernel.db import db
    from app.register import service as register

    mortgage = _mortgage_to_discharge(case, current)
    revoke_for_discharge(mortgage, case, staff)
    try:
        register.discharge_encumbrance(case, mortgage.id, staff_id=staff.id)
    except Exception:
        db.session.rollback()  # nothing of this 登簿 stays: no revocation without discharge
        raise


def register_case(case_number: str, staff: StaffIdentity) -> str:
    """登簿 by a registration reviewer, from the approved application."""
    from app.register import service as register
    from app.review.desk import find_case

    if Department.REGISTRATION not in review.departments_of(staff):
        raise CaseStateConflict("只有登记部门审核员可以登簿")
    case = find_case(case_number)
    if not all_approved(case):
        raise CaseStateConflict("各部门审核通过后才能登簿", status=case.status)
    if not can_move(case.status_enum, CaseStatus.REGISTERED, case.business_type.rules):
        raise CaseStateConflict("办件当前状态不能登簿（先缴费后登簿的业务须先缴费）",
                                status=case.status)
    _still_owned_by_disposers(case)
    code = case.business_type_code
    # In the same transaction as the register entry.
    _notify_registered(case, DISCHARGE_HINT if code == "mortgage_discharge" else None)
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
        _discharge(case, current, staff)
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
