"""Staff use cases: accounts, password + TOTP login, roles, and the audit log for auditors.

Plain values in, plain values out; every state change writes one audit record in the
same transaction. Login failures never say whether an account exists: an unknown
username, a wrong password and a locked account all get the same message, and the
unknown username costs the same password hash as a real one.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.kernel import audit, crypto, validators
from app.kernel.audit import ActorType, AuditRecord, Channel
from app.kernel.db import db
from app.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from app.kernel.paging import PageNumbers
from app.kernel.timeutil import as_utc, utcnow
from app.staff import totp
from app.staff.models import StaffRole, StaffRoleGrant, StaffUser

ENTITY = "staff_user"
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
# The password step is only good for finishing the login with a code, and not for long.
PASSWORD_STEP_MINUTES = 5
REVIEWER_ROLES = (
    StaffRole.REGISTRATION_REVIEWER,
    StaffRole.HOUSING_REVIEWER,
    StaffRole.TAX_REVIEWER,
)
AUDIT_VIEWER_ROLES = (StaffRole.AUDITOR, StaffRole.SUPERVISOR)
# No 0/O, 1/l/I: generated passwords are read aloud and copied by hand.
_READABLE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
_USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")

_hasher = PasswordHasher()
_dummy_hash: str | None = None


# --- errors -------------------------------------------------------------------------


class StaffLoginFailed(Unauthenticated):
    code = "STAFF_LOGIN_FAILED"
    message = "用户名或密码错误；连续输错多次后账号将被临时锁定"


class StaffLocked(StaffLoginFailed):
    """Raised for a locked account. At the password step it carries the generic
    message (the account's existence stays hidden); after the password it says so."""

    code = "STAFF_LOCKED"


class TotpInvalid(Unauthenticated):
    code = "TOTP_INVALID"
    message = "动态验证码错误或已使用过，请等待验证器显示新的验证码后重试"


class LoginStepExpired(Unauthenticated):
    code = "STAFF_LOGIN_STEP_EXPIRED"
    message = "登录已超时，请重新输入用户名和密码"


class StaffSessionEnded(Unauthenticated):
    code = "STAFF_SESSION_ENDED"
    message = "登录已失效，请重新登录"


class StaffSessionExpired(StaffSessionEnded):
    code = "STAFF_SESSION_EXPIRED"
    message = "登录已过期，请重新登录"


# --- plain results ------------------------------------------------------------------


def _sorted_roles(roles: Iterable[StaffRole]) -> tuple[StaffRole, ...]:
    order = list(StaffRole)
    return tuple(sorted(set(roles), key=order.index))


@dataclass(frozen=True)
class StaffIdentity:
    """The staff member behind a request (own full name: shown only to themselves)."""

    id: int
    username: str
    display_name: str
    roles: tuple[StaffRole, ...]

    def has_role(self, *roles: StaffRole) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def role_labels(self) -> list[str]:
        return [role.label for role in self.roles]


@dataclass(frozen=True)
class StaffSummary:
    """One row of the staff list: the name is masked."""

    id: int
    username: str
    masked_name: str
    roles: tuple[StaffRole, ...]
    is_active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    totp_enrolled: bool
    created_at: datetime

    @property
    def locked(self) -> bool:
        return self.locked_until is not None

    @property
    def grantable_roles(self) -> list[StaffRole]:
        return [role for role in StaffRole if role not in self.roles]


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    provisioning_uri: str

    @property
    def qr_svg(self) -> str:
        return totp.qr_svg(self.provisioning_uri)


@dataclass(frozen=True)
class CreatedStaff:
    """A new account and its credentials, to be shown once and never stored in clear."""

    user: StaffUser
    password: str
    totp_secret: str
    provisioning_uri: str
    staff: StaffSummary

    @property
    def enrolment(self) -> TotpEnrolment:
        return TotpEnrolment(self.totp_secret, self.provisioning_uri)


@dataclass(frozen=True)
class SecondFactorReset:
    staff: StaffSummary
    enrolment: TotpEnrolment


@dataclass(frozen=True)
class PendingLogin:
    """The password is right; the code from the authenticator is still to come."""

    staff_id: int
    username: str
    started_at: float  # epoch seconds, from the service clock
    enrolment: TotpEnrolment | None  # set while the authenticator is not yet confirmed


@dataclass(frozen=True)
class StaffLogin:
    """What the admin session keeps after both factors."""

    staff: StaffIdentity
    nonce: str
    authenticated_at: float  # epoch seconds
    stamp: str  # changes when the password or the TOTP secret changes


@dataclass(frozen=True)
class DashboardSection:
    key: str
    title: str
    role: StaffRole
    empty_text: str
    summary: str | None = None
    items: tuple[Any, ...] = field(default_factory=tuple)


# --- helpers ------------------------------------------------------------------------


def _config(key: str) -> Any:
    return current_app.config[key]


def _is_locked(user: StaffUser, now: datetime) -> bool:
    return user.locked_until is not None and as_utc(user.locked_until) > now


def _identity(user: StaffUser) -> StaffIdentity:
    return StaffIdentity(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=_sorted_roles(user.roles),
    )


def _summary(user: StaffUser, now: datetime | None = None) -> StaffSummary:
    now = now or utcnow()
    locked_until = user.locked_until if _is_locked(user, now) else None
    return StaffSummary(
        id=user.id,
        username=user.username,
        masked_name=validators.mask_name(user.display_name) or "",
        roles=_sorted_roles(user.roles),
        is_active=user.is_active,
        locked_until=as_utc(locked_until) if locked_until else None,
        last_login_at=user.last_login_at,
        totp_enrolled=user.totp_confirmed_at is not None,
        created_at=user.created_at,
    )


def _record(action: str, staff_id: object, *, actor_id: object, channel: str,
            before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
            note: str | None = None) -> None:
    audit.record(
        actor_type=ActorType.STAFF, actor_id=actor_id, channel=channel, action=action,
        entity_type=ENTITY, entity_id=staff_id, before=before, after=after, note=note,
    )


def _roles_value(roles: Iterable[StaffRole]) -> list[str]:
    return [str(role) for role in _sorted_roles(roles)]


def generate_password() -> str:
    """20 random characters from a readable alphabet (about 116 bits), grouped by five."""
    groups = ["".join(secrets.choice(_READABLE_CHARS) for _ in range(5)) for _ in range(4)]
    return "-".join(groups)


def normalise_username(username: str) -> str:
    value = (username or "").strip().lower()
    if not 3 <= len(value) <= 32 or not value[0].isalpha() or not set(value) <= _USERNAME_CHARS:
        raise ValidationFailed({"username": [
            "用户名须为3至32位，以字母开头，只能包含小写字母、数字和 . _ -"
        ]})
    return value


def check_password_policy(password: str, username: str = "") -> None:
    """The minimum for staff passwords; raises ValidationFailed with Chinese reasons."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"密码至少需要{MIN_PASSWORD_LENGTH}个字符")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"密码不能超过{MAX_PASSWORD_LENGTH}个字符")
    if username and username.lower() in password.lower():
        problems.append("密码不能包含用户名")
    if len(set(password)) < 5:
        problems.append("密码过于简单，请使用更多不同的字符")
    if password != password.strip():
        problems.append("密码首尾不能是空格")
    if problems:
        raise ValidationFailed({"password": problems})


def parse_roles(values: Iterable[str]) -> list[StaffRole]:
    """Role names from a form or the command line; unknown names are refused."""
    roles: list[StaffRole] = []
    for value in values:
        try:
            roles.append(StaffRole(value))
        except ValueError:
            raise ValidationFailed({"roles": [f"未知的角色：{value}"]}) from None
    return list(_sorted_roles(roles))


def _normalise_display_name(display_name: str) -> str:
    try:
        return validators.person_name(display_name)
    except validators.InvalidValue as exc:
        raise ValidationFailed({"display_name": [exc.message]}) from None


def _verify_against_dummy(password: str) -> None:
    """Spend the time a real verification would, so unknown usernames are not faster."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher.verify(_dummy_hash, password)


def _login_failed() -> StaffLoginFailed:
    return StaffLoginFailed(
        f"用户名或密码错误。连续输错{_config('STAFF_MAX_FAILED_LOGINS')}次，"
        f"账号将被锁定{_config('STAFF_LOCK_MINUTES')}分钟。"
    )


def _locked_error(*, reveal: bool) -> StaffLocked:
    if not reveal:
        return StaffLocked(_login_failed().message)
    minutes = _config("STAFF_LOCK_MINUTES")
    return StaffLocked(f"错误次数过多，账号已被锁定{minutes}分钟，请稍后再试或联系主管解锁")


def _register_failure(user: StaffUser, now: datetime, stage: str, channel: str) -> bool:
    """Count one failed attempt (atomically); lock the account at the limit. Commits.

    Returns True when this failure locked the account.
    """
    failures = db.session.execute(
        update(StaffUser).where(StaffUser.id == user.id)
        .values(failed_logins=StaffUser.failed_logins + 1)
        .returning(StaffUser.failed_logins)
    ).scalar_one()
    _record("staff.login_failed", user.id, actor_id=None, channel=channel,
            after={"stage": stage, "failed_logins": failures})
    locked = failures >= int(_config("STAFF_MAX_FAILED_LOGINS"))
    if locked:
        until = now + timedelta(minutes=int(_config("STAFF_LOCK_MINUTES")))
        # The counter restarts, so after the lock the account gets the full tries again.
        db.session.execute(
            update(StaffUser).where(StaffUser.id == user.id)
            .values(locked_until=until, failed_logins=0)
        )
        _record("staff.locked", user.id, actor_id=None, channel=channel,
                after={"locked_until": until.isoformat(), "reason": "too_many_failures"})
    db.session.commit()
    return locked


def _session_stamp(user: StaffUser) -> str:
    """A keyed digest of the credentials: a session ends when they change."""
    material = f"{user.id}:{user.password_hash}:{user.totp_secret or ''}"
    return crypto.lookup_hash(material, "staff-session")[:32]


def _get_staff(staff_id: int) -> StaffUser:
    user = db.session.get(StaffUser, staff_id)
    if user is None:
        raise NotFound("未找到该工作人员")
    return user


def _require_supervisor(actor: StaffIdentity | StaffUser) -> StaffUser:
    """Reload the actor: roles and activity are checked against the database, not a cache."""
    user = db.session.get(StaffUser, actor.id)
    if user is None or not user.is_active or not user.has_role(StaffRole.SUPERVISOR):
        raise Forbidden("只有主管可以管理工作人员")
    return user


# --- accounts -----------------------------------------------------------------------


def create_staff(
    username: str,
    display_name: str,
    roles: list[StaffRole],
    password: str | None = None,
    *,
    actor_id: int | str | None = None,
    channel: str = "cli",
) -> CreatedStaff:
    """Create an account with a password (generated if not given) and a new TOTP secret."""
    if channel != Channel.CLI:
        # Outside the command line only a supervisor creates accounts.
        if not isinstance(actor_id, int):
            raise Forbidden("只有主管可以管理工作人员")
        _require_supervisor(_get_staff(actor_id))
    username = normalise_username(username)
    display_name = _normalise_display_name(display_name)
    roles = parse_roles(str(role) for role in roles)
    if not roles:
        raise ValidationFailed({"roles": ["请至少选择一个角色"]})
    if password is None:
        password = generate_password()
    else:
        check_password_policy(password, username)
    if db.session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise Conflict(f"用户名“{username}”已被使用")

    secret = totp.new_secret()
    user = StaffUser(
        username=username,
        display_name=display_name,
        password_hash=_hasher.hash(password),
        totp_secret=secret,
        role_rows=[StaffRoleGrant(role=str(role)) for role in roles],
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"用户名“{username}”已被使用") from None
    _record("staff.created", user.id, actor_id=actor_id, channel=channel,
            after={"roles": _roles_value(roles), "is_active": True})
    db.session.commit()
    db.session.refresh(user)
    return CreatedStaff(
        user=user,
        password=password,
        totp_secret=secret,
        provisioning_uri=totp.provisioning_uri(secret, username, _config("TOTP_ISSUER")),
        staff=_summary(user),
    )


def list_staff() -> list[StaffSummary]:
    """Every account, by username, with masked names (for lists)."""
    now = utcnow()
    users = db.session.scalars(select(StaffUser).order_by(StaffUser.username)).all()
    return [_summary(user, now) for user in users]


# --- login --------------------------------------------------------------------------


def check_password(username: str, password: str, *, channel: str = "admin") -> StaffUser:
    """First factor. Counts failures toward the lock; the error never tells why."""
    now = utcnow()
    password = password or ""
    try:
        username = normalise_username(username)
    except ValidationFailed:
        username = ""
    user = (
        db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        if username else None
    )
    if user is None:
        _verify_against_dummy(password)
        # No username in the record: people type passwords into the username field.
        _record("staff.login_failed", "unknown", actor_id=None, channel=channel,
                after={"stage": "password", "reason": "unknown_username"})
        db.session.commit()
        raise _login_failed()
    if not user.is_active or _is_locked(user, now):
        # Not even checked: a locked account must not tell a right password from a wrong one.
        _verify_against_dummy(password)
        reason = "inactive" if not user.is_active else "locked"
        _record("staff.login_refused", user.id, actor_id=None, channel=channel,
                after={"stage": "password", "reason": reason})
        db.session.commit()
        if reason == "locked":
            raise _locked_error(reveal=False)
        raise _login_failed()
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        _register_failure(user, now, "password", channel)
        raise _login_failed() from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        _record("staff.password_rehashed", user.id, actor_id=user.id, channel=channel)
        db.session.commit()
    return user


def verify_totp(user: StaffUser, code: str, *, channel: str = "admin") -> None:
    """Second factor: a code from the window, newer than the last one accepted.

    The first success confirms the enrolment; every success completes a login.
    Failures (wrong, replayed) count toward the same lock as wrong passwords.
    """
    now = utcnow()
    if not user.is_active:
        raise _login_failed()
    if _is_locked(user, now):
        raise _locked_error(reveal=True)
    if not user.totp_secret:
        raise TotpInvalid("尚未设置动态验证码，请联系主管")
    # NFKC: full-width digits typed with a Chinese input method count as digits.
    code = "".join(unicodedata.normalize("NFKC", code or "").split())
    step = totp.matching_step(user.totp_secret, code, now)
    if step is None:
        if _register_failure(user, now, "totp", channel):
            raise _locked_error(reveal=True)
        raise TotpInvalid()
    # Claim the step atomically: two requests with one code cannot both succeed.
    claimed = db.session.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id,
               or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step))
        .values(totp_last_step=step)
        .returning(StaffUser.id)
    ).first()
    if claimed is None:
        if _register_failure(user, now, "totp_replayed", channel):
            raise _locked_error(reveal=True)
        raise TotpInvalid()
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if user.totp_confirmed_at is None:
        user.totp_confirmed_at = now
        _record("staff.totp_enrolled", user.id, actor_id=user.id, channel=channel)
    _record("staff.login", user.id, actor_id=user.id, channel=channel,
            after={"second_factor": "totp"})
    db.session.commit()


