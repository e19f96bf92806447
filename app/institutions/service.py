"""Institutions and their keys; the owners' consents; what an institution may read.

An institution sees a certificate's content only with an active consent from one of the
certificate's holders (granted, for a purpose and a number of days, in the
mini-program, and revocable there at any time) or, with the ``certificates:legal``
scope, on a stated legal basis (a court's case number …). Every look, allowed or refused,
becomes a :class:`CertificateAccess` row the owner sees ("who viewed my certificate")
and an audit record. A lookup's (the content, or a refusal) are committed before the
answer leaves; a verify call's (status only, no personal data) are queued for the batch
writer of :mod:`app.certificates.access_log`, which writes them within about a second
(docs/institutions.md, "What the owner sees").
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from limits import parse_many
from sqlalchemy import select

from app.accounts.models import Account
from app.cases.models import Case
from app.certificates import access_log, status_cache, viewing
from app.certificates.content import KIND_TITLES
from app.certificates.models import (
    Certificate,
    CertificateConsent,
    CertificateHolder,
    CertificateStatus,
)
from app.institutions.auth import ScopeMissing
from app.institutions.models import SCOPES, Institution, InstitutionKey
from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.kernel.timeutil import as_utc, utcnow
from app.kernel.validators import InvalidValue, mask_id_number, unified_social_credit_code

KINDS = {"bank": "银行", "agency": "中介机构", "court": "法院", "government": "政府部门"}
DEFAULT_RATE_LIMIT = "60 per minute"
DEFAULT_CONSENT_DAYS = 30
MAX_CONSENT_DAYS = 365
MIN_LEGAL_BASIS = 4
MAX_LEGAL_BASIS = 150
LEGAL_PREFIX = "依法查询："
CHANNEL = "api"  # CertificateAccess.channel of institution requests


class AuthorisationRequired(Forbidden):
    """No active consent of a holder for this institution, and no legal basis. (Not
    ``CONSENT_REQUIRED``: that is the 409 of the face-verification consent, app/errors.py.)"""

    code = "AUTHORISATION_REQUIRED"
    message = "查看证书内容需要权利人在小程序中授权本机构，或提供法定查询依据"


class CertificateNotValid(Conflict):
    code = "CERTIFICATE_NOT_VALID"
    message = "该证书已作废，不能授权机构查看"


# --- institutions and keys ---------------------------------------------------------------------

def _new_key(institution: Institution, scopes: list[str]) -> tuple[InstitutionKey, str]:
    secret = secrets.token_urlsafe(32)
    key = InstitutionKey(institution=institution, key_id="bdc_" + secrets.token_hex(12),
                         secret=secret, scopes=list(scopes))
    db.session.add(key)
    return key, secret


def _check_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    chosen = list(dict.fromkeys(scopes))
    unknown = [s for s in chosen if s not in SCOPES]
    if not chosen or unknown:
        raise ValidationFailed({"scopes": ["请选择权限范围：" + "、".join(SCOPES)]})
    return chosen


def create_institution(name: str, kind: str, credit_code: str | None, scopes: list[str],
                       rate_limit: str = DEFAULT_RATE_LIMIT, *,
                       actor_type: ActorType | str = ActorType.SYSTEM, actor_id: object = "cli",
                       channel: Channel | str = Channel.CLI,
                       ) -> tuple[Institution, str, str]:
    """A new institution with one key: ``(institution, key_id, secret)``. The secret is
    shown this once (stored encrypted; hand it over out of band)."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = ["机构名称应为1到100个字"]
    elif db.session.scalar(select(Institution.id).where(Institution.name == name)):
        errors["name"] = ["已有同名机构"]
    if kind not in KINDS:
        errors["kind"] = ["机构类型应为：" + "、".join(f"{k}（{v}）" for k, v in KINDS.items())]
    code = None
    if credit_code:
        try:
            code = unified_social_credit_code(credit_code)
        except InvalidValue as exc:
            errors["credit_code"] = [exc.message]
    try:
        chosen = _check_scopes(scopes)
    except ValidationFailed as exc:
        errors.update(exc.details["fields"])
        chosen = []
    rate_limit = (rate_limit or DEFAULT_RATE_LIMIT).strip()
    try:
        parse_many(rate_limit)
    except ValueError:
        errors["rate_limit"] = ["频率限制格式应如“60 per minute”或“10 per second;1000 per day”"]
    if errors:
        raise ValidationFailed(errors)
    institution = Institution(name=name, kind=kind, credit_code=code, rate_limit=rate_limit,
                              is_active=True)
    db.session.add(institution)
    key, secret = _new_key(institution, chosen)
    db.session.flush()
    audit.record(actor_type=actor_type, actor_id=actor_id, channel=channel,
                 action="institution.created", entity_type="institution",
                 entity_id=institution.id,
                 after={"kind": kind, "scopes": chosen, "rate_limit": rate_limit,
                        "key_id": key.key_id})
    db.session.commit()
    return institution, key.key_id, secret


