"""登簿 (register entry) from an approved case, by a registration reviewer: one transaction.

The register entry (or the mortgage registered or discharged), the case's move to
``registered`` with its audit record, the applicants' notice in the outbox and, at a
mortgage's discharge, the revocation of its 不动产登记证明 are written together and
committed once: a 登簿 that fails anywhere, its commit included, leaves nothing behind
(no revoked proof without a discharge, no notice without a register entry).
"""

from __future__ import annotations

from sqlalchemy.orm.exc import StaleDataError

from app.cases.service import transition
from app.cases.workflow import CaseStatus, can_move
from app.certificates.lifecycle import named_mortgage, revoke_for_discharge
from app.departments import Department
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.errors import CaseStateConflict, Conflict
from app.notifications import service as notifications
from app.register import from_case
from app.review import desk
from app.review import service as review
from app.staff.service import StaffIdentity


def register_case(case_number: str, staff: StaffIdentity) -> str:
    """登簿 by a registration reviewer; returns what the reviewer is told."""
    if Department.REGISTRATION not in review.departments_of(staff):
        raise CaseStateConflict("只有登记部门审核员可以登簿")
    case = desk.find_case(case_number)
    if not desk.all_approved(case):
        raise CaseStateConflict("各部门审核通过后才能登簿", status=case.status)
    if not can_move(case.status_enum, CaseStatus.REGISTERED, case.business_type.rules):
        raise CaseStateConflict("办件当前状态不能登簿（先缴费后登簿的业务须先缴费）",
                                status=case.status)
    from_case.check_still_owned_by_disposers(case)
    try:
        discharged = None
        hint = None
        if from_case.is_discharge(case):
            current = from_case.mortgages_to_discharge(case)
            discharged = named_mortgage(current, from_case.named_proof_number(case)) or current[0]
            revoke_for_discharge(discharged, case, staff.id)
            hint = from_case.DISCHARGE_HINT
        done = from_case.enter(case, staff.id, discharged=discharged)
        notifications.enqueue(
            review.case_accounts(case), "case_registered",
            {"case_number": case.case_number, "status_label": "已登簿",
             "hint": hint or "登记结果可在小程序查看"},
            f"case_registered:{case.case_number}")
        transition(case, CaseStatus.REGISTERED, actor_type=ActorType.STAFF, actor_id=staff.id,
                   channel=Channel.ADMIN,
                   reason="注销登簿" if discharged is not None else "登簿", commit=False)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()  # someone else changed the case: nothing of this 登簿 stays
        raise Conflict("办件已被他人更新，请刷新后重试") from None
    except Exception:
        db.session.rollback()
        raise
    return done
