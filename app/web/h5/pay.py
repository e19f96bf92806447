"""Paying a case's fees from a phone browser: ``/m/cases/<n>/pay`` and ``…/paid``.

One button makes one order for every assessed item through the API's own service
(``app.usecases.payments.start_payment``: the same request again is the same order), on the
Alipay mobile-web gateway, channel ``mobile_web``, and sends the browser to Alipay's
cashier. Paying needs a fresh one-time code (``session.verified_recently``); a session
without one goes through ``/m/verify`` and back.

Alipay sends the browser back to ``…/paid`` with its own query string, which is never
read: the page shows the order as the server has it — settled by Alipay's verified
notification, or by an order query this page makes (at most every few seconds, once the
order is a few seconds old; the job runner does the same after two minutes).

WeChat Pay H5 (MWEB) is offered only when a gateway named ``wechat_h5`` is configured;
the WeChat Pay gateway of the platform speaks JSAPI (the mini-program) only, so today the
page offers Alipay alone.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import quote

from flask import current_app, flash, redirect, render_template, session
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import StringField

from app.cases.models import Case
from app.cases.workflow import CaseStatus
from app.fees import checkout
from app.fees.service import citizen_fees, yuan
from app.kernel.errors import CaseStateConflict, NotFound
from app.kernel.validators import mask_phone
from app.policies import payments as policy
from app.usecases import mobile_web
from app.web.h5 import bp
from app.web.h5 import session as h5
from app.web.h5.fresh import ask_for_code
from app.web.h5.views import error_page
from payments.models import PaymentOrder

log = logging.getLogger(__name__)

# Gateways a phone browser can pay with, in the order offered, when configured.
H5_GATEWAYS = {"alipay": "支付宝", "wechat_h5": "微信支付"}
REFRESH_SECONDS = 2
QUERY_AFTER_SECONDS = 10  # the notification usually comes first
QUERY_EVERY_SECONDS = 5
LAST_QUERY = "h5_paid_query"


class PayForm(FlaskForm):
    gateway = StringField("支付方式")


CASE_NUMBER = re.compile(r"[A-Za-z0-9_-]{1,32}")


def case_for_page(case_number: str) -> Case:
    """``session.case_for_citizen`` for a well-formed number; a malformed one (too long,
    control characters …) is the same 404 without asking the database."""
    if not CASE_NUMBER.fullmatch(case_number):
        raise NotFound("未找到该办件")
    return h5.case_for_citizen(case_number)


def case_path(case_number: str, tail: str = "") -> str:
    return f"/m/cases/{quote(case_number, safe='')}{tail}"


def offered_gateways() -> list[tuple[str, str]]:
    available = checkout.gateways()
    return [(name, label) for name, label in H5_GATEWAYS.items() if name in available]


def fee_groups(case: Case) -> tuple[list[dict[str, Any]], int]:
    """Every assessed item by collecting department, with each department's subtotal."""
    fees = citizen_fees(case)
    groups: dict[str, dict[str, Any]] = {}
    for item in fees["items"]:
        group = groups.setdefault(item["department"], {
            "department": item["department"], "label": item["department_label"],
            "items": [], "subtotal_fen": 0})
        group["items"].append(item)
        group["subtotal_fen"] += item["amount_fen"]
    return list(groups.values()), int(fees["total_fen"])


def case_view(case: Case) -> dict[str, str]:
    """What the pay pages show of the case (plain values)."""
    return {"case_number": case.case_number, "business_type": case.business_type.name,
            "status": case.status, "status_label": CaseStatus(case.status).label}


def order_view(order: PaymentOrder) -> dict[str, Any]:
    return {"out_trade_no": order.out_trade_no, "amount_fen": order.amount_fen,
            "status_label": order.status_enum.label, "paid_at": order.paid_at}


# --- the page and the button ---------------------------------------------------------------