def _key(key_id: str) -> InstitutionKey:
    key = db.session.scalar(select(InstitutionKey).where(InstitutionKey.key_id == key_id))
    if key is None:
        raise NotFound("未找到该密钥")
    return key


def rotate_key(key_id: str, *, revoke_old: bool = False, actor_id: object = "cli",
               channel: Channel | str = Channel.CLI) -> tuple[str, str]:
    """A new key with the same scopes for the same institution: ``(key_id, secret)``.
    The old key keeps working until revoked (``revoke_old`` does it at once), so the
    institution can switch without downtime."""
    old = _key(key_id)
    if old.revoked_at is not None:
        raise Conflict("该密钥已停用，不能轮换")
    key, secret = _new_key(old.institution, list(old.scopes or []))
    if revoke_old:
        old.revoked_at = utcnow()
    db.session.flush()
    audit.record(actor_type=ActorType.SYSTEM, actor_id=actor_id, channel=channel,
                 action="institution.key_rotated", entity_type="institution_key",
                 entity_id=old.key_id,
                 after={"new_key_id": key.key_id, "old_revoked": revoke_old,
                        "institution_id": old.institution_id})
    db.session.commit()
    return key.key_id, secret


def revoke_key(key_id: str, *, actor_id: object = "cli",
               channel: Channel | str = Channel.CLI) -> InstitutionKey:
    """Stop a key at once (idempotent)."""
    key = _key(key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(actor_type=ActorType.SYSTEM, actor_id=actor_id, channel=channel,
                     action="institution.key_revoked", entity_type="institution_key",
                     entity_id=key.key_id, after={"institution_id": key.institution_id})
        db.session.commit()
    return key


def active_institutions() -> list[dict[str, Any]]:
    """What an owner may choose from when granting a consent."""
    rows = db.session.scalars(select(Institution).where(Institution.is_active.is_(True))
                              .order_by(Institution.kind, Institution.name))
    return [_institution_ref(i) for i in rows]


def _institution_ref(institution: Institution) -> dict[str, Any]:
    return {"id": institution.id, "name": institution.name, "kind": institution.kind,
            "kind_label": KINDS.get(institution.kind, institution.kind)}


# --- consents (the owner's side) -------------------------------------------------------------

def _consent_status(consent: CertificateConsent) -> str:
    if consent.revoked_at is not None:
        return "revoked"
    return "active" if as_utc(consent.expires_at) > utcnow() else "expired"


CONSENT_STATUS_LABELS = {"active": "有效", "expired": "已过期", "revoked": "已撤销"}


def _consent_view(consent: CertificateConsent, account: Account) -> dict[str, Any]:
    institution = db.session.get(Institution, consent.institution_id)
    assert institution is not None
    status = _consent_status(consent)
    return {"id": consent.id, "institution": _institution_ref(institution),
            "purpose": consent.purpose, "granted_at": consent.granted_at,
            "expires_at": consent.expires_at, "revoked_at": consent.revoked_at,
            "status": status, "status_label": CONSENT_STATUS_LABELS[status],
            "granted_by_me": consent.person_id == account.person_id}


def grant_consent(account: Account, certificate_number: str, institution_id: int,
                  purpose: str, days: int = DEFAULT_CONSENT_DAYS, *,
                  channel: str = Channel.MINIPROGRAM) -> dict[str, Any]:
    """The owner lets one institution see this certificate's content for ``days``
    (1–365, default 30). Only a holder of the certificate (404 for anyone else)."""
    certificate = viewing.owned(account, certificate_number)
    assert account.person_id is not None  # owned() found it through the person
    errors: dict[str, list[str]] = {}
    purpose = (purpose or "").strip()
    if not 2 <= len(purpose) <= 100:
        errors["purpose"] = ["请填写用途（2到100个字），如“办理抵押贷款”"]
    if not isinstance(days, int) or not 1 <= days <= MAX_CONSENT_DAYS:
        errors["days"] = [f"授权期限应为1到{MAX_CONSENT_DAYS}天"]
    if errors:
        raise ValidationFailed(errors)
    institution = db.session.get(Institution, institution_id)
    if institution is None or not institution.is_active:
        raise NotFound("未找到该机构")
    if certificate.status_enum != CertificateStatus.VALID:
        raise CertificateNotValid()
    now = utcnow()
    consent = CertificateConsent(certificate_id=certificate.id, person_id=account.person_id,
                                 institution_id=institution.id, purpose=purpose,
                                 granted_at=now, expires_at=now + timedelta(days=days))
    db.session.add(consent)
    db.session.flush()
    audit.record(actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
                 action="certificate.consent_granted", entity_type="certificate_consent",
                 entity_id=consent.id,
                 after={"certificate": certificate.number, "institution_id": institution.id,
                        "days": days, "expires_at": consent.expires_at.isoformat()})
    db.session.commit()
    return _consent_view(consent, account)


def revoke_consent(account: Account, certificate_number: str, consent_id: int, *,
                   channel: str = Channel.MINIPROGRAM) -> dict[str, Any]:
    """Any holder of the certificate may end any consent on it, at once (idempotent)."""
    certificate = viewing.owned(account, certificate_number)
    consent = db.session.scalar(select(CertificateConsent).where(
        CertificateConsent.id == consent_id,
        CertificateConsent.certificate_id == certificate.id))
    if consent is None:
        raise NotFound("未找到该授权")
    if consent.revoked_at is None:
        before = _consent_status(consent)
        consent.revoked_at = utcnow()
        audit.record(actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
                     action="certificate.consent_revoked", entity_type="certificate_consent",
                     entity_id=consent.id, before={"status": before},
                     after={"status": "revoked", "certificate": certificate.number,
                            "institution_id": consent.institution_id})
        db.session.commit()
    return _consent_view(consent, account)


def consents_of(account: Account, certificate_number: str) -> list[dict[str, Any]]:
    """Every consent on the owner's certificate (by any of its holders), newest first."""
    certificate = viewing.owned(account, certificate_number)
    rows = db.session.scalars(select(CertificateConsent).where(
        CertificateConsent.certificate_id == certificate.id)
        .order_by(CertificateConsent.id.desc()))
    return [_consent_view(c, account) for c in rows]


# --- what institutions read ------------------------------------------------------------------

def _issued(number: str) -> Certificate | None:
    """The certificate by number if it has been issued (as the owner would see it)."""

    certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
    if certificate is None or certificate.status_enum == CertificateStatus.ISSUING:
        return None
    case = db.session.get(Case, certificate.case_id)
    if case is None or case.status_enum not in viewing.VISIBLE_CASE_STATUSES:
        return None
    return certificate


def _active_consent(certificate: Certificate, institution: Institution
                    ) -> CertificateConsent | None:
    holders = select(CertificateHolder.person_id).where(
        CertificateHolder.certificate_id == certificate.id)
    rows = db.session.scalars(select(CertificateConsent).where(
        CertificateConsent.certificate_id == certificate.id,
        CertificateConsent.institution_id == institution.id,
        CertificateConsent.revoked_at.is_(None),
        CertificateConsent.person_id.in_(holders))
        .order_by(CertificateConsent.id.desc()))
    now = utcnow()
    return next((c for c in rows if as_utc(c.expires_at) > now), None)


@dataclass(frozen=True)
class _Decision:
    allowed: bool
    basis: str | None  # recorded and shown to the owner
    basis_type: str | None  # consent | legal
    consent: CertificateConsent | None = None
    error: Forbidden | None = None
    reason: str | None = None


def _decide(certificate: Certificate, institution: Institution, key: InstitutionKey,
            legal_basis: str | None) -> _Decision:
    if legal_basis:
        stated = LEGAL_PREFIX + legal_basis
        if key.grants("certificates:legal"):
            return _Decision(True, stated, "legal")
        if not key.grants("certificates:read"):
            return _Decision(False, stated, "legal", error=ScopeMissing(
                required=["certificates:legal"]), reason="scope_missing")
        consent = _active_consent(certificate, institution)
        if consent is None:  # a legal basis needs the legal scope; no consent either
            return _Decision(False, stated, "legal", error=ScopeMissing(
                required=["certificates:legal"]), reason="legal_scope_missing")
    else:
        if not key.grants("certificates:read"):
            return _Decision(False, None, None, error=ScopeMissing(
                required=["certificates:read"]), reason="scope_missing")
        consent = _active_consent(certificate, institution)
        if consent is None:
            return _Decision(False, None, "consent", error=AuthorisationRequired(),
                             reason="no_consent")
    return _Decision(True, f"授权#{consent.id}：{consent.purpose}", "consent", consent)


def _masked(holder: Any) -> dict[str, str]:
    return {"name": holder.name, "id_number": mask_id_number(holder.id_number) or "",
            "share": holder.share}


def _record(certificate: Certificate | None, number: str, institution: Institution,
            key: InstitutionKey, action: str, outcome: str, basis: str | None,
            after: dict[str, Any]) -> None:
    if certificate is not None:
        viewing.record_access(certificate, accessor_type="institution", accessor_id=key.key_id,
                              label=institution.name, action=action, channel=CHANNEL,
                              outcome=outcome, basis=basis[:200] if basis else None)
    audit.record(actor_type=ActorType.INSTITUTION, actor_id=key.key_id, channel=Channel.API,
                 action=f"institution.certificate_{action}", entity_type="certificate",
                 entity_id=number[:64],
                 after={"outcome": outcome, "institution_id": institution.id, **after},
                 note=basis[:500] if basis else None)
    db.session.commit()


def lookup(institution: Institution, key: InstitutionKey, number: str,
           legal_basis: str | None = None) -> dict[str, Any]:
    """The certificate's content for an authorised institution (ID numbers masked);
    a revoked one answers its status and the number replacing it, without content.
    Recorded and audited whatever the outcome; 403 ``AUTHORISATION_REQUIRED`` (or
    ``SCOPE_MISSING``) without consent or legal basis, 404 for an unknown number."""
    legal_basis = (legal_basis or "").strip() or None
    if legal_basis is not None and not MIN_LEGAL_BASIS <= len(legal_basis) <= MAX_LEGAL_BASIS:
        raise ValidationFailed({"legal_basis": [
            f"法定依据应为{MIN_LEGAL_BASIS}到{MAX_LEGAL_BASIS}个字，如法院案号"]})
    certificate = _issued(number)
    if certificate is None:
        _record(None, number, institution, key, "lookup", "not_found",
                LEGAL_PREFIX + legal_basis if legal_basis else None, {})
        raise NotFound("未找到该证书")
    decision = _decide(certificate, institution, key, legal_basis)
    details = {"basis_type": decision.basis_type,
               "consent_id": decision.consent.id if decision.consent else None}
    if not decision.allowed:
        _record(certificate, number, institution, key, "lookup", "denied", decision.basis,
                {**details, "reason": decision.reason})
        assert decision.error is not None
        raise decision.error
    _record(certificate, number, institution, key, "lookup", "allowed", decision.basis,
            {**details, "status": certificate.status})
    replaced_by = (db.session.get(Certificate, certificate.replaced_by_id)
                   if certificate.replaced_by_id else None)
    result: dict[str, Any] = {
        "number": certificate.number, "kind": certificate.kind,
        "kind_label": KIND_TITLES[certificate.kind], "status": certificate.status,
        "status_label": certificate.status_enum.label, "issue_date": certificate.issue_date,
        "revoked_at": certificate.revoked_at,
        "replaced_by": replaced_by.number if replaced_by else None,
        "basis_type": decision.basis_type, "basis": decision.basis,
        "consent_expires_at": decision.consent.expires_at if decision.consent else None,
        "content": None, "content_hash": None,
    }
    if certificate.status_enum == CertificateStatus.VALID:
        content = viewing.content_of(certificate)
        data = content.as_dict()
        data["holders"] = [_masked(h) for h in content.holders]
        data["obligors"] = [_masked(h) for h in content.obligors]
        result["content"] = data
        result["content_hash"] = certificate.content_hash
    return result


def verify_status(institution: Institution, key: InstitutionKey, number: str,
                  content_hash: str | None = None) -> dict[str, Any]:
    """valid / revoked / unknown, the issue date, and whether ``content_hash`` is the
    certificate's: no personal data. Read through the status cache (a revocation shows
    at once in this process, within its TTL in others); recorded (action ``verify``) and
    audited through the access log's batch writer, in one transaction per batch."""
    found = status_cache.facts(number)
    if found is None:
        status, issue_date, matches = "unknown", None, None if content_hash is None else False
    else:
        status, issue_date = found.status, found.issue_date
        matches = None if content_hash is None else hmac.compare_digest(
            found.content_hash.lower(), content_hash.strip().lower())
    key_id = key.key_id
    access = None if found is None else access_log.access_row(
        found.id, accessor_type="institution", accessor_id=key_id, label=institution.name,
        action="verify", channel=CHANNEL)
    access_log.record(access, access_log.audit_row(
        actor_type=ActorType.INSTITUTION, actor_id=key_id, channel=Channel.API,
        action="institution.certificate_verify", entity_type="certificate",
        entity_id=number[:64],
        after={"outcome": "allowed" if found is not None else "not_found",
               "institution_id": institution.id, "status": status,
               "hash_checked": content_hash is not None, "hash_matches": matches}))
    return {"number": number, "status": status,
            "status_label": {"valid": "有效", "revoked": "已作废"}.get(status, "未查到该证书"),
            "issue_date": issue_date, "content_hash_matches": matches}
