"""Real-name checks, consent to face processing, face challenges, verifications, appointments.

Nothing here stores a face: frames are discarded once a decision is made (see
KYC_FRAME_RETENTION_SECONDS) and only the decision, its scores and perceptual hashes
(to refuse a replayed burst) are kept.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db import EncryptedText, Model, UTCDateTime
from app.kernel.states import StateMachine
from app.kernel.timeutil import utcnow


class RealnameCheck(Model):
    """A name + ID number an account declared, checked against the population registry."""

    __tablename__ = "realname_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(EncryptedText("realname_checks.name"))
    id_number: Mapped[str] = mapped_column(EncryptedText("realname_checks.id_number"))
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    result: Mapped[str] = mapped_column(String(20))  # CONSISTENT, NAME_MISMATCH, NOT_FOUND …
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsentRecord(Model):
    """A citizen's separate, explicit answer to the face-processing consent text."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(30), default="face_verification")
    version: Mapped[str] = mapped_column(String(30))
    accepted: Mapped[bool] = mapped_column()
    channel: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FaceChallenge(Model):
    """One liveness challenge (local provider) or one WeChat face session (wechat provider)."""

    __tablename__ = "face_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    realname_check_id: Mapped[int] = mapped_column(ForeignKey("realname_checks.id"))
    consent_id: Mapped[int] = mapped_column(ForeignKey("consent_records.id"))
    actions: Mapped[list[str]] = mapped_column(JSON, default=list)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # WeChat face verification 2.0: the session WeChat gave us and our sequence number.
    wechat_verify_id: Mapped[str | None] = mapped_column(String(256), unique=True)
    wechat_out_seq_no: Mapped[str | None] = mapped_column(String(32))


class FaceVerification(Model):
    """The decision on one attempt: passed or failed, why, scores, timings, provider, consent."""

    __tablename__ = "face_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("face_challenges.id"), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    passed: Mapped[bool] = mapped_column()
    reason: Mapped[str | None] = mapped_column(String(40))
    distances: Mapped[list[float] | None] = mapped_column(JSON)
    timings_ms: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    consent_version: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(20))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class FrameHash(Model):
    """Perceptual hash of a frame once submitted for a person: a recorded burst is refused."""

    __tablename__ = "face_frame_hashes"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    frame_hash: Mapped[str] = mapped_column(String(64))
    verification_id: Mapped[int] = mapped_column(ForeignKey("face_verifications.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FaceUnlock(Model):
    """A helpdesk unlock of face verification for a person locked after too many failures."""

    __tablename__ = "face_unlocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    reason: Mapped[str] = mapped_column(String(200))
    unlocked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CounterAppointmentStatus(enum.StrEnum):
    REQUESTED = "requested"
    COMPLETED = "completed"  # identity checked at the counter, the account bound


# The identity verification at the counter (the alternative to face processing).
COUNTER_APPOINTMENT_STATES: StateMachine[CounterAppointmentStatus] = StateMachine(
    "counter_appointment",
    {(CounterAppointmentStatus.REQUESTED, CounterAppointmentStatus.COMPLETED)})


class CounterAppointment(Model):
    """The alternative to face processing: identity checked at the counter by staff."""

    __tablename__ = "counter_appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    preferred_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(EncryptedText("counter_appointments.note"))
    status: Mapped[str] = mapped_column(String(20), default=CounterAppointmentStatus.REQUESTED,
                                        index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    method: Mapped[str | None] = mapped_column(String(100))
