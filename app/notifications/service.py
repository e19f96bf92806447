"""Notify citizens: outbox rows written with the event, drained by the job runner.

Every message names a logical template (``case_returned`` …, kept as data in
``templates.yaml``) and carries only non-personal variables (case numbers, counts,
dates). The phone number and the WeChat openid are looked up when sending, so the
outbox holds no personal data. A person who uses the mini-program gets the WeChat
subscribe message, everyone else an SMS (once per person, and once per phone and
event); a subscribe message that cannot arrive (not subscribed, failed for good) falls
back to SMS. A provider that is down is retried with back-off, then the message is
marked failed for the helpdesk (``/admin/notifications``), who can send it again.

SMS that are not verification codes wait out the quiet hours (``SMS_QUIET_HOURS``,
Asia/Shanghai) and a phone's daily cap (``SMS_DAILY_CAP_PER_PHONE``): such a message is
deferred (``next_attempt_at``), never dropped. The SMS of a template with a link purpose
ends with a short link (``/s/<code>``) made for the recipient's person when the message
is queued; the link's URL is kept encrypted in the row until it is sent, then removed.
See docs/notifications.md.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Account
from app.accounts.otp import phone_hash
from app.cases.models import Case
from app.certificates.models import Certificate
from app.integrations.sms import SmsError, SmsUnavailable, mask_phone
from app.integrations.wechat import WeChatError
from app.kernel import crypto
from app.kernel.db import db
from app.kernel.errors import Conflict, NotFound
from app.kernel.settings import SettingsError
from app.kernel.timeutil import SHANGHAI, as_utc, local_date, utcnow
from app.links.service import create_link, link_url, revoke
from app.notifications.models import OUTBOX_STATES, OutboxMessage, OutboxStatus
from app.notifications.templates import (
    LINK_VARIABLE,
    MessageTemplate,
    TemplateVariableMissing,
    load_templates,
)
from app.people.models import Person
from app.services import sms_sender, wechat_api

logger = logging.getLogger(__name__)

# Every template, by logical name (app/notifications/templates.yaml, checked on import).
TEMPLATES: dict[str, MessageTemplate] = load_templates()
RETRY_DELAYS = [timedelta(seconds=s) for s in (30, 60, 120, 300, 600, 1800)]
# Provider answers that no retry can change: failed at once, for the helpdesk.
PERMANENT_SMS_CODES = frozenset({"FailedOperation.PhoneNumberInBlacklist",
                                 "InvalidParameterValue.IncorrectPhoneNumber",
                                 "InvalidPhoneNumber"})
WECHAT_NOT_SUBSCRIBED = 43101  # the user has not accepted (or has refused) this template
# Kept in a message's variables: the short link's id, and its URL encrypted (the code in
# it opens the link, so it never sits in the database in clear; removed once sent).
LINK_ID, LINK_SEALED = "link_id", "link_sealed"
HIDDEN_VARIABLES = frozenset({LINK_ID, LINK_SEALED})
CHANNEL_LABELS = {"sms": "短信", "wechat": "微信"}
STATUS_LABELS = {OutboxStatus.PENDING: "待发送", OutboxStatus.SENT: "已发送",
                 OutboxStatus.FAILED: "发送失败", OutboxStatus.SKIPPED: "无法送达"}


class Unreachable(Exception):
    """No channel of this message reaches the recipient any more (skipped, not failed)."""


def template(name: str) -> MessageTemplate:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise ValueError(f"unknown template {name!r}") from None


# --- queueing (in the event's transaction) -------------------------------------------


def enqueue(accounts: Iterable[Account], template_name: str, variables: dict[str, Any],
            event_key: str) -> int:
    """Queue ``template_name`` for each recipient on the right channel (no commit: the
    caller commits it with the event).

    With ``NOTIFY_WECHAT_FIRST`` a person who uses the mini-program (an account with a
    WeChat openid) gets the WeChat subscribe message alone, everyone else an SMS; when
    the subscribe message cannot be delivered (not subscribed, or failed for good) the
    SMS is queued then (:func:`_fall_back_to_sms`). Without it (the default: the
    platform cannot know whether a one-time subscription is in force, and the SMS is
    the notice of record) mini-program users get both. Either way one phone gets one
    SMS per event. ``event_key`` names the event; the same event queued twice sends
    once.
    """
    spec = template(template_name)
    missing = sorted(spec.required_variables - set(variables))
    if missing:
        raise ValueError(f"template {template_name!r} needs {', '.join(missing)}")
    by_recipient: dict[object, list[Account]] = {}
    for account in sorted({a.id: a for a in accounts}.values(), key=lambda a: a.id):
        by_recipient.setdefault(account.person_id or f"account:{account.id}", []).append(account)
    wechat_first = bool(current_app.config.get("NOTIFY_WECHAT_FIRST"))
    queued = 0
    for logins in by_recipient.values():
        wechat = next((a for a in logins if a.wechat_openid), None)
        if wechat is not None and _wechat_template_id(spec):
            queued += _queue(wechat, spec, variables, event_key, "wechat")
            if wechat_first:
                continue
        for account in logins:
            if _phone_of(account):
                queued += _queue(account, spec, variables, event_key, "sms")
    return queued


def _queue(account: Account, spec: MessageTemplate, variables: Mapping[str, Any],
           event_key: str, channel: str) -> int:
    """One outbox row (0 when this event already has one for the account and channel,
    or, for an SMS, for another account with the same phone)."""
    key = f"{event_key}:{channel}:{account.id}"
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return 0
    now = utcnow()
    values = dict(variables)
    due = now
    if channel == "sms":
        phone = _phone_of(account)
        others = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key.like(f"{event_key}:sms:%"))).all()
        for other in others:
            other_account = db.session.get(Account, other.account_id)
            if other_account is not None and _phone_of(other_account) == phone:
                return 0
        if spec.link:
            values.update(_new_link(spec, values, account, key))
        if not spec.code:
            due = quiet_until(now) or now
    db.session.add(OutboxMessage(dedupe_key=key, account_id=account.id, channel=channel,
                                 status=OutboxStatus.PENDING,
                                 template=spec.name, variables=values, next_attempt_at=due))
    db.session.flush()
    return 1


def _fall_back_to_sms(message: OutboxMessage) -> None:
    """A subscribe message that will not arrive: the same notice by SMS, if a phone
    reaches the recipient."""
    account = db.session.get(Account, message.account_id)
    if account is None or not _phone_of(account):
        return
    event_key = message.dedupe_key.rsplit(f":wechat:{message.account_id}", 1)[0]
    variables = {k: v for k, v in (message.variables or {}).items()
                 if k not in HIDDEN_VARIABLES}
    if _queue(account, template(message.template), variables, event_key, "sms"):
        logger.info("outbox message %s: WeChat undeliverable, SMS queued", message.id)


def _link_context(dedupe_key: str) -> str:
    return f"outbox_messages.link:{dedupe_key}"


def _link_target(spec: MessageTemplate, variables: Mapping[str, Any]) -> tuple[str, str] | None:
    """(purpose, target) of the short link a message carries."""
    case_number = str(variables.get("case_number") or "")
    if spec.link == "view_certificate":
        number = str(variables.get("certificate_number") or "") or _certificate_of(case_number)
        if number:
            return "view_certificate", number
        # No certificate yet (or none found): the case's page shows it when it is there.
        return ("track_case", case_number) if case_number else None
    return (str(spec.link), case_number) if case_number else None


def _certificate_of(case_number: str) -> str | None:
    if not case_number:
        return None

    return db.session.scalar(
        select(Certificate.number).join(Case, Case.id == Certificate.case_id)
        .where(Case.case_number == case_number)
        .order_by(Certificate.reissue_no.desc(), Certificate.id.desc()).limit(1))


def _new_link(spec: MessageTemplate, variables: Mapping[str, Any], account: Account,
              dedupe_key: str) -> dict[str, Any]:
    """A short link for the account's person, sealed for the outbox row; without a
    person (or target) the message carries the platform's address instead."""

    target = _link_target(spec, variables)
    if account.person_id is None or target is None:
        return {LINK_ID: None, LINK_SEALED: None}
    try:
        link, code = create_link(target[0], target[1], account.person_id, account.id)
    except ValueError as exc:
        logger.warning("no short link for %s to account %s: %s", spec.name, account.id, exc)
        return {LINK_ID: None, LINK_SEALED: None}
    sealed = crypto.protector().encrypt(link_url(code), _link_context(dedupe_key))
    return {LINK_ID: link.id, LINK_SEALED: sealed}


