"""Certificates, who holds them, and who looked at them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.db import EncryptedText, Model, UTCDateTime
from app.kernel.states import StateMachine
from app.kernel.timeutil import utcnow


class CertificateStatus(enum.StrEnum):
    ISSUING = "issuing"  # numbered and committed; the files are being made (the job retries)
    VALID = "valid"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return {"issuing": "生成中", "valid": "有效", "revoked": "已作废"}[self.value]


# Numbered (issuing) → files made (valid); revoked when the right ends, after a correction
# or a newer certificate — also while still being made (a discharged mortgage's proof
# must never become valid).
CERTIFICATE_STATES = StateMachine("certificate", {
    (CertificateStatus.ISSUING, CertificateStatus.VALID),
    (CertificateStatus.ISSUING, CertificateStatus.REVOKED),
    (CertificateStatus.VALID, CertificateStatus.REVOKED),
})


class Certificate(Model):
    __tablename__ = "certificates"
    # Serials come from app.kernel.counters ("certificate:<authority>:<year>:<kind>"): taken in
    # the transaction that inserts the row, so a rolled-back issuance gives its number back.
    # One certificate per case and issue: a concurrent second issuance fails on
    # (case_id, reissue_no) and gives its number back the same way.
    __table_args__ = (UniqueConstraint("authority_code", "year", "kind", "serial"),
                      UniqueConstraint("case_id", "reissue_no"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(12))  # certificate | proof
    authority_code: Mapped[str] = mapped_column(String(12))
    year: Mapped[int] = mapped_column()
    serial: Mapped[int] = mapped_column()
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reissue_no: Mapped[int] = mapped_column(default=0)  # 0, then 1, 2… for re-issues
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("property_units.id"), index=True)
    # The canonical JSON of the content (names, ID numbers): encrypted at rest.
    content_json: Mapped[str] = mapped_column(EncryptedText("certificates.content"))
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(String(400))  # the signed compact QR payload
    status: Mapped[str] = mapped_column(String(10), default=CertificateStatus.ISSUING,
                                        index=True)
    issue_date: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    pdf_key: Mapped[str | None] = mapped_column(String(200))  # in the file storage
    png_key: Mapped[str | None] = mapped_column(String(200))
    render_attempts: Mapped[int] = mapped_column(default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(300))
    revoked_by: Mapped[str | None] = mapped_column(String(40))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    version: Mapped[int] = mapped_column(default=1)

    holders: Mapped[list[CertificateHolder]] = relationship(
        cascade="all, delete-orphan", order_by="CertificateHolder.id", lazy="selectin")

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_enum(self) -> CertificateStatus:
        return CertificateStatus(self.status)


class CertificateHolder(Model):
    """Who may open a certificate as its owner (the right holders; for a proof, the
    mortgagee and the mortgagor)."""

    __tablename__ = "certificate_holders"
    __table_args__ = (UniqueConstraint("certificate_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # holder | obligor


class CertificateAccess(Model):
    """Every look at a certificate: by its owner, an institution, the public QR page, or
    staff; allowed or refused. Shown to the owner ("who viewed my certificate")."""

    __tablename__ = "certificate_accesses"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    accessor_type: Mapped[str] = mapped_column(String(12))  # owner|institution|public|staff
    accessor_id: Mapped[str | None] = mapped_column(String(64))
    accessor_label: Mapped[str] = mapped_column(String(100))  # shown to the owner
    action: Mapped[str] = mapped_column(String(20))  # view_image|download_pdf|verify|lookup
    channel: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(10))  # allowed | denied
    basis: Mapped[str | None] = mapped_column(String(200))  # consent id or legal basis


class CertificateConsent(Model):
    """An owner's authorisation for one institution to see one certificate's content,
    for a purpose, until it expires or the owner revokes it."""

    __tablename__ = "certificate_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)  # granted by
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(100))  # e.g. 办理抵押贷款
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CorrectionStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"

    @property
    def label(self) -> str:
        return {"open": "处理中", "answered": "已答复"}[self.value]


# A correction request is answered once.
CORRECTION_STATES = StateMachine("certificate_correction", {
    (CorrectionStatus.OPEN, CorrectionStatus.ANSWERED),
})


class CorrectionOutcome(enum.StrEnum):
    REISSUED = "reissued"  # an error outside the register: revoked and re-issued
    REGISTER_CORRECTION = "register_correction"  # the register is wrong: 更正登记 first
    NO_ERROR = "no_error"  # the certificate matches the register

    @property
    def label(self) -> str:
        return {"reissued": "已作废并换发新证", "register_correction": "需办理更正登记",
                "no_error": "经核查证书无误"}[self.value]


class CorrectionRequest(Model):
    """An owner reports an error on a certificate; the helpdesk answers within one
    working day (``due_at``, on the official calendar)."""

    __tablename__ = "certificate_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    item: Mapped[str] = mapped_column(String(40))  # which entry is wrong (坐落, 面积 …)
    description: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default=CorrectionStatus.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))
    answer: Mapped[str | None] = mapped_column(String(500))  # shown to the owner
    correction_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    new_certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_enum(self) -> CorrectionStatus:
        return CorrectionStatus(self.status)
