"""The owner's view of their certificates, the public verification, and the access log.

An owner sees a certificate only when it exists (it is issued only after payment) and
only with a fresh identity-verified claim for the image, the PDF and the full content;
every look is recorded and shown to the owner ("who viewed my certificate").

The public QR page reads the certificate through the in-process status cache
(:mod:`app.certificates.status_cache`, invalidated when a certificate changes) and
queues its access row for the batch writer (:mod:`app.certificates.access_log`); the
owner's own views are committed with their request.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.accounts.models import Account
from app.cases.models import Case
from app.certificates import access_log, render, signing, status_cache
from app.certificates.content import KIND_TITLES
from app.certificates.models import (
    Certificate,
    CertificateAccess,
    CertificateHolder,
    CertificateStatus,
)
from app.certificates.service import content_of, qr_text
from app.kernel.db import db
from app.kernel.errors import NotFound
from app.kernel.timeutil import format_local, utcnow
from app.kernel.validators import mask_id_number, mask_name
from app.people.models import Person
from app.services import storage

VISIBLE_CASE_STATUSES = status_cache.VISIBLE_CASE_STATUSES
ACCESSOR_LABELS = {"owner": "本人", "public": "扫码核验", "staff": "登记机构工作人员"}


def _visible(certificate: Certificate) -> bool:
    """Issued (files ready) and the case paid: a certificate is never shown before."""
    if certificate.status_enum == CertificateStatus.ISSUING:
        return False
    case = db.session.get(Case, certificate.case_id)
    return case is not None and case.status_enum in VISIBLE_CASE_STATUSES


def certificates_of(account: Account) -> list[Certificate]:
    if account.person_id is None:
        return []
    rows = db.session.scalars(select(Certificate).join(
        CertificateHolder, CertificateHolder.certificate_id == Certificate.id).where(
        CertificateHolder.person_id == account.person_id).order_by(Certificate.id.desc()))
    return [c for c in rows if _visible(c)]


def held_by_person(number: str, person_id: int) -> Certificate | None:
    """The certificate with this number if it names the person as holder and is shown
    (a short link's person, known without a login)."""
    certificate = db.session.scalar(select(Certificate).join(
        CertificateHolder, CertificateHolder.certificate_id == Certificate.id).where(
        Certificate.number == number, CertificateHolder.person_id == person_id))
    return certificate if certificate is not None and _visible(certificate) else None


def of_case(case_id: int) -> list[Certificate]:
    """A case's certificates, oldest first (whoever may open them: the caller checks)."""
    return list(db.session.scalars(select(Certificate).where(
        Certificate.case_id == case_id).order_by(Certificate.id)))


def owned(account: Account, number: str) -> Certificate:
    """The caller's certificate by number; 404 for anything else (never says whose)."""
    for certificate in certificates_of(account):
        if certificate.number == number:
            return certificate
    raise NotFound("未找到该证书")


def record_access(certificate: Certificate, *, accessor_type: str, accessor_id: str | None,
                  label: str, action: str, channel: str, outcome: str = "allowed",
                  basis: str | None = None) -> None:
    db.session.add(CertificateAccess(
        certificate_id=certificate.id, accessor_type=accessor_type, accessor_id=accessor_id,
        accessor_label=label[:100], action=action, channel=channel, outcome=outcome,
        basis=basis))


def summary(certificate: Certificate) -> dict[str, Any]:
    """What the list shows: no personal data."""
    content = content_of(certificate)
    replaced_by = (db.session.get(Certificate, certificate.replaced_by_id)
                   if certificate.replaced_by_id else None)
    return {
        "number": certificate.number, "kind": certificate.kind,
        "kind_label": KIND_TITLES[certificate.kind], "status": certificate.status,
        "status_label": certificate.status_enum.label, "issue_date": certificate.issue_date,
        "location": content.location, "unit_number": content.unit_number,
        "revoked_at": certificate.revoked_at, "revoked_reason": certificate.revoked_reason,
        "replaced_by": replaced_by.number if replaced_by else None,
        "verify_url": qr_text(certificate.payload),
    }


def detail(certificate: Certificate, account: Account, channel: str) -> dict[str, Any]:
    """The full content for its owner (co-owners' ID numbers masked), recorded."""

    content = content_of(certificate)
    record_access(certificate, accessor_type="owner", accessor_id=str(account.id),
                  label=ACCESSOR_LABELS["owner"], action="view", channel=channel)
    db.session.commit()
    own = _own_id_number(account)

    def person(h: Any) -> dict[str, str]:
        shown = h.id_number if h.id_number == own else (mask_id_number(h.id_number) or "")
        return {"name": h.name, "id_number": shown, "share": h.share}

    data = content.as_dict()
    data["holders"] = [person(h) for h in content.holders]
    data["obligors"] = [person(h) for h in content.obligors]
    return {**summary(certificate), "content": data, "content_hash": certificate.content_hash}


def _own_id_number(account: Account) -> str | None:

    person = db.session.get(Person, account.person_id) if account.person_id else None
    return person.id_number if person else None


def watermarked_image(certificate: Certificate, account: Account, channel: str,
                      at: datetime | None = None) -> bytes:
    """The PNG with a visible 仅供查看 watermark naming the viewer and the time."""

    assert certificate.png_key is not None
    person = db.session.get(Person, account.person_id) if account.person_id else None
    viewer = mask_name(person.name) if person else "本人"
    text = f"仅供查看 {viewer} {format_local(at or utcnow())}"
    png = render.watermark_png(storage().get(certificate.png_key), text,
                               font_path=current_app.config["CJK_FONT_PATH"])
    record_access(certificate, accessor_type="owner", accessor_id=str(account.id),
                  label=ACCESSOR_LABELS["owner"], action="view_image", channel=channel)
    db.session.commit()
    return png


def signed_pdf(certificate: Certificate, account: Account, channel: str) -> bytes:

    assert certificate.pdf_key is not None
    pdf = storage().get(certificate.pdf_key)
    record_access(certificate, accessor_type="owner", accessor_id=str(account.id),
                  label=ACCESSOR_LABELS["owner"], action="download_pdf", channel=channel)
    db.session.commit()
    return pdf


def accesses(certificate: Certificate) -> list[dict[str, Any]]:
    """Who looked at the certificate, newest first (the owner's "who viewed" page).

    Writes this process's queued looks first (the QR page's and the institutions' verify
    calls; should that fail, they stay queued for the writer and the list is answered
    without them): newest first is by the time of the look, not of the writing."""
    access_log.flush(quiet=True)
    rows = db.session.scalars(select(CertificateAccess).where(
        CertificateAccess.certificate_id == certificate.id)
        .order_by(CertificateAccess.at.desc(), CertificateAccess.id.desc()).limit(200))
    return [{"at": r.at, "who": r.accessor_label, "accessor_type": r.accessor_type,
             "action": r.action, "outcome": r.outcome, "basis": r.basis} for r in rows]


@lru_cache(maxsize=4096)
def _read_payload(payload: str, payload_key_pem: str) -> signing.PayloadFacts:
    """A genuine payload's facts, remembered by its exact text (the same text always
    verifies the same way); a forged one raises every time and is not remembered."""

    return signing.read_payload(payload, payload_key_pem)


def public_certificate(payload: str) -> status_cache.CertificateFacts:
    """The certificate a QR payload names, for the public page: its signature is checked
    first (a forged QR is refused, :class:`PayloadInvalid`), then the certificate is read
    through the status cache (:class:`NotFound` unless issued and shown) and the look is
    queued for the access log (written within about a second; the owner's list writes it
    first)."""
    facts = _read_payload(payload.strip(), current_app.config["CERT_PAYLOAD_KEY"])
    found = status_cache.facts(facts.number)
    if found is None or not found.content_hash.startswith(facts.content_hash):
        raise NotFound("未找到该证书")
    access_log.record(access_log.access_row(
        found.id, accessor_type="public", accessor_id=None, label=ACCESSOR_LABELS["public"],
        action="verify", channel="web"))
    return found


def public_view(found: status_cache.CertificateFacts) -> dict[str, Any]:
    """What the QR page shows: valid or revoked, the masked owner, the issue date —
    nothing more."""
    return {"number": found.number, "kind_label": found.kind_label, "status": found.status,
            "status_label": found.status_enum.label, "valid": found.valid,
            "holders": list(found.holders), "issue_date": found.issue_date,
            "revoked_at": found.revoked_at, "replaced_by": found.replaced_by}


def public_facts(payload: str) -> dict[str, Any]:
    """:func:`public_certificate` (checked, looked up, recorded) as :func:`public_view`."""
    return public_view(public_certificate(payload))
