"""Parallel review (并联审核) by the departments a business type names.

An accepted case opens one task per department. Reviewers claim a task, then approve
it or return the case with reasons per item (a material of a role, or a form section).
Task changes are conditional UPDATEs (``WHERE status = …``), so two reviewers acting
at the same moment cannot both win; approvals of one case are serialised on the case
row, so the last approval always sees the others and moves the case on.

Status changes follow ``TASK_STATES`` (app/review/models.py): a conditional UPDATE takes
its ``WHERE status IN (…)`` from the machine's edges. The decisions that move the case
(approve, return, accept) are use cases in app/usecases/review.py.

An approval records the evidence it relied on (the checksums of the materials and
the digests of the form sections in the department's scope). When the citizen
resubmits after a return, a department whose evidence did not change keeps its
approval; the others review again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update

from app.accounts.models import Account
from app.cases import application
from app.cases.form import SECTIONS
from app.cases.models import Case
from app.cases.workflow import CaseStatus
from app.departments import Department
from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.errors import (
    CaseStateConflict,
    Forbidden,
    NotFound,
    ReturnItemsRequired,
    TaskAlreadyTaken,
    TaskNotClaimed,
    ValidationFailed,
)
from app.kernel.timeutil import local_date, utcnow
from app.materials.service import checklist, list_materials
from app.review.models import (
    TASK_STATES,
    ReviewNote,
    ReviewTask,
    TaskStatus,
    task_sources,
)
from app.staff.models import StaffRole
from app.staff.service import StaffIdentity
from app.workdays.service import Clock, add_working_days, review_clock

SYSTEM: dict[str, Any] = {"actor_type": ActorType.SYSTEM, "actor_id": "review",
                          "channel": Channel.SYSTEM}
DEPARTMENT_ROLES = {
    Department.REGISTRATION: StaffRole.REGISTRATION_REVIEWER,
    Department.HOUSING: StaffRole.HOUSING_REVIEWER,
    Department.TAX: StaffRole.TAX_REVIEWER,
}
ACTIVE = (TaskStatus.OPEN, TaskStatus.CLAIMED)
MAX_REASON = 200


def departments_of(staff: StaffIdentity) -> list[Department]:
    return [d for d, role in DEPARTMENT_ROLES.items() if staff.has_role(role)]


def _require_department(staff: StaffIdentity, department: str) -> Department:
    dept = Department(department)
    if dept not in departments_of(staff):
        raise Forbidden("您不是该部门的审核员")
    return dept


# --- scope and evidence ----------------------------------------------------------------

def scope(case: Case, department: str) -> dict[str, set[str]]:
    """The material items and form sections a department reviews (default: all)."""
    definition = case.business_type.definition
    entry = (definition.get("review_scope") or {}).get(department)
    all_materials = {m["code"] for m in case.business_type.materials}
    all_sections = set(definition.get("form_sections", []))
    if not entry:
        return {"materials": all_materials, "sections": all_sections}
    return {"materials": set(entry.get("materials", [])) & all_materials,
            "sections": set(entry.get("sections", [])) & all_sections}


def evidence(case: Case, department: str) -> dict[str, Any]:
    in_scope = scope(case, department)
    materials: dict[str, list[str]] = {}
    for material in list_materials(case):
        if material.item_code in in_scope["materials"]:
            materials.setdefault(f"{material.item_code}:{material.role}", []).append(
                material.sha256)
    return {"materials": {k: sorted(v) for k, v in sorted(materials.items())},
            "sections": {code: application.section_digest(case, code)
                         for code in sorted(in_scope["sections"])}}


def _evidence_digest(value: dict[str, Any] | None) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


# --- opening rounds ------------------------------------------------------------------------

def latest_tasks(case: Case) -> dict[str, ReviewTask]:
    tasks: dict[str, ReviewTask] = {}
    for task in db.session.scalars(select(ReviewTask).where(ReviewTask.case_id == case.id)
                                   .order_by(ReviewTask.round, ReviewTask.id)):
        tasks[task.department] = task
    return tasks


def local_date_text(moment: datetime) -> str:
    return local_date(moment).isoformat()


def open_round(case: Case, now: datetime) -> list[ReviewTask]:
    """New tasks for departments without a standing approval (the caller commits)."""
    limit = case.business_type.time_limit_working_days
    current = latest_tasks(case)
    opened = []
    for department in case.business_type.departments:
        task = current.get(department)
        if task is not None and task.status_enum in ACTIVE:
            continue  # still being reviewed: the same task goes on
        if task is not None and task.status_enum == TaskStatus.APPROVED and (
                task.evidence == evidence(case, department)):
            continue  # nothing it relied on changed: the approval stands
        if task is not None:
            TASK_STATES.move(task, TaskStatus.SUPERSEDED)
        new = ReviewTask(case_id=case.id, department=department, round=case.submission_count,
                         status=TaskStatus.OPEN, opened_at=now,
                         due_at=add_working_days(now, limit))
        db.session.add(new)
        opened.append(new)
    db.session.flush()
    for task in opened:
        audit.record(action="review.opened", entity_type="case", entity_id=case.case_number,
                     after={"department": task.department, "round": task.round}, **SYSTEM)
    return opened


# --- queue ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueRow:
    task: ReviewTask
    case: Case
    clock: Clock


def queue(staff: StaffIdentity, *, status: str = "active", business_type: str | None = None,
          overdue_only: bool = False, department: str | None = None) -> list[QueueRow]:
    departments = [d.value for d in departments_of(staff)]
    if department:
        departments = [d for d in departments if d == department]
    query = select(ReviewTask, Case).join(Case, Case.id == ReviewTask.case_id).where(
        ReviewTask.department.in_(departments))
    if status == "mine":
        query = query.where(ReviewTask.status == TaskStatus.CLAIMED,
                            ReviewTask.claimed_by == staff.id)
    elif status == "open":
        query = query.where(ReviewTask.status == TaskStatus.OPEN)
    elif status == "done":
        query = query.where(ReviewTask.status.in_([TaskStatus.APPROVED, TaskStatus.RETURNED]))
    else:
        query = query.where(ReviewTask.status.in_(list(ACTIVE)))
    if status in ("active", "mine", "open"):
        query = query.where(Case.status.in_([CaseStatus.ACCEPTED, CaseStatus.RETURNED]))
    if business_type:
        query = query.where(Case.business_type_code == business_type)
    now = utcnow()
    if overdue_only:
        query = query.where(ReviewTask.due_at < now)
    query = query.order_by(ReviewTask.due_at, ReviewTask.id).limit(200)
    limit_of: dict[str, int] = {}
    rows = []
    for task, case in db.session.execute(query).all():
        limit_of.setdefault(case.business_type_code, case.business_type.time_limit_working_days)
        rows.append(QueueRow(task, case, review_clock(task.opened_at,
                                                      limit_of[case.business_type_code], now)))
    return rows


def get_task(task_id: int, staff: StaffIdentity) -> ReviewTask:
    task = db.session.get(ReviewTask, task_id)
    if task is None:
        raise NotFound("未找到该审核任务")
    _require_department(staff, task.department)
    return task


def case_tasks(case: Case) -> list[ReviewTask]:
    return list(db.session.scalars(select(ReviewTask).where(ReviewTask.case_id == case.id)
                                   .order_by(ReviewTask.round, ReviewTask.department)))


def notes_of(case: Case) -> list[ReviewNote]:
    return list(db.session.scalars(select(ReviewNote).where(ReviewNote.case_id == case.id)
                                   .order_by(ReviewNote.created_at)))


# --- actions -------------------------------------------------------------------------------

def _conditional(task_id: int, condition: Any, **values: Any) -> bool:
    result = db.session.execute(
        update(ReviewTask).where(ReviewTask.id == task_id, condition)
        .values(version=ReviewTask.version + 1, **values)
        .execution_options(synchronize_session=False))
    changed = bool(result.rowcount == 1)  # type: ignore[attr-defined]
    task = db.session.identity_map.get(db.session.identity_key(ReviewTask, task_id))
    if changed and task is not None:
        db.session.expire(task)  # the UPDATE bypassed the session: read the row again
    return changed


def _record(task: ReviewTask, staff: StaffIdentity, action: str, **after: Any) -> None:
    case = db.session.get(Case, task.case_id)
    assert case is not None
    audit.record(actor_type=ActorType.STAFF, actor_id=staff.id, channel=Channel.ADMIN,
                 action=action, entity_type="case", entity_id=case.case_number,
                 after={"department": task.department, "round": task.round, **after})


def claim(task_id: int, staff: StaffIdentity) -> ReviewTask:
    task = get_task(task_id, staff)
    if not _conditional(task.id, ReviewTask.status.in_(task_sources(TaskStatus.CLAIMED)),
                        status=TaskStatus.CLAIMED, claimed_by=staff.id, claimed_at=utcnow()):
        db.session.rollback()
        raise TaskAlreadyTaken()
    _record(task, staff, "review.claimed")
    db.session.commit()
    db.session.refresh(task)
    return task


def release(task_id: int, staff: StaffIdentity) -> ReviewTask:
    task = get_task(task_id, staff)
    if not _conditional(task.id, ReviewTask.status.in_(task_sources(TaskStatus.OPEN))
                        & (ReviewTask.claimed_by == staff.id),
                        status=TaskStatus.OPEN, claimed_by=None, claimed_at=None):
        db.session.rollback()
        raise TaskNotClaimed("该任务不在您名下，无法释放")
    _record(task, staff, "review.released")
    db.session.commit()
    db.session.refresh(task)
    return task


def _mine_or_open(staff: StaffIdentity) -> Any:
    return or_(ReviewTask.status == TaskStatus.OPEN,
               (ReviewTask.status == TaskStatus.CLAIMED) & (ReviewTask.claimed_by == staff.id))


def lock_case(case_id: int) -> Case:
    """Serialise the decisions of one case (row lock on PostgreSQL; SQLite has one writer)."""
    case = db.session.scalar(select(Case).where(Case.id == case_id).with_for_update(of=Case)
                             .execution_options(populate_existing=True))
    assert case is not None
    return case


def decidable_case(task: ReviewTask) -> Case:
    case = lock_case(task.case_id)
    if case.status_enum not in (CaseStatus.ACCEPTED, CaseStatus.RETURNED):
        db.session.rollback()
        raise CaseStateConflict("办件当前状态不能审核", status=case.status)
    return case


def tax_decision(task: ReviewTask, deed_tax_fen: int | None) -> dict[str, Any] | None:
    """The tax reviewer's approval confirms the deed tax, or sets it (``deed_tax_fen``)."""
    if deed_tax_fen is None:
        return None
    if task.department != Department.TAX:
        raise ValidationFailed({"deed_tax": ["只有税务部门核定契税"]})
    if not 0 <= deed_tax_fen <= 10**12:
        raise ValidationFailed({"deed_tax": ["契税金额不正确"]})
    return {"deed_tax_fen": deed_tax_fen}


