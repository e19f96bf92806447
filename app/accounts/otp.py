"""One-time login codes by SMS: 6 digits, hashed, 5 minutes, 5 tries, 1 a minute, 10 a day.

Limits per phone are counted in the database, so they hold across processes;
per-IP limits are Flask-Limiter's (see api/auth.py).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult

from app.accounts.models import OtpChallenge
from app.integrations.sms import SmsError
from app.kernel import crypto
from app.kernel.db import db
from app.kernel.errors import OtpDailyLimit, OtpInvalid, OtpLocked, OtpTooFrequent, SmsUnavailable
from app.kernel.timeutil import SHANGHAI, as_utc, local_date, utcnow
from app.services import sms_sender

PHONE_PURPOSE = "phone"


@dataclass(frozen=True)
class CodeSent:
    expires_in: int
    resend_after: int


def phone_hash(e164: str) -> str:
    return crypto.lookup_hash(e164, PHONE_PURPOSE)


def _code_hash(challenge_phone_hash: str, code: str) -> str:
    return crypto.lookup_hash(f"{challenge_phone_hash}:{code}", "otp")


def _start_of_local_day(now: datetime) -> datetime:
    return datetime.combine(local_date(now), time.min, tzinfo=SHANGHAI)


def request_code(e164: str, ip_hash: str | None = None) -> CodeSent:
    """Send a new login code to a (validated) phone number, superseding older ones."""
    config = current_app.config
    now = utcnow()
    ph = phone_hash(e164)
    last = db.session.scalar(
        select(OtpChallenge).where(OtpChallenge.phone_hash == ph)
        .order_by(OtpChallenge.created_at.desc()).limit(1)
    )
    interval = int(config["OTP_MIN_INTERVAL_SECONDS"])
    if last is not None:
        wait = interval - int((now - as_utc(last.created_at)).total_seconds())
        if wait > 0:
            raise OtpTooFrequent(retry_after=wait)
    sent_today = db.session.scalar(
        select(func.count()).select_from(OtpChallenge).where(
            OtpChallenge.phone_hash == ph,
            OtpChallenge.created_at >= _start_of_local_day(now),
        )
    )
    if (sent_today or 0) >= int(config["OTP_DAILY_LIMIT_PER_PHONE"]):
        raise OtpDailyLimit()

    db.session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.phone_hash == ph, OtpChallenge.consumed_at.is_(None),
               OtpChallenge.superseded_at.is_(None))
        .values(superseded_at=now)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = int(config["OTP_TTL_SECONDS"])
    challenge = OtpChallenge(
        phone_hash=ph, code_hash=_code_hash(ph, code), created_at=now,
        expires_at=now + timedelta(seconds=ttl), ip_hash=ip_hash,
    )
    db.session.add(challenge)
    db.session.commit()  # the attempt counts against the limits even if sending fails

    try:
        sms_sender().send(e164, "login_code", [code, str(ttl // 60)])
    except SmsError:
        challenge.send_failed = True
        challenge.superseded_at = utcnow()
        db.session.commit()
        raise SmsUnavailable() from None
    return CodeSent(expires_in=ttl, resend_after=interval)


def verify_code(e164: str, code: str) -> None:
    """Consume the current code for a phone, or raise OtpInvalid / OtpLocked."""
    max_attempts = int(current_app.config["OTP_MAX_ATTEMPTS"])
    ph = phone_hash(e164)
    challenge = db.session.scalar(
        select(OtpChallenge).where(
            OtpChallenge.phone_hash == ph,
            OtpChallenge.consumed_at.is_(None),
            OtpChallenge.superseded_at.is_(None),
        ).order_by(OtpChallenge.created_at.desc()).limit(1)
    )
    if challenge is None or as_utc(challenge.expires_at) <= utcnow():
        raise OtpInvalid()
    if challenge.attempts >= max_attempts:
        raise OtpLocked()
    table = OtpChallenge
    if not hmac.compare_digest(challenge.code_hash, _code_hash(ph, (code or "").strip())):
        # Atomic increment: concurrent wrong guesses cannot share one attempt.
        attempts = db.session.execute(
            update(table).where(table.id == challenge.id)
            .values(attempts=table.attempts + 1).returning(table.attempts)
        ).scalar_one()
        db.session.commit()
        remaining = max_attempts - attempts
        if remaining <= 0:
            raise OtpLocked()
        raise OtpInvalid(remaining_attempts=remaining)
    consumed = cast(CursorResult[Any], db.session.execute(
        update(table)
        .where(table.id == challenge.id, table.consumed_at.is_(None),
               table.attempts < max_attempts)
        .values(consumed_at=utcnow())
    )).rowcount
    if consumed != 1:  # a concurrent request used it first
        db.session.rollback()
        raise OtpInvalid()