def begin_login(username: str, password: str) -> PendingLogin:
    """The login form's use case: the password step of an admin login."""
    user = check_password(username, password)
    return _pending(user, utcnow().timestamp())


def _pending(user: StaffUser, started_at: float) -> PendingLogin:
    enrolment = None
    if user.totp_confirmed_at is None and user.totp_secret:
        enrolment = TotpEnrolment(
            user.totp_secret,
            totp.provisioning_uri(user.totp_secret, user.username, _config("TOTP_ISSUER")),
        )
    return PendingLogin(staff_id=user.id, username=user.username, started_at=started_at,
                        enrolment=enrolment)


def _pending_user(staff_id: int, started_at: float) -> StaffUser:
    now = utcnow()
    age = now.timestamp() - started_at
    if not 0 <= age <= PASSWORD_STEP_MINUTES * 60:
        raise LoginStepExpired()
    user = db.session.get(StaffUser, staff_id)
    if user is None or not user.is_active:
        raise LoginStepExpired()
    if _is_locked(user, now):
        raise _locked_error(reveal=True)
    return user


def pending_login(staff_id: int, started_at: float) -> PendingLogin:
    """The code page: who is logging in, and the enrolment QR code if not yet confirmed."""
    return _pending(_pending_user(staff_id, started_at), started_at)


