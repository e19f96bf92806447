"""Reviewers acting at the same moment: one wins, nothing is lost, the case moves once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from app.cases.workflow import CaseStatus
from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.kernel.errors import DomainError
from app.review import service
from app.staff.models import StaffRole
from app.staff.service import StaffIdentity
from app.usecases import review as review_decisions
from tests.app.staff.factories import make_staff
from tests.flow import Citizen, case_row, fill_resale, legacy_owner, task_of


def _identity(username: str, role: StaffRole) -> StaffIdentity:
    account = make_staff(username=username, display_name="审核员", roles=(role,))
    return StaffIdentity(account.id, account.username, "审核员", (role,))


def _at_once(app: Any, actions: list[Callable[[], Any]]) -> list[str]:
    """Run the actions in threads released together; return 'ok' or the error code."""
    barrier = threading.Barrier(len(actions))
    results: list[str] = [""] * len(actions)

    def run(index: int, action: Callable[[], Any]) -> None:
        with app.app_context():
            barrier.wait()
            try:
                action()
                results[index] = "ok"
            except DomainError as error:
                results[index] = error.code
            except Exception as error:  # shown in the assertion, never swallowed
                results[index] = repr(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def _accepted(buyer: Citizen, seller: Citizen) -> str:
    legacy_owner("440402003001GB00012F00010203", seller.person_id)
    number = fill_resale(buyer, seller)
    assert buyer.post(f"/api/cases/{number}/submit", claim=True).get_json()["status"] == "accepted"
    return number


def test_two_reviewers_claiming_or_deciding_one_task_cannot_both_win(
        app: Any, buyer: Citizen, seller: Citizen) -> None:
    number = _accepted(buyer, seller)
    first = _identity("tax.one", StaffRole.TAX_REVIEWER)
    second = _identity("tax.two", StaffRole.TAX_REVIEWER)
    task_id = task_of(number, "tax").id

    claims = _at_once(app, [lambda: service.claim(task_id, first),
                            lambda: service.claim(task_id, second)])
    assert sorted(claims) == ["TASK_ALREADY_TAKEN", "ok"]
    db.session.rollback()
    owner = first if task_of(number, "tax").claimed_by == first.id else second
    other = second if owner is first else first

    # The one who does not hold it cannot approve or return it behind the other's back.
    decisions = _at_once(app, [
        lambda: review_decisions.approve(task_id, owner),
        lambda: review_decisions.return_case(task_id, other, [
            {"kind": "material", "code": "marital_status", "role": "buyer", "reason": "x"}]),
    ])
    assert decisions == ["ok", "TASK_ALREADY_TAKEN"]
    assert task_of(number, "tax").status == "approved"
    assert case_row(number).status == CaseStatus.ACCEPTED


def test_an_approval_and_a_return_at_the_same_moment_on_an_open_task(
        app: Any, buyer: Citizen, seller: Citizen) -> None:
    number = _accepted(buyer, seller)
    first = _identity("tax.one", StaffRole.TAX_REVIEWER)
    second = _identity("tax.two", StaffRole.TAX_REVIEWER)
    task_id = task_of(number, "tax").id
    results = _at_once(app, [
        lambda: review_decisions.approve(task_id, first),
        lambda: review_decisions.return_case(task_id, second, [
            {"kind": "material", "code": "marital_status", "role": "buyer", "reason": "x"}]),
    ])
    assert results.count("ok") == 1
    assert {r for r in results if r != "ok"} <= {"TASK_ALREADY_TAKEN", "CASE_STATE_CONFLICT"}
    task = task_of(number, "tax")
    expected = CaseStatus.ACCEPTED if task.status == "approved" else CaseStatus.RETURNED
    assert case_row(number).status == expected


def test_the_last_of_three_simultaneous_approvals_moves_the_case_exactly_once(
        app: Any, buyer: Citizen, seller: Citizen) -> None:
    number = _accepted(buyer, seller)
    staff = {
        "registration": _identity("reg.one", StaffRole.REGISTRATION_REVIEWER),
        "housing": _identity("hou.one", StaffRole.HOUSING_REVIEWER),
        "tax": _identity("tax.one", StaffRole.TAX_REVIEWER),
    }
    tasks = {d: task_of(number, d).id for d in staff}
    results = _at_once(app, [
        (lambda d=d: review_decisions.approve(tasks[d], staff[d])) for d in staff])  # type: ignore[misc]
    assert results == ["ok", "ok", "ok"]
    assert case_row(number).status == CaseStatus.FEES_ASSESSED
    moves = db.session.scalar(select(func.count()).select_from(AuditRecord).where(
        AuditRecord.entity_id == number, AuditRecord.action == "case.transition",
        AuditRecord.after["status"].as_string() == "fees_assessed"))
    assert moves == 1
