"""Refund notifications and the job that asks about unfinished refunds (WeChat Pay).

WeChat reports a refund's end with a notification whose ``req_info`` is AES-encrypted
with the API key, not signed: the platform confirms every one with the refund query
before booking it, and books it once.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, select, update

from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.usecases.payments import decide_refund, query_processing_refunds, request_refund
from payments.models import LedgerEntry, OrderItem, PaymentEvent, PaymentOrder, Refund
from payments.service import allocations, unbalanced_transactions
from sandbox.wechatpay import encrypt_req_info, to_xml
from tests.app.fees.test_payment_flow import (  # noqa: F401 - fixtures
    _manual_delivery,
    _paid_by_wechat,
    app,
)
from tests.flow import Citizen, Reviewer

SLOW_TAX_REFUND_FEN = 100096  # ends in 96: the sandbox keeps it PROCESSING for 60 s
NOTIFY = "/api/payments/refund-notify/wechat"


def _refund_tax(number: str, amount_fen: int) -> Refund:
    from tests.app.staff.factories import make_staff, make_supervisor

    order = db.session.scalar(select(PaymentOrder))
    tax = db.session.scalar(select(OrderItem).where(OrderItem.item_code == "deed_tax"))
    helpdesk = make_staff(username="sun.fuwu", display_name="孙服务")
    refund = request_refund(number, order.out_trade_no, [(tax.id, amount_fen)],
                            "契税核定调整，退还差额", helpdesk.id)
    return decide_refund(refund.id, make_supervisor().id, True)


def _post(client: Any, body: bytes) -> Any:
    return client.post(NOTIFY, data=body, content_type="text/xml")


def _state() -> tuple[Any, ...]:
    db.session.rollback()
    order = db.session.scalar(select(PaymentOrder))
    refund = db.session.scalar(select(Refund))
    entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    return order.status, order.refunded_fen, refund.status if refund else None, entries


@pytest.fixture
def paid(client: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
         sandbox: Any) -> str:
    number, _order = _paid_by_wechat(client, buyer, seller, reviewers, sandbox)
    return number


def test_a_slow_refund_is_booked_when_its_notification_is_confirmed(
        paid: str, client: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    wechatpay = sandbox.state.wechatpay
    refund = _refund_tax(paid, SLOW_TAX_REFUND_FEN)
    assert refund.status == "processing"
    order_before = _state()
    assert order_before[:3] == ("refunding", 0, "processing")
    refund_url = wechatpay.refunds()[0]["notify_url"]
    assert refund_url.endswith(NOTIFY)  # WeChat is told where refund notices go

    body = wechatpay.refund_notification_for(refund.out_refund_no)
    # Told "SUCCESS" while WeChat's own query still says PROCESSING: nothing is booked.
    answer = _post(client, body)
    assert b"<return_code><![CDATA[SUCCESS]]>" in answer.data
    assert _state() == order_before

    monkeypatch.setattr(wechatpay, "clock", lambda: time.time() + 61)
    for _ in range(3):  # WeChat may send it more than once: booked once
        answer = _post(client, body)
        assert b"<return_code><![CDATA[SUCCESS]]>" in answer.data
    status, refunded, refund_status, _entries = _state()
    assert (status, refunded, refund_status) == ("partially_refunded", SLOW_TAX_REFUND_FEN,
                                                 "succeeded")
    order = db.session.scalar(select(PaymentOrder))
    assert allocations(order.id) == {"registration": 8000,
                                     "tax": 2150000 - SLOW_TAX_REFUND_FEN}
    assert unbalanced_transactions() == []
    outcomes = db.session.scalars(select(PaymentEvent.outcome).where(
        PaymentEvent.source == "refund_notification").order_by(PaymentEvent.id)).all()
    assert outcomes == ["processing", "applied", "duplicate", "duplicate"]
    audit = db.session.scalars(select(AuditRecord.action).where(
        AuditRecord.action.like("refund.%")).order_by(AuditRecord.id)).all()
    assert audit == ["refund.requested", "refund.approved", "refund.succeeded"]


def test_the_job_finishes_a_refund_whose_notification_never_came(
        paid: str, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    refund = _refund_tax(paid, SLOW_TAX_REFUND_FEN)
    assert query_processing_refunds() == 0  # approved less than a minute ago: not yet
    db.session.execute(update(Refund).values(decided_at=utcnow().replace(year=2025)))
    db.session.commit()
    assert query_processing_refunds() == 1  # asked; WeChat still processing
    assert _state()[2] == "processing"
    monkeypatch.setattr(sandbox.state.wechatpay, "clock", lambda: time.time() + 61)
    assert query_processing_refunds() == 1
    assert _state()[:3] == ("partially_refunded", SLOW_TAX_REFUND_FEN, "succeeded")
    assert query_processing_refunds() == 0  # done: no longer asked about
    db.session.refresh(refund)
    assert refund.completed_at is not None and refund.gateway_refund_id


def test_a_refund_notification_after_an_instant_refund_is_a_duplicate(
        paid: str, client: Any, sandbox: Any) -> None:
    refund = _refund_tax(paid, 100000)
    assert refund.status == "succeeded"
    before = _state()
    body = sandbox.state.wechatpay.refund_notification_for(refund.out_refund_no)
    answer = _post(client, body)
    assert b"<return_code><![CDATA[SUCCESS]]>" in answer.data
    assert _state() == before


def _forged(sandbox: Any, key: str, out_refund_no: str, fen: int) -> bytes:
    wechatpay = sandbox.state.wechatpay
    order = db.session.scalar(select(PaymentOrder))
    info = to_xml({"out_refund_no": out_refund_no, "out_trade_no": order.out_trade_no,
                   "refund_fee": fen, "refund_id": "50300000012026112300000000001",
                   "refund_status": "SUCCESS", "total_fee": order.amount_fen,
                   "settlement_refund_fee": fen, "settlement_total_fee": order.amount_fen,
                   "success_time": "2026-11-23 10:00:00",
                   "transaction_id": order.transaction_id})
    plain = info.replace(b"<xml>", b"<root>").replace(b"</xml>", b"</root>")
    return to_xml({"return_code": "SUCCESS", "appid": wechatpay.appid,
                   "mch_id": wechatpay.mch_id, "nonce_str": "f" * 32,
                   "req_info": encrypt_req_info(plain, key)})


def test_a_refund_notification_encrypted_with_another_key_is_refused(
        paid: str, client: Any, sandbox: Any, caplog: pytest.LogCaptureFixture) -> None:
    refund = _refund_tax(paid, SLOW_TAX_REFUND_FEN)
    before = _state()
    answer = _post(client, _forged(sandbox, "k" * 32, refund.out_refund_no,
                                   SLOW_TAX_REFUND_FEN))
    assert b"<return_code><![CDATA[FAIL]]>" in answer.data
    assert _state() == before
    event = db.session.scalar(select(PaymentEvent).order_by(PaymentEvent.id.desc()))
    assert (event.source, event.outcome) == ("refund_notification", "rejected")
    assert "refund notification rejected" in caplog.text


def test_a_well_encrypted_notice_of_a_refund_nobody_made_moves_no_money(
        paid: str, client: Any, sandbox: Any) -> None:
    """Whoever holds the API key can encrypt a notice, so the query decides."""
    before = _state()
    body = _forged(sandbox, sandbox.state.wechatpay.api_key, "R2026112300000001beef", 2158000)
    answer = _post(client, body)
    assert b"<return_code><![CDATA[FAIL]]>" in answer.data  # WeChat does not know it
    assert _state() == before
    event = db.session.scalar(select(PaymentEvent).order_by(PaymentEvent.id.desc()))
    assert event.outcome == "unknown_refund"
    assert sum(allocations(db.session.scalar(select(PaymentOrder.id))).values()) == 2158000


def test_refusing_a_paid_case_asks_a_supervisor_to_refund_everything(
        paid: str, reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    from tests.flow import case_row, task_of

    page_path = f"/admin/review/tasks/{task_of(paid, 'registration').id}"
    page = reviewers["registration"].client.get(page_path).get_data(as_text=True)
    assert "不予登记" in page  # a pay-first case can still be refused once paid
    reviewers["registration"].act(paid, "reject", {
        "reason": "申请登记的不动产权属有争议（《不动产登记暂行条例》第二十二条）"})
    assert case_row(paid).status == "rejected"
    refund = db.session.scalar(select(Refund))
    assert refund is not None and refund.status == "requested"
    assert (refund.amount_fen, refund.requested_by) == (2158000, "system")
    assert sandbox.state.wechatpay.refunds() == []  # nothing leaves before approval
    from tests.app.staff.factories import make_supervisor

    decide_refund(refund.id, make_supervisor().id, True)
    assert _state()[:3] == ("refunded", 2158000, "succeeded")