def finish_login(staff_id: int, started_at: float, code: str) -> StaffLogin:
    """The code form's use case: second factor, then a fresh session for the staff member."""
    user = _pending_user(staff_id, started_at)
    verify_totp(user, code)
    return StaffLogin(
        staff=_identity(user),
        nonce=secrets.token_urlsafe(16),
        authenticated_at=utcnow().timestamp(),
        stamp=_session_stamp(user),
    )


def session_staff(staff_id: int, authenticated_at: float, stamp: str) -> StaffIdentity:
    """The staff member of a logged-in session, or StaffSessionEnded.

    A session ends after STAFF_SESSION_HOURS, when the account is deactivated or
    locked, and when its password or TOTP secret changes.
    """
    now = utcnow()
    age = now.timestamp() - authenticated_at
    if not 0 <= age <= float(_config("STAFF_SESSION_HOURS")) * 3600:
        raise StaffSessionExpired()
    user = db.session.get(StaffUser, staff_id)
    if user is None or not user.is_active or _is_locked(user, now):
        raise StaffSessionEnded()
    if not secrets.compare_digest(_session_stamp(user), stamp):
        raise StaffSessionEnded()
    return _identity(user)


def logout(staff_id: int, *, channel: str = "admin") -> None:
    _record("staff.logout", staff_id, actor_id=staff_id, channel=channel)
    db.session.commit()


