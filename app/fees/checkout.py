"""Paying a case's fees in one step: the application's side of payments/ (queries and
helpers; the operations that write are the use cases in app/usecases/payments.py).

The citizen asks for one order covering every assessed item; the result is trusted only
from the gateway's verified notification or an order query, never from the client.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app

from app.accounts.models import Account
from app.cases.models import Case
from app.cases.service import get_case_for
from app.cases.workflow import CaseStatus, can_move
from app.departments import Department
from app.fees import service as fees
from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.errors import NotFound, ValidationFailed
from app.kernel.timeutil import SHANGHAI
from payments import service as payments
from payments.gateways.base import Gateway
from payments.models import OrderStatus, PaymentOrder, Refund, RefundStatus


def gateways() -> dict[str, Gateway]:
    return dict(current_app.extensions.get("bdc.gateways", {}))


def gateway(name: str) -> Gateway:
    found = gateways().get(name)
    if found is None:
        raise ValidationFailed({"gateway": ["不支持的支付方式"]})
    return found


def payable(case: Case) -> bool:
    return can_move(case.status_enum, CaseStatus.PAID, case.business_type.rules)


def order_for(account: Account, out_trade_no: str) -> PaymentOrder:
    order = db.session.scalar(db.select(PaymentOrder).where(
        PaymentOrder.out_trade_no == out_trade_no))
    if order is None:
        raise NotFound("未找到该支付订单")
    case = db.session.get(Case, order.case_id)
    assert case is not None
    get_case_for(account, case.case_number)  # 404 for anyone else
    return order


NOTIFY_PATH = "/api/payments/notify/{gateway}"  # api/payments.py serves both
REFUND_NOTIFY_PATH = "/api/payments/refund-notify/{gateway}"


def notify_url(gateway_name: str, path: str | None = None) -> str:
    """Built from settings, not from a request: the job runner refunds outside one."""
    base = str(current_app.config.get("PAYMENT_NOTIFY_BASE_URL") or "").rstrip("/")
    return base + (path or NOTIFY_PATH).format(gateway=gateway_name)


def refund_notify_url(gateway_name: str) -> str:
    """WeChat sends refund notifications to the refund's own notify_url; Alipay sends
    them to the payment's (they arrive at NOTIFY_PATH as a trade status)."""
    return notify_url(gateway_name, REFUND_NOTIFY_PATH if gateway_name == "wechat" else None)


def refund_everything_paid(case: Case, reason: str) -> list[Refund]:
    """A case refused after payment: a refund request for everything still paid, for a
    supervisor to approve (flushes; the caller commits)."""
    requested = []
    for order in orders_of(case):
        if order.status_enum not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
            continue
        pending = payments.pending_by_item(order)
        items = [(i.id, i.amount_fen - i.refunded_fen - pending.get(i.id, 0))
                 for i in order.items]
        items = [(item_id, fen) for item_id, fen in items if fen > 0]
        if not items:
            continue
        refund = payments.request_refund(order, items, reason, "system")
        audit.record(actor_type=ActorType.SYSTEM, actor_id="refusal", channel=Channel.SYSTEM,
                     action="refund.requested", entity_type="case", entity_id=case.case_number,
                     after={"out_refund_no": refund.out_refund_no,
                            "amount_fen": refund.amount_fen})
        requested.append(refund)
    return requested


def staff_order(case_number: str, out_trade_no: str) -> PaymentOrder:
    order = db.session.scalar(db.select(PaymentOrder).where(
        PaymentOrder.out_trade_no == out_trade_no))
    case = db.session.get(Case, order.case_id) if order else None
    if order is None or case is None or case.case_number != case_number:
        raise NotFound("未找到该支付订单")
    return order


def orders_of(case: Case) -> list[PaymentOrder]:
    return list(db.session.scalars(db.select(PaymentOrder).where(
        PaymentOrder.case_id == case.id).order_by(PaymentOrder.id)))


def pending_refunds() -> list[Refund]:
    return list(db.session.scalars(db.select(Refund).where(
        Refund.status == RefundStatus.REQUESTED).order_by(Refund.id)))


def order_view(order: PaymentOrder) -> dict[str, Any]:
    return {"out_trade_no": order.out_trade_no, "gateway": order.gateway,
            "status": order.status, "status_label": order.status_enum.label,
            "amount_fen": order.amount_fen, "expires_at": order.expires_at,
            "paid_at": order.paid_at, "client_params": order.client_params or {},
            "pay_url": order.pay_url,
            "items": [{"name": i.name, "department": i.department, "amount_fen": i.amount_fen}
                      for i in order.items]}


def daily_settlement(day: date) -> list[payments.SettlementRow]:
    """The settlement of one Beijing-time day, per department."""
    start = datetime.combine(day, time.min, tzinfo=SHANGHAI)
    return payments.settlement(start, start + timedelta(days=1))


def settlement_csv(day: date) -> str:
    """The same as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["日期", "部门", "收款笔数", "收款（元）", "退款笔数", "退款（元）",
                     "应结算（元）"])
    for row in daily_settlement(day):
        writer.writerow([day.isoformat(), Department(row.department).label, row.items_paid,
                         fees.yuan(row.payments_fen).replace(",", ""), row.items_refunded,
                         fees.yuan(row.refunds_fen).replace(",", ""),
                         fees.yuan(row.net_fen).replace(",", "")])
    return out.getvalue()
