"""The owner's view of their certificates, the public verification, and the access log.

An owner sees a certificate only when it exists (it is issued only after payment) and
only with a fresh identity-verified claim for the image, the PDF and the full content;
every look is recorded and shown to the owner ("who viewed my certificate").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.accounts.models import Account
from app.cases.models import Case
from app.cases.workflow import CaseStatus
from app.certificates.content import KIND_TITLES
from app.certificates.models import (
    Certificate,
    CertificateAccess,
    CertificateHolder,
    CertificateStatus,
)
from app.certificates.service import content_of, qr_text
from app.db import db
from app.errors import NotFound
from app.timeutil import format_local, utcnow
from app.validators import mask_id_number, mask_name

VISIBLE_CASE_STATUSES = (CaseStatus.CERTIFICATE_ISSUED, CaseStatus.ARCHIVED)
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
    from app.people.models import Person

    person = db.session.get(Person, account.person_id) if account.person_id else None
    return person.id_number if person else None


def watermarked_image(certificate: Certificate, account: Account, channel: str,
                      at: datetime | None = None) -> bytes:
    """The PNG with a visible 仅供查看 watermark naming the viewer and the time."""
    from app.certificates import render
    from app.materials.service import storage
    from app.people.models import Person

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
    from app.materials.service import storage

    assert certificate.pdf_key is not None
    pdf = storage().get(certificate.pdf_key)
    record_access(certificate, accessor_type="owner", accessor_id=str(account.id),
                  label=ACCESSOR_LABELS["owner"], action="download_pdf", channel=channel)
    db.session.commit()
    return pdf


def accesses(certificate: Certificate) -> list[dict[str, Any]]:
    """Who looked at the certificate, newest first (the owner's "who viewed" page)."""
    rows = db.session.scalars(select(CertificateAccess).where(
        CertificateAccess.certificate_id == certificate.id)
        .order_by(CertificateAccess.id.desc()).limit(200))
    return [{"at": r.at, "who": r.accessor_label, "accessor_type": r.accessor_type,
             "action": r.action, "outcome": r.outcome, "basis": r.basis} for r in rows]


def public_facts(payload: str) -> dict[str, Any]:
    """What the QR page shows: valid or revoked, the masked owner, the issue date —
    nothing more. The payload's signature is checked first (a forged QR is refused)."""
    from app.certificates import signing

    facts = signing.read_payload(payload, signing.payload_public_key_pem(
        current_app.config["CERT_PAYLOAD_KEY"]))
    certificate = db.session.scalar(select(Certificate).where(
        Certificate.number == facts.number))
    if certificate is None or not _visible(certificate) or not (
            certificate.content_hash.startswith(facts.content_hash)):
        raise NotFound("未找到该证书")
    content = content_of(certificate)
    record_access(certificate, accessor_type="public", accessor_id=None,
                  label=ACCESSOR_LABELS["public"], action="verify", channel="web")
    db.session.commit()
    replaced_by = (db.session.get(Certificate, certificate.replaced_by_id)
                   if certificate.replaced_by_id else None)
    return {"number": certificate.number, "kind_label": KIND_TITLES[certificate.kind],
            "status": certificate.status, "status_label": certificate.status_enum.label,
            "valid": certificate.status_enum == CertificateStatus.VALID,
            "holders": [mask_name(h.name) or "" for h in content.holders],
            "issue_date": certificate.issue_date, "revoked_at": certificate.revoked_at,
            "replaced_by": replaced_by.number if replaced_by else None}