def current_totp_code(username: str) -> str:
    """The code an authenticator would show now: for the development CLI only."""
    if _config("APP_ENV") == "production":
        raise Forbidden("生产环境不允许读取动态验证码")
    user = db.session.scalar(
        select(StaffUser).where(StaffUser.username == normalise_username(username))
    )
    if user is None:
        raise NotFound("未找到该工作人员")
    if not user.totp_secret:
        raise Conflict("该工作人员尚未设置动态验证码")
    return totp.code_at(user.totp_secret, utcnow())


# --- supervision --------------------------------------------------------------------


def grant_roles(actor: StaffIdentity | StaffUser, staff_id: int, roles: Iterable[StaffRole],
                *, channel: str = "admin") -> StaffSummary:
    """Add roles to an account (roles it already holds are left as they are)."""
    _require_supervisor(actor)
    wanted = parse_roles(str(role) for role in roles)
    if not wanted:
        raise ValidationFailed({"roles": ["请至少选择一个角色"]})
    user = _get_staff(staff_id)
    before = set(user.roles)
    added = [role for role in wanted if role not in before]
    if added:
        user.role_rows.extend(StaffRoleGrant(role=str(role)) for role in added)
        _record("staff.roles_granted", user.id, actor_id=actor.id, channel=channel,
                before={"roles": _roles_value(before)},
                after={"roles": _roles_value(before | set(added))})
        db.session.commit()
    return _summary(user)


