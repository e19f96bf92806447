"""Property units, business types (as data), cases and their applicants."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.cases.workflow import CaseRules, CaseStatus, StepOrder
from app.kernel.db import EncryptedJSON, EncryptedText, Model, UTCDateTime
from app.kernel.timeutil import utcnow
from app.people.models import Person


class PropertyUnit(Model):
    """A property unit (不动产单元) with its 28-character number kept in queryable parts."""

    __tablename__ = "property_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_number: Mapped[str] = mapped_column(String(28), unique=True)
    division_code: Mapped[str] = mapped_column(String(6), index=True)
    cadastral_zone: Mapped[str] = mapped_column(String(6))
    parcel_code: Mapped[str] = mapped_column(String(7))
    fixture_code: Mapped[str] = mapped_column(String(9))
    location: Mapped[str] = mapped_column(String(200))
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    use: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BusinessType(Model):
    """A kind of registration, defined as data (see app/cases/business_types.json)."""

    __tablename__ = "business_types"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    step_order: Mapped[str] = mapped_column(String(30))
    certificate_kind: Mapped[str | None] = mapped_column(String(20))
    time_limit_working_days: Mapped[int] = mapped_column(default=5)
    # roles: [{code, label, min, max, kinds}], materials: [{code, name, roles, required}],
    # departments: [codes], fee_items: [codes], form_sections: [codes]
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def rules(self) -> CaseRules:
        return CaseRules(
            step_order=StepOrder(self.step_order),
            issues_certificate=self.certificate_kind is not None,
        )

    @property
    def roles(self) -> list[dict[str, Any]]:
        return list(self.definition.get("roles", []))

    @property
    def departments(self) -> list[str]:
        return list(self.definition.get("departments", []))

    @property
    def materials(self) -> list[dict[str, Any]]:
        return list(self.definition.get("materials", []))

    @property
    def fee_items(self) -> list[str]:
        return list(self.definition.get("fee_items", []))

    def role_label(self, role: str) -> str:
        return next((r["label"] for r in self.roles if r["code"] == role), role)


class Case(Model):
    """One application (办件), from draft to archive."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(String(32), unique=True)
    business_type_code: Mapped[str] = mapped_column(ForeignKey("business_types.code"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("property_units.id"), index=True)
    status: Mapped[str] = mapped_column(String(30), default=CaseStatus.DRAFT, index=True)
    created_by_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How many times the case was submitted: the round of checks and reviews.
    submission_count: Mapped[int] = mapped_column(default=0)
    # The combined application form, one JSON object per section (see app/cases/form.py):
    # addresses, phones, prices and contract numbers, so encrypted at rest as a whole.
    form_data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("cases.form_data"),
                                                      default=dict)
    # Optimistic locking: two writers of the same case cannot both win.
    version: Mapped[int] = mapped_column(default=1)

    business_type: Mapped[BusinessType] = relationship(lazy="joined")
    unit: Mapped[PropertyUnit | None] = relationship(lazy="joined")
    applicants: Mapped[list[CaseApplicant]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseApplicant.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_enum(self) -> CaseStatus:
        return CaseStatus(self.status)


class CaseApplicant(Model):
    """A party to a case in one role (buyer, seller, mortgagee, agent …)."""

    __tablename__ = "case_applicants"
    __table_args__ = (UniqueConstraint("case_id", "person_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    share: Mapped[str | None] = mapped_column(String(20))  # e.g. "1/2"; co-ownership
    # A legal person acts through a natural person, who confirms for it.
    representative_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    confirmed_channel: Mapped[str | None] = mapped_column(String(20))

    case: Mapped[Case] = relationship(back_populates="applicants")
    person: Mapped[Person] = relationship(lazy="joined", foreign_keys=[person_id])
    representative: Mapped[Person | None] = relationship(
        lazy="joined", foreign_keys=[representative_id])

    @property
    def confirmer_id(self) -> int:
        """The Person who confirms this applicant: itself, or a legal person's representative."""
        return self.representative_id or self.person_id


class CaseDocument(Model):
    """A document the platform made for a case (the combined application form PDF …)."""

    __tablename__ = "case_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    submission: Mapped[int] = mapped_column()
    storage_key: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseRating(Model):
    """A party's rating of the service on a finished case (好差评): once per person."""

    __tablename__ = "case_ratings"
    __table_args__ = (UniqueConstraint("case_id", "person_id", name="uq_case_ratings_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    score: Mapped[int]  # 5 非常满意 … 1 非常不满意
    # Free text may name people or places: encrypted like every personal field.
    comment: Mapped[str | None] = mapped_column(EncryptedText("case_ratings.comment"))
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