def _fallback_url() -> str:
    return str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/") + "/"


def _link_of(message: OutboxMessage) -> str:
    sealed = (message.variables or {}).get(LINK_SEALED)
    if not sealed:
        return _fallback_url()
    return crypto.protector().decrypt(sealed, _link_context(message.dedupe_key))


# --- quiet hours and the daily cap -----------------------------------------------------


def quiet_hours(value: str | None = None) -> tuple[time, time] | None:
    """``SMS_QUIET_HOURS`` ("22:00-08:00", Asia/Shanghai) as (start, end); None when off
    ("", "off", "none" or a start equal to the end)."""
    raw = str(current_app.config.get("SMS_QUIET_HOURS", "") if value is None else value)
    raw = raw.strip()
    if raw.lower() in {"", "off", "none"}:
        return None
    try:
        start_text, end_text = raw.split("-")
        start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
    except ValueError:
        raise SettingsError(f"SMS_QUIET_HOURS must be like 22:00-08:00, not {raw!r}") from None
    return None if start == end else (start, end)


def quiet_until(moment: datetime, window: tuple[time, time] | None | str = None
                ) -> datetime | None:
    """When the quiet hours around ``moment`` end (UTC); None outside them."""
    hours = quiet_hours(window) if isinstance(window, str) or window is None else window
    if hours is None:
        return None
    start, end = hours
    local = as_utc(moment).astimezone(SHANGHAI)
    now = local.time().replace(tzinfo=None)
    quiet = start <= now < end if start < end else (now >= start or now < end)
    if not quiet:
        return None
    ends = datetime.combine(local.date(), end, tzinfo=SHANGHAI)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(UTC)


