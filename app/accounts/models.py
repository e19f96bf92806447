"""Citizen accounts (one per login channel identity), their sessions and one-time codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.db import EncryptedText, Model, UTCDateTime
from app.kernel.timeutil import utcnow
from app.kernel.validators import mask_phone
from app.people.models import Person


class Account(Model):
    """A citizen's login. WeChat accounts are found by openid, SMS accounts by phone hash.

    An account becomes linked to a Person once it verifies an identity; two accounts
    (one per channel) that verify the same ID number share that one Person.
    """

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    wechat_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    wechat_unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    # Kept server-side only (needed to decrypt WeChat data such as phone numbers).
    wechat_session_key: Mapped[str | None] = mapped_column(
        EncryptedText("accounts.wechat_session_key")
    )
    phone: Mapped[str | None] = mapped_column(EncryptedText("accounts.phone"))
    phone_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    identity_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    identity_verified_by: Mapped[str | None] = mapped_column(String(40))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person | None] = relationship()

    @property
    def channels(self) -> list[str]:
        return [c for c, v in (("wechat", self.wechat_openid), ("sms", self.phone_hash)) if v]

    @property
    def phone_masked(self) -> str | None:
        return mask_phone(self.phone)

    @property
    def identity_verified(self) -> bool:
        return self.person_id is not None and self.identity_verified_at is not None


class AuthSession(Model):
    """One login: a family of rotating refresh tokens. Revoking it ends every token in it."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(40))

    account: Mapped[Account] = relationship()


class RefreshToken(Model):
    """Each refresh token ever issued, by SHA-256; a used one presented again is theft."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("auth_sessions.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[AuthSession] = relationship()


class OtpChallenge(Model):
    """A one-time login code sent by SMS, stored only as a keyed hash."""

    __tablename__ = "otp_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(20), default="login")
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    send_failed: Mapped[bool] = mapped_column(default=False)
    ip_hash: Mapped[str | None] = mapped_column(String(64))
