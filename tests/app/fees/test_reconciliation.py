"""Reconciliation against the gateways' daily bills (downloaded through the real SDKs from
the sandbox): every difference listed, the job's timing, the admin page and the command."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import select, update

from app.fees.checkout import gateways
from app.kernel.db import db
from app.kernel.timeutil import SHANGHAI, local_date, utcnow
from app.usecases.payments import decide_refund, request_refund
from app.usecases.reconciliation import reconcile, reconcile_due
from payments import reconcile as core
from payments.models import (
    DifferenceKind,
    OrderItem,
    PaymentOrder,
    Reconciliation,
    Refund,
)
from tests.app.fees.test_payment_flow import (  # noqa: F401 - fixtures
    _assessed,
    _manual_delivery,
    _notify,
    _paid_by_wechat,
    app,
)
from tests.app.staff.factories import csrf_token, log_in, make_staff, make_supervisor
from tests.flow import Citizen, Reviewer, case_row

DAY = 86400


def _bills_ready(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two days later by the gateways' clocks: today's bills can be downloaded."""
    later = lambda: time.time() + 2 * DAY  # noqa: E731
    monkeypatch.setattr(sandbox.state.wechatpay, "clock", later)
    monkeypatch.setattr(sandbox.state.alipay, "clock", later)


def _refund_tax(number: str, fen: int) -> Refund:
    order = db.session.scalar(select(PaymentOrder))
    tax = db.session.scalar(select(OrderItem).where(OrderItem.item_code == "deed_tax"))
    asked = request_refund(number, order.out_trade_no, [(tax.id, fen)], "契税核定调整",
                           make_staff(username="sun.fuwu", display_name="孙服务").id)
    return decide_refund(asked.id, make_supervisor().id, True)


def _only(rows: list[Reconciliation], gateway: str) -> Reconciliation:
    return next(row for row in rows if row.gateway == gateway)


