"""登簿 and issuing a certificate are one transaction each: the status change, its audit
records and the outbox notice are committed together, once; a failure before the commit
leaves none of them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.accounts.service import account_for_phone
from app.cases import service as cases
from app.cases.models import Case
from app.cases.workflow import CaseStatus
from app.certificates import service as certificate_service
from app.certificates.content import sample_content
from app.certificates.models import Certificate
from app.deliveries.models import Delivery
from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.notifications.models import OutboxMessage
from app.people import service as people
from app.register import from_case
from app.register import service as register
from app.register.models import RegisterEntry
from app.review import desk
from app.staff.models import StaffRole
from app.staff.service import StaffIdentity
from app.usecases import issue_certificate, register_case
from tests.app.staff.factories import make_staff

UNIT = "440402003001GB00012F00010203"
SYSTEM = {"actor_type": "system", "actor_id": "test", "channel": "system"}


@pytest.fixture
def commits(app: Any) -> Iterator[list[Session]]:
    """Every commit of the application's session, as it happens."""
    seen: list[Session] = []

    def count(session: Session) -> None:
        if session is db.session():
            seen.append(session)

    event.listen(Session, "after_commit", count)
    yield seen
    event.remove(Session, "after_commit", count)


class Broken(RuntimeError):
    pass


