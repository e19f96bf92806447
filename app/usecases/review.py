"""Review decisions (并联审核) and acceptance (受理): each ONE transaction.

The last approval assesses the fees (app/fees/service.py ``assess``) and queues the
payment notice in the transaction of the approval itself; a return moves the case back
with its notice; acceptance opens the review round with its notice.
"""

from __future__ import annotations

from typing import Any

from app.cases.models import Case
from app.cases.service import commit_case, transition
from app.cases.workflow import CaseStatus
from app.fees import service as fees
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.notifications import service as notifications
from app.review import service as review
from app.review.models import ReviewTask
from app.staff.service import StaffIdentity


def accept(case: Case) -> None:
    """受理: every check passed. The status, the review round and the notice (no commit:
    the caller's transaction holds the check results too)."""
    now = utcnow()
    if case.accepted_at is None:
        case.accepted_at = now
    transition(case, CaseStatus.ACCEPTED, reason="自动核查通过，受理", commit=False,
               **review.SYSTEM)
    opened = review.open_round(case, now)
    due = max((t.due_at for t in review.latest_tasks(case).values()), default=None)
    notifications.enqueue(
        review.case_accounts(case), "case_accepted",
        {"case_number": case.case_number, "status_label": "已受理",
         "due_date": review.local_date_text(due) if due else ""},
        f"case_accepted:{case.case_number}:{case.submission_count}")
    if not opened:  # every approval stands: straight on to the fees
        advance_if_approved(case)


def advance_if_approved(case: Case) -> bool:
    """All departments approved: fees assessed, payment notice queued, case 待缴费 (no
    commit)."""
    if case.status_enum != CaseStatus.ACCEPTED or not review.all_approved(case):
        return False
    assessed = fees.assess(case, review.deed_tax_decided(case))
    notifications.enqueue(
        review.case_accounts(case), "fees_assessed",
        {"case_number": case.case_number, "total_yuan": fees.yuan(fees.total_fen(assessed)),
         "status_label": "待缴费", "hint": "请在小程序中一次缴清"},
        f"fees_assessed:{case.case_number}:{case.submission_count}")
    transition(case, CaseStatus.FEES_ASSESSED, reason="各部门并联审核通过，税费已核定",
               commit=False, **review.SYSTEM)
    return True


def approve(task_id: int, staff: StaffIdentity, note: str | None = None,
            deed_tax_fen: int | None = None) -> ReviewTask:
    """A department approves; the last one moves the case on to the fees, in the same
    transaction (the tax reviewer thereby confirms the deed tax, or sets it)."""
    task = review.get_task(task_id, staff)
    decision = review.tax_decision(task, deed_tax_fen)
    case = review.approvable_case(task)
    review.record_approval(task, case, staff, note, decision)
    # Decisions on one case are serialised (row lock; SQLite has one writer): read the
    # case again now that this transaction writes, so exactly one approval is the last.
    case = review.lock_case(case.id)
    advance_if_approved(case)
    commit_case()
    db.session.refresh(task)
    return task


def return_case(task_id: int, staff: StaffIdentity, items: list[dict[str, Any]],
                note: str | None = None) -> ReviewTask:
    """退回补正: the case goes back to the citizen with reasons per item, and the notice."""
    task = review.get_task(task_id, staff)
    case = review.decidable_case(task)
    clean = review.record_return(task, case, staff, items, note)
    notifications.enqueue(
        review.case_accounts(case), "case_returned",
        {"case_number": case.case_number, "item_count": len(clean), "status_label": "退回补正",
         "hint": f"{task.department_enum.label}退回，请补正"},
        f"case_returned:{case.case_number}:{task.id}")
    if case.status_enum == CaseStatus.ACCEPTED:
        transition(case, CaseStatus.RETURNED, actor_type=ActorType.STAFF, actor_id=staff.id,
                   channel=Channel.ADMIN, reason=f"{task.department_enum.label}退回补正",
                   commit=False)
    commit_case()
    db.session.refresh(task)
    return task
