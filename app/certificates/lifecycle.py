"""A certificate's life after issuance: revoked when the right it proves ends, and its
history as staff see it.

A mortgage's 不动产登记证明 proves a right that a 抵押权注销登记 ends: its 登簿 revokes the
proof (or proofs, when it was re-issued) of the mortgage being discharged, in the same
transaction as the register entry, audited like a revocation after a correction. A
mortgage registered before the platform issued certificates (legacy data, the demo) has
none, and its discharge revokes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.cases.models import Case
from app.certificates.models import CERTIFICATE_STATES, Certificate, CertificateStatus
from app.kernel import audit
from app.kernel.audit import ActorType, AuditRecord, Channel
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.kernel.validators import mask_name
from app.staff.models import StaffUser

if TYPE_CHECKING:
    from app.register.models import Encumbrance

DISCHARGE_REASON = "抵押权已注销（注销登记办件 {case_number}）"
SYSTEM_ACTORS = {"certificates": "系统（换发新证时自动作废）"}


def revoke(certificate: Certificate, reason: str, actor: str,
           replaced_by: Certificate | None = None,
           details: dict[str, Any] | None = None) -> None:
    """Revoke (the caller commits): shown revoked everywhere from the commit on.

    ``actor`` is ``staff:<id>`` or ``system:<name>``; ``details`` go into the audit record
    (e.g. the 注销登记 case that ended the right)."""
    if certificate.status_enum == CertificateStatus.REVOKED:
        return
    CERTIFICATE_STATES.move(certificate, CertificateStatus.REVOKED)
    certificate.revoked_at = utcnow()
    certificate.revoked_reason = reason[:300]
    certificate.revoked_by = actor[:40]
    if replaced_by is not None:
        certificate.replaced_by_id = replaced_by.id
    actor_type, _, actor_id = actor.partition(":")
    audit.record(actor_type=ActorType.STAFF if actor_type == "staff" else ActorType.SYSTEM,
                 actor_id=actor_id or actor, channel=Channel.ADMIN if actor_type == "staff"
                 else Channel.SYSTEM, action="certificate.revoked", entity_type="certificate",
                 entity_id=certificate.number,
                 after={"reason": reason[:300],
                        "replaced_by": replaced_by.number if replaced_by else None,
                        **(details or {})})


def proofs_of(encumbrance: Encumbrance) -> list[Certificate]:
    """The 不动产登记证明 issued for the case that registered this mortgage, not yet
    revoked (valid, or numbered and still being made: it must never become valid)."""
    if encumbrance.kind != "mortgage" or encumbrance.registered_case_id is None:
        return []
    return list(db.session.scalars(select(Certificate).where(
        Certificate.case_id == encumbrance.registered_case_id, Certificate.kind == "proof",
        Certificate.status.in_([CertificateStatus.VALID, CertificateStatus.ISSUING]))
        .order_by(Certificate.id)))


def revoke_for_discharge(encumbrance: Encumbrance, case: Case,
                         staff_id: int) -> list[Certificate]:
    """Revoke the proofs of the mortgage that ``case`` (a 注销登记) discharges, by the
    reviewer who enters it (no commit: the caller's 登簿 commits everything at once).
    Returns what was revoked; nothing when the mortgage never had a proof."""
    revoked = []
    for proof in proofs_of(encumbrance):
        revoke(proof, DISCHARGE_REASON.format(case_number=case.case_number),
               f"staff:{staff_id}",
               details={"case": case.case_number, "encumbrance": encumbrance.id})
        revoked.append(proof)
    return revoked


def named_mortgage(current: list[Encumbrance], proof_number: str) -> Encumbrance | None:
    """The mortgage among ``current`` whose 不动产登记证明 has this number (a 注销 names it)."""
    proof_number = proof_number.strip()
    if proof_number:
        for encumbrance in current:
            if proof_number in proof_numbers(encumbrance):
                return encumbrance
    return None


def proof_numbers(encumbrance: Encumbrance) -> set[str]:
    """Every proof number ever issued for this mortgage (valid or not)."""
    if encumbrance.registered_case_id is None:
        return set()
    return set(db.session.scalars(select(Certificate.number).where(
        Certificate.case_id == encumbrance.registered_case_id, Certificate.kind == "proof")))


# --- history, as staff see it -------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    at: datetime | None
    label: str
    detail: str = ""
    actor: str = ""


def actor_label(actor: str | None) -> str:
    """``staff:12`` → 工作人员 zhou.dengji（#12）; ``system:…`` → 系统 (for staff only)."""
    if not actor:
        return ""
    kind, _, ident = actor.partition(":")
    if kind == "staff" and ident.isdigit():
        user = db.session.get(StaffUser, int(ident))
        return f"工作人员 {user.username}（#{ident}）" if user else f"工作人员 #{ident}"
    if kind == "system":
        return SYSTEM_ACTORS.get(ident, "系统")
    return actor


def staff_access_label(display_name: str) -> str:
    """How a staff member's look at a certificate is shown to its owner: the role and the
    masked name (staff names are shown in full only to themselves)."""
    return f"登记机构工作人员 {mask_name(display_name) or ''}".strip()


def history(certificate: Certificate) -> list[Event]:
    """Numbered, issued, revoked: from the certificate's row, times from its audit."""
    records = {row.action: row for row in db.session.scalars(select(AuditRecord).where(
        AuditRecord.entity_type == "certificate", AuditRecord.entity_id == certificate.number,
        AuditRecord.action.in_(["certificate.numbered", "certificate.issued"]))
        .order_by(AuditRecord.id))}
    numbered = records.get("certificate.numbered")
    events = [Event(numbered.occurred_at if numbered else None, "编号",
                    f"第 {certificate.reissue_no} 次换发" if certificate.reissue_no else "")]
    # Issued: valid now, or files made before it was revoked (one revoked while still
    # being made was never issued).
    if certificate.status_enum == CertificateStatus.VALID or certificate.pdf_key or (
            "certificate.issued" in records):
        events.append(Event(certificate.issued_at, "签发", "电子证照已生成并签名"))
    if certificate.status_enum == CertificateStatus.REVOKED:
        events.append(Event(certificate.revoked_at, "作废", certificate.revoked_reason or "",
                            actor_label(certificate.revoked_by)))
    return events
