"""Certificate numbers: unique and without gaps under concurrency (SQLite and PostgreSQL).

50 issuances run at once, 10 of them twice for the same case (a second job runner, a
retry): every case gets exactly one certificate and the serials are exactly 1..50.
"""

from __future__ import annotations

import re
import threading
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from app.accounts.service import account_for_phone
from app.cases.models import Case
from app.cases.service import create_draft
from app.cases.workflow import CaseStatus
from app.certificates import service
from app.certificates.content import sample_content
from app.certificates.models import Certificate
from app.kernel.db import db
from app.usecases.issue_certificate import number_certificate

CASES = 50


@pytest.fixture
def registered_cases(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Resale cases (pay first) already paid and registered: each is due a certificate.
    The content is a fixed sample: numbering is what is under test."""
    account = account_for_phone("+8613800000001", "sms")
    ids = []
    for _ in range(CASES):
        case = create_draft(account, "resale_transfer", channel="sms", prefix="ZH")
        case.status = CaseStatus.REGISTERED
        db.session.flush()
        ids.append(case.id)
    db.session.commit()

    def content(case: Case, number: str, issue_date: date) -> Any:
        return sample_content(number=number, issue_date=issue_date,
                              location=f"示范路{case.id}号"), []

    monkeypatch.setattr(service, "build_content", content)
    return ids


def test_fifty_parallel_issuances_have_no_duplicate_and_no_gap(
        app: Any, registered_cases: list[int]) -> None:
    assert len(service.due_cases(limit=100)) == CASES
    work = registered_cases + registered_cases[:10]  # ten cases asked for twice
    barrier = threading.Barrier(len(work))
    outcomes: list[str] = [""] * len(work)

    def issue(index: int, case_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=60)  # released together; each then takes a connection
                case = db.session.get(Case, case_id)
                assert case is not None
                made = number_certificate(case)
                outcomes[index] = "issued" if made is not None else "lost the race"
            except Exception as error:  # shown in the assertion, never swallowed
                outcomes[index] = repr(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue, args=pair) for pair in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert sorted(set(outcomes)) in (["issued"], ["issued", "lost the race"]), outcomes
    assert outcomes.count("issued") == CASES

    db.session.rollback()
    rows = db.session.scalars(select(Certificate)).all()
    assert sorted(r.serial for r in rows) == list(range(1, CASES + 1))  # no gap
    assert len({r.number for r in rows}) == CASES  # no duplicate
    assert sorted(r.case_id for r in rows) == sorted(registered_cases)  # one per case
    for row in rows:
        assert re.fullmatch(rf"粤\({row.year}\)珠海市不动产权第{row.serial:07d}号", row.number)
    assert service.due_cases(limit=100) == []


def test_a_failed_issuance_gives_its_number_back(
        app: Any, registered_cases: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    first = db.session.get(Case, registered_cases[0])
    second = db.session.get(Case, registered_cases[1])
    assert first is not None and second is not None

    def broken(*args: Any) -> Any:
        raise RuntimeError("the signing key is unreadable")

    with monkeypatch.context() as patch:
        patch.setattr("app.certificates.signing.make_payload", broken)
        with pytest.raises(RuntimeError):
            number_certificate(first)
    db.session.rollback()
    made = number_certificate(second)
    assert made is not None and made.serial == 1
