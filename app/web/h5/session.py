"""The citizen's mobile-web session: its own signed cookie, apart from the staff one.

Flask keeps one session interface per app. ``SplitSessionInterface`` gives the citizen
pages (``/m/…`` and the short links ``/s/…``) their own cookie, ``bdc_h5``, signed with
the app's secret under a different salt (a staff cookie copied into it does not load),
with the same HttpOnly / SameSite=Lax / Secure-in-production flags as the staff cookie;
every other path keeps the staff cookie untouched. Flask-WTF keeps its CSRF token in
whichever session the request has, so the citizen forms are protected the usual way.

The cookie holds the account id, the id of a server-side login session (``AuthSession``,
channel ``mobile_web``: logout and expiry take effect at once), the login time and
``verified_at``, the time of the last one-time code. After a short link's code is
verified it also holds the link's id (a *grant*): the pages behind that link's target
accept the session for the link's person even when the phone's own account is not
linked to that person yet (``case_for_citizen``, ``granted_link``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionInterface
from flask.typing import ResponseReturnValue

from app.accounts import tokens
from app.accounts.models import Account
from app.cases.models import Case
from app.kernel.audit import Channel
from app.kernel.errors import NotFound
from app.links import service as links
from app.links.models import LinkPurpose, ShortLink
from app.usecases import citizen_cases, mobile_web

COOKIE_NAME = "bdc_h5"
COOKIE_SALT = "bdc-h5-session"
H5_PATH_PREFIXES = ("/m/", "/s/")

# Session keys.
ACCOUNT = "h5_account"
LOGIN = "h5_login"  # AuthSession id
LOGIN_AT = "h5_login_at"
VERIFIED_AT = "h5_verified_at"
GRANTS = "h5_links"  # ids of short links whose code this session verified
MINIPROGRAM = "h5_wxa"  # {"url", "path", "exp"}: the URL Link offered on the landing page
MAX_GRANTS = 8
CACHE_KEY = "bdc.h5_citizen"

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])


# --- the cookie -----------------------------------------------------------------------


class CitizenSession(SecureCookieSession):
    """The session of a citizen page (saved to the citizen cookie)."""


class CitizenCookieInterface(SecureCookieSessionInterface):
    salt = COOKIE_SALT
    session_class = CitizenSession

    def get_cookie_name(self, app: Flask) -> str:
        return COOKIE_NAME


def is_citizen_path(path: str) -> bool:
    return path == "/m" or path.startswith(H5_PATH_PREFIXES)


class SplitSessionInterface(SessionInterface):
    """The citizen cookie for the citizen pages, the app's own session everywhere else."""

    def __init__(self, staff: SessionInterface):
        self.staff = staff
        self.citizen = CitizenCookieInterface()

    def open_session(self, app: Flask, request: Any) -> Any:
        chosen = self.citizen if is_citizen_path(request.path) else self.staff
        return chosen.open_session(app, request)

    def make_null_session(self, app: Flask) -> Any:
        return self.staff.make_null_session(app)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        chosen = self.citizen if isinstance(session, CitizenSession) else self.staff
        chosen.save_session(app, session, response)


def install(app: Flask) -> None:
    if not isinstance(app.session_interface, SplitSessionInterface):
        app.session_interface = SplitSessionInterface(app.session_interface)


# --- who is logged in -------------------------------------------------------------------


def _now() -> float:
    return time.time()


def load_citizen() -> Account | None:
    """The logged-in account of this request (``g.citizen``), or None; a session that has
    ended (logged out elsewhere, expired, account deactivated) is cleared."""
    if CACHE_KEY in request.environ:  # once per request (g may outlive it in tests)
        return cast(Account | None, request.environ[CACHE_KEY])
    account_id, login_id = session.get(ACCOUNT), session.get(LOGIN)
    account = None
    if isinstance(account_id, int) and isinstance(login_id, str):
        account = mobile_web.live_login(login_id, account_id)
        if account is None:
            _forget_login()
    request.environ[CACHE_KEY] = g.citizen = account
    return account


def current_citizen() -> Account:
    account = load_citizen()
    if account is None:
        raise NotFound()
    return account


