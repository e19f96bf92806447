"""Institutions, their API keys, and the nonces they have used."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.db import EncryptedText, Model, UTCDateTime
from app.kernel.timeutil import utcnow

# What a key may do: check a certificate's status; read its full content (with the
# owner's consent); read it on a recorded legal basis (courts, the authority itself).
SCOPES = {"certificates:verify": "核验证书状态", "certificates:read": "经授权查看证书内容",
          "certificates:legal": "依法查询证书内容"}


class Institution(Model):
    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # shown to owners
    kind: Mapped[str] = mapped_column(String(20))  # bank | agency | court | government
    credit_code: Mapped[str | None] = mapped_column(String(18))  # 统一社会信用代码
    rate_limit: Mapped[str] = mapped_column(String(60), default="60 per minute")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    keys: Mapped[list[InstitutionKey]] = relationship(back_populates="institution",
                                                      order_by="InstitutionKey.id")


class InstitutionKey(Model):
    """A key id (public) and its HMAC secret (encrypted at rest: the platform needs it to
    check signatures), with the scopes it grants."""

    __tablename__ = "institution_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(40), unique=True)
    secret: Mapped[str] = mapped_column(EncryptedText("institution_keys.secret"))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    institution: Mapped[Institution] = relationship(back_populates="keys")

    def grants(self, scope: str) -> bool:
        scopes: list[Any] = self.scopes or []
        return scope in scopes


class InstitutionNonce(Model):
    """Nonces seen within the signature window: a replayed request is refused."""

    __tablename__ = "institution_nonces"
    __table_args__ = (UniqueConstraint("key_id", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(40))
    nonce: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
