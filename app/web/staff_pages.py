"""The staff pages' blueprint and what every page behind it shares: the login
check by role (``staff_required``), the error pages, the security headers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from app.kernel.errors import DomainError, ValidationFailed
from app.staff import service
from app.staff.models import StaffRole
from app.staff.service import (
    StaffSessionEnded,
)
from app.web import ERROR_TITLES

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static/admin",
    static_url_path="/static",
)

# Session keys. The pending ones live only between the password and the code.
PENDING_ID = "staff_pending_id"
PENDING_AT = "staff_pending_at"
NEXT = "staff_next"
STAFF_ID = "staff_id"
NONCE = "staff_nonce"
AUTH_AT = "staff_auth_at"
STAMP = "staff_stamp"
SECOND_FACTOR = "staff_2fa"

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])


def _safe_next(value: str | None) -> str | None:
    """Only paths inside the admin pages: never an open redirect."""
    if not value or not value.startswith("/admin") or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def _requested_path() -> str:
    return request.full_path.rstrip("?")


def _session_login() -> tuple[int, float, str] | None:
    """The logged-in part of the session, if both factors were passed."""
    staff_id, auth_at, stamp = session.get(STAFF_ID), session.get(AUTH_AT), session.get(STAMP)
    if (
        session.get(SECOND_FACTOR) is not True
        or not isinstance(staff_id, int)
        or not isinstance(auth_at, int | float)
        or not isinstance(stamp, str)
    ):
        return None
    return staff_id, float(auth_at), stamp


def _session_pending() -> tuple[int, float] | None:
    staff_id, started_at = session.get(PENDING_ID), session.get(PENDING_AT)
    if not isinstance(staff_id, int) or not isinstance(started_at, int | float):
        return None
    return staff_id, float(started_at)


def staff_required(*roles: StaffRole) -> Callable[[F], F]:
    """Every admin page: a logged-in staff member (both factors), holding one of ``roles``.

    Not logged in → the login page (with ``next``); password only → the code page;
    a session that has ended (expired, deactivated, locked, credentials changed) is
    cleared; a staff member without the role gets the 403 page.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            login = _session_login()
            if login is None:
                if _session_pending() is not None:
                    return redirect(url_for("admin.login_totp"))
                session.clear()
                return redirect(url_for("admin.login", next=_requested_path()))
            try:
                g.staff = service.session_staff(*login)
            except StaffSessionEnded as error:
                session.clear()
                flash(error.message, "error")
                return redirect(url_for("admin.login", next=_requested_path()))
            if roles and not g.staff.has_role(*roles):
                needed = "、".join(role.label for role in roles)
                return _error_page(403, f"此页面仅限{needed}访问。如需开通权限，请联系主管。")
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


def _error_page(status: int, message: str | None) -> tuple[str, int]:
    title = ERROR_TITLES.get(status, "请求无法处理")
    return render_template("admin/error.html", status=status, title=title, message=message), status


@bp.context_processor
def _template_context() -> dict[str, Any]:
    return {"current_staff": g.get("staff"), "StaffRole": StaffRole}


@bp.after_request
def _no_store(response: Response) -> Response:
    # Admin pages show personal data and, once, credentials: keep them out of caches.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError) -> ResponseReturnValue:
    return _error_page(400, "页面已过期或请求来源无法验证，请刷新页面后重试。")


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> ResponseReturnValue:
    return _error_page(error.status, _describe(error))


def _describe(error: DomainError) -> str:
    if isinstance(error, ValidationFailed):
        reasons = [reason for problems in error.details["fields"].values() for reason in problems]
        if reasons:
            return "；".join(reasons)
    return error.message


class CsrfForm(FlaskForm):
    """Only the CSRF token; the fields are read from request.form."""
