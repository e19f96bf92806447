"""An owner reports an error on a certificate; the helpdesk answers it (and, for an error
outside the register, revokes the certificate and issues its replacement).

Each is one transaction, with its audit record and notice. A re-issue takes the new
number first, in its own short transaction (every number is taken that way, see
``app.usecases.issue_certificate``), and makes the new certificate's files with nothing
written; then the new certificate becomes valid, the old one is revoked naming it, the
request is answered and the reporter told, all in one commit. Should that fail, the new
number stays ``issuing`` and the request open: the job finishes the new certificate and
the helpdesk answers again.
"""

from __future__ import annotations

from app.accounts.models import Account
from app.cases.models import Case
from app.certificates import corrections
from app.certificates import service as certificates
from app.certificates.lifecycle import revoke
from app.certificates.models import Certificate, CorrectionOutcome, CorrectionRequest
from app.kernel.db import db
from app.kernel.errors import CaseStateConflict
from app.notifications import service as notifications
from app.usecases.issue_certificate import issue_made, number_certificate


def report_certificate_error(account: Account, number: str, item: str, description: str,
                             channel: str) -> CorrectionRequest:
    """The owner reports an error; due by the end of the next working day."""
    try:
        request = corrections.report(account, number, item, description, channel)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return request


def answer_correction(request_id: int, staff_id: int, outcome: str, text: str,
                      case_number: str | None = None) -> CorrectionRequest:
    """The helpdesk's answer; a re-issue revokes the certificate and issues a new one."""
    answer = corrections.check_answer(request_id, outcome, text, case_number)
    new = None
    try:
        if answer.outcome == CorrectionOutcome.REISSUED:
            new = _reissue(answer.certificate, corrections.reissue_reason(answer),
                           f"staff:{staff_id}")
        request = corrections.record_answer(answer, staff_id, new)
        reporter = corrections.reporter_of(request)
        if reporter is not None:
            # Tell the reporter (SMS with a link to the certificate, or WeChat).
            notifications.enqueue(
                [reporter], "correction_answered",
                {"item": request.item, "outcome": answer.outcome.label,
                 "hint": "详情请在小程序“我的证书”中查看",
                 "certificate_number": (new or answer.certificate).number},
                f"correction_answered:{request.id}")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return request


def _reissue(old: Certificate, reason: str, actor: str) -> Certificate:
    """The replacement, numbered (committed on its own) and made; then, uncommitted, the
    replacement valid and ``old`` revoked naming it."""
    case = db.session.get(Case, old.case_id)
    assert case is not None
    new = number_certificate(case, reissue_of=old, actor=actor)
    if new is None:
        raise CaseStateConflict("证书正在换发，请稍后刷新")
    files = certificates.make_files(new)
    issue_made(new, files)
    old = db.session.get(Certificate, old.id) or old
    revoke(old, reason, actor, replaced_by=new)
    return new