def revoke_role(actor: StaffIdentity | StaffUser, staff_id: int, role: StaffRole,
                *, channel: str = "admin") -> StaffSummary:
    _require_supervisor(actor)
    role = StaffRole(role)
    if staff_id == actor.id and role is StaffRole.SUPERVISOR:
        raise Conflict("不能撤销自己的主管角色，请由其他主管操作")
    user = _get_staff(staff_id)
    before = set(user.roles)
    if role in before:
        user.role_rows = [row for row in user.role_rows if row.role != str(role)]
        _record("staff.role_revoked", user.id, actor_id=actor.id, channel=channel,
                before={"roles": _roles_value(before)},
                after={"roles": _roles_value(before - {role})})
        db.session.commit()
    return _summary(user)


def set_active(actor: StaffIdentity | StaffUser, staff_id: int, active: bool,
               *, channel: str = "admin") -> StaffSummary:
    """Deactivate (sessions end at their next request) or reactivate an account."""
    _require_supervisor(actor)
    if staff_id == actor.id and not active:
        raise Conflict("不能停用自己的账号，请由其他主管操作")
    user = _get_staff(staff_id)
    if user.is_active != active:
        _record("staff.activated" if active else "staff.deactivated", user.id,
                actor_id=actor.id, channel=channel,
                before={"is_active": user.is_active}, after={"is_active": active})
        user.is_active = active
        db.session.commit()
    return _summary(user)


