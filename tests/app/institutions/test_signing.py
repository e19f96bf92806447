"""The signed requests: a good one works; each kind of bad one is refused with its code,
before anything is read."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.certificates.models import Certificate
from app.institutions import service
from app.institutions.auth import canonical_query, canonical_string, sign_request
from app.institutions.models import Institution, InstitutionNonce
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from tests.app.institutions.helpers import API, Bank, accesses, assert_refused


def test_the_worked_example_of_the_docs() -> None:
    """docs/institutions.md shows these exact values."""
    path = "/api/institution/v1/certificates/粤(2026)珠海市不动产权第0000001号"
    query = {"legal_basis": "(2026)粤0402执1234号"}
    canonical = canonical_string("GET", path, query, "1795000000",
                                 "3f6c1a9e5b7d4c2e8a0f1b3d5c7e9a1b", b"")
    assert canonical == (
        "GET\n" + path + "\n"
        "legal_basis=%282026%29%E7%B2%A40402%E6%89%A71234%E5%8F%B7\n"
        "1795000000\n3f6c1a9e5b7d4c2e8a0f1b3d5c7e9a1b\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    headers = sign_request("bdc_0123456789abcdef01234567", "example-secret-do-not-use",
                           "GET", path, query, b"", now=1795000000,
                           nonce="3f6c1a9e5b7d4c2e8a0f1b3d5c7e9a1b")
    assert headers == {
        "X-Bdc-Key-Id": "bdc_0123456789abcdef01234567", "X-Bdc-Timestamp": "1795000000",
        "X-Bdc-Nonce": "3f6c1a9e5b7d4c2e8a0f1b3d5c7e9a1b",
        "X-Bdc-Signature": "xRndgqVlGvLHdgTMHg4d5R3X4MRgjYrDWSiEGu1Ig6o="}


def test_the_query_is_canonical_whatever_its_order_and_encoding() -> None:
    assert canonical_query("b=2&a=%E7%B2%A4&a=1") == canonical_query([("a", "1"), ("b", "2"),
                                                                      ("a", "粤")])
    assert canonical_query({"x": "a b+c~"}) == "x=a%20b%2Bc~"
    assert canonical_query(None) == canonical_query("") == ""


def test_a_good_signature_works_and_its_nonce_is_kept(bank: Bank,
                                                       certificate: Certificate) -> None:
    response = bank.verify(certificate.number)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "valid"
    db.session.rollback()
    assert db.session.scalar(select(InstitutionNonce).where(
        InstitutionNonce.key_id == bank.key_id)) is not None


def test_a_wrong_secret_is_refused(bank: Bank, certificate: Certificate) -> None:
    forged = Bank(bank.client, bank.key_id, "not-the-secret")
    assert_refused(forged.verify(certificate.number), 401, "SIGNATURE_INVALID")
    assert_refused(forged.lookup(certificate.number), 401, "SIGNATURE_INVALID")
    assert accesses(certificate.id) == []


def test_a_changed_body_or_query_breaks_the_signature(bank: Bank,
                                                       certificate: Certificate) -> None:
    path = f"{API}/certificates/verify"
    signed = bank.headers("POST", path, None, b'{"number": "x"}')
    response = bank.client.post(path, json={"number": certificate.number}, headers=signed)
    assert_refused(response, 401, "SIGNATURE_INVALID")
    lookup = f"{API}/certificates/{certificate.number}"
    signed = bank.headers("GET", lookup, {"legal_basis": "(2026)粤0402执1号"})
    response = bank.client.get(lookup, query_string={"legal_basis": "(2026)粤0402执2号"},
                               headers=signed)
    assert_refused(response, 401, "SIGNATURE_INVALID")
    signed = bank.headers("GET", lookup)  # signed for another method
    assert_refused(bank.client.delete(lookup, headers=signed), 405, "METHOD_NOT_ALLOWED")


def test_a_stale_or_future_timestamp_is_refused(bank: Bank, certificate: Certificate) -> None:
    for skew in (-301, 301, -3600):
        response = bank.verify(certificate.number, now=time.time() + skew)
        assert_refused(response, 401, "SIGNATURE_EXPIRED")
    assert bank.verify(certificate.number, now=time.time() - 250).status_code == 200


def test_a_reused_nonce_is_refused(bank: Bank, certificate: Certificate) -> None:
    nonce = "replayed-nonce-0001"
    assert bank.lookup(certificate.number, nonce=nonce).status_code == 403  # no consent yet
    assert_refused(bank.lookup(certificate.number, nonce=nonce), 401, "NONCE_REUSED")
    assert_refused(bank.verify(certificate.number, nonce=nonce), 401, "NONCE_REUSED")
    # the replays never reached the certificate: one access, the first (denied) lookup
    assert [a.outcome for a in accesses(certificate.id)] == ["denied"]


def test_old_nonces_are_purged(bank: Bank, certificate: Certificate) -> None:
    db.session.add(InstitutionNonce(key_id=bank.key_id, nonce="a-very-old-nonce-01",
                                    seen_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert bank.verify(certificate.number).status_code == 200
    db.session.rollback()
    nonces = db.session.scalars(select(InstitutionNonce.nonce).where(
        InstitutionNonce.key_id == bank.key_id)).all()
    assert "a-very-old-nonce-01" not in nonces and len(nonces) == 1


def test_unknown_and_revoked_keys_and_inactive_institutions_look_the_same(
        client: Any, bank: Bank, certificate: Certificate) -> None:
    unknown = Bank(client, "bdc_000000000000000000000000", bank.secret)
    first = assert_refused(unknown.verify(certificate.number), 401,
                           "INSTITUTION_UNAUTHENTICATED")

    other = service.create_institution("珠海农商银行", "bank", None, ["certificates:verify"])
    revoked = Bank(client, other[1], other[2])
    assert revoked.verify(certificate.number).status_code == 200
    service.revoke_key(revoked.key_id)
    second = assert_refused(revoked.verify(certificate.number), 401,
                            "INSTITUTION_UNAUTHENTICATED")

    institution = db.session.scalar(select(Institution).where(Institution.name == bank.name))
    assert institution is not None
    institution.is_active = False
    db.session.commit()
    third = assert_refused(bank.verify(certificate.number), 401, "INSTITUTION_UNAUTHENTICATED")
    assert first == second == third  # no oracle


def test_missing_or_malformed_headers_are_refused(bank: Bank,
                                                  certificate: Certificate) -> None:
    path = f"{API}/certificates/verify"
    assert_refused(bank.client.post(path, json={"number": certificate.number}), 401,
                   "INSTITUTION_UNAUTHENTICATED")
    for broken in ({"X-Bdc-Nonce": "short"}, {"X-Bdc-Nonce": "x" * 65},
                   {"X-Bdc-Timestamp": "yesterday"}, {"X-Bdc-Signature": ""}):
        body = b'{"number": "x"}'
        headers = {**bank.headers("POST", path, None, body), **broken}
        response = bank.client.post(path, data=body, content_type="application/json",
                                    headers=headers)
        assert_refused(response, 401, "INSTITUTION_UNAUTHENTICATED")


def test_a_citizen_token_is_not_an_institution_key(owner: Any, certificate: Certificate) -> None:
    response = owner.get(f"{API}/certificates/{certificate.number}")
    assert_refused(response, 401, "INSTITUTION_UNAUTHENTICATED")


def test_a_missing_scope_is_refused_and_audited(verifier: Bank, court: Bank,
                                                certificate: Certificate) -> None:
    # verify-only: refused at lookup (recorded on the certificate, shown to the owner)
    assert_refused(verifier.lookup(certificate.number), 403, "SCOPE_MISSING")
    [access] = accesses(certificate.id)
    assert (access.accessor_label, access.outcome) == (verifier.name, "denied")
    # legal-only: refused at verify (audited)
    assert_refused(court.verify(certificate.number), 403, "SCOPE_MISSING")
    from tests.app.institutions.helpers import audits

    [record] = audits("institution.scope_missing")
    assert record.actor_id == court.key_id and record.after is not None
    assert record.after["required"] == ["certificates:verify"]


def test_the_rate_limit_answers_429_in_the_envelope(client: Any,
                                                    certificate: Certificate) -> None:
    from tests.app.institutions.conftest import make_bank

    slow = make_bank(client, "珠海小额贷款公司", ["certificates:verify"], rate="3 per minute")
    other = make_bank(client, "珠海村镇银行", ["certificates:verify"], rate="3 per minute")
    for _ in range(3):
        assert slow.verify(certificate.number).status_code == 200
    response = slow.verify(certificate.number)
    assert response.status_code == 429
    body = response.get_json()
    assert body["code"] == "RATE_LIMITED" and body["message"]
    assert response.headers.get("Retry-After")
    # per key: another institution is not slowed down
    assert other.verify(certificate.number).status_code == 200
    # and unsigned requests never count against a bank's allowance
    assert_refused(Bank(client, other.key_id, "wrong").verify(certificate.number), 401,
                   "SIGNATURE_INVALID")
    for _ in range(2):
        assert other.verify(certificate.number).status_code == 200
