"""What a citizen does on the mobile-web pages (``/m/…``, ``/s/…``) that the API does not:
a login by one-time code kept in a cookie, a short link opened, a fresh code given, a
payment started from a phone browser and the paid page's order query.

One transaction each (a function commits once, or rolls back what it began and lets
the error through); no gateway call while a write is pending. The pages keep only the
cookie (``app.web.h5.session``) and the rendering.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Account, AuthSession
from app.cases.models import Case
from app.fees import checkout
from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.timeutil import as_utc, utcnow
from app.links import service as links
from app.links.models import ShortLink
from app.policies.payments import OPEN_ORDER_STATUSES
from app.usecases import payments
from payments.gateways.base import TradeState
from payments.models import PaymentOrder

log = logging.getLogger(__name__)

def discard() -> None:
    """Drop whatever a failed request left pending, before an error page is rendered
    (its own queries must not meet an aborted transaction)."""
    db.session.rollback()


# --- the login ------------------------------------------------------------------------


def live_login(login_id: str, account_id: int) -> Account | None:
    """The account of a mobile-web login that is still on (not revoked, not expired, the
    account active); None otherwise."""
    login = db.session.get(AuthSession, login_id)
    if (login is not None and login.account_id == account_id and login.revoked_at is None
            and as_utc(login.expires_at) > utcnow() and login.account.is_active
            and login.channel == Channel.MOBILE_WEB):
        return login.account
    return None


def start_login(account: Account, replaced_login_id: str | None) -> AuthSession:
    """A fresh login for an account that has just given a right one-time code; the
    browser's previous login (if any) ends. One commit (with whatever the code step
    left pending: the account created on first sight, the link's open counted)."""
    try:
        _end_login(replaced_login_id)
        hours = int(current_app.config["H5_SESSION_HOURS"])
        login = AuthSession(id=secrets.token_hex(16), account_id=account.id,
                            channel=Channel.MOBILE_WEB,
                            expires_at=utcnow() + timedelta(hours=hours))
        db.session.add(login)
        account.last_login_at = utcnow()
        audit.record(actor_type=ActorType.CITIZEN, actor_id=account.id,
                     channel=Channel.MOBILE_WEB, action="auth.login", entity_type="account",
                     entity_id=account.id, after={"session": login.id})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return login


def _end_login(login_id: str | None) -> None:
    login = db.session.get(AuthSession, login_id) if login_id else None
    if login is not None and login.revoked_at is None:
        login.revoked_at = utcnow()
        login.revoked_reason = "replaced"
        audit.record(actor_type=ActorType.CITIZEN, actor_id=login.account_id,
                     channel=Channel.MOBILE_WEB, action="auth.session_revoked",
                     entity_type="account", entity_id=login.account_id,
                     after={"session": login.id, "reason": "replaced"})


def code_verified(account: Account) -> None:
    """A logged-in citizen gave a fresh one-time code (before paying or opening a
    certificate): audited."""
    audit.record(actor_type=ActorType.CITIZEN, actor_id=account.id, channel=Channel.MOBILE_WEB,
                 action="auth.code_verified", entity_type="account", entity_id=account.id)
    db.session.commit()


# --- short links ----------------------------------------------------------------------


def note_link(link: ShortLink | None, action: str, account_id: int | None,
              after: dict[str, Any] | None = None) -> None:
    """One audited step of opening a link (opened, refused …)."""
    links.note(link, action, account_id, after)
    db.session.commit()


def count_link_open(link: ShortLink, account: Account, via: str) -> None:
    """The citizen lands on a link's page with a session that already is theirs."""
    links.count_open(link, account, via)
    db.session.commit()


def create_link(purpose: str, target: str, person_id: int, account_id: int | None,
                ttl: timedelta | None) -> tuple[ShortLink, str]:
    """A short link made by hand (``flask links create``): the link and its code."""
    link, code = links.create_link(purpose, target, person_id, account_id, ttl)
    db.session.commit()
    return link, code


# --- paying from a phone browser ---------------------------------------------------------


def start_payment(account: Account, case: Case, gateway_name: str,
                  return_url: str) -> PaymentOrder:
    """The API's ``start_payment`` on the mobile-web channel. Two submits racing for the
    same new order meet at its unique idempotency key: the loser starts again and finds
    the winner's order. Any failure leaves nothing pending."""
    for attempt in range(2):
        try:
            return payments.start_payment(account, case.case_number, gateway_name,
                                          Channel.MOBILE_WEB, case=case,
                                          return_url=return_url)
        except IntegrityError:
            db.session.rollback()
            if attempt:
                raise
        except Exception:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")


def worth_asking(order: PaymentOrder, after_seconds: float) -> bool:
    """An open order at least ``after_seconds`` old: its notification may be lost."""
    return (order.status_enum in OPEN_ORDER_STATUSES
            and (utcnow() - as_utc(order.created_at)).total_seconds() >= after_seconds)


def ask_gateway(order: PaymentOrder) -> PaymentOrder:
    """Ask the gateway about an open order and settle it when it says paid (the same path
    as a notification: verified answer, amount checked, case moved, once). The order as
    the database has it afterwards; a gateway that fails leaves it as it was (the
    notification or the job will settle it)."""
    gateway = checkout.gateways().get(order.gateway)
    if gateway is None:
        return order
    try:
        result = gateway.query(order.out_trade_no)
        if result.state == TradeState.PAID:
            payments.settle(gateway, result, "query")
    except Exception as exc:
        log.warning("order query %s from the paid page: %s", order.out_trade_no, exc)
        db.session.rollback()
    db.session.refresh(order)
    return order