def unlock_staff(actor: StaffIdentity | StaffUser, staff_id: int,
                 *, channel: str = "admin") -> StaffSummary:
    _require_supervisor(actor)
    user = _get_staff(staff_id)
    if _is_locked(user, utcnow()) or user.failed_logins:
        locked_until = as_utc(user.locked_until).isoformat() if user.locked_until else None
        _record("staff.unlocked", user.id, actor_id=actor.id, channel=channel,
                before={"failed_logins": user.failed_logins, "locked_until": locked_until},
                after={"failed_logins": 0, "locked_until": None})
        user.failed_logins = 0
        user.locked_until = None
        db.session.commit()
    return _summary(user)


def reset_second_factor(actor: StaffIdentity | StaffUser, staff_id: int,
                        *, channel: str = "admin") -> SecondFactorReset:
    """A new TOTP secret, to enrol again at the next login; current sessions end."""
    _require_supervisor(actor)
    user = _get_staff(staff_id)
    secret = totp.new_secret()
    _record("staff.second_factor_reset", user.id, actor_id=actor.id, channel=channel,
            before={"totp_enrolled": user.totp_confirmed_at is not None},
            after={"totp_enrolled": False})
    user.totp_secret = secret
    user.totp_confirmed_at = None
    user.totp_last_step = None
    db.session.commit()
    return SecondFactorReset(
        staff=_summary(user),
        enrolment=TotpEnrolment(
            secret, totp.provisioning_uri(secret, user.username, _config("TOTP_ISSUER"))
        ),
    )


# --- audit log ----------------------------------------------------------------------

ACTOR_TYPE_LABELS: dict[str, str] = {
    ActorType.CITIZEN: "市民",
    ActorType.STAFF: "工作人员",
    ActorType.SYSTEM: "系统",
    ActorType.INSTITUTION: "机构",
}
CHANNEL_LABELS: dict[str, str] = {
    Channel.MINIPROGRAM: "小程序",
    Channel.MOBILE_WEB: "手机网页",
    Channel.ADMIN: "管理后台",
    Channel.API: "接口",
    Channel.SYSTEM: "系统",
    Channel.CLI: "命令行",
}
ACTION_LABELS: dict[str, str] = {
    "staff.created": "创建工作人员",
    "staff.roles_granted": "授予角色",
    "staff.role_revoked": "撤销角色",
    "staff.activated": "启用账号",
    "staff.deactivated": "停用账号",
    "staff.unlocked": "解除锁定",
    "staff.second_factor_reset": "重置动态验证码",
    "staff.login": "登录",
    "staff.logout": "退出登录",
    "staff.login_failed": "登录失败",
    "staff.login_refused": "拒绝登录",
    "staff.locked": "账号锁定",
    "staff.totp_enrolled": "绑定验证器",
    "staff.password_rehashed": "更新密码哈希参数",
}
AUDIT_PAGE_SIZE = 50
_MAX_FILTER_LENGTH = 64


@dataclass(frozen=True)
class AuditEntry:
    id: int
    occurred_at: datetime
    actor: str
    channel: str
    action: str
    action_label: str | None
    entity_type: str
    entity_id: str
    before: str
    after: str
    note: str | None


@dataclass(frozen=True)
class AuditPage(PageNumbers):
    entries: list[AuditEntry]
    page: int
    per_page: int
    total: int
    entity_type: str
    entity_id: str
    action: str
    entity_types: list[str]


