"""Signed short links: create, resolve, revoke; the one-time code that opens them.

A link names one purpose (pay case X, view certificate Y, track case Z), the person it
is for, and an expiry (``SHORT_LINK_TTL_DAYS``, default 7). Its code is 128 random bits
(``secrets.token_urlsafe(16)``, 22 characters) and only a keyed hash of it is stored,
so a copy of the database does not give working links. A link never grants access by
itself: opening it asks for the one-time code sent to the person's phone on file (or
an existing, freshly verified session of that person), see ``app/web/h5``.

``resolve`` gives one answer, ``None``, for a code that is malformed, unknown, expired
or revoked: the page shown for each is the same (no oracle).
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta
from typing import Any, cast
from urllib.parse import quote, urlencode

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult

from app.accounts import otp
from app.accounts.models import Account
from app.accounts.service import account_for_phone
from app.cases.models import Case
from app.certificates.models import Certificate
from app.integrations.wechat import WeChatError
from app.kernel import audit, crypto
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.errors import OtpInvalid, OtpLocked
from app.kernel.timeutil import as_utc, utcnow
from app.links.models import LinkPurpose, ShortLink
from app.people.models import Person
from app.services import wechat_api

log = logging.getLogger(__name__)

CODE_BYTES = 16  # 128 bits; the issue asks for at least 96
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22}$")  # what token_urlsafe(16) gives
HASH_PURPOSE = "short_link"
MAX_TARGET_LENGTH = 64
URL_LINK_DAYS = 1  # the mini-program URL Link offered after the code is verified

# The mini-program page (and its query parameter) for each purpose.
MINIPROGRAM_PAGES: dict[LinkPurpose, tuple[str, str]] = {
    LinkPurpose.PAY_CASE: ("pages/case-payment/index", "case_number"),
    LinkPurpose.TRACK_CASE: ("pages/case-detail/index", "case_number"),
    LinkPurpose.VIEW_CERTIFICATE: ("pages/certificate/index", "number"),
}


def code_hash(code: str) -> str:
    return crypto.lookup_hash(code, HASH_PURPOSE)


# --- phone and accounts on file -----------------------------------------------------


def _person_accounts(person_id: int) -> list[Account]:
    return list(db.session.scalars(
        select(Account).where(Account.person_id == person_id, Account.is_active.is_(True))
        .order_by(Account.id)))


def _linked_accounts(link: ShortLink) -> list[Account]:
    """The link's own account first, then every active account of its person."""
    accounts = _person_accounts(link.person_id)
    if link.account_id is not None:
        own = db.session.get(Account, link.account_id)
        if own is not None and own.is_active:
            accounts = [own, *[a for a in accounts if a.id != own.id]]
    return accounts


def phone_on_file(link: ShortLink) -> str | None:
    """Where the code goes: the person's phone, else their account's phone (E.164)."""
    person = db.session.get(Person, link.person_id)
    if person is not None and person.phone:
        return person.phone
    return next((a.phone for a in _linked_accounts(link) if a.phone), None)


def belongs_to(link: ShortLink, account: Account | None) -> bool:
    """Is this account the link's person's (or the link's own account)?"""
    if account is None or not account.is_active:
        return False
    return account.id == link.account_id or (
        account.person_id is not None and account.person_id == link.person_id)


# --- create, resolve, revoke --------------------------------------------------------


def _check_target(purpose: LinkPurpose, target: str) -> None:
    if (not isinstance(target, str) or not target or len(target) > MAX_TARGET_LENGTH
            or any(ch.isspace() or not ch.isprintable() for ch in target)):
        raise ValueError("a short link's target is a case or certificate number")
    if purpose == LinkPurpose.VIEW_CERTIFICATE:
        found = db.session.scalar(select(Certificate.id).where(Certificate.number == target))
    else:
        found = db.session.scalar(select(Case.id).where(Case.case_number == target))
    if found is None:
        raise ValueError(f"no {purpose.value} target {target!r}")


def create_link(purpose: str, target: str, person_id: int, account_id: int | None = None,
                ttl: timedelta | None = None) -> tuple[ShortLink, str]:
    """A new link and its code (shown once: put it in the message, never store it).

    The caller commits (the link is written with the message that carries it). Raises
    ValueError for an unknown purpose or target, an unknown person, or a person with no
    phone on file (nobody could open the link).
    """
    try:
        kind = LinkPurpose(purpose)
    except ValueError:
        raise ValueError(f"unknown short link purpose {purpose!r}") from None
    _check_target(kind, target)
    if db.session.get(Person, person_id) is None:
        raise ValueError(f"no person {person_id}")
    if ttl is None:
        ttl = timedelta(days=int(current_app.config["SHORT_LINK_TTL_DAYS"]))
    if ttl <= timedelta(0):
        raise ValueError("a short link's lifetime must be positive")
    now = utcnow()
    code = secrets.token_urlsafe(CODE_BYTES)
    link = ShortLink(code_hash=code_hash(code), purpose=kind.value, target=target,
                     person_id=person_id, account_id=account_id, created_at=now,
                     expires_at=now + ttl)
    if phone_on_file(link) is None:
        raise ValueError(f"person {person_id} has no phone on file for a short link")
    db.session.add(link)
    db.session.flush()
    audit.record(
        actor_type=ActorType.SYSTEM, actor_id=None, channel=Channel.SYSTEM,
        action="link.created", entity_type="short_link", entity_id=link.id,
        after={"purpose": link.purpose, "target": link.target, "person_id": person_id,
               "account_id": account_id, "expires_at": link.expires_at.isoformat()},
    )
    return link, code