@bp.get("/m/cases/<case_number>/pay")
@h5.citizen_required
def pay(case_number: str) -> ResponseReturnValue:
    case = case_for_page(case_number)
    groups, total = fee_groups(case)
    account = h5.current_citizen()
    return render_template(
        "h5/pay.html", case=case_view(case), status_label=CaseStatus(case.status).label,
        groups=groups, total_fen=total, yuan=yuan, state=policy.payment_state(case).value,
        gateways=offered_gateways(), fresh=h5.verified_recently(),
        masked=mask_phone(account.phone) if account.phone else None,
        case_href=case_path(case.case_number), paid_href=case_path(case.case_number, "/paid"),
        bills_href=case_path(case.case_number, "/bills"),
        form_action=case_path(case.case_number, "/pay"))


def _return_url(case: Case) -> str:
    """Absolute, from settings (never from the request's Host)."""
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    return base + case_path(case.case_number, "/paid")


@bp.post("/m/cases/<case_number>/pay")
@h5.citizen_required
def pay_submit(case_number: str) -> ResponseReturnValue:
    case = case_for_page(case_number)
    here = case_path(case.case_number, "/pay")
    form = PayForm()
    if not form.validate_on_submit():
        return error_page(400, "页面已过期，请返回上一页刷新后重试。")
    offered = dict(offered_gateways())
    gateway_name = (form.gateway.data or next(iter(offered), "")).strip()
    if gateway_name not in offered:
        return error_page(400, "暂不支持该支付方式，请返回重新选择。")
    if not h5.verified_recently():
        flash("为保障资金安全，缴费前请先完成短信验证", "info")
        return ask_for_code(here)
    if not policy.is_due(case):
        flash("该办件当前无需缴费或已缴清", "info")
        return redirect(here)
    try:
        order = mobile_web.start_payment(h5.current_citizen(), case, gateway_name,
                                         _return_url(case))
    except CaseStateConflict as conflict:
        flash(conflict.message, "error")
        return redirect(here)
    except Exception:  # the gateway refused or is down: no cashier to go to
        log.exception("mobile web payment of %s could not start", case.case_number)
        return error_page(503, "支付服务暂时不可用，请稍后再试。")
    if not order.pay_url:
        return error_page(503, "支付服务暂时不可用，请稍后再试。")
    return redirect(order.pay_url, code=303)


# --- back from the cashier --------------------------------------------------------------------


def _query_due(order: PaymentOrder) -> bool:
    """An open order old enough, and not asked about by this browser a moment ago."""
    if not mobile_web.worth_asking(order, QUERY_AFTER_SECONDS):
        return False
    last = session.get(LAST_QUERY)
    if (isinstance(last, dict) and last.get("no") == order.out_trade_no
            and time.time() - float(last.get("at", 0)) < QUERY_EVERY_SECONDS):
        return False
    session[LAST_QUERY] = {"no": order.out_trade_no, "at": time.time()}
    return True


@bp.get("/m/cases/<case_number>/paid")
@h5.citizen_required
def paid(case_number: str) -> ResponseReturnValue:
    """The order as the server has it; Alipay's return parameters are not read."""
    case = case_for_page(case_number)
    account = h5.current_citizen()
    order = policy.settled_order(case)
    if order is None:
        mine = [o for o in checkout.orders_of(case) if o.payer_account_id == account.id]
        if not mine:
            return redirect(case_path(case.case_number, "/pay"))
        order = mine[-1]
        if _query_due(order):
            order = mobile_web.ask_gateway(order)
    state = policy.order_outcome(order)
    here = case_path(case.case_number, "/paid")
    return render_template(
        "h5/paid.html", case=case_view(case), order=order_view(order), state=state.value,
        yuan=yuan,
        refresh_seconds=REFRESH_SECONDS, here=here,
        case_href=case_path(case.case_number), pay_href=case_path(case.case_number, "/pay"),
        bills_href=case_path(case.case_number, "/bills"))
