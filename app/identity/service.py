"""Use cases of real-name and face verification (issue 3), around the `kyc` library.

The order of a local verification: the challenge nonce is fresh, unused and this
account's; the person is not locked; then `kyc.verify.verify_burst` checks the frames
(decode, exactly one face, match against the registry's reference photo, the requested
actions, no replayed frame). Every decision is recorded with its reason, distances,
timings, provider and consent version; frames are kept only for
KYC_FRAME_RETENTION_SECONDS (default 0: never written). A pass links the account to its
Person (the merge rule, docs/identity.md) and yields a signed claim.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from app.accounts.models import Account
from app.identity import claims
from app.identity.models import (
    COUNTER_APPOINTMENT_STATES,
    ConsentRecord,
    CounterAppointment,
    CounterAppointmentStatus,
    FaceChallenge,
    FaceUnlock,
    FaceVerification,
    FrameHash,
    RealnameCheck,
)
from app.integrations.registry import RegistryError
from app.integrations.wechat import (
    FaceVerifyExpired,
    FaceVerifyMismatch,
    FaceVerifyNotFinished,
    WeChatError,
)
from app.kernel import audit, crypto, validators
from app.kernel.audit import ActorType
from app.kernel.db import db
from app.kernel.errors import (
    ChallengeExpired,
    ChallengeInvalid,
    ChallengeUsed,
    ConsentRequired,
    ConsentVersionOutdated,
    IdentityMismatch,
    KycLocked,
    KycRefused,
    NotFound,
    RealnameMismatch,
    RealnameNotFound,
    RealnameRequired,
    RealnameUnusable,
    RegistryUnavailable,
    ValidationFailed,
    WeChatAccountRequired,
    WeChatUnavailable,
    WeChatVerificationPending,
)
from app.kernel.timeutil import SHANGHAI, as_utc, local_date, utcnow
from app.people import service as people
from app.services import population_registry, wechat_api
from kyc.engine import reference_encoding
from kyc.images import FrameRejected
from kyc.liveness import ACTION_PROMPTS, ACTIONS
from kyc.settings import KycSettings
from kyc.verify import verify_burst

CONSENT_FILE = Path(__file__).with_name("consent.json")
# Refusals about the upload itself rather than the face (kyc.reasons).
INPUT_REASONS = frozenset({"FRAME_COUNT", "IMAGE_TOO_LARGE", "IMAGE_TOO_MANY_PIXELS",
                           "IMAGE_UNREADABLE", "IMAGE_TRUNCATED"})
WECHAT_PASSED = 10000


def consent_text() -> dict[str, str]:
    return dict(json.loads(CONSENT_FILE.read_text(encoding="utf-8")))


def _config(key: str) -> Any:
    return current_app.config[key]


def _audit(account: Account, channel: str, action: str, **after: Any) -> None:
    audit.record(actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
                 action=action, entity_type="account", entity_id=account.id, after=after)


# --- real name -----------------------------------------------------------------------

def check_realname(account: Account, name: str, id_number: str, channel: str) -> RealnameCheck:
    """Name + ID number → format and check digit → the population registry."""
    fields: dict[str, list[str]] = {}
    try:
        name = validators.person_name(name)
    except validators.InvalidValue as exc:
        fields["name"] = [exc.message]
    try:
        id_number = validators.resident_id_number(id_number)
    except validators.InvalidValue as exc:
        fields["id_number"] = [exc.message]
    if fields:
        raise ValidationFailed(fields)
    digest = people.id_number_hash(id_number)
    if account.person is not None and account.person.id_number_hash != digest:
        raise IdentityMismatch("该账号已绑定其他身份，不能核验新的身份")

    try:
        record = population_registry().check_identity(name, id_number, want_photo=False)
    except RegistryError:
        raise RegistryUnavailable() from None
    check = RealnameCheck(
        account_id=account.id, name=name, id_number=id_number, id_number_hash=digest,
        result=record.status if record.match == "CONSISTENT" and record.status != "NORMAL"
        else record.match,
        expires_at=utcnow() + timedelta(seconds=int(_config("KYC_REALNAME_TTL_SECONDS"))),
    )
    db.session.add(check)
    _audit(account, channel, "kyc.realname_checked", result=check.result)
    db.session.commit()
    if record.match == "NAME_MISMATCH":
        raise RealnameMismatch()
    if record.match != "CONSISTENT":
        raise RealnameNotFound()
    if record.status != "NORMAL":
        raise RealnameUnusable()
    return check


def _current_realname(account: Account) -> RealnameCheck:
    check = db.session.scalar(
        select(RealnameCheck).where(RealnameCheck.account_id == account.id)
        .order_by(RealnameCheck.id.desc()).limit(1)
    )
    if check is None or check.result != "CONSISTENT" or as_utc(check.expires_at) <= utcnow():
        raise RealnameRequired()
    return check


# --- consent -------------------------------------------------------------------------

def record_consent(account: Account, version: str, accepted: bool, channel: str) -> ConsentRecord:
    if version != consent_text()["version"]:
        raise ConsentVersionOutdated(current_version=consent_text()["version"])
    record = ConsentRecord(account_id=account.id, version=version, accepted=accepted,
                           channel=channel)
    db.session.add(record)
    _audit(account, channel, "kyc.consent_" + ("granted" if accepted else "declined"),
           version=version)
    db.session.commit()
    return record


def _current_consent(account: Account) -> ConsentRecord:
    record = db.session.scalar(
        select(ConsentRecord).where(ConsentRecord.account_id == account.id)
        .order_by(ConsentRecord.id.desc()).limit(1)
    )
    if record is None or not record.accepted or record.version != consent_text()["version"]:
        raise ConsentRequired()
    return record


def request_appointment(
    account: Account, preferred_date: date, note: str | None, channel: str
) -> CounterAppointment:
    if preferred_date <= local_date():
        raise ValidationFailed({"preferred_date": ["请选择明天或以后的日期"]})
    appointment = CounterAppointment(account_id=account.id,
                                     status=CounterAppointmentStatus.REQUESTED,
                                     preferred_date=preferred_date,
                                     note=(note or "").strip() or None)
    db.session.add(appointment)
    db.session.flush()
    _audit(account, channel, "kyc.appointment_requested", appointment=appointment.id)
    db.session.commit()
    return appointment


# --- limits --------------------------------------------------------------------------

def _start_of_today() -> datetime:
    return datetime.combine(local_date(), time.min, tzinfo=SHANGHAI)


def _failures_counted(id_number_hash: str) -> int:
    """Failures today (Asia/Shanghai) since the last helpdesk unlock."""
    since = _start_of_today()
    last_unlock = db.session.scalar(
        select(func.max(FaceUnlock.unlocked_at)).where(FaceUnlock.id_number_hash == id_number_hash)
    )
    if last_unlock is not None and as_utc(last_unlock) > since:
        since = as_utc(last_unlock)
    return db.session.scalar(
        select(func.count()).select_from(FaceVerification).where(
            FaceVerification.id_number_hash == id_number_hash,
            FaceVerification.passed.is_(False),
            FaceVerification.decided_at >= since,
        )
    ) or 0


def _attempts_left(id_number_hash: str) -> int:
    return max(int(_config("KYC_MAX_FAILURES_PER_DAY")) - _failures_counted(id_number_hash), 0)


def _locked_until() -> datetime:
    return _start_of_today() + timedelta(days=1)


def _ensure_not_locked(id_number_hash: str) -> None:
    if _attempts_left(id_number_hash) <= 0:
        raise KycLocked(locked_until=_locked_until().astimezone(SHANGHAI).isoformat())


# --- challenges (local provider) ------------------------------------------------------

@dataclass(frozen=True)
class IssuedChallenge:
    nonce: str
    actions: list[str]
    prompts: list[str]
    expires_in: int
    frames_min: int
    frames_max: int


def pick_actions(actions: list[str]) -> list[str]:
    """Two different actions, unpredictable to the client."""
    return secrets.SystemRandom().sample(actions, 2)


def issue_challenge(account: Account, channel: str) -> IssuedChallenge:
    check = _current_realname(account)
    consent = _current_consent(account)
    _ensure_not_locked(check.id_number_hash)
    actions = pick_actions(list(ACTIONS))
    ttl = int(_config("KYC_CHALLENGE_TTL_SECONDS"))
    challenge = FaceChallenge(
        nonce=secrets.token_urlsafe(24), provider="local", account_id=account.id,
        realname_check_id=check.id, consent_id=consent.id, actions=actions,
        expires_at=utcnow() + timedelta(seconds=ttl),
    )
    db.session.add(challenge)
    _audit(account, channel, "kyc.challenge_issued", actions=actions)
    db.session.commit()
    settings = KycSettings.from_mapping(current_app.config)
    return IssuedChallenge(challenge.nonce, actions, [ACTION_PROMPTS[a] for a in actions], ttl,
                           settings.min_frames, settings.max_frames)


def _claim_challenge(account: Account, *, nonce: str | None = None,
                     verify_id: str | None = None) -> FaceChallenge:
    """Find this account's challenge and mark it used, atomically (a nonce works once)."""
    condition = (FaceChallenge.nonce == nonce) if nonce else (
        FaceChallenge.wechat_verify_id == verify_id)
    challenge = db.session.scalar(select(FaceChallenge).where(condition))
    if challenge is None or challenge.account_id != account.id:
        raise ChallengeInvalid()
    if challenge.used_at is not None:
        raise ChallengeUsed()
    if as_utc(challenge.expires_at) <= utcnow():
        raise ChallengeExpired()
    claimed = db.session.execute(
        update(FaceChallenge).where(FaceChallenge.id == challenge.id,
                                    FaceChallenge.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise ChallengeUsed()
    return challenge


def _decode_frames(frames: list[str]) -> list[bytes]:
    decoded = []
    for index, frame in enumerate(frames):
        try:
            decoded.append(base64.b64decode(frame, validate=True))
        except (binascii.Error, ValueError):
            raise KycRefused("IMAGE_UNREADABLE", "照片数据无法读取，请重新拍摄",
                             frame=index) from None
    return decoded


@dataclass(frozen=True)
class VerificationResult:
    passed: bool
    claim: claims.IdentityClaim | None
    verification: FaceVerification


def verify_challenge(account: Account, nonce: str, frames: list[str], channel: str
                     ) -> VerificationResult:

    challenge = _claim_challenge(account, nonce=nonce)
    db.session.commit()  # the nonce is spent whatever happens next
    check = db.session.get(RealnameCheck, challenge.realname_check_id)
    assert check is not None
    _ensure_not_locked(check.id_number_hash)
    raw_frames = _decode_frames(frames)
    settings = KycSettings.from_mapping(current_app.config)

    try:
        record = population_registry().check_identity(check.name, check.id_number,
                                                      want_photo=True)
    except RegistryError:
        raise RegistryUnavailable() from None
    if record.photo is None:
        raise RealnameUnusable("登记的证件照不可用，请预约到窗口核验")
    try:
        reference = reference_encoding(record.photo, settings)
    except FrameRejected:
        raise RealnameUnusable("登记的证件照无法用于比对，请预约到窗口核验") from None
    seen = db.session.scalars(
        select(FrameHash.frame_hash).where(FrameHash.id_number_hash == check.id_number_hash)
    ).all()
    decision = verify_burst(raw_frames, reference, list(challenge.actions), seen, settings)
    if decision.reason in INPUT_REASONS:
        # Bad input, not a decision about the face: nothing stored, no attempt counted.
        raise KycRefused(str(decision.reason), decision.message_zh,
                         attempts_left=_attempts_left(check.id_number_hash))
    verification = _record_decision(
        account, challenge, check, channel, passed=decision.passed, reason=decision.reason,
        distances=[round(float(d), 4) for d in decision.distances],
        timings=dict(decision.timings_ms),
        details={"faces_per_frame": list(decision.faces_per_frame),
                 "actions_seen": sorted(decision.actions_seen),
                 "actions": list(challenge.actions)},
        frame_hashes=list(decision.frame_hashes),
    )
    _retain_frames(verification, raw_frames)
    if not decision.passed:
        _refuse(check.id_number_hash, str(decision.reason), decision.message_zh)
    return _pass(account, check, verification, "face_local", channel)


def _record_decision(account: Account, challenge: FaceChallenge, check: RealnameCheck,
                     channel: str, *, passed: bool, reason: str | None,
                     distances: list[float] | None, timings: dict[str, Any] | None,
                     details: dict[str, Any] | None, frame_hashes: list[str]
                     ) -> FaceVerification:
    consent = db.session.get(ConsentRecord, challenge.consent_id)
    verification = FaceVerification(
        account_id=account.id, id_number_hash=check.id_number_hash, challenge_id=challenge.id,
        provider=challenge.provider, passed=passed, reason=reason, distances=distances,
        timings_ms=timings, details=details, channel=channel,
        consent_version=consent.version if consent else "",
    )
    db.session.add(verification)
    db.session.flush()
    for frame_hash in frame_hashes:
        db.session.add(FrameHash(id_number_hash=check.id_number_hash, frame_hash=frame_hash,
                                 verification_id=verification.id))
    _audit(account, channel, "kyc.verification_" + ("passed" if passed else "failed"),
           verification=verification.id, provider=challenge.provider, reason=reason)
    db.session.commit()
    return verification


def _refuse(id_number_hash: str, reason: str, message: str | None) -> None:
    left = _attempts_left(id_number_hash)
    if left <= 0:
        raise KycLocked(locked_until=_locked_until().astimezone(SHANGHAI).isoformat(),
                        reason=reason)
    raise KycRefused(reason, message, attempts_left=left)


def _pass(account: Account, check: RealnameCheck, verification: FaceVerification,
          method: str, channel: str) -> VerificationResult:
    person = people.bind_verified_identity(account, check.name, check.id_number,
                                           method=method, channel=channel)
    claim = claims.issue(account.id, person.id, method)
    return VerificationResult(True, claim, verification)


def _frames_dir() -> Path:
    return Path(current_app.instance_path) / "kyc-frames"


def _retain_frames(verification: FaceVerification, frames: list[bytes]) -> None:
    """Keep frames (encrypted) only when retention is configured; purge the expired ones."""
    retention = int(_config("KYC_FRAME_RETENTION_SECONDS"))
    purge_expired_frames()
    if retention <= 0:
        return
    folder = _frames_dir() / str(verification.id)
    folder.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(frames):
        sealed = crypto.protector().encrypt(base64.b64encode(frame).decode(), "kyc.frame")
        (folder / f"{index}.bin").write_text(sealed)


def purge_expired_frames() -> int:
    """Delete retained frames older than the retention period; return how many folders."""
    retention = int(_config("KYC_FRAME_RETENTION_SECONDS"))
    root = _frames_dir()
    if not root.exists():
        return 0
    cutoff = utcnow().timestamp() - max(retention, 0)
    removed = 0
    for folder in root.iterdir():
        if folder.stat().st_mtime <= cutoff:
            for file in folder.iterdir():
                file.unlink()
            folder.rmdir()
            removed += 1
    return removed


# --- WeChat provider -------------------------------------------------------------------

def start_wechat_verification(account: Account, channel: str) -> FaceChallenge:
    """Ask WeChat for a face session bound to this openid and the checked identity."""

    if not account.wechat_openid:
        raise WeChatAccountRequired()
    check = _current_realname(account)
    consent = _current_consent(account)
    _ensure_not_locked(check.id_number_hash)
    out_seq_no = secrets.token_hex(16)
    try:
        session = wechat_api().get_face_verify_id(out_seq_no, account.wechat_openid,
                                                  check.name, check.id_number)
    except WeChatError:
        raise WeChatUnavailable() from None
    challenge = FaceChallenge(
        nonce=secrets.token_urlsafe(24), provider="wechat", account_id=account.id,
        realname_check_id=check.id, consent_id=consent.id, actions=[],
        expires_at=utcnow() + timedelta(seconds=int(session.expires_in)),
        wechat_verify_id=session.verify_id, wechat_out_seq_no=out_seq_no,
    )
    db.session.add(challenge)
    _audit(account, channel, "kyc.wechat_session_started")
    db.session.commit()
    return challenge


def finish_wechat_verification(account: Account, verify_id: str, channel: str
                               ) -> VerificationResult:
    """Trust WeChat's server-side answer only (queryverifyinfo), never the client's."""

    challenge = _claim_challenge(account, verify_id=verify_id)
    db.session.commit()
    check = db.session.get(RealnameCheck, challenge.realname_check_id)
    assert check is not None and account.wechat_openid
    try:
        verify_ret = wechat_api().query_face_verify(
            verify_id, str(challenge.wechat_out_seq_no), account.wechat_openid,
            check.name, check.id_number)
    except FaceVerifyExpired:
        raise ChallengeExpired() from None
    except FaceVerifyMismatch:
        # WeChat says the session belongs to another identity: spent, never retried.
        raise ChallengeInvalid() from None
    except (FaceVerifyNotFinished, WeChatError) as exc:
        db.session.execute(update(FaceChallenge).where(FaceChallenge.id == challenge.id)
                           .values(used_at=None))
        db.session.commit()  # not decided: the citizen may ask again
        if isinstance(exc, FaceVerifyNotFinished):
            raise WeChatVerificationPending() from None
        raise WeChatUnavailable() from None
    passed = verify_ret == WECHAT_PASSED
    verification = _record_decision(
        account, challenge, check, channel, passed=passed,
        reason=None if passed else "WECHAT_FAILED", distances=None, timings=None,
        details={"verify_ret": verify_ret}, frame_hashes=[],
    )
    if not passed:
        _refuse(check.id_number_hash, "WECHAT_FAILED", "微信人脸核身未通过，请重试")
    return _pass(account, check, verification, "face_wechat", channel)


# --- status and helpdesk ---------------------------------------------------------------

def status(account: Account) -> dict[str, Any]:
    latest = db.session.scalar(
        select(RealnameCheck).where(RealnameCheck.account_id == account.id)
        .order_by(RealnameCheck.id.desc()).limit(1))
    consent = db.session.scalar(
        select(ConsentRecord).where(ConsentRecord.account_id == account.id)
        .order_by(ConsentRecord.id.desc()).limit(1))
    digest = latest.id_number_hash if latest else (
        account.person.id_number_hash if account.person else None)
    left = _attempts_left(digest) if digest else int(_config("KYC_MAX_FAILURES_PER_DAY"))
    return {
        "identity_verified": account.identity_verified,
        "provider": _config("KYC_PROVIDER"),
        "consent_version": consent.version if consent and consent.accepted else None,
        "current_consent_version": consent_text()["version"],
        "attempts_left": left,
        "locked_until": _locked_until() if digest and left <= 0 else None,
    }


def unlock(staff_id: int, id_number: str, reason: str) -> FaceUnlock:
    """Helpdesk: lift today's lock for a person (audited)."""
    try:
        number = validators.resident_id_number(id_number)
    except validators.InvalidValue as exc:
        raise ValidationFailed({"id_number": [exc.message]}) from None
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["请填写解锁原因"]})
    row = FaceUnlock(id_number_hash=people.id_number_hash(number), staff_id=staff_id,
                     reason=reason.strip()[:200])
    db.session.add(row)
    db.session.flush()
    audit.record(actor_type=ActorType.STAFF, actor_id=staff_id, channel="admin",
                 action="kyc.unlocked", entity_type="face_unlock", entity_id=row.id,
                 note=row.reason)
    db.session.commit()
    return row


