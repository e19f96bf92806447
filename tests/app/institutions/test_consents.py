"""The owner's consents: only a holder grants (with a fresh identity claim) or revokes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.certificates.models import Certificate, CertificateConsent, CertificateStatus
from app.institutions.models import Institution
from app.kernel.db import db
from tests.app.institutions.helpers import Bank, assert_refused
from tests.flow import Citizen


def _institution_id(name: str) -> int:
    institution = db.session.scalar(select(Institution).where(Institution.name == name))
    assert institution is not None
    return institution.id


def test_the_owner_chooses_from_the_active_institutions(owner: Citizen, bank: Bank,
                                                        court: Bank) -> None:
    institution = db.session.get(Institution, _institution_id(court.name))
    assert institution is not None
    institution.is_active = False
    db.session.commit()
    response = owner.get("/api/institutions")
    assert response.status_code == 200
    assert response.get_json() == [{"id": _institution_id(bank.name), "name": bank.name,
                                    "kind": "bank", "kind_label": "银行"}]
    assert owner.client.get("/api/institutions").status_code == 401


def test_another_citizen_cannot_grant_list_or_revoke(owner: Citizen, stranger: Citizen,
                                                     bank: Bank,
                                                     certificate: Certificate) -> None:
    path = f"/api/certificates/{certificate.number}/consents"
    body = {"institution_id": _institution_id(bank.name), "purpose": "办理抵押贷款"}
    assert_refused(stranger.post(path, body, claim=True), 404, "NOT_FOUND")
    assert_refused(stranger.get(path), 404, "NOT_FOUND")
    granted = owner.post(path, body, claim=True)
    assert granted.status_code == 201
    consent_id = granted.get_json()["id"]
    response = stranger.client.delete(f"{path}/{consent_id}", headers=stranger.headers)
    assert_refused(response, 404, "NOT_FOUND")
    db.session.rollback()
    consent = db.session.get(CertificateConsent, consent_id)
    assert consent is not None and consent.revoked_at is None
    assert bank.lookup(certificate.number).status_code == 200


def test_granting_needs_a_fresh_identity_claim(owner: Citizen, bank: Bank,
                                               certificate: Certificate) -> None:
    path = f"/api/certificates/{certificate.number}/consents"
    body = {"institution_id": _institution_id(bank.name), "purpose": "办理抵押贷款"}
    assert_refused(owner.post(path, body), 403, "IDENTITY_CLAIM_REQUIRED")
    assert db.session.scalar(select(CertificateConsent)) is None


def test_consent_days_default_to_30_and_stop_at_365(owner: Citizen, bank: Bank,
                                                    certificate: Certificate) -> None:
    path = f"/api/certificates/{certificate.number}/consents"
    institution_id = _institution_id(bank.name)
    response = owner.post(path, {"institution_id": institution_id, "purpose": "办理抵押贷款"},
                          claim=True)
    assert response.status_code == 201
    data = response.get_json()
    consent = db.session.get(CertificateConsent, data["id"])
    assert consent is not None
    assert (consent.expires_at - consent.granted_at).days == 30
    for days in (0, 366):
        response = owner.post(path, {"institution_id": institution_id, "purpose": "贷款",
                                     "days": days}, claim=True)
        assert response.status_code == 422
        assert "days" in response.get_json()["details"]["fields"]
    response = owner.post(path, {"institution_id": institution_id, "purpose": "贷款",
                                 "days": 365}, claim=True)
    assert response.status_code == 201


def test_an_unknown_or_inactive_institution_cannot_be_chosen(owner: Citizen, bank: Bank,
                                                             certificate: Certificate) -> None:
    path = f"/api/certificates/{certificate.number}/consents"
    assert_refused(owner.post(path, {"institution_id": 99999, "purpose": "办理抵押贷款"},
                              claim=True), 404, "NOT_FOUND")
    institution = db.session.get(Institution, _institution_id(bank.name))
    assert institution is not None
    institution.is_active = False
    db.session.commit()
    assert_refused(owner.post(path, {"institution_id": institution.id,
                                     "purpose": "办理抵押贷款"}, claim=True), 404, "NOT_FOUND")


def test_a_revoked_certificate_cannot_be_shared(owner: Citizen, bank: Bank,
                                                certificate: Certificate) -> None:
    row = db.session.get(Certificate, certificate.id)
    assert row is not None
    row.status = CertificateStatus.REVOKED
    db.session.commit()
    response = owner.post(f"/api/certificates/{certificate.number}/consents",
                          {"institution_id": _institution_id(bank.name),
                           "purpose": "办理抵押贷款"}, claim=True)
    assert_refused(response, 409, "CERTIFICATE_NOT_VALID")


def test_revoking_twice_is_harmless_and_unknown_consents_are_404(
        owner: Citizen, co_owner: Citizen, bank: Bank, certificate: Certificate) -> None:
    path = f"/api/certificates/{certificate.number}/consents"
    granted = owner.post(path, {"institution_id": _institution_id(bank.name),
                                "purpose": "办理抵押贷款"}, claim=True).get_json()
    for _ in range(2):
        response = owner.client.delete(f"{path}/{granted['id']}", headers=owner.headers)
        assert response.status_code == 204
    assert_refused(owner.client.delete(f"{path}/99999", headers=owner.headers), 404,
                   "NOT_FOUND")
    listed = co_owner.get(path).get_json()
    assert [(c["status"], c["granted_by_me"]) for c in listed] == [("revoked", False)]


def test_the_openapi_document_describes_the_institution_api(client: Any) -> None:
    spec = client.get("/api/openapi.json").get_json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bdcSignature"]["name"] == "X-Bdc-Signature"
    lookup = spec["paths"]["/api/institution/v1/certificates/{number}"]["get"]
    assert lookup["security"] == [{"bdcKeyId": [], "bdcTimestamp": [], "bdcNonce": [],
                                   "bdcSignature": []}]
    assert "/api/institution/v1/certificates/verify" in spec["paths"]
    assert "/api/certificates/{number}/consents/{consent_id}" in spec["paths"]
    assert "/api/institutions" in spec["paths"]
