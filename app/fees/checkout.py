"""Paying a case's fees in one step: the application's side of payments/.

The citizen asks for one order covering every assessed item; the result is trusted only
from the gateway's verified notification or an order query, never from the client.
A case paid twice (both gateways) keeps the first payment; the second is flagged for a
refund and the helpdesk is told.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy.orm.exc import StaleDataError

from app.accounts.models import Account
from app.cases.models import Case
from app.cases.service import get_case_for, transition
from app.cases.workflow import CaseStatus, can_move
from app.fees import service as fees
from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.errors import CaseStateConflict, NotFound, ValidationFailed
from app.kernel.timeutil import utcnow
from app.kernel.wakeup import nudge
from payments import service as payments
from payments.gateways.base import (
    Gateway,
    GatewayError,
    NotificationRejected,
    PaymentResult,
    RefundResult,
)
from payments.models import PaymentOrder

logger = logging.getLogger(__name__)


def gateways() -> dict[str, Gateway]:
    return dict(current_app.extensions.get("bdc.gateways", {}))


def gateway(name: str) -> Gateway:
    found = gateways().get(name)
    if found is None:
        raise ValidationFailed({"gateway": ["不支持的支付方式"]})
    return found


def payable(case: Case) -> bool:
    return can_move(case.status_enum, CaseStatus.PAID, case.business_type.rules)


def start_payment(account: Account, case_number: str, gateway_name: str,
                  channel: str, *, case: Case | None = None,
                  return_url: str | None = None) -> PaymentOrder:
    """One order for every assessed item (the same request again: the same order).

    The mobile web pages pass the ``case`` they resolved themselves (a short link's grant
    counts there) and the ``return_url`` the browser comes back to after the cashier."""
    case = case if case is not None else get_case_for(account, case_number)
    if not payable(case):
        raise CaseStateConflict("办件当前无需缴费或已缴费", status=case.status)
    chosen = gateway(gateway_name)
    items = [payments.ItemIn(f.id, f.item_code, f.name, f.department, f.amount_fen)
             for f in fees.current_fees(case) if f.amount_fen > 0]
    if not items:
        raise CaseStateConflict("该办件无需缴纳费用", status=case.status)
    openid = account.wechat_openid if gateway_name == "wechat" else None
    if gateway_name == "wechat" and not openid:
        raise ValidationFailed({"gateway": ["微信支付需要在小程序中登录"]})
    return payments.open_order(
        gateway=chosen, case_id=case.id, payer_account_id=account.id, items=items,
        channel=channel, description=f"不动产登记税费 {case.case_number}",
        payer_openid=openid, notify_url=_notify_url(gateway_name), return_url=return_url)


def order_for(account: Account, out_trade_no: str) -> PaymentOrder:
    order = db.session.scalar(db.select(PaymentOrder).where(
        PaymentOrder.out_trade_no == out_trade_no))
    if order is None:
        raise NotFound("未找到该支付订单")
    case = db.session.get(Case, order.case_id)
    assert case is not None
    get_case_for(account, case.case_number)  # 404 for anyone else
    return order


def settle(gateway_obj: Gateway, result: PaymentResult, source: str) -> payments.Applied:
    """Apply a verified result; move the case to paid; commit once.

    A notification and a query may settle the same order at the same moment. PostgreSQL
    makes the second wait on the order's row lock; SQLite lets both read, and the second
    write then finds the order's version changed: it starts again and sees a duplicate.
    """
    for _ in range(3):
        try:
            return _settle(gateway_obj, result, source)
        except StaleDataError:
            db.session.rollback()
    return _settle(gateway_obj, result, source)


def _settle(gateway_obj: Gateway, result: PaymentResult, source: str) -> payments.Applied:
    applied = payments.apply_result(gateway_obj, result, source)
    order = applied.order
    if applied.newly_paid and order is not None:
        case = db.session.get(Case, order.case_id)
        assert case is not None
        audit.record(actor_type=ActorType.SYSTEM, actor_id=gateway_obj.name,
                     channel=Channel.SYSTEM, action="payment.paid", entity_type="case",
                     entity_id=case.case_number,
                     after={"out_trade_no": order.out_trade_no, "amount_fen": order.amount_fen,
                            "gateway": order.gateway, "source": source})
        if payable(case):
            transition(case, CaseStatus.PAID, actor_type=ActorType.SYSTEM,
                       actor_id=gateway_obj.name, channel=Channel.SYSTEM,
                       reason=f"一次缴清 {fees.yuan(order.amount_fen)} 元", commit=False)
        else:
            # Paid twice (the other gateway, or the counter): refunded automatically, and
            # the helpdesk sees it in the audit log and the refunds list.
            audit.record(actor_type=ActorType.SYSTEM, actor_id=gateway_obj.name,
                         channel=Channel.SYSTEM, action="payment.double_payment",
                         entity_type="case", entity_id=case.case_number,
                         after={"out_trade_no": order.out_trade_no})
            logger.warning("case %s paid twice: order %s refunded", case.case_number,
                           order.out_trade_no)
            refund = payments.request_refund(
                order, [(i.id, i.amount_fen) for i in order.items], "重复缴费，自动全额退款",
                "system")
            db.session.commit()
            payments.approve_refund(refund, "system:double-payment", gateway_obj,
                                    _refund_notify_url(gateway_obj.name))
            return applied
    db.session.commit()
    if applied.newly_paid:
        nudge()  # a register-first case's certificate is due now
    return applied


NOTIFY_PATH = "/api/payments/notify/{gateway}"  # api/payments.py serves both
REFUND_NOTIFY_PATH = "/api/payments/refund-notify/{gateway}"


def _notify_url(gateway_name: str, path: str | None = None) -> str:
    """Built from settings, not from a request: the job runner refunds outside one."""
    base = str(current_app.config.get("PAYMENT_NOTIFY_BASE_URL") or "").rstrip("/")
    return base + (path or NOTIFY_PATH).format(gateway=gateway_name)


def _refund_notify_url(gateway_name: str) -> str:
    """WeChat sends refund notifications to the refund's own notify_url; Alipay sends
    them to the payment's (they arrive at NOTIFY_PATH as a trade status)."""
    return _notify_url(gateway_name, REFUND_NOTIFY_PATH if gateway_name == "wechat" else None)