def approvable_case(task: ReviewTask) -> Case:
    """The task's case, locked, if a department may approve now."""
    case = decidable_case(task)
    if case.status_enum != CaseStatus.ACCEPTED:
        db.session.rollback()
        raise CaseStateConflict("办件已退回补正，请等待申请人重新提交", status=case.status)
    return case


def record_approval(task: ReviewTask, case: Case, staff: StaffIdentity,
                    note: str | None = None, decision: dict[str, Any] | None = None) -> None:
    """The department's approval with the evidence it relied on (the caller commits)."""
    seen = evidence(case, task.department)
    if not _conditional(task.id, _mine_or_open(staff), status=TaskStatus.APPROVED,
                        decided_by=staff.id, decided_at=utcnow(), evidence=seen,
                        claimed_by=staff.id, decision=decision):
        db.session.rollback()
        raise TaskAlreadyTaken()
    if note:
        _add_note(case, task.department, staff, note)
    _record(task, staff, "review.approved", evidence=_evidence_digest(seen))
    db.session.flush()


def all_approved(case: Case) -> bool:
    """Every department's latest task is approved (the case goes on to the fees)."""
    tasks = latest_tasks(case)
    return all(d in tasks and tasks[d].status_enum == TaskStatus.APPROVED
               for d in case.business_type.departments)