def _start_of_local_day(day: date) -> datetime:
    return as_utc(datetime.combine(day, time.min, tzinfo=SHANGHAI))


def _code_templates() -> list[str]:
    return [name for name, spec in TEMPLATES.items() if spec.code]


def sent_today(phone: str, now: datetime | None = None) -> int:
    """Non-code SMS sent today (Asia/Shanghai) to accounts that lead to ``phone``."""

    now = now or utcnow()
    digest = phone_hash(phone)
    accounts = select(Account.id).where(or_(
        Account.phone_hash == digest,
        Account.person_id.in_(select(Person.id).where(Person.phone_hash == digest))))
    return int(db.session.scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.channel == "sms", OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at >= _start_of_local_day(local_date(now)),
            OutboxMessage.account_id.in_(accounts),
            OutboxMessage.template.not_in(_code_templates()))) or 0)


def sms_hold(phone: str, now: datetime) -> datetime | None:
    """When a non-code SMS to ``phone`` may go, if not now: over the daily cap it waits
    for the next day, and in quiet hours for their end (both: the next day's end)."""
    later = None
    cap = int(current_app.config.get("SMS_DAILY_CAP_PER_PHONE") or 0)
    if cap > 0 and sent_today(phone, now) >= cap:
        later = _start_of_local_day(local_date(now) + timedelta(days=1))
    quiet = quiet_until(later or now)
    return quiet or later


# --- sending ---------------------------------------------------------------------------


def _phone_of(account: Account) -> str | None:
    if account.phone:
        return account.phone
    return account.person.phone if account.person is not None else None


def _wechat_template_id(spec: MessageTemplate) -> str | None:
    configured = current_app.config.get("WECHAT_TEMPLATE_IDS") or {}
    return configured.get(spec.name) or spec.wechat_template_id


