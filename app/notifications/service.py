"""Notify citizens: outbox rows written with the event, drained by the job runner.

Every message names a logical template (``case_returned`` …) and carries only
non-personal variables (case numbers, counts, dates). The phone number and the WeChat
openid are looked up when sending, so the outbox holds no personal data. A WeChat
subscribe message goes to accounts that log in with WeChat, an SMS to every account
or person with a phone; a provider that is down is retried with back-off, then the
message is marked failed for the helpdesk.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Account
from app.db import db
from app.integrations.sms import SmsError
from app.integrations.wechat import WeChatError
from app.notifications.models import OutboxMessage, OutboxStatus
from app.services import sms_sender, wechat_api
from app.timeutil import utcnow

logger = logging.getLogger(__name__)

# Order of the SMS template parameters; WeChat data keys for the subscribe message.
TEMPLATES: dict[str, dict[str, Any]] = {
    "case_returned": {"sms": ["case_number", "item_count"], "page": "pages/case-detail/index",
                      "wechat": {"character_string1": "case_number", "phrase2": "status_label",
                                 "thing3": "hint"}},
    "case_accepted": {"sms": ["case_number", "due_date"], "page": "pages/case-detail/index",
                      "wechat": {"character_string1": "case_number", "phrase2": "status_label",
                                 "date3": "due_date"}},
    "fees_assessed": {"sms": ["case_number", "total_yuan"], "page": "pages/case-detail/index",
                      "wechat": {"character_string1": "case_number", "amount2": "total_yuan",
                                 "thing3": "hint"}},
    "case_rejected": {"sms": ["case_number"], "page": "pages/case-detail/index",
                      "wechat": {"character_string1": "case_number", "phrase2": "status_label",
                                 "thing3": "hint"}},
    "case_registered": {"sms": ["case_number"], "page": "pages/case-detail/index",
                        "wechat": {"character_string1": "case_number", "phrase2": "status_label",
                                   "thing3": "hint"}},
    "certificate_issued": {"sms": ["case_number"], "page": "pages/case-detail/index",
                           "wechat": {"character_string1": "case_number",
                                      "phrase2": "status_label", "thing3": "hint"}},
    "certificate_shipped": {"sms": ["case_number", "tracking_number"],
                            "page": "pages/delivery/index",
                            "wechat": {"character_string1": "case_number",
                                       "character_string2": "tracking_number",
                                       "thing3": "hint"}},
    "certificate_at_window": {"sms": ["case_number"], "page": "pages/delivery/index",
                              "wechat": {"character_string1": "case_number",
                                         "phrase2": "status_label", "thing3": "hint"}},
}
RETRY_DELAYS = [timedelta(seconds=s) for s in (30, 60, 120, 300, 600, 1800)]


def enqueue(accounts: Iterable[Account], template: str, variables: dict[str, Any],
            event_key: str) -> int:
    """Queue ``template`` for each account on every channel that reaches it (no commit).

    ``event_key`` names the event; the same event queued twice sends once.
    """
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}")
    queued = 0
    for account in {a.id: a for a in accounts}.values():
        channels = []
        if account.wechat_openid:
            channels.append("wechat")
        if account.phone or (account.person is not None and account.person.phone):
            channels.append("sms")
        for channel in channels:
            key = f"{event_key}:{channel}:{account.id}"
            exists = db.session.scalar(select(OutboxMessage.id).where(
                OutboxMessage.dedupe_key == key))
            if exists is not None:
                continue
            db.session.add(OutboxMessage(
                dedupe_key=key, account_id=account.id, channel=channel, template=template,
                variables=dict(variables),
            ))
            queued += 1
    return queued


def _phone_of(account: Account) -> str | None:
    if account.phone:
        return account.phone
    return account.person.phone if account.person is not None else None


def _send(message: OutboxMessage) -> None:
    spec = TEMPLATES[message.template]
    account = db.session.get(Account, message.account_id)
    if account is None or not account.is_active:
        raise LookupError("account gone")
    if message.channel == "sms":
        phone = _phone_of(account)
        if not phone:
            raise LookupError("no phone")
        sms_sender().send(phone, message.template,
                          [str(message.variables.get(name, "")) for name in spec["sms"]])
    else:
        if not account.wechat_openid:
            raise LookupError("no openid")
        template_id = current_app.config["WECHAT_TEMPLATE_IDS"][message.template]
        data = {key: {"value": str(message.variables.get(name, ""))[:20]}
                for key, name in spec["wechat"].items()}
        page = f"{spec['page']}?case_number={message.variables.get('case_number', '')}"
        wechat_api().send_subscribe_message(account.wechat_openid, template_id, data, page=page)


def drain(limit: int = 100) -> dict[str, int]:
    """Send due messages; each is committed on its own so one failure loses nothing."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
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
        message.attempts += 1
        try:
            _send(message)
        except LookupError as exc:
            message.status = OutboxStatus.SKIPPED
            message.last_error = str(exc)
            counts["skipped"] += 1
        except (SmsError, WeChatError) as exc:
            message.last_error = f"{type(exc).__name__}: {str(exc)[:150]}"
            if message.attempts > len(RETRY_DELAYS):
                message.status = OutboxStatus.FAILED
                counts["failed"] += 1
                logger.warning("outbox message %s failed for good", message.id)
            else:
                message.next_attempt_at = utcnow() + RETRY_DELAYS[message.attempts - 1]
                counts["retry"] += 1
        else:
            message.status = OutboxStatus.SENT
            message.sent_at = utcnow()
            message.last_error = None
            counts["sent"] += 1
        try:
            db.session.commit()
        except IntegrityError:  # pragma: no cover - rows are only updated here
            db.session.rollback()
    return counts


def failed_messages(limit: int = 50) -> list[OutboxMessage]:
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.id.desc()).limit(limit)))
