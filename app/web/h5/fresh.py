"""A fresh one-time code for a logged-in citizen: the H5 counterpart of the
mini-program's identity claim.

Paying and looking at a certificate ask for a code given within
``H5_VERIFIED_MINUTES`` (``session.verified_recently``). A session that logged in earlier
goes through ``/m/verify``: a code to the phone of its own account (shown masked), the
code back, and on to ``next``. Nothing else of the session changes (the login, the
short-link grants stay); only ``verified_at`` is renewed.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from app.accounts import otp
from app.extensions import client_ip
from app.kernel import crypto
from app.kernel.errors import OtpDailyLimit, OtpInvalid, OtpLocked, OtpTooFrequent, SmsUnavailable
from app.kernel.validators import mask_phone
from app.usecases import mobile_web
from app.web.h5 import bp
from app.web.h5 import session as h5
from app.web.h5.views import ButtonForm, CodeForm, code_ip_limit, verify_ip_limit

FRESH_NEXT = "h5_fresh_next"


def ask_for_code(next_path: str) -> ResponseReturnValue:
    """Send the citizen through the code step, then back to ``next_path``."""
    return redirect(url_for("h5.fresh_code", next=next_path))


def _next() -> str:
    return h5.safe_next(session.get(FRESH_NEXT)) or url_for("h5.home")


def _phone() -> str | None:
    return h5.current_citizen().phone


@bp.get("/m/verify")
@h5.citizen_required
def fresh_code() -> ResponseReturnValue:
    wanted = h5.safe_next(request.args.get("next"))
    if wanted:
        session[FRESH_NEXT] = wanted
    if h5.verified_recently() and wanted:
        return redirect(wanted)
    phone = _phone()
    if phone is None:  # not a phone login (never on these pages): log in by phone again
        return redirect(url_for("h5.login", change=1, next=_next()))
    return render_template("h5/fresh_code.html", masked=mask_phone(phone))


@bp.post("/m/verify/code")
@code_ip_limit
@h5.citizen_required
def fresh_code_send() -> ResponseReturnValue:
    phone = _phone()
    if not ButtonForm().validate_on_submit() or phone is None:
        return redirect(url_for("h5.fresh_code"))
    try:
        sent = otp.request_code(phone, crypto.lookup_hash(client_ip(), "ip"))
    except OtpTooFrequent as failure:
        flash(f"验证码已发送，请{failure.details.get('retry_after', 60)}秒后再重新获取", "error")
    except (OtpDailyLimit, SmsUnavailable) as failure:
        flash(failure.message, "error")
    else:
        flash(f"验证码已发送至 {mask_phone(phone)}，{sent.expires_in // 60}分钟内有效", "success")
    return redirect(url_for("h5.fresh_code"))


@bp.post("/m/verify")
@verify_ip_limit
@h5.citizen_required
def fresh_code_check() -> ResponseReturnValue:
    phone = _phone()
    form = CodeForm()
    if phone is None:
        return redirect(url_for("h5.fresh_code"))
    if not form.validate_on_submit():
        flash(next(iter(form.errors.values()), ["请输入短信中的6位验证码"])[0], "error")
        return redirect(url_for("h5.fresh_code"))
    try:
        otp.verify_code(phone, (form.code.data or "").strip())
    except OtpInvalid as failure:
        remaining = failure.details.get("remaining_attempts")
        flash("验证码错误" + (f"，还可尝试{remaining}次" if remaining else "或已失效，请重新获取"),
              "error")
        return redirect(url_for("h5.fresh_code"))
    except OtpLocked as failure:
        flash(failure.message, "error")
        return redirect(url_for("h5.fresh_code"))
    session[h5.VERIFIED_AT] = h5._now()
    mobile_web.code_verified(h5.current_citizen())
    flash("验证成功", "success")
    return redirect(h5.safe_next(session.pop(FRESH_NEXT, None)) or url_for("h5.home"))