def request_refund(case_number: str, out_trade_no: str, items: list[tuple[int, int]],
                   reason: str, staff_id: int) -> Any:
    """The helpdesk asks for a refund of some items (a supervisor approves it)."""
    order = _staff_order(case_number, out_trade_no)
    try:
        refund = payments.request_refund(order, items, reason, f"staff:{staff_id}")
    except payments.RefundRefused as refused:
        db.session.rollback()
        raise ValidationFailed({"refund": [refused.message]}) from None
    audit.record(actor_type=ActorType.STAFF, actor_id=staff_id, channel=Channel.ADMIN,
                 action="refund.requested", entity_type="case", entity_id=case_number,
                 after={"out_refund_no": refund.out_refund_no, "amount_fen": refund.amount_fen})
    db.session.commit()
    return refund


def decide_refund(refund_id: int, staff_id: int, approve: bool) -> Any:
    """A supervisor approves (the gateway refunds, the ledger reverses) or rejects."""
    from payments.models import Refund

    refund = db.session.get(Refund, refund_id)
    if refund is None:
        raise NotFound("未找到该退款申请")
    case = db.session.get(Case, refund.order.case_id)
    assert case is not None
    try:
        if approve:
            payments.approve_refund(refund, f"staff:{staff_id}", gateway(refund.order.gateway),
                                    _refund_notify_url(refund.order.gateway))
        else:
            payments.reject_refund(refund, f"staff:{staff_id}")
    except payments.RefundRefused as refused:
        db.session.rollback()
        raise ValidationFailed({"refund": [refused.message]}) from None
    audit.record(actor_type=ActorType.STAFF, actor_id=staff_id, channel=Channel.ADMIN,
                 action="refund.approved" if approve else "refund.rejected",
                 entity_type="case", entity_id=case.case_number,
                 after={"out_refund_no": refund.out_refund_no, "status": refund.status})
    db.session.commit()
    return refund


def refund_everything_paid(case: Case, reason: str) -> list[Any]:
    """A case refused after payment: a refund request for everything still paid, for a
    supervisor to approve (the caller commits)."""
    from payments.models import OrderStatus

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


def _staff_order(case_number: str, out_trade_no: str) -> PaymentOrder:
    order = db.session.scalar(db.select(PaymentOrder).where(
        PaymentOrder.out_trade_no == out_trade_no))
    case = db.session.get(Case, order.case_id) if order else None
    if order is None or case is None or case.case_number != case_number:
        raise NotFound("未找到该支付订单")
    return order


def orders_of(case: Case) -> list[PaymentOrder]:
    return list(db.session.scalars(db.select(PaymentOrder).where(
        PaymentOrder.case_id == case.id).order_by(PaymentOrder.id)))


def pending_refunds() -> list[Any]:
    from payments.models import Refund, RefundStatus

    return list(db.session.scalars(db.select(Refund).where(
        Refund.status == RefundStatus.REQUESTED).order_by(Refund.id)))


def handle_notification(gateway_name: str, body: bytes, headers: dict[str, str],
                        form: dict[str, str]) -> tuple[bytes, str, int]:
    """Verify, record and apply one notification; the exact answer the gateway expects."""
    chosen = gateways().get(gateway_name)
    if chosen is None:
        raise NotFound("未知的支付渠道")
    try:
        result = chosen.parse_notification(body, headers, form)
    except NotificationRejected as rejected:
        payments.record_rejected(gateway_name, "notification", rejected.reason)
        db.session.commit()
        ack = chosen.ack(False)
        return ack.body, ack.content_type, ack.status
    applied = settle(chosen, result, "notification")
    # Unknown orders and mismatches are refused (the gateway retries; logged each time).
    ack = chosen.ack(applied.outcome in ("applied", "duplicate", "not_paid"))
    return ack.body, ack.content_type, ack.status