def link_url(code: str) -> str:
    """The absolute URL to put in a message: ``PUBLIC_BASE_URL/s/<code>``."""
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    return f"{base}/s/{code}"


def _usable(link: ShortLink) -> str | None:
    """Why a known link cannot be used (``expired`` / ``revoked``), or None."""
    if link.revoked_at is not None:
        return "revoked"
    if as_utc(link.expires_at) <= utcnow():
        return "expired"
    return None


def find(code: str) -> tuple[ShortLink | None, str | None]:
    """The link of a code and why it is refused; (None, None) for a malformed or unknown code.

    Internal: callers outside the link pages use ``resolve``.
    """
    if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
        return None, None
    link = db.session.scalar(select(ShortLink).where(ShortLink.code_hash == code_hash(code)))
    if link is None:
        return None, None
    return link, _usable(link)


def resolve(code: str) -> ShortLink | None:
    """The usable link of a code; None for malformed, unknown, expired or revoked alike."""
    link, refused = find(code)
    return link if link is not None and refused is None else None


def usable_link(link_id: int) -> ShortLink | None:
    """A link by id (kept in a session after its code was verified), if still usable."""
    link = db.session.get(ShortLink, link_id)
    return link if link is not None and _usable(link) is None else None


def _actor(actor: object) -> tuple[str, str | None]:
    """``"staff:12"`` / ``"citizen:3"`` / ``"system"`` (or a staff id) → audit actor."""
    text = str(actor)
    kind, _, ident = text.partition(":")
    if kind in {t.value for t in ActorType} and ident:
        return kind, ident
    if text.isdigit():
        return ActorType.STAFF.value, text
    return ActorType.SYSTEM.value, None


def revoke(link_id: int, actor: object, *, channel: str = Channel.ADMIN,
           commit: bool = True) -> bool:
    """Revoke a link at once (its next open gets the neutral page). ``actor`` is
    ``"staff:<id>"``, ``"citizen:<id>"``, ``"system"`` or a staff id. False when the link
    does not exist or was revoked already."""
    now = utcnow()
    revoked_by = str(actor)[:40]
    changed = cast(CursorResult[Any], db.session.execute(
        update(ShortLink).where(ShortLink.id == link_id, ShortLink.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by=revoked_by)
    )).rowcount
    if changed != 1:
        return False
    actor_type, actor_id = _actor(actor)
    audit.record(actor_type=actor_type, actor_id=actor_id, channel=channel,
                 action="link.revoked", entity_type="short_link", entity_id=link_id,
                 after={"revoked_at": now.isoformat()})
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return True


# --- opening a link (the H5 pages call these) ---------------------------------------


def note(link: ShortLink | None, action: str, account_id: int | None,
         after: dict[str, Any] | None = None) -> None:
    """Audit one step of opening a link (mobile web); no personal data, no code."""
    audit.record(actor_type=ActorType.CITIZEN, actor_id=account_id, channel=Channel.MOBILE_WEB,
                 action=action, entity_type="short_link",
                 entity_id=link.id if link is not None else "-", after=after)


def send_code(link: ShortLink, ip_hash: str | None) -> otp.CodeSent:
    """Send a one-time code to the phone on file (the OTP limits apply; errors propagate)."""
    phone = phone_on_file(link)
    if phone is None:  # the phone was removed since the link was made
        raise LookupError("no phone on file")
    sent = otp.request_code(phone, ip_hash)  # commits the challenge
    note(link, "link.code_sent", None)
    db.session.commit()
    return sent


def verify_code(link: ShortLink, code: str) -> Account:
    """Check the code sent for this link; the account of the phone on file (created on
    first sight), with the open counted. OtpInvalid / OtpLocked propagate (audited).
    The caller starts the session and commits."""

    phone = phone_on_file(link)
    if phone is None:
        raise LookupError("no phone on file")
    try:
        otp.verify_code(phone, code)
    except (OtpInvalid, OtpLocked) as error:
        db.session.rollback()
        note(link, "link.code_rejected", None, {"reason": error.code})
        db.session.commit()
        raise
    account = account_for_phone(phone, Channel.MOBILE_WEB)
    count_open(link, account, "code")
    return account


def count_open(link: ShortLink, account: Account, via: str) -> None:
    """The citizen lands on the link's page: count it (no commit)."""
    now = utcnow()
    db.session.execute(update(ShortLink).where(ShortLink.id == link.id).values(
        open_count=ShortLink.open_count + 1, last_opened_at=now))
    note(link, "link.verified" if via == "code" else "link.session_reused", account.id,
         {"via": via})


def landing_path(link: ShortLink) -> str:
    """Where the link leads once opened (a path on this site)."""
    kind = link.purpose_enum
    target = quote(link.target, safe="")
    if kind == LinkPurpose.PAY_CASE:
        return f"/m/cases/{target}/pay"
    if kind == LinkPurpose.VIEW_CERTIFICATE:
        return f"/m/certificates/{target}"
    return f"/m/cases/{target}"


def miniprogram_link(link: ShortLink) -> str | None:
    """A mini-program URL Link to the same page, when the person uses WeChat; None when
    they do not or WeChat does not answer (the web page works without it)."""

    if not any(a.wechat_openid for a in _linked_accounts(link)):
        return None
    path, parameter = MINIPROGRAM_PAGES[link.purpose_enum]
    try:
        return wechat_api().generate_url_link(path, urlencode({parameter: link.target}),
                                              URL_LINK_DAYS)
    except (WeChatError, ValueError) as error:
        log.warning("no mini-program URL Link for short link %s: %s", link.id,
                    type(error).__name__)
        return None
