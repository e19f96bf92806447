"""The register (登记簿): one version per registration, never overwritten.

Each registration of a unit writes a new ``RegisterEntry`` (version n+1) and closes the
previous one (``superseded_at``); owners and shares belong to a version. Encumbrances
(mortgages, seizures) have their own life: registered by one case, discharged by another.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.db import Model, Money, UTCDateTime
from app.kernel.timeutil import utcnow
from app.people.models import Person


class RegisterEntry(Model):
    __tablename__ = "register_entries"
    __table_args__ = (UniqueConstraint("unit_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("property_units.id"), index=True)
    version: Mapped[int] = mapped_column()
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    registration_kind: Mapped[str] = mapped_column(String(40))  # business type code
    right_type: Mapped[str] = mapped_column(String(60))  # e.g. 国有建设用地使用权/房屋所有权
    right_nature: Mapped[str] = mapped_column(String(40))  # e.g. 市场化商品房
    use: Mapped[str] = mapped_column(String(40))  # e.g. 城镇住宅用地/住宅
    area_m2: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    co_ownership: Mapped[str] = mapped_column(String(20))  # 单独所有 / 共同共有 / 按份共有
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(String(500))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owners: Mapped[list[RegisterOwner]] = relationship(
        cascade="all, delete-orphan", order_by="RegisterOwner.id", lazy="selectin")


class RegisterOwner(Model):
    __tablename__ = "register_owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("register_entries.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    share: Mapped[str] = mapped_column(String(20))  # "1/1", "1/2" …

    person: Mapped[Person] = relationship(lazy="joined")


class Encumbrance(Model):
    """A mortgage or a seizure on a unit, from its registration to its discharge."""

    __tablename__ = "encumbrances"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("property_units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # mortgage | seizure
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    amount_fen: Mapped[int | None] = mapped_column(Money)
    description: Mapped[str | None] = mapped_column(String(200))
    registered_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    discharged_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    discharged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    holder: Mapped[Person | None] = relationship(lazy="joined")