def _forget_login() -> None:
    for key in (ACCOUNT, LOGIN, LOGIN_AT, VERIFIED_AT, GRANTS, MINIPROGRAM):
        session.pop(key, None)


def log_in(account: Account) -> None:
    """A fresh session for an account that has just given a right one-time code (the
    login is committed, with what the code step left pending; the browser's previous
    login ends). Nothing from before survives (no fixation; a new CSRF token)."""
    previous = session.get(LOGIN)
    login = mobile_web.start_login(account, previous if isinstance(previous, str) else None)
    session.clear()
    now = _now()
    session[ACCOUNT] = account.id
    session[LOGIN] = login.id
    session[LOGIN_AT] = now
    session[VERIFIED_AT] = now
    request.environ[CACHE_KEY] = g.citizen = account


def log_out() -> None:
    account = load_citizen()
    login_id = session.get(LOGIN)
    if account is not None and isinstance(login_id, str):
        tokens.logout(tokens.CitizenIdentity(account=account, session_id=login_id,
                                             channel=Channel.MOBILE_WEB))
    session.clear()
    request.environ[CACHE_KEY] = g.citizen = None


def verified_recently(minutes: int | None = None) -> bool:
    """Did this session give a right one-time code within ``minutes`` (default
    ``H5_VERIFIED_MINUTES``)? Pages that pay or download can ask for a fresh code."""
    if load_citizen() is None:
        return False
    at = session.get(VERIFIED_AT)
    limit = int(current_app.config["H5_VERIFIED_MINUTES"]) if minutes is None else minutes
    return isinstance(at, int | float) and 0 <= _now() - float(at) <= limit * 60


def safe_next(value: str | None) -> str | None:
    """Only a path of the citizen pages: never an open redirect."""
    if not value or "\\" in value or value.startswith("//") or not is_citizen_path(value):
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return None
    return value


def citizen_required(view: F) -> F:
    """A page for a logged-in citizen: anyone else goes to the login page (with ``next``)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if load_citizen() is None:
            return redirect(url_for("h5.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapped)


# --- short-link grants --------------------------------------------------------------------


def grant(link: ShortLink) -> None:
    ids = [i for i in session.get(GRANTS, []) if isinstance(i, int) and i != link.id]
    session[GRANTS] = [*ids, link.id][-MAX_GRANTS:]


def granted_link(purposes: tuple[LinkPurpose, ...], target: str) -> ShortLink | None:
    """A link whose code this session verified, still usable, for one of ``purposes`` and
    this exact target: the certificate and payment pages accept it for the link's person."""
    if load_citizen() is None:
        return None
    wanted = {p.value for p in purposes}
    for link_id in reversed(session.get(GRANTS, [])):
        if not isinstance(link_id, int):
            continue
        link = links.usable_link(link_id)
        if link is not None and link.purpose in wanted and link.target == target:
            return link
    return None


def case_for_citizen(case_number: str) -> Case:
    """One of the session's cases, or the target of a short link whose code this session
    verified; NotFound otherwise (also for anyone else's case)."""
    return case_and_party(case_number).case


def case_and_party(case_number: str) -> citizen_cases.OnCase:
    """The case and the place on it of the session's account — or of a short link's
    person, for a link this session verified (the rule is app.policies.cases)."""
    account = current_citizen()
    try:
        return citizen_cases.on_case(account, case_number)
    except NotFound:
        link = granted_link((LinkPurpose.TRACK_CASE, LinkPurpose.PAY_CASE), case_number)
        found = (citizen_cases.case_for_person(case_number, link.person_id)
                 if link is not None else None)
        if found is None:
            raise
        return found


# --- the mini-program offer ---------------------------------------------------------------


def offer_miniprogram(url: str | None, path: str, days: int) -> None:
    if url:
        session[MINIPROGRAM] = {"url": url, "path": path, "exp": _now() + days * 86400}


def miniprogram_offer() -> str | None:
    """The URL Link for this page, if the link that led here offered one."""
    offer = session.get(MINIPROGRAM)
    if (isinstance(offer, dict) and offer.get("path") == request.path
            and float(offer.get("exp", 0)) > _now() and load_citizen() is not None):
        return str(offer.get("url"))
    return None
