"""The access log off the request path: the QR page's and the verify calls' looks are
queued and written in batches, every one of them reaches the owner's list, and a failed
write loses nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import OperationalError

from app.certificates import access_log
from app.certificates.models import Certificate, CertificateAccess
from app.jobs import run_once
from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from tests.app.certificates.test_status_cache import sign
from tests.app.institutions import conftest as institutions
from tests.app.institutions.helpers import Bank
from tests.flow import Citizen

# The institution tests' fixtures: 张三 and 李四 holding a certificate, a verifying agency.
_clean_sandbox = institutions._clean_sandbox
owner, co_owner, certificate = institutions.owner, institutions.co_owner, institutions.certificate
verifier = institutions.verifier


@pytest.fixture
def app(make_app: Any) -> Iterator[Flask]:
    """The QR page allows 30 scans a minute per address; these tests scan more."""
    app = make_app(RATELIMIT_CERTIFICATE_VERIFY="1000 per minute")
    with app.app_context():
        yield app


@pytest.fixture
def signed(certificate: Certificate) -> Certificate:
    return sign(certificate)


@pytest.fixture
def held(app: Flask) -> access_log.AccessLog:
    """The app's log with a writer that waits a minute: rows stay queued until flushed."""
    log = access_log.log_for(app)
    log.delay = 60.0
    return log


def written(certificate_id: int, action: str = "verify") -> int:
    """Rows in the database, read without flushing."""
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(CertificateAccess).where(
        CertificateAccess.certificate_id == certificate_id,
        CertificateAccess.action == action)) or 0


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_100_scans_are_queued_then_all_listed_to_the_owner(
        client: Any, owner: Citizen, signed: Certificate,
        held: access_log.AccessLog) -> None:
    for _ in range(100):
        assert client.get(f"/v/{signed.payload}").status_code == 200
    assert written(signed.id) == 0 and held.pending == 100  # nothing committed per scan

    listed = owner.get(f"/api/certificates/{signed.number}/accesses").get_json()
    assert len(listed) == 100
    assert {(a["who"], a["accessor_type"], a["action"], a["outcome"]) for a in listed} == {
        ("扫码核验", "public", "verify", "allowed")}
    assert written(signed.id) == 100 and held.pending == 0
    assert held.batches == 1  # one transaction for the hundred


def test_the_writer_thread_writes_them_within_about_a_second(
        client: Any, signed: Certificate) -> None:
    assert access_log.log_for().delay == access_log.DEFAULT_DELAY
    assert client.get(f"/v/{signed.payload}").status_code == 200
    assert wait_for(lambda: written(signed.id) == 1, 2.0)


def test_verify_calls_are_written_with_their_audit_records_by_the_job_runner(
        verifier: Bank, signed: Certificate, held: access_log.AccessLog) -> None:
    for _ in range(3):
        assert verifier.verify(signed.number).get_json()["status"] == "valid"
    assert verifier.verify("粤(2026)珠海市不动产权第9999999号").get_json()["status"] == "unknown"
    assert held.pending == 3 + 4  # three looks, four audit records

    queued_by = utcnow()
    assert run_once()["accesses_logged"] == 7
    db.session.rollback()
    rows = db.session.scalars(select(CertificateAccess).where(
        CertificateAccess.certificate_id == signed.id)).all()
    assert [(r.accessor_label, r.accessor_id, r.action, r.channel) for r in rows] == [
        (verifier.name, verifier.key_id, "verify", "api")] * 3
    audits = db.session.scalars(select(AuditRecord).where(
        AuditRecord.action == "institution.certificate_verify").order_by(AuditRecord.id)).all()
    assert [(a.actor_type, a.actor_id, (a.after or {}).get("outcome")) for a in audits] == [
        ("institution", verifier.key_id, "allowed")] * 3 + [
        ("institution", verifier.key_id, "not_found")]
    # timed when the look happened, not when written
    assert all(r.at <= queued_by for r in rows) and all(a.occurred_at <= queued_by
                                                        for a in audits)


def test_the_owners_list_is_in_the_order_of_the_looks(
        client: Any, owner: Citizen, signed: Certificate,
        held: access_log.AccessLog) -> None:
    assert client.get(f"/v/{signed.payload}").status_code == 200  # queued
    detail = owner.client.get(f"/api/certificates/{signed.number}",
                              headers=owner.claim_headers)
    assert detail.status_code == 200  # committed with the request, before the scan's row
    listed = owner.get(f"/api/certificates/{signed.number}/accesses").get_json()
    assert [a["action"] for a in listed] == ["view", "verify"]  # newest first


def test_a_failed_write_loses_nothing_and_the_writer_retries(
        client: Any, owner: Citizen, signed: Certificate, app: Flask,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    log = access_log.log_for(app)
    log.delay = 0.05
    good = log.engine()
    broken = create_engine(f"sqlite:///{tmp_path / 'missing' / 'nowhere.sqlite3'}")
    monkeypatch.setattr(access_log, "RETRY_SECONDS", 0.3)
    monkeypatch.setattr(log, "_engine", broken)
    failed = threading.Event()
    real_flush = log.flush

    def flush() -> int:
        try:
            return real_flush()
        except OperationalError:
            failed.set()
            raise

    monkeypatch.setattr(log, "flush", flush)  # the writer thread's calls included
    for _ in range(5):
        assert client.get(f"/v/{signed.payload}").status_code == 200  # answered anyway
    assert failed.wait(5.0)  # the writer has tried (and failed)
    assert access_log.pending() == 5 and written(signed.id) == 0
    with pytest.raises(OperationalError):
        access_log.flush()
    assert access_log.pending() == 5

    monkeypatch.setattr(log, "_engine", good)  # the database is back
    assert wait_for(lambda: access_log.pending() == 0, 2.0)  # the writer retries
    assert written(signed.id) == 5  # each once
    assert len(owner.get(f"/api/certificates/{signed.number}/accesses").get_json()) == 5


def test_past_the_queue_limit_a_look_that_cannot_be_recorded_is_refused(
        client: Any, signed: Certificate, held: access_log.AccessLog,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    good = held.engine()
    monkeypatch.setattr(access_log, "MAX_PENDING", 3)
    monkeypatch.setattr(held, "_engine", create_engine(
        f"sqlite:///{tmp_path / 'missing' / 'nowhere.sqlite3'}"))
    for _ in range(3):
        assert client.get(f"/v/{signed.payload}").status_code == 200
    with pytest.raises(OperationalError):  # the 4th must write first, and cannot
        access_log.record(access_log.access_row(
            signed.id, accessor_type="public", accessor_id=None, label="扫码核验",
            action="verify", channel="web"))
    assert held.pending == 3
    monkeypatch.setattr(held, "_engine", good)
    assert client.get(f"/v/{signed.payload}").status_code == 200  # writes the 3 first
    assert written(signed.id) == 3 and held.pending == 1


def test_rows_still_queued_when_an_app_is_torn_down_are_written(
        make_app: Any, owner: Citizen, signed: Certificate) -> None:
    other = make_app(RATELIMIT_CERTIFICATE_VERIFY="1000 per minute")
    access_log.log_for(other).delay = 60.0
    browser = other.test_client()
    for _ in range(4):
        assert browser.get(f"/v/{signed.payload}").status_code == 200
    assert access_log.pending(other) == 4 and written(signed.id) == 0
    with other.app_context():
        db.session.remove()
        db.engine.dispose()  # what the test fixtures do after each test
    assert access_log.pending(other) == 0 and written(signed.id) == 4
