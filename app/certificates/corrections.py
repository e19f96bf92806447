"""Errors reported by owners, answered by the helpdesk within one working day; revoking
and re-issuing certificates.

An error outside the register (the certificate says something the register does not)
is answered by revoking the certificate and issuing a new one from the register, with a
new number; the old one names its replacement and shows revoked everywhere at once (the
QR page, the institution API and the verification tool all read the same row). An error
in the register needs a 更正登记 case; its 登簿 issues the corrected certificate, which
replaces the old one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.accounts.models import Account
from app.cases.models import Case
from app.certificates import service
from app.certificates.models import (
    Certificate,
    CertificateStatus,
    CorrectionOutcome,
    CorrectionRequest,
    CorrectionStatus,
)
from app.certificates.viewing import owned
from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.errors import CaseStateConflict, NotFound, ValidationFailed
from app.kernel.timeutil import utcnow
from app.workdays.service import add_working_days, review_clock

ANSWER_WITHIN_WORKING_DAYS = 1
ITEMS = ("权利人", "共有情况", "坐落", "不动产单元号", "权利类型", "权利性质", "用途", "面积",
         "使用期限", "权利其他状况", "附记", "其他")


def report(account: Account, number: str, item: str, description: str,
           channel: str) -> CorrectionRequest:
    """The owner reports an error; due by the end of the next working day."""
    certificate = owned(account, number)
    if certificate.status_enum != CertificateStatus.VALID:
        raise CaseStateConflict("该证书已作废，请查看替代证书", status=certificate.status)
    errors: dict[str, list[str]] = {}
    if item not in ITEMS:
        errors["item"] = ["请选择有误的记载事项"]
    description = (description or "").strip()
    if not 4 <= len(description) <= 500:
        errors["description"] = ["请说明哪里有误、正确应为什么（4 至 500 字）"]
    if errors:
        raise ValidationFailed(errors)
    open_one = db.session.scalar(select(CorrectionRequest).where(
        CorrectionRequest.certificate_id == certificate.id,
        CorrectionRequest.status == CorrectionStatus.OPEN))
    if open_one is not None:
        raise CaseStateConflict("该证书已有处理中的更正申请，请等待答复")
    now = utcnow()
    request = CorrectionRequest(
        certificate_id=certificate.id, account_id=account.id, item=item,
        description=description, created_at=now,
        due_at=add_working_days(now, ANSWER_WITHIN_WORKING_DAYS))
    db.session.add(request)
    db.session.flush()
    audit.record(actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
                 action="certificate.correction_reported", entity_type="certificate",
                 entity_id=certificate.number, after={"correction": request.id, "item": item})
    db.session.commit()
    return request


def requests_of(account: Account, number: str) -> list[CorrectionRequest]:
    certificate = owned(account, number)
    return list(db.session.scalars(select(CorrectionRequest).where(
        CorrectionRequest.certificate_id == certificate.id).order_by(CorrectionRequest.id)))


def view(request: CorrectionRequest) -> dict[str, Any]:
    clock = review_clock(request.created_at, ANSWER_WITHIN_WORKING_DAYS,
                         now=request.answered_at)
    new = (db.session.get(Certificate, request.new_certificate_id)
           if request.new_certificate_id else None)
    return {"id": request.id, "item": request.item, "description": request.description,
            "status": request.status, "status_label": request.status_enum.label,
            "created_at": request.created_at, "due_at": request.due_at,
            "clock_label": clock.label if request.status == CorrectionStatus.OPEN else None,
            "overdue": clock.overdue, "answered_at": request.answered_at,
            "outcome": request.outcome,
            "outcome_label": CorrectionOutcome(request.outcome).label if request.outcome else None,
            "answer": request.answer, "new_certificate": new.number if new else None}


def open_requests() -> list[CorrectionRequest]:
    """For the helpdesk, oldest (most urgent) first."""
    return list(db.session.scalars(select(CorrectionRequest).where(
        CorrectionRequest.status == CorrectionStatus.OPEN).order_by(CorrectionRequest.due_at)))


def answer(request_id: int, staff_id: int, outcome: str, text: str,
           case_number: str | None = None) -> CorrectionRequest:
    """The helpdesk's answer; a re-issue revokes the certificate and issues a new one."""
    request = db.session.get(CorrectionRequest, request_id)
    if request is None:
        raise NotFound("未找到该更正申请")
    if request.status_enum != CorrectionStatus.OPEN:
        raise CaseStateConflict("该更正申请已答复")
    try:
        chosen = CorrectionOutcome(outcome)
    except ValueError:
        raise ValidationFailed({"outcome": ["请选择处理结果"]}) from None
    text = (text or "").strip()
    if not 4 <= len(text) <= 500:
        raise ValidationFailed({"answer": ["请填写给权利人的答复（4 至 500 字）"]})
    certificate = db.session.get(Certificate, request.certificate_id)
    assert certificate is not None
    if chosen == CorrectionOutcome.REGISTER_CORRECTION and case_number:
        case = db.session.scalar(select(Case).where(Case.case_number == case_number.strip()))
        if case is None or case.business_type_code != "correction":
            raise ValidationFailed({"case_number": ["请填写该单元的更正登记办件号"]})
        request.correction_case_id = case.id
    new = None
    if chosen == CorrectionOutcome.REISSUED:
        new = reissue(certificate, f"记载有误（{request.item}）：{text}"[:300],
                      f"staff:{staff_id}")
        request = db.session.get(CorrectionRequest, request_id) or request
        request.new_certificate_id = new.id
    request.status = CorrectionStatus.ANSWERED
    request.outcome = chosen.value
    request.answer = text
    request.answered_at = utcnow()
    request.answered_by = staff_id
    audit.record(actor_type=ActorType.STAFF, actor_id=staff_id, channel=Channel.ADMIN,
                 action="certificate.correction_answered", entity_type="certificate",
                 entity_id=certificate.number,
                 after={"correction": request.id, "outcome": chosen.value,
                        "new_certificate": new.number if new else None})
    _notify_answered(request, chosen, new or certificate)
    db.session.commit()
    return request


