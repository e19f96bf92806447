"""One-click payment of a case through the API and the real SDKs against the sandbox.

The attacks on notifications (forged, tampered, replayed, racing …) are in
test_payment_attacks.py, which takes its fixtures and steps from here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import select, update

from app.cases.workflow import CaseStatus
from app.jobs import run_once
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.usecases.payments import send_approved_refunds
from payments.models import PaymentEvent, PaymentOrder
from payments.service import allocations, unbalanced_transactions
from tests.flow import (
    Citizen,
    Reviewer,
    case_row,
    fill_resale,
    flashes,
    legacy_owner,
)


@pytest.fixture
def app(make_app: Any, tmp_path: Any) -> Any:
    instance = tmp_path / "instance"
    instance.mkdir()
    # Notifications are taken from the sandbox and posted by the test itself.
    app = make_app(INSTANCE_DIR=str(instance), PAYMENT_NOTIFY_BASE_URL="http://127.0.0.1:9")
    with app.app_context():
        yield app


@pytest.fixture(autouse=True)
def _manual_delivery(sandbox: Any) -> Any:
    sandbox.state.wechatpay.set_auto_delivery(False)
    yield
    sandbox.state.wechatpay.set_auto_delivery(True)


def _assessed(buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
              deed_tax: str = "", delivery: dict[str, Any] | None = None) -> str:
    """A resale case with every department's approval; ``delivery`` is the citizen's
    certificate_delivery choice (electronic by default)."""
    legacy_owner("440402003001GB00012F00010203", seller.person_id)
    number = fill_resale(buyer, seller, delivery)
    submitted = buyer.post(f"/api/cases/{number}/submit", claim=True).get_json()
    assert submitted.get("status") == "accepted", submitted
    reviewers["tax"].act(number, "claim")
    reviewers["tax"].act(number, "approve", {"deed_tax": deed_tax})
    reviewers["housing"].approve(number)
    reviewers["registration"].approve(number)
    assert case_row(number).status == CaseStatus.FEES_ASSESSED
    return number


def _notify(client: Any, gateway: str, body: Any) -> Any:
    if gateway == "wechat":
        return client.post("/api/payments/notify/wechat", data=body, content_type="text/xml")
    return client.post("/api/payments/notify/alipay", data=body)


def test_a_case_is_paid_in_one_step_with_wechat_pay(
        app: Any, client: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    number = _assessed(buyer, seller, reviewers)
    created = buyer.post(f"/api/cases/{number}/payments", {"gateway": "wechat"}, claim=True)
    assert created.status_code == 201, created.get_json()
    order = created.get_json()
    assert order["amount_fen"] == 2158000 and order["status"] == "paying"
    assert [i["department"] for i in order["items"]] == ["registration", "tax"]
    # The parameters for wx.requestPayment are signed with the merchant key.
    wechatpay = sandbox.state.wechatpay
    assert wechatpay.check_request_payment(order["client_params"])
    # The same request twice is the same order.
    again = buyer.post(f"/api/cases/{number}/payments", {"gateway": "wechat"}, claim=True)
    assert again.get_json()["out_trade_no"] == order["out_trade_no"]

    wechatpay.pay(order["out_trade_no"])
    # The client's word counts for nothing: still paying until the gateway says so.
    assert buyer.get(f"/api/payments/{order['out_trade_no']}").get_json()["status"] == "paying"
    body = wechatpay.notification_for(order["out_trade_no"])
    tampered = body.replace(b"<total_fee>2158000</total_fee>", b"<total_fee>1</total_fee>")
    refused = _notify(client, "wechat", tampered)
    assert b"FAIL" in refused.data and case_row(number).status == CaseStatus.FEES_ASSESSED

    for _ in range(3):  # WeChat resends; one payment
        answer = _notify(client, "wechat", body)
        assert answer.status_code == 200 and b"<return_code><![CDATA[SUCCESS]]>" in answer.data
    assert case_row(number).status == CaseStatus.PAID
    paid = buyer.get(f"/api/payments/{order['out_trade_no']}").get_json()
    assert paid["status"] == "paid"
    row = db.session.scalar(select(PaymentOrder).where(
        PaymentOrder.out_trade_no == order["out_trade_no"]))
    assert allocations(row.id) == {"registration": 8000, "tax": 2150000}
    assert unbalanced_transactions() == []
    outcomes = db.session.scalars(select(PaymentEvent.outcome).order_by(PaymentEvent.id)).all()
    assert outcomes == ["rejected", "applied", "duplicate", "duplicate"]

    # Paid first, then registered (resale).
    page = reviewers["registration"].act(number, "register")
    assert "登簿完成，已写入登记簿" in flashes(page)


def test_alipay_from_mobile_web_and_a_lost_notification_settled_by_query(
        app: Any, client: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    # 21,499.98 + 80 = 21,579.98 yuan: ending in 98 fen, the sandbox never notifies.
    number = _assessed(buyer, seller, reviewers, deed_tax="21499.98")
    created = seller.post(f"/api/cases/{number}/payments", {"gateway": "alipay"}, claim=True)
    assert created.status_code == 201, created.get_json()
    order = created.get_json()
    assert order["amount_fen"] == 2157998 and order["pay_url"]
    cashier = requests.get(order["pay_url"], timeout=5)
    assert cashier.status_code == 200 and "21579.98" in cashier.text.replace(",", "")
    sandbox.state.alipay.pay(order["out_trade_no"])
    sandbox.state.alipay.deliver_due_notifications()
    assert case_row(number).status == CaseStatus.FEES_ASSESSED  # nothing came
    # The job asks the gateway about orders whose notification never came.
    db.session.execute(update(PaymentOrder).values(created_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    run_once()
    assert case_row(number).status == CaseStatus.PAID
    events = db.session.scalars(select(PaymentEvent.source)).all()
    assert events == ["query"]


def _paid_by_wechat(client: Any, buyer: Citizen, seller: Citizen,
                    reviewers: dict[str, Reviewer], sandbox: Any,
                    delivery: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    number = _assessed(buyer, seller, reviewers, delivery=delivery)
    order = buyer.post(f"/api/cases/{number}/payments", {"gateway": "wechat"},
                       claim=True).get_json()
    sandbox.state.wechatpay.pay(order["out_trade_no"])
    _notify(client, "wechat", sandbox.state.wechatpay.notification_for(order["out_trade_no"]))
    assert case_row(number).status == CaseStatus.PAID
    return number, order


def test_one_item_is_refunded_after_a_supervisor_approves(
        app: Any, make_app: Any, client: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    from app.staff.models import StaffRole
    from payments.models import OrderItem, Refund
    from tests.app.staff.factories import csrf_token, log_in, make_staff, make_supervisor

    number, order = _paid_by_wechat(client, buyer, seller, reviewers, sandbox)
    helpdesk = make_app().test_client()
    log_in(helpdesk, make_staff(username="sun.fuwu", display_name="孙服务",
                                roles=(StaffRole.HELPDESK,)))
    desk = f"/admin/cases?case_number={number}"
    page = helpdesk.get(desk).get_data(as_text=True)
    assert order["out_trade_no"] in page and "申请退款" in page
    tax_item = db.session.scalar(select(OrderItem).where(OrderItem.item_code == "deed_tax"))
    action = f"/admin/cases/{number}/orders/{order['out_trade_no']}/refund"
    too_much = helpdesk.post(action, data={
        "csrf_token": csrf_token(helpdesk, desk), "item": str(tax_item.id),
        f"amount-{tax_item.id}": "30000.00", "reason": "契税多缴"})
    assert "可退金额为 2150000 分" in helpdesk.get(too_much.location).get_data(as_text=True)
    helpdesk.post(action, data={
        "csrf_token": csrf_token(helpdesk, desk), "item": str(tax_item.id),
        f"amount-{tax_item.id}": "1000.00", "reason": "契税核定调整，退还差额"})
    refund = db.session.scalar(select(Refund))
    assert refund is not None and refund.status == "requested" and refund.amount_fen == 100000
    assert sandbox.state.wechatpay.refunds() == []  # nothing sent before approval

    supervisor = make_app().test_client()
    log_in(supervisor, make_supervisor())
    page = supervisor.get("/admin/refunds").get_data(as_text=True)
    assert refund.out_refund_no in page
    answer = supervisor.post(f"/admin/refunds/{refund.id}/approve", data={
        "csrf_token": csrf_token(supervisor, "/admin/refunds")})
    assert "已批准" in supervisor.get(answer.location).get_data(as_text=True)
    db.session.rollback()
    refund = db.session.get(Refund, refund.id)
    assert refund.status == "succeeded"
    row = db.session.scalar(select(PaymentOrder))
    assert row.status == "partially_refunded" and row.refunded_fen == 100000
    # The ledger reverses only the tax item: allocations = paid − refunded.
    assert allocations(row.id) == {"registration": 8000, "tax": 2050000}
    assert sum(allocations(row.id).values()) == row.amount_fen - row.refunded_fen
    assert unbalanced_transactions() == []
    assert len(sandbox.state.wechatpay.refunds()) == 1


def test_a_case_paid_twice_refunds_the_second_payment_automatically(
        app: Any, client: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    number = _assessed(buyer, seller, reviewers)
    wechat = buyer.post(f"/api/cases/{number}/payments", {"gateway": "wechat"},
                        claim=True).get_json()
    alipay = seller.post(f"/api/cases/{number}/payments", {"gateway": "alipay"},
                         claim=True).get_json()
    requests.get(alipay["pay_url"], timeout=5)
    sandbox.state.wechatpay.pay(wechat["out_trade_no"])
    sandbox.state.alipay.pay(alipay["out_trade_no"])
    _notify(client, "wechat", sandbox.state.wechatpay.notification_for(wechat["out_trade_no"]))
    answer = _notify(client, "alipay",
                     dict(sandbox.state.alipay.notification_for(alipay["out_trade_no"])))
    assert answer.data == b"success"
    orders = {o.gateway: o for o in db.session.scalars(select(PaymentOrder))}
    # Settling the second payment approved its refund; the job sends it to the gateway.
    assert orders["alipay"].status == "refunding"
    assert send_approved_refunds() == 1
    db.session.expire_all()
    assert orders["wechat"].status == "paid"
    assert orders["alipay"].status == "refunded"
    assert orders["alipay"].refunded_fen == orders["alipay"].amount_fen
    assert sum(allocations(orders["alipay"].id).values()) == 0
    assert case_row(number).status == CaseStatus.PAID
    assert unbalanced_transactions() == []


def test_the_notify_path_is_the_one_the_api_serves(app: Any) -> None:
    from flask import url_for

    from app.fees.checkout import NOTIFY_PATH

    with app.test_request_context():
        assert url_for("payments.notify", gateway_name="wechat") == NOTIFY_PATH.format(
            gateway="wechat")


def test_the_daily_settlement_splits_payments_and_refunds_by_department(
        app: Any, make_app: Any, client: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    from app.kernel.timeutil import local_date
    from app.usecases.payments import decide_refund, request_refund
    from tests.app.staff.factories import log_in, make_staff, make_supervisor

    number, _ = _paid_by_wechat(client, buyer, seller, reviewers, sandbox)
    row = db.session.scalar(select(PaymentOrder))
    tax = next(i for i in row.items if i.department == "tax")
    helpdesk = make_staff(username="sun.fuwu", display_name="孙服务")
    supervisor = make_supervisor()
    refund = request_refund(number, row.out_trade_no, [(tax.id, 50000)], "多缴退还", helpdesk.id)
    decide_refund(refund.id, supervisor.id, True)

    pages = make_app().test_client()
    log_in(pages, supervisor)
    day = local_date().isoformat()
    page = pages.get(f"/admin/settlement?date={day}").get_data(as_text=True)
    assert "不动产登记中心" in page and "80.00" in page
    assert "21,500.00" in page and "500.00" in page and "21,000.00" in page
    csv_text = pages.get(f"/admin/settlement.csv?date={day}").get_data(as_text=True)
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("日期,部门")
    assert f"{day},税务局,1,21500.00,1,500.00,21000.00" in lines
    assert f"{day},不动产登记中心,1,80.00,0,0.00,80.00" in lines
    empty = pages.get("/admin/settlement?date=2026-01-01").get_data(as_text=True)
    assert "当日无收款或退款" in empty