def _recipient(message: OutboxMessage) -> tuple[Account, str]:
    """The account and its phone (SMS) or openid (WeChat) as they are now."""
    account = db.session.get(Account, message.account_id)
    if account is None or not account.is_active:
        raise Unreachable("account gone")
    if message.channel == "sms":
        phone = _phone_of(account)
        if not phone:
            raise Unreachable("no phone")
        return account, phone
    if not account.wechat_openid:
        raise Unreachable("no openid")
    return account, account.wechat_openid


def _send(message: OutboxMessage, spec: MessageTemplate, address: str) -> None:
    variables = dict(message.variables or {})
    if message.channel == "sms":
        if spec.link:
            variables[LINK_VARIABLE] = _link_of(message)
        sms_sender().send(address, spec.name, spec.sms_parameters(variables))
        return
    template_id = _wechat_template_id(spec)
    if not template_id:
        raise Unreachable("no WeChat template")
    wechat_api().send_subscribe_message(address, template_id, spec.wechat_values(variables),
                                        page=spec.page_for(variables))


_PHONE_LIKE = re.compile(r"(?<![A-Za-z0-9])\+?\d{11,15}(?!\d)")


def _error_text(exc: Exception) -> str:
    """What the helpdesk sees: the error's type and text, any phone number in it masked
    (some provider messages quote the request)."""
    text = _PHONE_LIKE.sub(lambda m: mask_phone(m.group()), str(exc))
    return f"{type(exc).__name__}: {text}"[:200]


def _give_up(message: OutboxMessage, error: str, counts: dict[str, int]) -> None:
    OUTBOX_STATES.move(message, OutboxStatus.FAILED)
    message.last_error = error[:200]
    counts["failed"] += 1
    logger.warning("outbox message %s failed for good", message.id)


def _retry_or_fail(message: OutboxMessage, error: str, counts: dict[str, int]) -> None:
    if message.attempts > len(RETRY_DELAYS):
        _give_up(message, error, counts)
    else:
        message.last_error = error[:200]
        message.next_attempt_at = utcnow() + RETRY_DELAYS[message.attempts - 1]
        counts["retry"] += 1


def _deliver_one(message: OutboxMessage, counts: dict[str, int]) -> None:
    """One attempt; a subscribe message that ends undeliverable falls back to SMS."""
    _attempt(message, counts)
    if message.channel == "wechat" and message.status in (
            OutboxStatus.SKIPPED, OutboxStatus.FAILED) and current_app.config.get(
            "NOTIFY_WECHAT_FIRST"):
        _fall_back_to_sms(message)


def _attempt(message: OutboxMessage, counts: dict[str, int]) -> None:
    spec = TEMPLATES.get(message.template)
    if spec is None:
        _give_up(message, f"unknown template {message.template}", counts)
        return
    try:
        _account, address = _recipient(message)
    except Unreachable as exc:
        OUTBOX_STATES.move(message, OutboxStatus.SKIPPED)
        message.last_error = str(exc)
        counts["skipped"] += 1
        return
    if message.channel == "sms" and not spec.code:
        later = sms_hold(address, utcnow())
        if later is not None:
            message.next_attempt_at = later  # not an attempt: nothing was sent
            counts["deferred"] += 1
            return
    message.attempts += 1
    try:
        _send(message, spec, address)
    except Unreachable as exc:
        OUTBOX_STATES.move(message, OutboxStatus.SKIPPED)
        message.last_error = str(exc)
        counts["skipped"] += 1
    except WeChatError as exc:
        error = _error_text(exc)
        if exc.errcode == WECHAT_NOT_SUBSCRIBED:
            # Not subscribed: the SMS carries it.
            OUTBOX_STATES.move(message, OutboxStatus.SKIPPED)
            message.last_error = error[:200]
            counts["skipped"] += 1
        else:
            _retry_or_fail(message, error, counts)
    except SmsError as exc:
        error = _error_text(exc)
        if not isinstance(exc, SmsUnavailable) and exc.code in PERMANENT_SMS_CODES:
            _give_up(message, error, counts)
        else:
            _retry_or_fail(message, error, counts)
    except (TemplateVariableMissing, crypto.DecryptionFailed) as exc:
        _give_up(message, _error_text(exc), counts)
    except Exception as exc:  # an unexpected error must not stop the other messages
        logger.exception("outbox message %s: unexpected error", message.id)
        _retry_or_fail(message, _error_text(exc), counts)
    else:
        OUTBOX_STATES.move(message, OutboxStatus.SENT)
        message.sent_at = utcnow()
        message.last_error = None
        if LINK_SEALED in (message.variables or {}):
            # The code is in the citizen's SMS now; it need not stay here.
            message.variables = {k: v for k, v in message.variables.items()
                                 if k != LINK_SEALED}
        counts["sent"] += 1


