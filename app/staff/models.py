"""Staff of the registration centre and the departments, with roles."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.db import EncryptedText, Model, UTCDateTime
from app.kernel.timeutil import utcnow


class StaffRole(enum.StrEnum):
    REGISTRATION_REVIEWER = "registration_reviewer"
    HOUSING_REVIEWER = "housing_reviewer"
    TAX_REVIEWER = "tax_reviewer"
    HELPDESK = "helpdesk"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    StaffRole.REGISTRATION_REVIEWER: "登记审核员",
    StaffRole.HOUSING_REVIEWER: "住建审核员",
    StaffRole.TAX_REVIEWER: "税务审核员",
    StaffRole.HELPDESK: "服务专员",
    StaffRole.SUPERVISOR: "主管",
    StaffRole.AUDITOR: "审计员",
}


class StaffUser(Model):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(EncryptedText("staff_users.display_name"))
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText("staff_users.totp_secret"))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last accepted TOTP time step: a code cannot be used twice.
    totp_last_step: Mapped[int | None] = mapped_column()
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    role_rows: Mapped[list[StaffRoleGrant]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> set[StaffRole]:
        return {StaffRole(r.role) for r in self.role_rows}

    def has_role(self, *roles: StaffRole) -> bool:
        return bool(self.roles.intersection(roles))


class StaffRoleGrant(Model):
    __tablename__ = "staff_roles"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