def test_a_paid_and_refunded_day_matches_then_every_difference_is_listed(
        client: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
        sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    number, order = _paid_by_wechat(client, buyer, seller, reviewers, sandbox)
    refund = _refund_tax(number, 100000)
    today = local_date(db.session.scalar(select(PaymentOrder.paid_at)))
    _bills_ready(sandbox, monkeypatch)

    wechat = _only(reconcile(today), "wechat")
    assert (wechat.status, wechat.differences) == ("matched", [])
    assert (wechat.bill_lines, wechat.bill_payments_fen, wechat.bill_refunds_fen) == (
        2, 2158000, 100000)
    assert (wechat.platform_payments_fen, wechat.platform_refunds_fen) == (2158000, 100000)

    # Money the platform never heard of: paid at WeChat (today) for an order number it
    # never made.
    monkeypatch.undo()
    openid = sandbox.state.wechatpay.orders()[0]["openid"]
    gateways()["wechat"].create_payment(
        out_trade_no="BDC20991231STRAY1", amount_fen=500, description="不明收款",
        expires_at=utcnow() + timedelta(hours=1), payer_openid=openid,
        notify_url="http://127.0.0.1:9/x", return_url=None)
    sandbox.state.wechatpay.pay("BDC20991231STRAY1")
    _bills_ready(sandbox, monkeypatch)
    # And two records that no longer agree with the bill.
    db.session.execute(update(Refund).values(amount_fen=100001))
    db.session.execute(update(PaymentOrder).values(transaction_id="4200000000000000000000"))
    db.session.commit()

    again = _only(reconcile(today), "wechat")
    assert again.id == wechat.id  # the day's result is replaced, not duplicated
    found = {(d.kind, d.line_kind, d.out_trade_no, d.bill_fen, d.platform_fen)
             for d in again.differences}
    assert found == {
        ("missing_on_platform", "payment", "BDC20991231STRAY1", 500, None),
        ("transaction", "payment", order["out_trade_no"], 2158000, 2158000),
        ("amount", "refund", order["out_trade_no"], 100000, 100001),
    }
    assert again.status == "differences"
    notes = {d.kind: d.note for d in again.differences}
    assert notes["amount"] == "渠道退款 1000.00 元，平台退款 1000.01 元"
    assert refund.out_refund_no in {d.out_refund_no for d in again.differences}


def test_what_the_platform_booked_but_the_bill_lacks_is_listed(
        client: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
        sandbox: Any) -> None:
    number, order = _paid_by_wechat(client, buyer, seller, reviewers, sandbox)
    refund = _refund_tax(number, 100000)
    today = local_date(db.session.scalar(select(PaymentOrder.paid_at)))
    found = core.compare("wechat", today, [])  # an empty bill
    assert [(d.kind, d.line_kind, d.out_trade_no, d.out_refund_no, d.platform_fen)
            for d in found] == [
        (DifferenceKind.MISSING_IN_BILL, "payment", order["out_trade_no"], None, 2158000),
        (DifferenceKind.MISSING_IN_BILL, "refund", order["out_trade_no"],
         refund.out_refund_no, 100000)]
    assert core.compare("alipay", today, []) == []  # the other gateway's records only


def test_an_alipay_day_with_a_refund_matches(
        client: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
        sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    number = _assessed(buyer, seller, reviewers)
    order = seller.post(f"/api/cases/{number}/payments", {"gateway": "alipay"},
                        claim=True).get_json()
    requests.get(order["pay_url"], timeout=5)
    sandbox.state.alipay.pay(order["out_trade_no"])
    _notify(client, "alipay", dict(sandbox.state.alipay.notification_for(order["out_trade_no"])))
    assert case_row(number).status == "paid"
    _refund_tax(number, 100000)
    today = local_date(db.session.scalar(select(PaymentOrder.paid_at)))
    _bills_ready(sandbox, monkeypatch)
    alipay = _only(reconcile(today, ["alipay"]), "alipay")
    assert (alipay.status, alipay.bill_lines, alipay.bill_refunds_fen) == ("matched", 2, 100000)
    assert alipay.platform_payments_fen == alipay.bill_payments_fen == 2158000


def test_the_job_waits_for_the_bills_and_retries_one_not_ready(
        client: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # 10:40 Beijing time by the platform, but WeChat is still making yesterday's bill.
    now = datetime(2026, 11, 24, 10, 40, tzinfo=SHANGHAI)
    gateway_time = {"at": datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI).timestamp()}
    monkeypatch.setattr(sandbox.state.wechatpay, "clock", lambda: gateway_time["at"])
    monkeypatch.setattr(sandbox.state.alipay, "clock", lambda: gateway_time["at"])

    early = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
    assert reconcile_due(early) == 6  # before 10:30: the three days before yesterday
    days = {row.day.isoformat() for row in db.session.scalars(select(Reconciliation))}
    assert days == {"2026-11-20", "2026-11-21", "2026-11-22"}

    assert reconcile_due(now) == 2  # yesterday, both gateways
    wechat = db.session.scalar(select(Reconciliation).where(
        Reconciliation.day == now.date() - timedelta(days=1), Reconciliation.gateway == "wechat"))
    assert wechat.status == "failed" and wechat.error.startswith("BILL_CREATING")
    assert reconcile_due(now + timedelta(minutes=30)) == 0  # retried after an hour, not before
    gateway_time["at"] += 3 * 3600
    assert reconcile_due(now + timedelta(hours=2)) == 1
    db.session.refresh(wechat)
    assert wechat.status == "matched" and wechat.error is None
    assert reconcile_due(now + timedelta(hours=4)) == 0


def test_supervisors_run_and_read_it_auditors_read_it_the_helpdesk_cannot(
        client: Any, make_app: Any, sandbox: Any) -> None:
    yesterday = (local_date() - timedelta(days=1)).isoformat()
    supervisor = make_app().test_client()
    log_in(supervisor, make_supervisor())
    answer = supervisor.post("/admin/reconciliation", data={
        "csrf_token": csrf_token(supervisor, "/admin/reconciliation"), "date": yesterday})
    page = supervisor.get(answer.location).get_data(as_text=True)
    assert f"{yesterday} 对账完成" in page and "微信支付" in page and "支付宝" in page
    future = supervisor.post("/admin/reconciliation", data={
        "csrf_token": csrf_token(supervisor, "/admin/reconciliation"),
        "date": local_date().isoformat()})
    assert "请选择今天之前的日期" in supervisor.get(future.location).get_data(as_text=True)

    from app.staff.models import StaffRole

    auditor = make_app().test_client()
    log_in(auditor, make_staff(username="wu.shenji", display_name="吴审计",
                               roles=(StaffRole.AUDITOR,)))
    assert yesterday in auditor.get("/admin/reconciliation").get_data(as_text=True)
    page = auditor.get("/admin/reconciliation").get_data(as_text=True)
    assert "重新对账" not in page
    assert auditor.post("/admin/reconciliation", data={
        "csrf_token": csrf_token(auditor, "/admin/reconciliation"),
        "date": yesterday}).status_code == 403
    helpdesk = make_app().test_client()
    log_in(helpdesk, make_staff(username="sun.fuwu", display_name="孙服务",
                                roles=(StaffRole.HELPDESK,)))
    assert helpdesk.get("/admin/reconciliation").status_code == 403


def test_the_command_prints_each_gateway_and_fails_on_differences(
        client: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = client.application.test_cli_runner()
    _bills_ready(sandbox, monkeypatch)
    yesterday = (local_date() - timedelta(days=1)).isoformat()
    result = runner.invoke(args=["payments", "reconcile", "--date", yesterday])
    assert result.exit_code == 0, result.output
    assert f"alipay {yesterday}: 一致" in result.output
    assert f"wechat {yesterday}: 一致" in result.output
    monkeypatch.undo()
    today = local_date().isoformat()  # no bill for today yet: not a match
    result = runner.invoke(args=["payments", "reconcile", "--date", today, "--gateway", "wechat"])
    assert result.exit_code == 1 and "未取得对账单" in result.output
