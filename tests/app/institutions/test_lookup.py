"""What institutions read: only with the owner's consent or a legal basis; every look,
allowed or refused, recorded for the owner and audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.certificates.models import Certificate, CertificateConsent, CertificateStatus
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from tests.app.institutions.helpers import (
    OWNER,
    Bank,
    accesses,
    assert_refused,
    audits,
    issue_certificate,
)
from tests.flow import Citizen


def grant(citizen: Citizen, number: str, bank_name: str, days: int = 30,
          purpose: str = "办理抵押贷款") -> dict[str, Any]:
    institutions = citizen.get("/api/institutions").get_json()
    [institution] = [i for i in institutions if i["name"] == bank_name]
    response = citizen.post(f"/api/certificates/{number}/consents",
                            {"institution_id": institution["id"], "purpose": purpose,
                             "days": days}, claim=True)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def test_an_institution_without_consent_gets_403_and_the_attempt_is_audited(
        bank: Bank, certificate: Certificate) -> None:
    """The issue's test: refused, and the refusal is both shown to the owner and audited."""
    body = assert_refused(bank.lookup(certificate.number), 403, "AUTHORISATION_REQUIRED")
    assert body["message"]
    [access] = accesses(certificate.id)
    assert (access.accessor_type, access.accessor_label, access.action, access.outcome) == (
        "institution", bank.name, "lookup", "denied")
    assert access.accessor_id == bank.key_id and access.basis is None
    [record] = audits("institution.certificate_lookup")
    assert (record.actor_type, record.actor_id, record.entity_id) == (
        "institution", bank.key_id, certificate.number)
    assert record.after is not None
    assert record.after["outcome"] == "denied" and record.after["reason"] == "no_consent"


def test_with_the_owners_consent_the_bank_reads_the_content_recorded(
        owner: Citizen, bank: Bank, certificate: Certificate) -> None:
    consent = grant(owner, certificate.number, bank.name)
    assert consent["status"] == "active" and consent["granted_by_me"] is True
    assert consent["institution"]["kind_label"] == "银行"

    response = bank.lookup(certificate.number)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["status"] == "valid" and data["basis_type"] == "consent"
    assert data["content_hash"] == certificate.content_hash
    content = data["content"]
    assert content["location"].startswith("珠海市香洲区海滨南路")
    assert content["unit_number"] and content["area"] and content["co_ownership"] == "按份共有"
    assert [(h["name"], h["id_number"], h["share"]) for h in content["holders"]] == [
        ("张三", "4404**********0018", "1/2"), ("李四", "4404**********0029", "1/2")]
    assert OWNER[1] not in response.get_data(as_text=True)  # ID numbers masked

    [access] = accesses(certificate.id)
    assert (access.accessor_label, access.outcome) == (bank.name, "allowed")
    assert access.basis == f"授权#{consent['id']}：办理抵押贷款"
    [record] = audits("institution.certificate_lookup")
    assert record.after is not None and record.after["outcome"] == "allowed"
    assert record.after["consent_id"] == consent["id"]
    [granted] = audits("certificate.consent_granted")
    assert granted.actor_id == str(owner.account_id)


def test_a_co_owners_consent_counts_too(co_owner: Citizen, bank: Bank,
                                        certificate: Certificate) -> None:
    grant(co_owner, certificate.number, bank.name)
    assert bank.lookup(certificate.number).status_code == 200


def test_a_consent_is_for_one_institution(owner: Citizen, bank: Bank, verifier: Bank,
                                          client: Any, certificate: Certificate) -> None:
    from tests.app.institutions.conftest import make_bank

    other = make_bank(client, "中国建设银行珠海分行", ["certificates:read"])
    grant(owner, certificate.number, bank.name)
    assert_refused(other.lookup(certificate.number), 403, "AUTHORISATION_REQUIRED")


def test_a_revoked_consent_stops_the_bank_at_once(owner: Citizen, co_owner: Citizen,
                                                  bank: Bank, certificate: Certificate) -> None:
    consent = grant(owner, certificate.number, bank.name)
    assert bank.lookup(certificate.number).status_code == 200
    # any holder may end it
    response = co_owner.client.delete(
        f"/api/certificates/{certificate.number}/consents/{consent['id']}",
        headers=co_owner.headers)
    assert response.status_code == 204
    assert_refused(bank.lookup(certificate.number), 403, "AUTHORISATION_REQUIRED")
    listed = owner.get(f"/api/certificates/{certificate.number}/consents").get_json()
    assert [(c["id"], c["status"]) for c in listed] == [(consent["id"], "revoked")]
    [revoked] = audits("certificate.consent_revoked")
    assert revoked.actor_id == str(co_owner.account_id)
    assert [a.outcome for a in accesses(certificate.id)] == ["allowed", "denied"]


def test_an_expired_consent_is_refused(owner: Citizen, bank: Bank,
                                       certificate: Certificate) -> None:
    consent = grant(owner, certificate.number, bank.name, days=1)
    row = db.session.get(CertificateConsent, consent["id"])
    assert row is not None
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert_refused(bank.lookup(certificate.number), 403, "AUTHORISATION_REQUIRED")
    listed = owner.get(f"/api/certificates/{certificate.number}/consents").get_json()
    assert listed[0]["status"] == "expired"