def drain(limit: int = 100) -> dict[str, int]:
    """Send due messages; each is committed on its own so one failure loses nothing."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0, "deferred": 0}
    now = utcnow()
    ids = db.session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.PENDING,
                                       OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id).limit(limit)
    ).all()
    for message_id in ids:
        message = db.session.get(OutboxMessage, message_id)
        if message is None or message.status != OutboxStatus.PENDING:
            continue
        _deliver_one(message, counts)
        try:
            db.session.commit()
        except IntegrityError:  # pragma: no cover - rows are only updated here
            db.session.rollback()
    return counts


# --- the helpdesk ----------------------------------------------------------------------

HELPDESK_FILTERS = {
    "problems": "全部待处理",
    "failed": "发送失败",
    "pending": "待重试或顺延",
}


def failed_messages(limit: int = 50) -> list[OutboxMessage]:
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.id.desc()).limit(limit)))


def helpdesk_messages(status: str = "problems", limit: int = 200) -> list[OutboxMessage]:
    """Failed messages and pending ones that erred or wait (quiet hours, the cap)."""
    waiting = (OutboxMessage.status == OutboxStatus.PENDING) & or_(
        OutboxMessage.last_error.is_not(None), OutboxMessage.next_attempt_at > utcnow())
    failed = OutboxMessage.status == OutboxStatus.FAILED
    where = {"failed": failed, "pending": waiting}.get(status, or_(failed, waiting))
    return list(db.session.scalars(
        select(OutboxMessage).where(where).order_by(OutboxMessage.id.desc()).limit(limit)))


def recipient_label(message: OutboxMessage) -> str:
    """``138****0001`` for an SMS (the phone it would go to now), ``微信`` otherwise."""
    if message.channel != "sms":
        return "微信"
    account = db.session.get(Account, message.account_id)
    phone = _phone_of(account) if account is not None else None
    return mask_phone(phone) if phone else "—"


def visible_variables(message: OutboxMessage) -> dict[str, Any]:
    return {k: v for k, v in (message.variables or {}).items() if k not in HIDDEN_VARIABLES}


def requeue_failed(message_id: int, staff_id: int) -> tuple[OutboxMessage, dict[str, Any]]:
    """Put a failed message back in the queue; an SMS gets a fresh short link, the old one
    is revoked. Returns the message and what it was (the caller audits and commits); it
    goes with the next pass of the worker (quiet hours and cap apply)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound("未找到该消息")
    if message.status != OutboxStatus.FAILED:
        raise Conflict("只有发送失败的消息可以重新发送")
    before = {"status": message.status, "attempts": message.attempts}
    spec = TEMPLATES.get(message.template)
    if message.channel == "sms" and spec is not None and spec.link:

        old_link = (message.variables or {}).get(LINK_ID)
        if old_link:
            revoke(int(old_link), f"staff:{staff_id}", commit=False)
        account = db.session.get(Account, message.account_id)
        if account is not None:
            message.variables = {**(message.variables or {}),
                                 **_new_link(spec, message.variables or {}, account,
                                             message.dedupe_key)}
    OUTBOX_STATES.move(message, OutboxStatus.PENDING)
    message.attempts = 0
    message.next_attempt_at = utcnow()
    db.session.flush()
    return message, before