def _clean_filter(value: str | None, name: str) -> str:
    value = (value or "").strip()
    if len(value) > _MAX_FILTER_LENGTH:
        raise ValidationFailed({name: [f"不能超过{_MAX_FILTER_LENGTH}个字符"]})
    return value


def _json(value: dict[str, Any] | None) -> str:
    if not value:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _actor_label(actor_type: str, actor_id: str | None, channel: str,
                 usernames: dict[str, str]) -> str:
    label = ACTOR_TYPE_LABELS.get(actor_type, actor_type)
    if actor_id is None:
        # A staff action without an actor: a login attempt, or the command line.
        return f"{label}（未登录）" if channel == Channel.ADMIN else label
    if actor_type == ActorType.STAFF and actor_id in usernames:
        return f"{label} {usernames[actor_id]}（#{actor_id}）"
    return f"{label} #{actor_id}"


def audit_log(entity_type: str | None = None, entity_id: str | None = None,
              action: str | None = None, page: int = 1,
              per_page: int = AUDIT_PAGE_SIZE) -> AuditPage:
    """Audit records, newest first, filtered by entity and by action (or action prefix)."""
    entity_type = _clean_filter(entity_type, "entity_type")
    entity_id = _clean_filter(entity_id, "entity_id")
    action = _clean_filter(action, "action")
    page = max(1, page)
    per_page = min(max(1, per_page), 200)

    criteria = []
    if entity_type:
        criteria.append(AuditRecord.entity_type == entity_type)
    if entity_id:
        criteria.append(AuditRecord.entity_id == entity_id)
    if action:
        criteria.append(AuditRecord.action.startswith(action, autoescape=True))
    total = db.session.scalar(
        select(func.count()).select_from(AuditRecord).where(*criteria)
    ) or 0
    rows = db.session.scalars(
        select(AuditRecord).where(*criteria)
        .order_by(AuditRecord.occurred_at.desc(), AuditRecord.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()

    staff_ids = {
        int(row.actor_id) for row in rows
        if row.actor_type == ActorType.STAFF and row.actor_id and row.actor_id.isdigit()
    }
    usernames = {
        str(staff_id): username for staff_id, username in db.session.execute(
            select(StaffUser.id, StaffUser.username).where(StaffUser.id.in_(staff_ids))
        )
    } if staff_ids else {}
    entity_types = list(db.session.scalars(
        select(AuditRecord.entity_type).distinct().order_by(AuditRecord.entity_type)
    ))
    entries = [
        AuditEntry(
            id=row.id,
            occurred_at=row.occurred_at,
            actor=_actor_label(row.actor_type, row.actor_id, row.channel, usernames),
            channel=CHANNEL_LABELS.get(row.channel, row.channel),
            action=row.action,
            action_label=ACTION_LABELS.get(row.action),
            entity_type=row.entity_type,
            entity_id=row.entity_id,
            before=_json(row.before),
            after=_json(row.after),
            note=row.note,
        )
        for row in rows
    ]
    return AuditPage(
        entries=entries, page=page, per_page=per_page, total=total,
        entity_type=entity_type, entity_id=entity_id, action=action,
        entity_types=entity_types,
    )


__all__ = [
    "AuditEntry",
    "AuditPage",
    "CreatedStaff",
    "DashboardSection",
    "LoginStepExpired",
    "PendingLogin",
    "SecondFactorReset",
    "StaffIdentity",
    "StaffLocked",
    "StaffLogin",
    "StaffLoginFailed",
    "StaffSessionEnded",
    "StaffSessionExpired",
    "StaffSummary",
    "TotpEnrolment",
    "TotpInvalid",
    "audit_log",
    "begin_login",
    "check_password",
    "check_password_policy",
    "create_staff",
    "current_totp_code",
    "finish_login",
    "generate_password",
    "grant_roles",
    "list_staff",
    "logout",
    "pending_login",
    "revoke_role",
    "reset_second_factor",
    "session_staff",
    "set_active",
    "unlock_staff",
    "verify_totp",
]
