"""Issuing certificates automatically after payment and 登簿, with no staff action.

A case whose status table allows ``certificate_issued`` (pay-first types once
registered, register-first types once paid; never before payment) gets its certificate
from the job runner (:func:`issue_due`) in three steps:

1. **Number** (:func:`number_certificate`, one short transaction): the serial is taken
   from the counter ``certificate:<authority>:<year>:<kind>`` and the certificate row is
   committed as ``issuing`` with its content, hash and signed QR payload. A second,
   concurrent issuance for the same case fails on ``(case_id, reissue_no)`` and its
   transaction, counter increment included, rolls back: numbers have no gaps. This
   commit is a reservation on purpose: the files need the number, and rendering them
   must not hold the counter (and every other issuance) while it runs.
2. **Files**, with no transaction writing: the PNG and the signed PDF are rendered and
   put in the file storage. Their keys follow from the serial, so making them again
   overwrites the same two files: a crash or a failure here loses nothing, the row stays
   ``issuing`` and the job makes them again (at most ``MAX_RENDER_ATTEMPTS`` times).
3. **Issue** (:func:`finish_certificate`, ONE transaction): the certificate becomes
   ``valid`` (older certificates of the unit are revoked), a paper certificate's
   delivery is prepared, the case moves to ``certificate_issued``, the audit records
   and the owners' notice in the outbox — committed once, all or nothing.
"""

from __future__ import annotations

import logging

from app.cases.models import Case
from app.cases.service import transition
from app.cases.workflow import CaseStatus, can_move
from app.certificates import service as certificates
from app.certificates.models import Certificate
from app.deliveries import service as deliveries
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.notifications import service as notifications
from app.review.service import case_accounts

logger = logging.getLogger(__name__)


def number_certificate(case: Case, *, reissue_of: Certificate | None = None,
                       actor: str = "system") -> Certificate | None:
    """Step 1: number the certificate and commit it as ``issuing``. None when another
    issuance for the case won the race (nothing is consumed)."""
    certificate = certificates.allocate(case, reissue_of=reissue_of, actor=actor)
    if certificate is not None:
        db.session.commit()
    return certificate


def finish_certificate(certificate: Certificate) -> Certificate:
    """Steps 2 and 3: make the files (no write pending), then issue in one transaction."""
    files = certificates.make_files(certificate)
    try:
        issue_made(certificate, files)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return certificate


def issue_made(certificate: Certificate, files: certificates.Files) -> Case:
    """Step 3 without its commit (a correction's answer adds to the same transaction)."""
    certificates.mark_issued(certificate, files)
    case = db.session.get(Case, certificate.case_id)
    assert case is not None
    deliveries.prepare(case, certificate)  # a paper certificate: its delivery
    if can_move(case.status_enum, CaseStatus.CERTIFICATE_ISSUED, case.business_type.rules):
        notifications.enqueue(
            case_accounts(case), "certificate_issued",
            {"case_number": case.case_number, "status_label": "已发证",
             "hint": "电子证书可在小程序查看和下载"},
            f"certificate_issued:{case.case_number}")
        transition(case, CaseStatus.CERTIFICATE_ISSUED, actor_type=ActorType.SYSTEM,
                   actor_id="certificates", channel=Channel.SYSTEM,
                   reason=f"电子证书 {certificate.number} 已生成", commit=False)
    return case


def issue_certificate(case: Case) -> Certificate | None:
    """Number, make and issue a case's certificate. None when another issuance won."""
    certificate = number_certificate(case)
    return finish_certificate(certificate) if certificate is not None else None


def issue_due() -> int:
    """The job: number certificates for every case that is due, then make and issue
    every one left ``issuing`` (just numbered, or by an earlier failure). Returns how
    many were numbered."""
    numbered = 0
    for case in certificates.due_cases():
        try:
            if number_certificate(case) is not None:
                numbered += 1
        except Exception:  # one case must not stop the others
            logger.exception("numbering a certificate for case %s failed", case.id)
            db.session.rollback()
    for certificate_id in certificates.unfinished():
        certificate = db.session.get(Certificate, certificate_id)
        if certificate is None:
            continue
        try:
            finish_certificate(certificate)
        except Exception:
            logger.exception("rendering certificate %s failed", certificate_id)
            certificates.count_failed_attempt(certificate_id)
            db.session.commit()
    return numbered
