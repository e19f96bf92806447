"""Automatic checks (自动核查): call the data-sharing services, then record the results
and settle the case (accept it, or return it with its notice) in ONE transaction.

The calls happen while the session has nothing to write: a slow service never holds a
transaction (or SQLite's write lock) open.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from app.cases.models import Case
from app.cases.service import commit_case, transition
from app.cases.workflow import CaseStatus
from app.checks import service as checks
from app.kernel.db import db
from app.kernel.errors import Conflict
from app.notifications import service as notifications
from app.review import service as review
from app.usecases.review import accept


def run_case_checks(case: Case, *, due_only: bool = False) -> Case:
    """Run this submission's unfinished checks (the due ones: ``due_only``), then settle."""
    if case.status_enum != CaseStatus.SUBMITTED:
        return case
    attempts = []
    for check in checks.due_checks(case, due_only=due_only):
        result = checks.attempt(case, check)
        attempts.append(result)
        if result.failure is not None:
            break  # the case goes back anyway; the rest run on the next submission
    for result in attempts:
        checks.record(case, result)
    _settle(case)
    commit_case()
    return case


def _settle(case: Case) -> None:
    """Accept the case when every check passed; return it when one failed (no commit)."""
    failed = checks.failed_checks(case)
    if failed:
        notifications.enqueue(
            review.case_accounts(case), "case_returned",
            {"case_number": case.case_number, "item_count": len(failed),
             "status_label": "退回补正", "hint": "自动核查未通过，请查看原因"},
            f"case_returned:{case.case_number}:{case.submission_count}:checks")
        transition(case, CaseStatus.RETURNED,
                   reason=f"自动核查未通过：{checks.failure_reasons(failed)}", commit=False,
                   **checks.SYSTEM)
    elif checks.all_passed(case):
        accept(case)


def run_due_checks(limit: int = 50) -> int:
    """The job: retry waiting checks whose time has come. Returns the cases touched."""
    case_ids = checks.cases_with_due_checks(limit)
    for case_id in case_ids:
        case = db.session.get(Case, case_id)
        if case is None:
            continue
        try:
            run_case_checks(case, due_only=True)
        except (Conflict, IntegrityError):  # pragma: no cover - another worker settled it
            db.session.rollback()
    return len(case_ids)