def deed_tax_decided(case: Case) -> int | None:
    """The deed tax the tax reviewer set on approval (None: as computed)."""
    tax = latest_tasks(case).get(Department.TAX)
    return (tax.decision or {}).get("deed_tax_fen") if tax else None


def _valid_items(case: Case, department: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not items:
        raise ReturnItemsRequired({"items": ["请至少选择一项需要补正的内容"]})
    in_scope = scope(case, department)
    entries = {(e.item, e.role): e for e in checklist(case)}
    clean: list[dict[str, Any]] = []
    for item in items:
        reason = str(item.get("reason") or "").strip()
        if not reason:
            raise ReturnItemsRequired({"reason": ["请为每一项填写退回理由"]})
        if len(reason) > MAX_REASON:
            raise ValidationFailed({"reason": [f"退回理由不能超过 {MAX_REASON} 个字"]})
        if item.get("kind") == "material":
            key = (str(item.get("code")), str(item.get("role")))
            if key not in entries or key[0] not in in_scope["materials"]:
                raise ValidationFailed({"items": ["所选材料不在本部门审核范围内"]})
            entry = entries[key]
            clean.append({"kind": "material", "code": entry.item, "name": entry.name,
                          "role": entry.role, "role_label": entry.role_label,
                          "reason": reason})
        elif item.get("kind") == "section":
            code = str(item.get("code"))
            if code not in in_scope["sections"]:
                raise ValidationFailed({"items": ["所选申请表部分不在本部门审核范围内"]})

            clean.append({"kind": "section", "code": code, "name": SECTIONS[code].title,
                          "role": None, "role_label": None, "reason": reason})
        else:
            raise ValidationFailed({"items": ["退回项应为材料或申请表部分"]})
    return clean


def record_return(task: ReviewTask, case: Case, staff: StaffIdentity,
                  items: list[dict[str, Any]], note: str | None = None) -> list[dict[str, Any]]:
    """退回补正 by one department, with reasons per item (the caller moves the case and
    commits). Returns the items as stored."""
    clean = _valid_items(case, task.department, items)
    if not _conditional(task.id, _mine_or_open(staff), status=TaskStatus.RETURNED,
                        decided_by=staff.id, decided_at=utcnow(), returned_items=clean,
                        claimed_by=staff.id):
        db.session.rollback()
        raise TaskAlreadyTaken()
    if note:
        _add_note(case, task.department, staff, note)
    _record(task, staff, "review.returned", items=[
        {"kind": i["kind"], "code": i["code"], "role": i["role"]} for i in clean])
    db.session.flush()
    return clean


def _add_note(case: Case, department: str, staff: StaffIdentity, text: str) -> ReviewNote:
    text = text.strip()
    if not text:
        raise ValidationFailed({"text": ["请填写备注内容"]})
    if len(text) > 1000:
        raise ValidationFailed({"text": ["备注不能超过 1000 字"]})
    note = ReviewNote(case_id=case.id, department=department, staff_id=staff.id, text=text)
    db.session.add(note)
    return note


def add_note(case_number: str, staff: StaffIdentity, department: str, text: str) -> ReviewNote:
    dept = _require_department(staff, department)
    case = db.session.scalar(select(Case).where(Case.case_number == case_number))
    if case is None:
        raise NotFound("未找到该办件")
    note = _add_note(case, dept.value, staff, text)
    audit.record(actor_type=ActorType.STAFF, actor_id=staff.id, channel=Channel.ADMIN,
                 action="review.note_added", entity_type="case", entity_id=case.case_number,
                 after={"department": dept.value})
    db.session.commit()
    return note


# --- the citizen's side ----------------------------------------------------------------------

def case_accounts(case: Case) -> list[Account]:
    """Accounts to notify: the creator's, and those of every applicant's confirmer."""
    person_ids = {a.confirmer_id for a in case.applicants}
    return list(db.session.scalars(select(Account).where(or_(
        Account.id == case.created_by_account_id, Account.person_id.in_(person_ids),
    ), Account.is_active.is_(True))))


def returned_items_from_reviews(case: Case) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for task in latest_tasks(case).values():
        if task.status_enum == TaskStatus.RETURNED:
            for item in task.returned_items or []:
                items.append({**item, "department_label": task.department_enum.label})
    return items


def citizen_review(case: Case) -> list[dict[str, Any]]:
    tasks = latest_tasks(case)
    rows = []
    for department in case.business_type.departments:
        task = tasks.get(department)
        status = task.status_enum if task else None
        rows.append({"department": department, "department_label": Department(department).label,
                     "status": status.value if status else "not_started",
                     "status_label": status.label if status else "未开始"})
    return rows


def close_active(case: Case) -> int:
    """The case ended (withdrawn, refused): its open tasks leave the queues (no commit)."""
    result = db.session.execute(
        update(ReviewTask).where(ReviewTask.case_id == case.id,
                                 ReviewTask.status.in_(task_sources(TaskStatus.CLOSED)))
        .values(status=TaskStatus.CLOSED, version=ReviewTask.version + 1)
        .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def pending_count(department: Department) -> int:
    return db.session.scalar(
        select(func.count()).select_from(ReviewTask).join(Case, Case.id == ReviewTask.case_id)
        .where(ReviewTask.department == department, ReviewTask.status.in_(list(ACTIVE)),
               Case.status == CaseStatus.ACCEPTED)) or 0
