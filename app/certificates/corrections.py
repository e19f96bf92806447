"""Errors reported by owners, answered by the helpdesk within one working day.

An error outside the register (the certificate says something the register does not)
is answered by revoking the certificate and issuing a new one from the register, with a
new number; the old one names its replacement and shows revoked everywhere at once (the
QR page, the institution API and the verification tool all read the same row). An error
in the register needs a 更正登记 case; its 登簿 issues the corrected certificate, which
replaces the old one. Reporting and answering are use cases
(``app.usecases.correct_certificate``): the functions here flush, the use case commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.accounts.models import Account
from app.cases.models import Case
from app.certificates.models import (
    CORRECTION_STATES,
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
    """The owner reports an error; due by the end of the next working day (no commit)."""
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


@dataclass(frozen=True)
class Answer:
    request: CorrectionRequest
    certificate: Certificate
    outcome: CorrectionOutcome
    text: str
    correction_case_id: int | None


def check_answer(request_id: int, outcome: str, text: str,
                 case_number: str | None = None) -> Answer:
    """The helpdesk's answer, validated (nothing written yet)."""
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
    correction_case_id = None
    if chosen == CorrectionOutcome.REGISTER_CORRECTION and case_number:
        case = db.session.scalar(select(Case).where(Case.case_number == case_number.strip()))
        if case is None or case.business_type_code != "correction":
            raise ValidationFailed({"case_number": ["请填写该单元的更正登记办件号"]})
        correction_case_id = case.id
    return Answer(request, certificate, chosen, text, correction_case_id)


def reissue_reason(answer: Answer) -> str:
    return f"记载有误（{answer.request.item}）：{answer.text}"[:300]


def record_answer(answer: Answer, staff_id: int,
                  new: Certificate | None = None) -> CorrectionRequest:
    """The request is answered (no commit)."""
    request = answer.request
    if answer.correction_case_id is not None:
        request.correction_case_id = answer.correction_case_id
    if new is not None:
        request.new_certificate_id = new.id
    CORRECTION_STATES.move(request, CorrectionStatus.ANSWERED)
    request.outcome = answer.outcome.value
    request.answer = answer.text
    request.answered_at = utcnow()
    request.answered_by = staff_id
    audit.record(actor_type=ActorType.STAFF, actor_id=staff_id, channel=Channel.ADMIN,
                 action="certificate.correction_answered", entity_type="certificate",
                 entity_id=answer.certificate.number,
                 after={"correction": request.id, "outcome": answer.outcome.value,
                        "new_certificate": new.number if new else None})
    return request


def reporter_of(request: CorrectionRequest) -> Account | None:
    return db.session.get(Account, request.account_id)
