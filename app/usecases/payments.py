"""Paying a case's fees, and refunds: the money operations that span packages.

One function per thing a person, a gateway or a job does; each commits once (the
exceptions are documented where they are: an order is committed before the gateway
hears of it, and a refund's approval before the gateway is asked). No gateway call is
made while a write is pending: it happens before the writes or after the commit.

The result of a payment is trusted only from the gateway's verified notification or an
order query, never from the client. A case paid twice (both gateways) keeps the first
payment; the second is approved for a refund by the system in the same transaction and
sent to the gateway by the job (:func:`send_approved_refunds`).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm.exc import StaleDataError

from app.accounts.models import Account
from app.cases.models import Case
from app.cases.service import get_case_for, transition
from app.cases.workflow import CaseStatus
from app.fees import checkout
from app.fees import service as fees
from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.errors import CaseStateConflict, NotFound, ValidationFailed
from app.kernel.timeutil import utcnow
from app.kernel.wakeup import nudge
from app.notifications.service import enqueue
from app.review.desk import find_case
from app.review.service import case_accounts
from app.staff.service import StaffIdentity
from payments import service as payments
from payments.gateways.base import (
    Gateway,
    GatewayError,
    NotificationRejected,
    PaymentResult,
    RefundResult,
)
from payments.models import PaymentOrder, Refund, RefundStatus

logger = logging.getLogger(__name__)

DOUBLE_PAYMENT_REASON = "重复缴费，自动全额退款"
DOUBLE_PAYMENT_APPROVER = "system:double-payment"


# --- paying ------------------------------------------------------------------------------

def start_payment(account: Account, case_number: str, gateway_name: str,
                  channel: str, *, case: Case | None = None,
                  return_url: str | None = None) -> PaymentOrder:
    """One order for every assessed item (the same request again: the same order).

    The mobile web pages pass the ``case`` they resolved themselves (a short link's grant
    counts there) and the ``return_url`` the browser comes back to after the cashier."""
    case = case if case is not None else get_case_for(account, case_number)
    if not checkout.payable(case):
        raise CaseStateConflict("办件当前无需缴费或已缴费", status=case.status)
    chosen = checkout.gateway(gateway_name)
    items = [payments.ItemIn(f.id, f.item_code, f.name, f.department, f.amount_fen)
             for f in fees.current_fees(case) if f.amount_fen > 0]
    if not items:
        raise CaseStateConflict("该办件无需缴纳费用", status=case.status)
    openid = account.wechat_openid if gateway_name == "wechat" else None
    if gateway_name == "wechat" and not openid:
        raise ValidationFailed({"gateway": ["微信支付需要在小程序中登录"]})
    return open_order(
        gateway=chosen, case_id=case.id, payer_account_id=account.id, items=items,
        channel=channel, description=f"不动产登记税费 {case.case_number}",
        payer_openid=openid, notify_url=checkout.notify_url(gateway_name),
        return_url=return_url)


def open_order(*, gateway: Gateway, case_id: int, payer_account_id: int,
               items: list[payments.ItemIn], channel: str, description: str,
               payer_openid: str | None, notify_url: str, return_url: str | None,
               ttl: timedelta = timedelta(minutes=30)) -> PaymentOrder:
    """The open order for this request, or a new one, known to the gateway.

    Two short transactions, by design. The order row is committed *before* the gateway
    hears of it: the gateway may notify (or the payer may pay) the instant it has the
    order, and a notification must never find an order we do not have; a crash between
    the two leaves a ``created`` order that the same request picks up again. The
    gateway's answer (what the client needs to pay) is then committed on its own, with
    no transaction held open across the call."""
    order = payments.prepare_order(gateway=gateway, case_id=case_id,
                                   payer_account_id=payer_account_id, items=items,
                                   channel=channel, ttl=ttl)
    db.session.commit()
    if not payments.needs_gateway(order):
        return order
    created = payments.create_at_gateway(order, gateway, description, payer_openid,
                                         notify_url, return_url)
    order = payments.record_created(order.id, created)
    db.session.commit()
    return order


def settle(gateway_obj: Gateway, result: PaymentResult, source: str) -> payments.Applied:
    """A verified gateway result: the order paid, the ledger, the case paid, the audit
    records and the citizen's notice, in one transaction (one commit).

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
        if checkout.payable(case):
            transition(case, CaseStatus.PAID, actor_type=ActorType.SYSTEM,
                       actor_id=gateway_obj.name, channel=Channel.SYSTEM,
                       reason=f"一次缴清 {fees.yuan(order.amount_fen)} 元", commit=False)
            enqueue(case_accounts(case), "payment_received",
                    {"case_number": case.case_number, "total_yuan": fees.yuan(order.amount_fen),
                     "status_label": "已缴费", "hint": "电子票据开具后可在我的缴费凭证查看"},
                    f"payment_received:{order.out_trade_no}")
        else:
            _refund_double_payment(case, order, gateway_obj.name)
    db.session.commit()
    if applied.newly_paid:
        nudge()  # the job: a register-first case's certificate, a double payment's refund
    return applied


