"""The status cache behind the QR page and the institutions' verify call: a revocation
shows at once in this process (however it is committed), within the TTL otherwise, and
nothing of the page's behaviour changed (neutral 404, rate limit)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text, update

from app.certificates import access_log, signing, status_cache
from app.certificates.lifecycle import revoke
from app.certificates.models import Certificate, CertificateAccess, CertificateStatus
from app.kernel.db import db
from tests.app.institutions import conftest as institutions
from tests.app.institutions.helpers import OWNER, Bank, issue_certificate
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


def sign(certificate: Certificate) -> Certificate:
    """Give a certificate made by the test helper its genuine QR payload."""
    from flask import current_app

    certificate.payload = signing.make_payload(
        certificate.number, certificate.content_hash, certificate.issue_date,
        current_app.config["CERT_PAYLOAD_KEY"])
    db.session.commit()
    return certificate


@pytest.fixture
def signed(certificate: Certificate) -> Certificate:
    return sign(certificate)


def page(client: Any, certificate: Certificate) -> tuple[int, str]:
    response = client.get(f"/v/{certificate.payload}")
    return response.status_code, response.get_data(as_text=True)


def verdict(client: Any, certificate: Certificate) -> str:
    """The page's big word: 有效 or 已作废."""
    status, html = page(client, certificate)
    assert status == 200, html
    return html.split('id="verdict">')[1].split("</div>")[0].strip()


def test_a_revocation_shows_at_once_on_the_qr_page_and_the_api(
        client: Any, owner: Citizen, verifier: Bank, signed: Certificate) -> None:
    # Both answers are cached now.
    assert verdict(client, signed) == "有效"
    assert verifier.verify(signed.number).get_json()["status"] == "valid"
    replacement = sign(issue_certificate(owner.account_id, [(owner.person_id, *OWNER, "1/1")]))

    row = db.session.get(Certificate, signed.id)
    assert row is not None
    revoke(row, "坐落记载有误，已换发新证", "staff:1", replaced_by=replacement)
    db.session.commit()

    assert verdict(client, signed) == "已作废"
    status, html = page(client, signed)
    assert status == 200 and replacement.number in html and "作废时间" in html
    answer = verifier.verify(signed.number, signed.content_hash).get_json()
    assert (answer["status"], answer["status_label"]) == ("revoked", "已作废")
    assert verdict(client, replacement) == "有效"


def test_a_revocation_committed_by_another_app_in_the_process_shows_at_once(
        make_app: Any, client: Any, verifier: Bank, signed: Certificate) -> None:
    """Like the helpdesk's admin pages answering a correction: another app, another
    session, the same process."""
    assert verdict(client, signed) == "有效"
    helpdesk = make_app()
    with helpdesk.app_context():
        row = db.session.get(Certificate, signed.id)
        assert row is not None
        revoke(row, "证书记载有误", "staff:7")
        db.session.commit()
    assert verdict(client, signed) == "已作废"
    assert verifier.verify(signed.number).get_json()["status"] == "revoked"


def test_a_revocation_rolled_back_leaves_the_certificate_valid(
        client: Any, verifier: Bank, signed: Certificate) -> None:
    row = db.session.get(Certificate, signed.id)
    assert row is not None
    revoke(row, "误操作", "staff:1")
    db.session.flush()
    # Read (into the cache) inside the uncommitted transaction: it sees the revocation …
    found = status_cache.facts(signed.number)
    assert found is not None and found.status == "revoked"
    db.session.rollback()
    # … and forgets it with the rollback.
    assert verdict(client, signed) == "有效"
    assert verifier.verify(signed.number).get_json()["status"] == "valid"


def test_a_bulk_update_of_certificates_invalidates_the_cache(
        client: Any, signed: Certificate) -> None:
    assert verdict(client, signed) == "有效"
    db.session.execute(update(Certificate).where(Certificate.id == signed.id).values(
        status=CertificateStatus.REVOKED))
    db.session.commit()
    assert verdict(client, signed) == "已作废"


class SteppedMonotonic:
    """``time.monotonic`` for the status cache: seconds that pass only when a test says."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def cache_clock(monkeypatch: pytest.MonkeyPatch) -> SteppedMonotonic:
    """The status cache's clock, stepped by hand (the cache reads ``time.monotonic()``
    through its module's ``time``; nothing else is affected)."""
    clock = SteppedMonotonic()
    monkeypatch.setattr(status_cache, "time", SimpleNamespace(monotonic=clock))
    return clock


def test_a_change_no_hook_sees_shows_within_the_ttl(
        app: Flask, client: Any, signed: Certificate, cache_clock: SteppedMonotonic) -> None:
    """Another process (a gunicorn worker) revoking it: this process's cache has no way
    to hear of it and answers from memory until the entry's TTL runs out."""
    status_cache.cache_for(app).ttl = 0.5
    status_cache.invalidate()
    assert verdict(client, signed) == "有效"
    with db.engine.begin() as other_process:  # raw SQL on its own connection
        other_process.execute(text("UPDATE certificates SET status = 'revoked' WHERE id = :id"),
                              {"id": signed.id})
    assert verdict(client, signed) == "有效"  # still cached …
    cache_clock.advance(0.49)
    assert verdict(client, signed) == "有效"  # … for as long as the TTL …
    cache_clock.advance(0.02)
    assert verdict(client, signed) == "已作废"  # … and not longer


def test_a_certificate_is_shown_only_once_issued_and_then_at_once(
        client: Any, owner: Citizen, verifier: Bank) -> None:
    pending = sign(issue_certificate(owner.account_id, [(owner.person_id, *OWNER, "1/1")],
                                     status=CertificateStatus.ISSUING))
    status, html = page(client, pending)
    assert status == 404 and "二维码无效或证书不存在" in html
    assert verifier.verify(pending.number).get_json()["status"] == "unknown"
    row = db.session.get(Certificate, pending.id)
    assert row is not None
    row.status = CertificateStatus.VALID
    db.session.commit()
    assert verdict(client, pending) == "有效"
    assert verifier.verify(pending.number).get_json()["status"] == "valid"


def test_forged_and_foreign_payloads_get_the_same_neutral_404_and_no_record(
        app: Flask, client: Any, signed: Certificate) -> None:
    key = app.config["CERT_PAYLOAD_KEY"]
    forged = signed.payload[:-3] + ("AAA" if not signed.payload.endswith("AAA") else "BBB")
    other_hash = signing.make_payload(signed.number, "f" * 64, signed.issue_date, key)
    unknown = signing.make_payload("粤(2026)珠海市不动产权第9999999号", signed.content_hash,
                                   signed.issue_date, key)
    answers = [client.get(f"/v/{payload}") for payload in (forged, other_hash, unknown)]
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert len({a.get_data(as_text=True) for a in answers}) == 1  # indistinguishable
    access_log.flush()
    assert db.session.scalar(select(func.count()).select_from(CertificateAccess)) == 0


def test_the_qr_page_is_still_rate_limited(make_app: Any, owner: Citizen) -> None:
    limited = make_app(RATELIMIT_CERTIFICATE_VERIFY="2 per minute")
    browser = limited.test_client()
    with limited.app_context():
        certificate = sign(issue_certificate(owner.account_id,
                                             [(owner.person_id, *OWNER, "1/1")]))
        codes = [browser.get(f"/v/{certificate.payload}").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
