"""Submitting is one transaction; the data-sharing checks run after it, and the
acceptance by the checks commits the status, its audit record and the notice together."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select

from app.accounts.models import Account
from app.cases.models import CaseDocument
from app.cases.workflow import CaseStatus
from app.checks import service as checks_service
from app.checks.models import CaseCheck
from app.kernel.audit import AuditRecord, Channel
from app.kernel.db import db
from app.notifications.models import OutboxMessage
from app.usecases import checks as checks_usecase
from app.usecases import submission
from tests.flow import Citizen, case_row, fill_resale, legacy_owner

UNIT = "440402003001GB00012F00010203"


class Boom(Exception):
    pass


@pytest.fixture
def commits() -> Iterator[list[int]]:
    """Every commit of the session while the test runs."""
    seen: list[int] = []

    def count(session: Any) -> None:
        seen.append(1)

    event.listen(db.session, "after_commit", count)
    yield seen
    event.remove(db.session, "after_commit", count)


@pytest.fixture
def ready(buyer: Citizen, seller: Citizen) -> tuple[Account, str]:
    legacy_owner(UNIT, seller.person_id)
    number = fill_resale(buyer, seller)
    db.session.rollback()
    account = db.session.get(Account, buyer.account_id)
    assert account is not None
    return account, number


def _count(model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _moves_to(number: str, status: CaseStatus) -> int:
    return _count(AuditRecord, AuditRecord.entity_id == number,
                  AuditRecord.action == "case.transition",
                  AuditRecord.after["status"].as_string() == status.value)


def _no_checks_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(submission, "run_case_checks", lambda case: case)


def test_submitting_commits_once_with_the_form_the_checks_the_status_and_its_audit(
        ready: tuple[Account, str], commits: list[int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    account, number = ready
    _no_checks_yet(monkeypatch)
    submission.submit(account, number, Channel.MINIPROGRAM)
    assert len(commits) == 1
    case = case_row(number)
    assert case.status == CaseStatus.SUBMITTED
    assert _count(CaseDocument, CaseDocument.case_id == case.id) == 1
    assert _count(CaseCheck, CaseCheck.case_id == case.id) > 0
    assert _moves_to(number, CaseStatus.SUBMITTED) == 1


def test_a_failure_before_the_commit_leaves_no_form_no_checks_no_status_and_no_audit(
        ready: tuple[Account, str], monkeypatch: pytest.MonkeyPatch) -> None:
    account, number = ready
    _no_checks_yet(monkeypatch)

    def fail() -> None:
        raise Boom()

    monkeypatch.setattr(submission, "commit_case", fail)
    with pytest.raises(Boom):
        submission.submit(account, number, Channel.MINIPROGRAM)
    db.session.rollback()
    case = case_row(number)
    assert case.status == CaseStatus.DRAFT and case.submission_count == 0
    assert _count(CaseDocument, CaseDocument.case_id == case.id) == 0
    assert _count(CaseCheck, CaseCheck.case_id == case.id) == 0
    assert _moves_to(number, CaseStatus.SUBMITTED) == 0


def test_no_data_sharing_call_happens_while_the_submit_transaction_is_open(
        ready: tuple[Account, str], monkeypatch: pytest.MonkeyPatch) -> None:
    account, number = ready
    real_attempt = checks_service.attempt
    seen: list[str] = []

    def watched(case: Any, check: Any) -> Any:
        session = db.session
        assert not (session.new or session.dirty or session.deleted), "pending writes"
        # Another connection already sees the submission: its transaction committed.
        with db.engine.connect() as other:
            status = other.scalar(select(type(case).status).where(type(case).id == case.id))
        assert status == CaseStatus.SUBMITTED
        seen.append(check.kind)
        return real_attempt(case, check)

    monkeypatch.setattr(checks_service, "attempt", watched)
    submission.submit(account, number, Channel.MINIPROGRAM)
    assert seen and case_row(number).status == CaseStatus.ACCEPTED


def test_acceptance_by_the_checks_commits_status_audit_and_notice_together(
        ready: tuple[Account, str], commits: list[int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    account, number = ready
    _no_checks_yet(monkeypatch)
    submission.submit(account, number, Channel.MINIPROGRAM)
    commits.clear()
    checks_usecase.run_case_checks(case_row(number))
    assert len(commits) == 1
    assert case_row(number).status == CaseStatus.ACCEPTED
    assert _moves_to(number, CaseStatus.ACCEPTED) == 1
    assert _count(OutboxMessage, OutboxMessage.template == "case_accepted") > 0


def test_a_failure_before_the_acceptance_commits_leaves_neither_audit_nor_notice(
        ready: tuple[Account, str], monkeypatch: pytest.MonkeyPatch) -> None:
    account, number = ready
    _no_checks_yet(monkeypatch)
    submission.submit(account, number, Channel.MINIPROGRAM)

    def fail() -> None:
        raise Boom()

    monkeypatch.setattr(checks_usecase, "commit_case", fail)
    with pytest.raises(Boom):
        checks_usecase.run_case_checks(case_row(number))
    db.session.rollback()
    case = case_row(number)
    assert case.status == CaseStatus.SUBMITTED
    assert _moves_to(number, CaseStatus.ACCEPTED) == 0
    assert _count(OutboxMessage, OutboxMessage.template == "case_accepted") == 0
    assert all(c.status == "pending" for c in checks_service.checks_of(case))