def _count(model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _audited(action: str) -> int:
    return _count(AuditRecord, AuditRecord.action == action)


def _queued(template: str) -> int:
    return _count(OutboxMessage, OutboxMessage.template == template)


# --- 登簿 --------------------------------------------------------------------------------------

@pytest.fixture
def reviewer(app: Any) -> StaffIdentity:
    staff = make_staff()
    return StaffIdentity(id=staff.id, username=staff.username, display_name="周登记",
                         roles=(StaffRole.REGISTRATION_REVIEWER,))


@pytest.fixture
def change_case(app: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A 变更登记 approved by every department and paid, on a unit with a register."""
    account = account_for_phone("+8613800000001", "sms")
    owner = people.register_natural_person("张三", "440402198801010018")
    case = cases.create_draft(account, "change", channel="sms", prefix="ZH", unit_number=UNIT,
                              location="珠海市香洲区示范路1号1栋203房")
    assert case.unit is not None
    register.import_entry(case.unit, register.RightDetails(
        right_type="国有建设用地使用权/房屋所有权", right_nature="市场化商品房",
        use="城镇住宅用地/住宅", area_m2=Decimal("89.50")),
        [register.OwnerShare(owner.id, "1/1")], source="test")
    path = [CaseStatus.SUBMITTED, CaseStatus.ACCEPTED, CaseStatus.FEES_ASSESSED]
    if case.business_type.rules.step_order == "pay_then_register":
        path.append(CaseStatus.PAID)
    for status in path:
        cases.transition(case, status, **SYSTEM)
    # The reviews and the owners' check are not what is under test here.
    monkeypatch.setattr(desk, "all_approved", lambda case: True)
    monkeypatch.setattr(from_case, "check_still_owned_by_disposers", lambda case: None)
    return case.case_number


def test_register_case_commits_the_entry_the_status_the_audit_and_the_notice_once(
        change_case: str, reviewer: StaffIdentity, commits: list[Session]) -> None:
    assert register_case.register_case(change_case, reviewer) == "已登簿"
    assert len(commits) == 1
    db.session.rollback()
    case = db.session.scalar(select(Case).where(Case.case_number == change_case))
    assert case is not None and case.status == CaseStatus.REGISTERED
    assert _count(RegisterEntry, RegisterEntry.case_id == case.id) == 1
    assert _audited("register.entered") == 1
    assert _count(AuditRecord, AuditRecord.action == "case.transition",
                  AuditRecord.entity_id == change_case, AuditRecord.note == "登簿") == 1
    assert _queued("case_registered") >= 1


def test_a_register_case_that_fails_before_its_commit_leaves_nothing(
        change_case: str, reviewer: StaffIdentity, commits: list[Session],
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = register_case.transition

    def then_fail(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)  # the case moved, its audit flushed, uncommitted
        raise Broken("the database went away")

    audits, notices = _audited("register.entered"), _queued("case_registered")
    monkeypatch.setattr(register_case, "transition", then_fail)
    with pytest.raises(Broken):
        register_case.register_case(change_case, reviewer)
    assert commits == []
    case = db.session.scalar(select(Case).where(Case.case_number == change_case))
    assert case is not None and case.status != CaseStatus.REGISTERED
    assert _count(RegisterEntry, RegisterEntry.case_id == case.id) == 0
    assert _audited("register.entered") == audits
    assert _queued("case_registered") == notices


# --- issuing -----------------------------------------------------------------------------------

@pytest.fixture
def numbered(app: Any, monkeypatch: pytest.MonkeyPatch) -> int:
    """A registered resale (pay first) whose certificate is numbered, its files not made."""
    account = account_for_phone("+8613800000002", "sms")
    case = cases.create_draft(account, "resale_transfer", channel="sms", prefix="ZH")
    for status in (CaseStatus.SUBMITTED, CaseStatus.ACCEPTED, CaseStatus.FEES_ASSESSED,
                   CaseStatus.PAID, CaseStatus.REGISTERED):
        cases.transition(case, status, **SYSTEM)

    def content(case: Case, number: str, issue_date: date) -> Any:
        return sample_content(number=number, issue_date=issue_date), []

    monkeypatch.setattr(certificate_service, "build_content", content)
    certificate = issue_certificate.number_certificate(case)
    assert certificate is not None and certificate.status == "issuing"
    return certificate.id


def test_issuing_commits_the_certificate_the_case_the_audit_and_the_notice_once(
        numbered: int, commits: list[Session]) -> None:
    certificate = db.session.get(Certificate, numbered)
    assert certificate is not None
    issue_certificate.finish_certificate(certificate)
    assert len(commits) == 1
    db.session.rollback()
    certificate = db.session.get(Certificate, numbered)
    case = db.session.get(Case, certificate.case_id) if certificate else None
    assert certificate is not None and certificate.status == "valid" and certificate.pdf_key
    assert case is not None and case.status == CaseStatus.CERTIFICATE_ISSUED
    assert _audited("certificate.issued") == 1
    assert _queued("certificate_issued") >= 1


def test_an_issuance_that_fails_before_its_commit_leaves_the_number_and_nothing_else(
        numbered: int, commits: list[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    real = issue_certificate.transition

    def then_fail(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)
        raise Broken("the database went away")

    monkeypatch.setattr(issue_certificate, "transition", then_fail)
    certificate = db.session.get(Certificate, numbered)
    assert certificate is not None
    with pytest.raises(Broken):
        issue_certificate.finish_certificate(certificate)
    assert commits == []
    certificate = db.session.get(Certificate, numbered)
    assert certificate is not None and certificate.status == "issuing"
    case = db.session.get(Case, certificate.case_id)
    assert case is not None and case.status == CaseStatus.REGISTERED
    assert _audited("certificate.issued") == 0
    assert _queued("certificate_issued") == 0
    assert _count(Delivery, Delivery.case_id == case.id) == 0


def test_the_job_finishes_a_certificate_whose_first_attempt_failed(
        numbered: int, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(certificate_service, "make_files", _raise)
        assert issue_certificate.issue_due() == 0
    certificate = db.session.get(Certificate, numbered)
    assert certificate is not None and certificate.status == "issuing"
    assert certificate.render_attempts == 1
    issue_certificate.issue_due()
    db.session.rollback()
    certificate = db.session.get(Certificate, numbered)
    assert certificate is not None and certificate.status == "valid"


def _raise(*args: Any) -> Any:
    raise Broken("the font is missing")