def _notify_answered(request: CorrectionRequest, outcome: CorrectionOutcome,
                     certificate: Certificate) -> None:
    """Tell the reporter (SMS with a link to the certificate, or WeChat), with the answer."""
    from app.notifications import service as notifications

    reporter = db.session.get(Account, request.account_id)
    if reporter is not None:
        notifications.enqueue(
            [reporter], "correction_answered",
            {"item": request.item, "outcome": outcome.label,
             "hint": "详情请在小程序“我的证书”中查看", "certificate_number": certificate.number},
            f"correction_answered:{request.id}")


def revoke(certificate: Certificate, reason: str, actor: str,
           replaced_by: Certificate | None = None,
           details: dict[str, Any] | None = None) -> None:
    """Revoke (the caller commits): shown revoked everywhere from the commit on.

    ``actor`` is ``staff:<id>`` or ``system:<name>``; ``details`` go into the audit record
    (e.g. the 注销登记 case that ended the right)."""
    if certificate.status_enum == CertificateStatus.REVOKED:
        return
    certificate.status = CertificateStatus.REVOKED
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


def reissue(old: Certificate, reason: str, actor: str) -> Certificate:
    """Revoke ``old`` and issue its replacement from the register, with a new number
    (commits: the new number is taken in its own transaction, as every number is)."""
    case = db.session.get(Case, old.case_id)
    assert case is not None
    db.session.commit()  # the answer so far; numbering commits on its own
    new = service.allocate(case, reissue_of=old, actor=actor)
    if new is None:
        raise CaseStateConflict("证书正在换发，请稍后刷新")
    new = service.finish(new)
    old = db.session.get(Certificate, old.id) or old
    revoke(old, reason, actor, replaced_by=new)
    db.session.commit()
    return new
