"""The citizen pages: login by one-time code, short links, my cases, a case's progress.

Views parse, call one service function and render (post/redirect/get for every form);
the rules live in ``app.links.service``, ``app.accounts.otp`` and ``app.cases``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import (
    current_app,
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
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Regexp

from app.accounts import otp
from app.accounts.service import account_for_phone, normalise_phone
from app.cases.service import list_cases_for
from app.cases.workflow import CaseStatus
from app.extensions import client_ip, limiter
from app.kernel import crypto
from app.kernel.audit import Channel
from app.kernel.crypto import DecryptionFailed
from app.kernel.errors import (
    DomainError,
    OtpDailyLimit,
    OtpInvalid,
    OtpLocked,
    OtpTooFrequent,
    SmsUnavailable,
    ValidationFailed,
)
from app.kernel.validators import mask_phone
from app.links import service as links
from app.links.models import LinkPurpose, ShortLink
from app.usecases import mobile_web
from app.web import ERROR_TITLES
from app.web.h5 import bp
from app.web.h5 import session as h5

log = logging.getLogger(__name__)

FONT_COOKIE = "bdc_h5_font"
FONT_COOKIE_DAYS = 365
PENDING_PHONE = "h5_pending_phone"  # encrypted: the phone a login code was sent to
PENDING_AT = "h5_pending_at"
NEXT = "h5_next"
PAGE_SIZE = 20
NEUTRAL_TITLE = "链接无效或已过期"
NEUTRAL_MESSAGE = ("该链接无效或已过期。如需办理业务，请登录后查看您的办件，"
                   "或拨打服务热线咨询。")


# --- forms ----------------------------------------------------------------------------


class PhoneForm(FlaskForm):
    phone = StringField("手机号码", validators=[
        DataRequired("请输入手机号码"), Length(max=20, message="手机号码格式不正确")])


class CodeForm(FlaskForm):
    code = StringField("验证码", validators=[
        DataRequired("请输入短信中的6位验证码"),
        Regexp(r"^\s*\d{6}\s*$", message="验证码应为6位数字")])


class ButtonForm(FlaskForm):
    """A button that posts (CSRF token only)."""


def _first_error(form: FlaskForm) -> str:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return "提交的信息有误，请检查后重试"


# --- limits ---------------------------------------------------------------------------


def _setting(name: str) -> Any:
    return lambda: str(current_app.config[name])


def _link_key() -> str:
    """Per-link limits: the keyed hash of the code (the code never lands in the store)."""
    code = (request.view_args or {}).get("code", "")
    return "link:" + links.code_hash(str(code))[:32]


def _ip_hash() -> str:
    return crypto.lookup_hash(client_ip(), "ip")


link_open_limit = limiter.shared_limit(_setting("RATELIMIT_SHORT_LINK_OPEN_PER_IP"),
                                       scope="h5-link-open")
code_ip_limit = limiter.shared_limit(_setting("RATELIMIT_H5_CODE_PER_IP"), scope="h5-code-ip",
                                     methods=["POST"])
code_link_limit = limiter.limit(_setting("RATELIMIT_H5_CODE_PER_LINK"), key_func=_link_key)
verify_ip_limit = limiter.shared_limit(_setting("RATELIMIT_H5_VERIFY_PER_IP"),
                                       scope="h5-verify-ip")


# --- every page -------------------------------------------------------------------------


def _large_font() -> bool:
    return request.cookies.get(FONT_COOKIE) == "large"


def _this_page() -> str:
    """Where the large-font switch comes back to: this page, or the page that posted."""
    if g.get("h5_font_next"):
        return str(g.h5_font_next)
    if request.method == "GET":
        return request.full_path.rstrip("?")
    code = (request.view_args or {}).get("code")
    if code and request.endpoint in ("h5.short_link_code", "h5.short_link_verify"):
        return url_for("h5.short_link", code=code)
    return url_for("h5.login") if request.endpoint == "h5.login" else url_for("h5.home")


@bp.context_processor
def _template_context() -> dict[str, Any]:
    large = _large_font()
    here = _this_page()
    return {
        "large_font": large,
        "citizen": h5.load_citizen(),
        "font_toggle_url": url_for("h5.font", size="normal" if large else "large", next=here),
        "miniprogram_url": h5.miniprogram_offer(),
    }


@bp.after_request
def _headers(response: Response) -> Response:
    # Personal pages: not cached; short-link codes never leave in a Referer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def error_page(status: int, message: str | None, title: str | None = None) -> ResponseReturnValue:
    title = title or ERROR_TITLES.get(status, "请求无法处理")
    return render_template("h5/error.html", status=status, title=title, message=message), status


@bp.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError) -> ResponseReturnValue:
    return error_page(400, "页面已过期，请返回上一页刷新后重试。")


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    if status == 429:
        return error_page(429, "您的操作过于频繁，请稍等几分钟后再试。")
    if status == 404:
        return error_page(404, "页面不存在，请返回首页。")
    return error_page(status, None)


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> ResponseReturnValue:
    return error_page(error.status, error.message)


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> ResponseReturnValue:
    log.exception("unhandled error on a mobile web page", exc_info=error)
    mobile_web.discard()
    return error_page(500, "系统繁忙，请稍后再试。")


# --- large font -------------------------------------------------------------------------


@bp.get("/m/font")
def font() -> ResponseReturnValue:
    """Switch large-font mode (适老化) with a plain link: a cookie, no JavaScript."""
    response = redirect(h5.safe_next(request.args.get("next")) or url_for("h5.home"))
    if request.args.get("size") == "large":
        response.set_cookie(FONT_COOKIE, "large", max_age=FONT_COOKIE_DAYS * 86400,
                            httponly=True, samesite="Lax",
                            secure=current_app.config["APP_ENV"] == "production")
    else:
        response.delete_cookie(FONT_COOKIE, httponly=True, samesite="Lax")
    return response


# --- login by one-time code ---------------------------------------------------------------


def _pending_phone() -> str | None:
    token, at = session.get(PENDING_PHONE), session.get(PENDING_AT)
    if not isinstance(token, str) or not isinstance(at, int | float):
        return None
    if time.time() - float(at) > int(current_app.config["OTP_TTL_SECONDS"]):
        return None
    try:
        return crypto.protector().decrypt(token, PENDING_PHONE)
    except (DecryptionFailed, ValueError):
        return None


def _forget_pending() -> None:
    session.pop(PENDING_PHONE, None)
    session.pop(PENDING_AT, None)


@bp.route("/m/login", methods=["GET", "POST"])
@code_ip_limit
def login() -> ResponseReturnValue:
    """Step 1: the phone number → a code by SMS. Step 2 (same page): the code."""
    if request.method == "GET":
        wanted = h5.safe_next(request.args.get("next"))
        if wanted:
            session[NEXT] = wanted
        if request.args.get("change"):
            _forget_pending()
        if h5.load_citizen() is not None and not request.args.get("change"):
            return redirect(h5.safe_next(session.pop(NEXT, None)) or url_for("h5.home"))
        phone = _pending_phone()
        return render_template("h5/login.html", phone_form=PhoneForm(),
                               masked=mask_phone(phone) if phone else None)
    form = PhoneForm()
    error, status = None, 200
    if not form.validate_on_submit():
        error, status = _first_error(form), 422
    else:
        try:
            e164 = normalise_phone(form.phone.data or "")
            sent = otp.request_code(e164, _ip_hash())
        except ValidationFailed as failure:
            error, status = failure.details["fields"]["phone"][0], 422
        except OtpTooFrequent as failure:
            error = f"验证码已发送，请{failure.details.get('retry_after', 60)}秒后再重新获取"
            status = 429
        except (OtpDailyLimit, SmsUnavailable) as failure:
            error, status = failure.message, failure.status
        else:
            session[PENDING_PHONE] = crypto.protector().encrypt(e164, PENDING_PHONE)
            session[PENDING_AT] = time.time()
            flash(f"验证码已发送至 {mask_phone(e164)}，{sent.expires_in // 60}分钟内有效",
                  "success")
            return redirect(url_for("h5.login"))
    return render_template("h5/login.html", phone_form=form, masked=None,
                           error=error), status


@bp.post("/m/login/verify")
@verify_ip_limit
def login_verify() -> ResponseReturnValue:
    phone = _pending_phone()
    if phone is None:
        flash("验证码已过期，请重新获取", "error")
        return redirect(url_for("h5.login", change=1))
    form = CodeForm()
    if not form.validate_on_submit():
        flash(_first_error(form), "error")
        return redirect(url_for("h5.login"))
    try:
        otp.verify_code(phone, (form.code.data or "").strip())
    except OtpInvalid as failure:
        remaining = failure.details.get("remaining_attempts")
        flash("验证码错误" + (f"，还可尝试{remaining}次" if remaining else "或已失效"), "error")
        return redirect(url_for("h5.login"))
    except OtpLocked as failure:
        flash(failure.message, "error")
        return redirect(url_for("h5.login", change=1))
    wanted = h5.safe_next(session.get(NEXT))
    h5.log_in(account_for_phone(phone, Channel.MOBILE_WEB))
    return redirect(wanted or url_for("h5.home"))


@bp.post("/m/logout")
def logout() -> ResponseReturnValue:
    if ButtonForm().validate_on_submit():
        h5.log_out()
        flash("您已退出登录", "info")
    return redirect(url_for("h5.login"))


# --- short links ---------------------------------------------------------------------------


def _neutral() -> ResponseReturnValue:
    """The one answer for a malformed, unknown, expired or revoked link (no oracle)."""
    g.h5_font_next = url_for("h5.home")  # the same page whatever the code was
    return render_template("h5/link_invalid.html", title=NEUTRAL_TITLE,
                           message=NEUTRAL_MESSAGE), 404


def _open_link(code: str) -> ShortLink | None:
    link, refused = links.find(code)
    if link is not None and refused is not None:
        citizen = h5.load_citizen()
        mobile_web.note_link(link, "link.refused", citizen.id if citizen else None,
                             {"reason": refused})
        return None
    return link


def _land(link: ShortLink) -> ResponseReturnValue:
    """After the code (or a fresh session of the person): grant, offer WeChat, go."""
    h5.grant(link)
    landing = links.landing_path(link)
    h5.offer_miniprogram(links.miniprogram_link(link), landing, links.URL_LINK_DAYS)
    return redirect(landing)


@bp.get("/s/<code>")
@link_open_limit
def short_link(code: str) -> ResponseReturnValue:
    link = _open_link(code)
    if link is None:
        return _neutral()
    citizen = h5.load_citizen()
    if links.belongs_to(link, citizen) and h5.verified_recently():
        assert citizen is not None
        mobile_web.count_link_open(link, citizen, "session")
        return _land(link)
    phone = links.phone_on_file(link)
    if phone is None:
        return _neutral()
    mobile_web.note_link(link, "link.opened", citizen.id if citizen else None)
    # The masked phone only: a link forwarded to someone else does not say whose it is.
    return render_template("h5/link.html", code=code, masked=mask_phone(phone),
                           purpose=LinkPurpose(link.purpose))


@bp.post("/s/<code>/code")
@link_open_limit
@code_ip_limit
@code_link_limit
def short_link_code(code: str) -> ResponseReturnValue:
    link = _open_link(code)
    if link is None:
        return _neutral()
    if not ButtonForm().validate_on_submit():
        return error_page(400, "页面已过期，请返回上一页刷新后重试。")
    try:
        sent = links.send_code(link, _ip_hash())
    except LookupError:
        return _neutral()
    except OtpTooFrequent as failure:
        flash(f"验证码已发送，请{failure.details.get('retry_after', 60)}秒后再重新获取", "error")
    except (OtpDailyLimit, SmsUnavailable) as failure:
        flash(failure.message, "error")
    else:
        phone = links.phone_on_file(link)
        flash(f"验证码已发送至 {mask_phone(phone)}，{sent.expires_in // 60}分钟内有效", "success")
    return redirect(url_for("h5.short_link", code=code))


@bp.post("/s/<code>/verify")
@link_open_limit
@verify_ip_limit
def short_link_verify(code: str) -> ResponseReturnValue:
    link = _open_link(code)
    if link is None:
        return _neutral()
    form = CodeForm()
    if not form.validate_on_submit():
        flash(_first_error(form), "error")
        return redirect(url_for("h5.short_link", code=code))
    try:
        account = links.verify_code(link, (form.code.data or "").strip())
    except LookupError:
        return _neutral()
    except OtpInvalid as failure:
        remaining = failure.details.get("remaining_attempts")
        flash("验证码错误" + (f"，还可尝试{remaining}次" if remaining else "或已失效，请重新获取"),
              "error")
        return redirect(url_for("h5.short_link", code=code))
    except OtpLocked as failure:
        flash(failure.message, "error")
        return redirect(url_for("h5.short_link", code=code))
    h5.log_in(account)
    return _land(link)


# --- my cases ------------------------------------------------------------------------------


def _granted_targets() -> list[dict[str, str]]:
    """What the short links opened in this session lead to (for an account that cannot
    list them itself yet)."""
    shown = []
    for link_id in reversed(session.get(h5.GRANTS, [])):
        link = links.usable_link(link_id) if isinstance(link_id, int) else None
        if link is not None:
            shown.append({"label": LinkPurpose(link.purpose).label, "target": link.target,
                          "href": links.landing_path(link)})
    return shown


@bp.get("/m/")
@h5.citizen_required
def home() -> ResponseReturnValue:
    account = h5.current_citizen()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    found = list_cases_for(account, page, PAGE_SIZE)
    cases = [{"number": c.case_number, "business_type": c.business_type.name,
              "status": c.status, "status_label": CaseStatus(c.status).label,
              "date": c.updated_at} for c in found.items]
    return render_template("h5/cases.html", cases=cases, page=page, total=found.total,
                           has_next=page * PAGE_SIZE < found.total,
                           verified=account.identity_verified, opened=_granted_targets())
