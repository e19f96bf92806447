"""The sandbox's payment notifications: resent on WeChat's schedule until the merchant
answers SUCCESS, on a clock the tests step (or by the background thread)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from payments.gateways.base import PaymentResult, TradeState
from payments.gateways.wechat import WeChatPayGateway
from sandbox.testing import RunningSandbox
from sandbox.wechatpay import RESEND_SCHEDULE_SECONDS, WeChatPaySandbox
from tests.payments.conftest import MakeOrder, NotifyReceiver, PayOrder, SteppedClock

FAIL_XML = b"<xml><return_code><![CDATA[FAIL]]></return_code></xml>"
SUCCESS_XML = b"<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>"


def _offsets(attempts: list[dict[str, Any]], start: float) -> list[float]:
    return [round(a["at"].timestamp() - start, 3) for a in attempts]


def test_a_failing_merchant_gets_exactly_three_deliveries_at_0_15_and_30_seconds(
    wechatpay: WeChatPaySandbox,
    wx_receiver: NotifyReceiver,
    wx_results: list[Any],
    wx_clock: SteppedClock,
    wx_paid: PayOrder,
) -> None:
    wx_receiver.script = [(500, b"busy"), (200, FAIL_XML)]  # then the gateway's own ack
    out_trade_no = wx_paid(notify_url=wx_receiver.url)
    start = wx_clock()

    first = wechatpay.deliver_due_notifications()
    assert wechatpay.deliver_due_notifications() == []  # not due again yet
    wx_clock.advance(14.9)
    assert wechatpay.deliver_due_notifications() == []
    wx_clock.advance(0.1)
    second = wechatpay.deliver_due_notifications()
    wx_clock.advance(15)
    third = wechatpay.deliver_due_notifications()
    for _ in range(40):  # a day and more: nothing more is sent
        wx_clock.advance(3600)
        assert wechatpay.deliver_due_notifications() == []

    assert [(a["attempt"], a["status"], a["ok"]) for a in first + second + third] == [
        (1, 500, False),
        (2, 200, False),
        (3, 200, True),
    ]
    assert [round(r.at - start, 3) for r in wx_receiver.received] == [0, 15, 30]
    assert len({r.body for r in wx_receiver.received}) == 1  # the same body each time
    (delivery,) = wechatpay.deliveries(out_trade_no)
    assert delivery["state"] == "delivered"
    assert _offsets(delivery["attempts"], start) == [0, 15, 30]
    (result,) = wx_results
    assert isinstance(result, PaymentResult) and result.state is TradeState.PAID


def test_a_merchant_that_never_answers_success_gets_16_deliveries_over_24h4m(
    wechatpay: WeChatPaySandbox,
    wx_receiver: NotifyReceiver,
    wx_clock: SteppedClock,
    wx_paid: PayOrder,
) -> None:
    wx_receiver.answer = lambda body: (200, FAIL_XML)
    out_trade_no = wx_paid(notify_url=wx_receiver.url)
    start = wx_clock()

    for _ in range(3 * 24 * 60):  # three days, minute by minute
        wechatpay.deliver_due_notifications()
        wx_clock.advance(60)

    (delivery,) = wechatpay.deliveries(out_trade_no)
    assert delivery["state"] == "gave_up"
    assert len(delivery["attempts"]) == 16 == len(wx_receiver.received)
    # Stepped a minute at a time, each resend comes at the first minute on or after
    # its interval, counted from the previous delivery.
    offsets = _offsets(delivery["attempts"], start)
    assert offsets[0] == 0
    gaps = [later - earlier for earlier, later in zip(offsets, offsets[1:], strict=False)]
    for gap, interval in zip(gaps, RESEND_SCHEDULE_SECONDS, strict=True):
        assert interval <= gap < interval + 60
    assert 24 * 3600 + 4 * 60 <= offsets[-1] < 24 * 3600 + 4 * 60 + 15 * 60


def test_the_resend_schedule_is_wechat_s_when_stepped_exactly(
    wechatpay: WeChatPaySandbox,
    wx_receiver: NotifyReceiver,
    wx_clock: SteppedClock,
    wx_paid: PayOrder,
) -> None:
    wx_receiver.answer = lambda body: (200, b"not xml")
    out_trade_no = wx_paid(notify_url=wx_receiver.url)
    start = wx_clock()

    wechatpay.deliver_due_notifications()
    for interval in RESEND_SCHEDULE_SECONDS:
        wx_clock.advance(interval)
        assert len(wechatpay.deliver_due_notifications()) == 1
    wx_clock.advance(7 * 86400)
    assert wechatpay.deliver_due_notifications() == []

    (delivery,) = wechatpay.deliveries(out_trade_no)
    assert delivery["state"] == "gave_up"
    assert _offsets(delivery["attempts"], start) == [
        0,
        15,
        30,
        60,
        240,
        840,
        2040,
        3840,
        5640,
        7440,
        11040,
        21840,
        32640,
        43440,
        65040,
        86640,
    ]


def test_an_unreachable_notify_url_is_retried(
    wechatpay: WeChatPaySandbox, wx_clock: SteppedClock, wx_paid: PayOrder, wx_unreachable_url: str
) -> None:
    out_trade_no = wx_paid(notify_url=wx_unreachable_url + "notify")

    (attempt,) = wechatpay.deliver_due_notifications()

    assert (attempt["ok"], attempt["status"], attempt["error"]) == (False, None, "ConnectionError")
    (delivery,) = wechatpay.deliveries(out_trade_no)
    assert delivery["state"] == "pending"
    assert abs(delivery["next_at"].timestamp() - (wx_clock() + 15)) < 0.001


def test_the_background_thread_delivers_on_the_sandbox_clock(
    wechatpay: WeChatPaySandbox,
    wx_receiver: NotifyReceiver,
    wx_clock: SteppedClock,
    wx_order: MakeOrder,
) -> None:
    wx_receiver.script = [(200, FAIL_XML)]
    wx_receiver.answer = lambda body: (200, SUCCESS_XML)
    out_trade_no, _ = wx_order(wx_receiver.url)
    wechatpay.set_auto_delivery(True)
    try:
        wechatpay.pay(out_trade_no)
        assert wx_receiver.wait_for(1)  # at once
        wx_clock.advance(15)  # the thread sees the clock move and sends again
        assert wx_receiver.wait_for(2)
    finally:
        wechatpay.set_auto_delivery(False)
    (delivery,) = wechatpay.deliveries(out_trade_no)
    assert delivery["state"] == "delivered" and len(delivery["attempts"]) == 2


def test_a_reset_forgets_pending_notifications(
    wx_sandbox: RunningSandbox,
    wechatpay: WeChatPaySandbox,
    wx_receiver: NotifyReceiver,
    wx_paid: PayOrder,
) -> None:
    out_trade_no = wx_paid(notify_url=wx_receiver.url)

    wx_sandbox.reset()

    assert wechatpay.deliver_due_notifications() == []
    assert wechatpay.orders() == [] and wechatpay.deliveries() == []
    assert wechatpay.notification_for(out_trade_no) is None
    assert wx_receiver.received == []


def test_the_times_are_the_sandbox_clock_s(
    wx_gateway: WeChatPayGateway,
    wechatpay: WeChatPaySandbox,
    wx_receiver: NotifyReceiver,
    wx_clock: SteppedClock,
    wx_order: MakeOrder,
) -> None:
    wx_clock.set(datetime.fromisoformat("2026-11-23T09:30:05+08:00"))
    out_trade_no, _ = wx_order(wx_receiver.url)
    wx_clock.advance(60)
    wechatpay.pay(out_trade_no)
    wechatpay.deliver_due_notifications()

    body = wx_receiver.received[0].body
    assert b"<time_end><![CDATA[20261123093105]]></time_end>" in body or (
        b"<time_end>20261123093105</time_end>" in body
    )
    result = wx_gateway.parse_notification(body, {}, {})
    assert result.paid_at == datetime.fromisoformat("2026-11-23T01:31:05+00:00")