def handle_refund_notification(gateway_name: str, body: bytes) -> tuple[bytes, str, int]:
    """A refund notification (WeChat: ``req_info`` AES-encrypted with the API key).

    The encryption is not authenticated, so its word is never booked as such: the refund
    is confirmed with the gateway's refund query, then booked once (a second notification
    or the job's query finds it done)."""
    chosen = gateways().get(gateway_name)
    parse = getattr(chosen, "parse_refund_notification", None)
    if chosen is None or parse is None:
        raise NotFound("未知的支付渠道")
    try:
        told: RefundResult = parse(body)
    except NotificationRejected as rejected:
        payments.record_rejected(gateway_name, "refund_notification", rejected.reason)
        db.session.commit()
        ack = chosen.ack(False)
        return ack.body, ack.content_type, ack.status
    outcome = confirm_refund(chosen, told.out_refund_no, "refund_notification", told)
    ack = chosen.ack(outcome in ("applied", "duplicate", "processing"))
    return ack.body, ack.content_type, ack.status


def confirm_refund(gateway_obj: Gateway, out_refund_no: str, source: str,
                   told: RefundResult | None = None) -> str:
    """Ask the gateway about one refund and book its answer (commits)."""
    refund_query = getattr(gateway_obj, "refund_query", None)
    try:
        if refund_query is None:
            raise GatewayError("UNSUPPORTED", "no refund query")
        result: RefundResult = refund_query(out_refund_no)
    except GatewayError as exc:
        logger.warning("refund query %s: %s", out_refund_no, exc)
        db.session.rollback()
        if told is not None:  # record what was told; the gateway will notify again
            payments.apply_refund_result(gateway_obj.name, RefundResult(
                out_refund_no=told.out_refund_no, out_trade_no=told.out_trade_no,
                amount_fen=told.amount_fen, state="processing"), source)
            db.session.commit()
        return "unavailable"
    for _ in range(3):
        try:
            return _book_refund(gateway_obj.name, result, source)
        except StaleDataError:
            db.session.rollback()
    return _book_refund(gateway_obj.name, result, source)


def _book_refund(gateway_name: str, result: RefundResult, source: str) -> str:
    outcome, refund = payments.apply_refund_result(gateway_name, result, source)
    if outcome == "applied" and refund is not None:
        case = db.session.get(Case, refund.order.case_id)
        assert case is not None
        audit.record(actor_type=ActorType.SYSTEM, actor_id=gateway_name,
                     channel=Channel.SYSTEM, action=f"refund.{refund.status}",
                     entity_type="case", entity_id=case.case_number,
                     after={"out_refund_no": refund.out_refund_no,
                            "amount_fen": refund.amount_fen, "source": source})
    db.session.commit()
    return outcome


def query_processing_refunds() -> int:
    """The job: ask about approved refunds the gateway has not finished."""
    done = 0
    for refund in payments.processing_refunds(utcnow()):
        chosen = gateways().get(refund.order.gateway)
        if chosen is not None:
            confirm_refund(chosen, refund.out_refund_no, "query")
            done += 1
    return done


def query_open_orders() -> int:
    """The job: ask the gateway about open orders whose notification never came."""
    done = 0
    for order in payments.due_for_query(utcnow()):
        chosen = gateways().get(order.gateway)
        if chosen is None:
            continue
        try:
            result = chosen.query(order.out_trade_no)
        except Exception as exc:  # one gateway down must not stop the others
            logger.warning("order query %s: %s", order.out_trade_no, exc)
            db.session.rollback()
            continue
        settle(chosen, result, "query")
        if order.expires_at < utcnow() and order.status_enum in payments.OPEN:
            payments.close_expired(order, chosen)
            db.session.commit()
        done += 1
    return done


def order_view(order: PaymentOrder) -> dict[str, Any]:
    return {"out_trade_no": order.out_trade_no, "gateway": order.gateway,
            "status": order.status, "status_label": order.status_enum.label,
            "amount_fen": order.amount_fen, "expires_at": order.expires_at,
            "paid_at": order.paid_at, "client_params": order.client_params or {},
            "pay_url": order.pay_url,
            "items": [{"name": i.name, "department": i.department, "amount_fen": i.amount_fen}
                      for i in order.items]}


def daily_settlement(day: Any) -> list[Any]:
    """The settlement of one Beijing-time day, per department."""
    from datetime import datetime, time, timedelta

    from app.kernel.timeutil import SHANGHAI

    start = datetime.combine(day, time.min, tzinfo=SHANGHAI)
    return payments.settlement(start, start + timedelta(days=1))


def settlement_csv(day: Any) -> str:
    """The same as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese)."""
    import csv
    import io

    from app.review.models import Department

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
