"""People: natural persons (by resident ID) and legal persons (by USCC) acting through an agent."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.db import EncryptedText, Model, UTCDateTime
from app.kernel.timeutil import utcnow
from app.kernel.validators import mask_id_number, mask_name, mask_phone


class PersonKind(enum.StrEnum):
    NATURAL = "natural"
    LEGAL = "legal"


class Person(Model):
    """A party to a case. Natural persons are identified by the keyed hash of their ID number."""

    __tablename__ = "persons"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'natural' AND id_number_hash IS NOT NULL AND uscc IS NULL)"
            " OR (kind = 'legal' AND uscc IS NOT NULL AND id_number_hash IS NULL)",
            name="identifier_matches_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    # Natural persons: name, ID number and phone encrypted; look-ups by keyed hash.
    name: Mapped[str] = mapped_column(EncryptedText("persons.name"))
    id_number: Mapped[str | None] = mapped_column(EncryptedText("persons.id_number"))
    id_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(EncryptedText("persons.phone"))
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # Legal persons: the unified social credit code is public register data.
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    small_micro_enterprise: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    agent: Mapped[Person | None] = relationship(remote_side=[id])

    @property
    def is_legal(self) -> bool:
        return self.kind == PersonKind.LEGAL

    @property
    def name_masked(self) -> str | None:
        # A company's name is public; a natural person's is masked in lists.
        return self.name if self.is_legal else mask_name(self.name)

    @property
    def id_number_masked(self) -> str | None:
        return mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str | None:
        return mask_phone(self.phone)