def list_appointments(
        status_filter: str = CounterAppointmentStatus.REQUESTED) -> list[CounterAppointment]:
    return list(db.session.scalars(
        select(CounterAppointment).where(CounterAppointment.status == status_filter)
        .order_by(CounterAppointment.preferred_date, CounterAppointment.id)))


def complete_appointment(staff_id: int, appointment_id: int, name: str, id_number: str,
                         method: str) -> CounterAppointment:
    """Helpdesk: the citizen's identity was checked at the counter; link their account."""
    appointment = db.session.get(CounterAppointment, appointment_id)
    if appointment is None:
        raise NotFound("未找到该预约")
    if appointment.status != CounterAppointmentStatus.REQUESTED:
        raise ChallengeUsed("该预约已处理")
    if not (method or "").strip():
        raise ValidationFailed({"method": ["请填写核验方式，例如：查验居民身份证原件"]})
    account = db.session.get(Account, appointment.account_id)
    assert account is not None
    COUNTER_APPOINTMENT_STATES.move(appointment, CounterAppointmentStatus.COMPLETED)
    appointment.completed_at = utcnow()
    appointment.completed_by = staff_id
    appointment.method = method.strip()[:100]
    audit.record(actor_type=ActorType.STAFF, actor_id=staff_id, channel="admin",
                 action="kyc.counter_verified", entity_type="counter_appointment",
                 entity_id=appointment.id, after={"method": appointment.method})
    people.bind_verified_identity(account, name, id_number, method="counter",
                                  channel="admin")
    return appointment
