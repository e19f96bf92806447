"""Citizen tokens: a short-lived signed access token and a rotating refresh token.

The access token is a JWT (HS256) naming the account and the login session; every
request also checks that the session is not revoked, so logout takes effect at once.
Refresh tokens are random, stored as SHA-256, used once: presenting a used refresh
token again means it was copied, and the whole session is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import jwt
from flask import current_app

from app.accounts.models import Account, AuthSession, RefreshToken
from app.kernel import audit
from app.kernel.audit import ActorType
from app.kernel.db import db
from app.kernel.errors import RefreshTokenInvalid, TokenExpired, TokenInvalid
from app.kernel.timeutil import as_utc, utcnow

_ALGORITHM = "HS256"
_AUDIENCE = "bdc-citizen"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    account: Account


@dataclass(frozen=True)
class CitizenIdentity:
    """Who is calling: the account and the login session (channel) behind the token."""

    account: Account
    session_id: str
    channel: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _access_token(account: Account, session: AuthSession) -> tuple[str, int]:
    ttl = int(current_app.config["ACCESS_TOKEN_TTL_SECONDS"])
    now = utcnow()
    claims = {
        "sub": str(account.id),
        "sid": session.id,
        "aud": _AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=ttl),
    }
    token = jwt.encode(claims, current_app.config["JWT_SIGNING_KEY"], algorithm=_ALGORITHM)
    return token, ttl


def _new_refresh_token(session: AuthSession) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(RefreshToken(token_hash=_hash(token), session=session))
    return token


def _pair(account: Account, session: AuthSession, refresh_token: str) -> TokenPair:
    access, ttl = _access_token(account, session)
    remaining = int((as_utc(session.expires_at) - utcnow()).total_seconds())
    return TokenPair(access, refresh_token, ttl, max(remaining, 0), account)


def start_session(account: Account, channel: str) -> TokenPair:
    """Open a login session for an account; the caller commits."""
    ttl = int(current_app.config["REFRESH_TOKEN_TTL_SECONDS"])
    session = AuthSession(
        id=secrets.token_hex(16),
        account_id=account.id,
        channel=channel,
        expires_at=utcnow() + timedelta(seconds=ttl),
    )
    db.session.add(session)
    account.last_login_at = utcnow()
    audit.record(
        actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
        action="auth.login", entity_type="account", entity_id=account.id,
        after={"session": session.id},
    )
    return _pair(account, session, _new_refresh_token(session))


def rotate(refresh_token: str) -> TokenPair:
    """Exchange a refresh token for a new pair; a reused token revokes its session."""
    row = db.session.get(RefreshToken, _hash(refresh_token or ""))
    if row is None:
        raise RefreshTokenInvalid()
    session = db.session.get(AuthSession, row.session_id)
    if session is None or session.revoked_at is not None:
        raise RefreshTokenInvalid()
    if row.used_at is not None:
        _revoke(session, "refresh_token_reuse", session.channel)
        db.session.commit()
        raise RefreshTokenInvalid()
    if as_utc(session.expires_at) <= utcnow() or not session.account.is_active:
        raise RefreshTokenInvalid()
    row.used_at = utcnow()
    pair = _pair(session.account, session, _new_refresh_token(session))
    db.session.commit()
    return pair


def _revoke(session: AuthSession, reason: str, channel: str) -> None:
    session.revoked_at = utcnow()
    session.revoked_reason = reason
    audit.record(
        actor_type=ActorType.CITIZEN, actor_id=session.account_id, channel=channel,
        action="auth.session_revoked", entity_type="account", entity_id=session.account_id,
        after={"session": session.id, "reason": reason},
    )


def logout(identity: CitizenIdentity) -> None:
    session = db.session.get(AuthSession, identity.session_id)
    if session is not None and session.revoked_at is None:
        _revoke(session, "logout", identity.channel)
        db.session.commit()


def authenticate(access_token: str) -> CitizenIdentity:
    """Check an access token and its session; raise TokenExpired / TokenInvalid."""
    try:
        claims = jwt.decode(
            access_token,
            current_app.config["JWT_SIGNING_KEY"],
            algorithms=[_ALGORITHM],
            audience=_AUDIENCE,
            options={"require": ["exp", "sub", "sid"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenExpired() from None
    except jwt.PyJWTError:
        raise TokenInvalid() from None
    session = db.session.get(AuthSession, claims["sid"])
    if session is None or session.revoked_at is not None:
        raise TokenInvalid()
    if str(session.account_id) != claims["sub"]:
        raise TokenInvalid()
    if not session.account.is_active:
        raise TokenInvalid()
    return CitizenIdentity(account=session.account, session_id=session.id, channel=session.channel)