def _refund_double_payment(case: Case, order: PaymentOrder, gateway_name: str) -> Refund:
    """Paid twice (the other gateway, or the counter): a full refund, approved by the
    system in the settling transaction; the job sends it to the gateway after the commit.
    The helpdesk sees it in the audit log and the refunds list."""
    audit.record(actor_type=ActorType.SYSTEM, actor_id=gateway_name,
                 channel=Channel.SYSTEM, action="payment.double_payment",
                 entity_type="case", entity_id=case.case_number,
                 after={"out_trade_no": order.out_trade_no})
    logger.warning("case %s paid twice: order %s to be refunded", case.case_number,
                   order.out_trade_no)
    refund = payments.request_refund(
        order, [(i.id, i.amount_fen) for i in order.items], DOUBLE_PAYMENT_REASON, "system")
    return payments.approve_refund(refund, DOUBLE_PAYMENT_APPROVER)


def record_counter_payment(case_number: str, staff: StaffIdentity, reference: str,
                           amount_fen: int) -> Case:
    """The citizen paid at the counter's POS terminal; the helpdesk records the receipt
    (the audit record and the case's move in one transaction)."""
    case = find_case(case_number)
    reference = reference.strip()
    if not reference or len(reference) > 40:
        raise ValidationFailed({"reference": ["请填写 POS 凭条参考号（不超过 40 位）"]})
    if amount_fen <= 0:
        raise ValidationFailed({"amount": ["金额应大于 0"]})
    audit.record(actor_type=ActorType.STAFF, actor_id=staff.id, channel=Channel.ADMIN,
                 action="payment.counter_recorded", entity_type="case",
                 entity_id=case.case_number,
                 after={"amount_fen": amount_fen, "reference": reference})
    return transition(case, CaseStatus.PAID, actor_type=ActorType.STAFF, actor_id=staff.id,
                      channel=Channel.ADMIN, reason=f"窗口缴费 {fees.yuan(amount_fen)} 元")


def handle_notification(gateway_name: str, body: bytes, headers: dict[str, str],
                        form: dict[str, str]) -> tuple[bytes, str, int]:
    """Verify, record and apply one notification; the exact answer the gateway expects."""
    chosen = checkout.gateways().get(gateway_name)
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


def query_open_orders() -> int:
    """The job: ask the gateway about open orders whose notification never came."""
    done = 0
    for order in payments.due_for_query(utcnow()):
        chosen = checkout.gateways().get(order.gateway)
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
            payments.close_expired(order, chosen)  # the gateway first, then the row
            db.session.commit()
        done += 1
    return done


# --- refunds -----------------------------------------------------------------------------

def request_refund(case_number: str, out_trade_no: str, items: list[tuple[int, int]],
                   reason: str, staff_id: int) -> Refund:
    """The helpdesk asks for a refund of some items (a supervisor approves it)."""
    order = checkout.staff_order(case_number, out_trade_no)
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


def decide_refund(refund_id: int, staff_id: int, approve: bool) -> Refund:
    """A supervisor approves or rejects; the decision and its audit record are one
    transaction. An approved refund is then sent to the gateway at once (after that
    commit, :func:`send_refund`); if this request dies first, the job sends it."""
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        raise NotFound("未找到该退款申请")
    case = db.session.get(Case, refund.order.case_id)
    assert case is not None
    try:
        if approve:
            payments.approve_refund(refund, f"staff:{staff_id}")
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
    if approve:
        send_refund(refund_id)
        db.session.refresh(refund)
    return refund


def send_refund(refund_id: int) -> bool:
    """Send one approved refund to the gateway: claimed and committed first (so it is
    sent once, and a crash leaves it ``processing`` for the query job), then the gateway
    is asked with nothing pending, then its answer is booked in one transaction.
    False when someone else sent it."""
    found = db.session.get(Refund, refund_id)
    chosen = checkout.gateways().get(found.order.gateway) if found is not None else None
    if chosen is None:  # a gateway no longer configured: left approved, for a person
        logger.warning("refund %s: no gateway to send it to", refund_id)
        return False
    refund = payments.claim_approved(refund_id)
    if refund is None:
        db.session.rollback()
        return False
    db.session.commit()
    refund_id_at_gateway, result = payments.send_to_gateway(
        refund, chosen, checkout.refund_notify_url(chosen.name))
    for _ in range(3):
        try:
            payments.record_sent(refund, refund_id_at_gateway, result)
            db.session.commit()
            return True
        except StaleDataError:  # a notification booked it meanwhile (SQLite): look again
            db.session.rollback()
            db.session.refresh(refund)
            if refund.status_enum != RefundStatus.PROCESSING:
                return True
    return True


def send_approved_refunds() -> int:
    """The job: send approved refunds the gateway has not been asked about (a double
    payment's, or one whose approving request died before sending it)."""
    sent = 0
    for refund_id in payments.approved_refunds():
        try:
            sent += send_refund(refund_id)
        except GatewayError as exc:  # one gateway down must not stop the others
            logger.warning("refund %s: %s", refund_id, exc)
            db.session.rollback()
    return sent


def handle_refund_notification(gateway_name: str, body: bytes) -> tuple[bytes, str, int]:
    """A refund notification (WeChat: ``req_info`` AES-encrypted with the API key).

    The encryption is not authenticated, so its word is never booked as such: the refund
    is confirmed with the gateway's refund query, then booked once (a second notification
    or the job's query finds it done)."""
    chosen = checkout.gateways().get(gateway_name)
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
    """Ask the gateway about one refund (nothing pending), then book its answer and the
    audit record in one transaction."""
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
    """The job: ask about refunds sent to the gateway that it has not finished."""
    done = 0
    for refund in payments.processing_refunds(utcnow()):
        chosen = checkout.gateways().get(refund.order.gateway)
        if chosen is not None:
            confirm_refund(chosen, refund.out_refund_no, "query")
            done += 1
    return done
