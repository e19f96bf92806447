"""Certificates: their numbers and content from the register, their files, and reading them.

The steps of an issuance (the use case ``app.usecases.issue_certificate`` runs them and
owns the commits): :func:`allocate` numbers a certificate and adds it as ``issuing``;
:func:`make_files` renders, signs and stores its PNG and PDF (no database write);
:func:`mark_issued` makes it ``valid`` and replaces older certificates of the unit. None
of them commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.cases.models import Case, PropertyUnit
from app.cases.workflow import CaseStatus, can_move
from app.certificates import render, signing
from app.certificates.content import KIND_NUMBER_WORDS, CertificateContent, Holder
from app.certificates.lifecycle import revoke
from app.certificates.models import (
    CERTIFICATE_STATES,
    Certificate,
    CertificateHolder,
    CertificateStatus,
)
from app.kernel import audit, counters
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.timeutil import local_date, utcnow
from app.register.service import current_entry, encumbrances_on
from app.services import storage

READY_STATUSES = (CaseStatus.REGISTERED, CaseStatus.PAID)
MAX_RENDER_ATTEMPTS = 5


def format_number(province: str, year: int, city: str, kind: str, serial: int) -> str:
    """粤(2026)珠海市不动产权第0000001号"""
    return f"{province}({year}){city}{KIND_NUMBER_WORDS[kind]}第{serial:07d}号"


def due_cases(limit: int = 50) -> list[Case]:
    """Cases that should have a certificate and never had one. A case whose certificate
    was revoked is not due again: a re-issue after a correction goes through
    ``reissue``, and a proof revoked by a discharge (even one still being made) must
    stay revoked."""
    has_one = select(Certificate.id).where(Certificate.case_id == Case.id)
    candidates = db.session.scalars(select(Case).where(
        Case.status.in_([s.value for s in READY_STATUSES]), ~has_one.exists())
        .order_by(Case.id).limit(limit))
    return [case for case in candidates
            if can_move(case.status_enum, CaseStatus.CERTIFICATE_ISSUED,
                        case.business_type.rules)]


# --- content ---------------------------------------------------------------------------------

def _holder(person: Any, share: str = "") -> Holder:
    return Holder(name=person.name, id_number=person.id_number or person.uscc or "",
                  share=share)


def _area(unit: PropertyUnit | None, area_m2: Any) -> str:
    value = area_m2 if area_m2 is not None else (unit.area_m2 if unit else None)
    return f"房屋建筑面积 {value:.2f} 平方米" if value is not None else ""


def _term(start: date | None, end: date | None) -> str:
    def cn(day: date) -> str:
        return f"{day.year}年{day.month:02d}月{day.day:02d}日"

    if start and end:
        return f"{cn(start)}起 {cn(end)}止"
    return f"{cn(end)}止" if end else ""


def build_content(case: Case, number: str, issue_date: date) -> tuple[CertificateContent,
                                                                       list[tuple[int, str]]]:
    """The certificate's content from the register as 登簿 left it, and who may open it
    as owner [(person id, role)]."""
    config = current_app.config
    kind = case.business_type.certificate_kind or "certificate"
    unit = case.unit
    common: dict[str, Any] = {
        "number": number, "kind": kind, "authority": config["CERT_ISSUING_AUTHORITY"],
        "seal_text": config["AUTHORITY_NAME"], "issue_date": issue_date,
        "location": unit.location if unit else "",
        "unit_number": unit.unit_number if unit else "",
    }
    entry = current_entry(unit.id) if unit else None
    mortgages = [e for e in encumbrances_on(unit.id) if e.kind == "mortgage"] if unit else []
    if kind == "proof":
        mortgage = next((e for e in reversed(mortgages) if e.registered_case_id == case.id),
                        None)
        holders = [a for a in case.applicants if a.role == "mortgagee"]
        obligors = [a for a in case.applicants if a.role != "mortgagee"]
        amount = ""
        if mortgage is not None and mortgage.amount_fen is not None:
            fen = mortgage.amount_fen
            amount = f"被担保主债权数额 {fen // 100:,}.{fen % 100:02d} 元"
        content = CertificateContent(
            **common, holders=tuple(_holder(a.person) for a in holders),
            obligors=tuple(_holder(a.person) for a in obligors),
            co_ownership="", right_type="抵押权", right_nature="", use="",
            area=_area(unit, entry.area_m2 if entry else None), term="",
            other="；".join(filter(None, [amount, mortgage.description if mortgage else ""])),
            matter="抵押权", notes="")
        owners = [(a.person_id, "holder") for a in holders] + [
            (a.person_id, "obligor") for a in obligors]
        return content, owners
    if entry is None:
        raise LookupError(f"case {case.case_number}: no register entry for the unit")
    notes = "；".join(f"抵押：{e.description or ''}".rstrip("：") for e in mortgages)
    content = CertificateContent(
        **common,
        holders=tuple(_holder(o.person, "" if entry.co_ownership == "共同共有" else o.share)
                      for o in entry.owners),
        co_ownership=entry.co_ownership, right_type=entry.right_type,
        right_nature=entry.right_nature, use=entry.use, area=_area(unit, entry.area_m2),
        term=_term(entry.term_start, entry.term_end), other=entry.notes or "", notes=notes)
    return content, [(o.person_id, "holder") for o in entry.owners]


# --- issuing ---------------------------------------------------------------------------------

def qr_text(payload: str) -> str:
    """What the QR code holds: the public verification page, the signed payload in it."""
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    return f"{base}/v/{payload}"


def allocate(case: Case, *, reissue_of: Certificate | None = None,
             actor: str = "system") -> Certificate | None:
    """Number the certificate and add it as ``issuing`` (no commit: the caller's commit
    takes the number). None when another issuance for the case won the race: the session
    is rolled back, the counter increment with it (nothing is consumed)."""
    config = current_app.config
    kind = case.business_type.certificate_kind or "certificate"
    issue_date = local_date()
    authority = str(config["CERT_AUTHORITY_CODE"])
    reissue_no = 0
    if reissue_of is not None:
        reissue_no = 1 + (db.session.scalar(select(func.max(Certificate.reissue_no)).where(
            Certificate.case_id == case.id)) or 0)
    serial = counters.next_value(f"certificate:{authority}:{issue_date.year}:{kind}")
    number = format_number(config["CERT_PROVINCE_ABBR"], issue_date.year, config["CERT_CITY"],
                           kind, serial)
    content, owners = build_content(case, number, issue_date)
    if reissue_of is not None:
        content = CertificateContent.from_dict(
            {**content.as_dict(), "notes": "；".join(filter(None, [
                content.notes, f"本证书替代已作废的{reissue_of.number}"]))})
    content_hash = content.content_hash()
    certificate = Certificate(
        number=number, kind=kind, authority_code=authority, year=issue_date.year,
        serial=serial, case_id=case.id, reissue_no=reissue_no,
        unit_id=case.unit.id if case.unit else None,
        content_json=content.canonical_json().decode("utf-8"), content_hash=content_hash,
        payload=signing.make_payload(number, content_hash, issue_date,
                                     config["CERT_PAYLOAD_KEY"]),
        status=CertificateStatus.ISSUING, issue_date=issue_date,
        replaces_id=reissue_of.id if reissue_of else None,
        holders=[CertificateHolder(person_id=p, role=r) for p, r in dict(owners).items()])
    db.session.add(certificate)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    audit.record(actor_type=ActorType.SYSTEM, actor_id=actor, channel=Channel.SYSTEM,
                 action="certificate.numbered", entity_type="certificate",
                 entity_id=certificate.number,
                 after={"case": case.case_number, "kind": kind, "reissue_no": reissue_no})
    return certificate


def content_of(certificate: Certificate) -> CertificateContent:
    return CertificateContent.from_json(certificate.content_json.encode("utf-8"))


@dataclass(frozen=True)
class Files:
    png_key: str
    pdf_key: str


def make_files(certificate: Certificate) -> Files:
    """Render, sign and store the PNG and the PDF (encrypted by the storage). Writes
    nothing to the database; the keys follow from the certificate's serial, so making
    them again (a retry after a failure or a crash) overwrites the same two files."""
    config = current_app.config
    content = content_of(certificate)
    text = qr_text(certificate.payload)
    font = config["CJK_FONT_PATH"]
    png = render.render_png(content, text, font_path=font)
    pdf = signing.sign_pdf(render.render_pdf(content, text, font_path=font),
                           signing_cert_pem=config["CERT_SIGNING_CERT"],
                           signing_key_pem=config["CERT_SIGNING_KEY"],
                           ca_cert_pem=config["CERT_CA_CERT"])
    files = storage()
    base = f"certificates/{certificate.year}/{certificate.kind}-{certificate.serial:07d}"
    files.put(f"{base}.png", png, "image/png")
    files.put(f"{base}.pdf", pdf, "application/pdf")
    return Files(png_key=f"{base}.png", pdf_key=f"{base}.pdf")


def mark_issued(certificate: Certificate, files: Files) -> None:
    """The files are made: the certificate becomes valid and replaces the older ones of
    its unit (no commit)."""
    certificate.render_attempts += 1
    certificate.png_key, certificate.pdf_key = files.png_key, files.pdf_key
    CERTIFICATE_STATES.move(certificate, CertificateStatus.VALID)
    certificate.issued_at = utcnow()
    audit.record(actor_type=ActorType.SYSTEM, actor_id="certificates", channel=Channel.SYSTEM,
                 action="certificate.issued", entity_type="certificate",
                 entity_id=certificate.number, after={"case": _case_number(certificate)})
    _replace_older(certificate)


def _case_number(certificate: Certificate) -> str:
    case = db.session.get(Case, certificate.case_id)
    assert case is not None
    return case.case_number


def _replace_older(certificate: Certificate) -> None:
    """A new ownership certificate for a unit (a transfer, a change, a correction)
    replaces the valid ones issued before it for that unit."""
    if certificate.kind != "certificate" or certificate.unit_id is None:
        return
    for older in db.session.scalars(select(Certificate).where(
            Certificate.unit_id == certificate.unit_id, Certificate.kind == "certificate",
            Certificate.status == CertificateStatus.VALID, Certificate.id != certificate.id)):
        if older.id != certificate.replaces_id:
            revoke(older, "不动产权利已转移或变更，已换发新证", "system:certificates",
                   replaced_by=certificate)


def unfinished(limit: int = 50) -> list[int]:
    """Certificates numbered but not made yet (an earlier failure), to be tried again."""
    return list(db.session.scalars(select(Certificate.id).where(
        Certificate.status == CertificateStatus.ISSUING,
        Certificate.render_attempts < MAX_RENDER_ATTEMPTS).order_by(Certificate.id)
        .limit(limit)))


def count_failed_attempt(certificate_id: int) -> None:
    """A failed attempt at the files (no commit; the caller commits it on its own)."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is not None:
        certificate.render_attempts += 1


# --- reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Status:
    status: str
    content_hash: str
    reason: str | None


def status_of(number: str) -> Status | None:
    """The current status of a certificate number (for the verification tool and page)."""
    certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
    if certificate is None:
        return None
    return Status(certificate.status, certificate.content_hash, certificate.revoked_reason)