def test_a_legal_basis_with_the_legal_scope_is_allowed_and_recorded(
        court: Bank, bank: Bank, certificate: Certificate) -> None:
    case_number = "(2026)粤0402执1234号"
    response = court.lookup(certificate.number, legal_basis=case_number)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["basis_type"] == "legal" and data["basis"] == "依法查询：" + case_number
    assert data["content"]["holders"][0]["id_number"] == "4404**********0018"
    # without the legal scope, a stated legal basis is refused (and recorded as tried)
    assert_refused(bank.lookup(certificate.number, legal_basis=case_number), 403,
                   "SCOPE_MISSING")
    # and the court without a basis has nothing to stand on
    assert_refused(court.lookup(certificate.number), 403, "SCOPE_MISSING")
    rows = accesses(certificate.id)
    assert [(a.accessor_label, a.outcome, a.basis) for a in rows] == [
        (court.name, "allowed", "依法查询：" + case_number),
        (bank.name, "denied", "依法查询：" + case_number),
        (court.name, "denied", None)]
    outcomes = [r.after["outcome"] for r in audits("institution.certificate_lookup")
                if r.after is not None]
    assert outcomes == ["allowed", "denied", "denied"]


def test_a_too_short_legal_basis_is_a_validation_error(court: Bank,
                                                       certificate: Certificate) -> None:
    response = court.lookup(certificate.number, legal_basis="执1")
    assert response.status_code == 422
    assert "legal_basis" in response.get_json()["details"]["fields"]


def test_unknown_and_revoked_certificates(owner: Citizen, bank: Bank,
                                          certificate: Certificate) -> None:
    assert_refused(bank.lookup("粤(2026)珠海市不动产权第9999999号"), 404, "NOT_FOUND")
    [record] = audits("institution.certificate_lookup")
    assert record.after is not None and record.after["outcome"] == "not_found"

    grant(owner, certificate.number, bank.name)
    replacement = issue_certificate(owner.account_id, [(owner.person_id, *OWNER, "1/1")])
    row = db.session.get(Certificate, certificate.id)
    assert row is not None
    row.status, row.revoked_at = CertificateStatus.REVOKED, utcnow()
    row.replaced_by_id = replacement.id
    db.session.commit()
    response = bank.lookup(certificate.number)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["status"] == "revoked" and data["replaced_by"] == replacement.number
    assert data["content"] is None and data["content_hash"] is None
    assert "张三" not in response.get_data(as_text=True)
    # the consent was for the old certificate only
    assert_refused(bank.lookup(replacement.number), 403, "AUTHORISATION_REQUIRED")


def test_a_certificate_not_yet_issued_is_unknown(owner: Citizen, bank: Bank) -> None:
    pending = issue_certificate(owner.account_id, [(owner.person_id, *OWNER, "1/1")],
                                status=CertificateStatus.ISSUING)
    assert_refused(bank.lookup(pending.number), 404, "NOT_FOUND")
    assert bank.verify(pending.number).get_json()["status"] == "unknown"


def test_verify_answers_status_and_hash_without_personal_data(
        verifier: Bank, owner: Citizen, certificate: Certificate) -> None:
    response = verifier.verify(certificate.number, certificate.content_hash.upper())
    assert response.status_code == 200
    assert response.get_json() == {
        "number": certificate.number, "status": "valid", "status_label": "有效",
        "issue_date": "2026-11-24", "content_hash_matches": True}
    assert verifier.verify(certificate.number, "0" * 64).get_json()[
        "content_hash_matches"] is False
    assert verifier.verify(certificate.number).get_json()["content_hash_matches"] is None

    unknown = verifier.verify("粤(2026)珠海市不动产权第9999999号", "0" * 64).get_json()
    assert unknown == {"number": "粤(2026)珠海市不动产权第9999999号", "status": "unknown",
                       "status_label": "未查到该证书", "issue_date": None,
                       "content_hash_matches": False}

    row = db.session.get(Certificate, certificate.id)
    assert row is not None
    row.status = CertificateStatus.REVOKED
    db.session.commit()
    assert verifier.verify(certificate.number).get_json()["status"] == "revoked"

    rows = accesses(certificate.id)
    assert {(a.action, a.outcome, a.accessor_label) for a in rows} == {
        ("verify", "allowed", verifier.name)}
    assert len(rows) == 4
    assert len(audits("institution.certificate_verify")) == 5


def test_verify_refuses_a_malformed_hash(verifier: Bank, certificate: Certificate) -> None:
    response = verifier.verify(certificate.number, "abc")
    assert response.status_code == 422


def test_the_owner_sees_who_looked_allowed_and_denied(owner: Citizen, bank: Bank,
                                                      verifier: Bank,
                                                      certificate: Certificate) -> None:
    assert bank.lookup(certificate.number).status_code == 403
    grant(owner, certificate.number, bank.name)
    assert bank.lookup(certificate.number).status_code == 200
    assert verifier.verify(certificate.number).status_code == 200
    response = owner.get(f"/api/certificates/{certificate.number}/accesses")
    assert response.status_code == 200, response.get_json()
    seen = [(a["who"], a["accessor_type"], a["action"], a["outcome"])
            for a in response.get_json()]
    assert seen == [  # newest first
        (verifier.name, "institution", "verify", "allowed"),
        (bank.name, "institution", "lookup", "allowed"),
        (bank.name, "institution", "lookup", "denied")]


def test_nothing_is_shown_to_the_owner_that_is_not_theirs(bank: Bank, stranger: Citizen,
                                                          certificate: Certificate) -> None:
    assert bank.lookup(certificate.number).status_code == 403
    response = stranger.get(f"/api/certificates/{certificate.number}/accesses")
    assert_refused(response, 404, "NOT_FOUND")
    assert db.session.scalar(select(CertificateConsent)) is None
