"""WeChatPayGateway (wechatpy underneath) against the sandbox: paying, notifications,
queries, closing, and the parameters of wx.requestPayment."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from payments.gateways.base import (
    Gateway,
    GatewayError,
    GatewayUnavailable,
    NotificationRejected,
    PaymentResult,
    TradeState,
)
from payments.gateways.wechat import WeChatPayGateway, make_wechatpay_gateway
from sandbox.testing import RunningSandbox
from sandbox.wechatpay import WeChatPayControlError, WeChatPaySandbox, sign
from tests.helpers import FakeUpstream
from tests.payments.conftest import (
    NO_NOTIFY,
    MakeOrder,
    NotifyReceiver,
    SteppedClock,
    create,
    make_gateway,
    new_out_trade_no,
    pay_and_deliver,
    payment_args,
    refund,
)


def test_the_gateway_implements_the_interface(wx_gateway: WeChatPayGateway) -> None:
    as_protocol: Gateway = wx_gateway
    assert as_protocol.name == "wechat"


def test_a_payment_s_notification_verifies_and_says_paid(
    wx_gateway: WeChatPayGateway,
    wechatpay: WeChatPaySandbox,
    wx_receiver: NotifyReceiver,
    wx_results: list[Any],
    wx_clock: SteppedClock,
    wx_openid: str,
) -> None:
    out_trade_no, created = create(
        wx_gateway, wx_clock, wx_openid, wx_receiver.url, amount_fen=8000
    )
    order = wechatpay.order(out_trade_no)
    assert order is not None and order["trade_state"] == "NOTPAY"
    assert created.gateway_order_id == order["prepay_id"]
    assert created.pay_url is None

    wx_clock.advance(42)
    body = pay_and_deliver(wechatpay, wx_receiver, out_trade_no)

    assert body == wechatpay.notification_for(out_trade_no)
    assert wx_receiver.received[0].content_type == "text/xml"
    (result,) = wx_results
    assert isinstance(result, PaymentResult)
    paid = wechatpay.order(out_trade_no)
    assert paid is not None
    assert result.out_trade_no == out_trade_no
    assert result.state is TradeState.PAID
    assert result.amount_fen == 8000
    assert result.transaction_id == paid["transaction_id"]
    assert re.fullmatch(r"4200\d{24}", result.transaction_id or "")
    assert result.paid_at == datetime.fromtimestamp(int(wx_clock()), UTC)
    assert result.app_id == wx_gateway.appid
    assert result.merchant_id == wx_gateway.mch_id
    assert result.raw["openid"] == wx_openid and result.raw["cash_fee"] == 8000
    (delivery,) = wechatpay.deliveries(out_trade_no)
    assert delivery["state"] == "delivered" and delivery["next_at"] is None


def test_the_notification_is_returned_not_checked_against_the_order(
    wx_sandbox: RunningSandbox, wx_gateway: WeChatPayGateway, wx_delivered: tuple[str, bytes]
) -> None:
    """A genuine notification parses whatever appid the gateway has: the core compares."""
    _, body = wx_delivered
    other_app = make_gateway(wx_sandbox, appid="wx0000000000000000")
    try:
        result = other_app.parse_notification(body, {}, {})
    finally:
        other_app.release()
    assert result.app_id == wx_gateway.appid != other_app.appid


def test_a_tampered_amount_is_rejected(
    wx_gateway: WeChatPayGateway, wx_delivered: tuple[str, bytes]
) -> None:
    _, body = wx_delivered
    assert b"<total_fee>8000</total_fee>" in body

    tampered = body.replace(b"<total_fee>8000</total_fee>", b"<total_fee>1</total_fee>")
    with pytest.raises(NotificationRejected) as caught:
        wx_gateway.parse_notification(tampered, {}, {})
    assert caught.value.reason == "signature mismatch"


def test_a_forged_signature_is_rejected(
    wx_gateway: WeChatPayGateway, wx_delivered: tuple[str, bytes]
) -> None:
    _, body = wx_delivered
    forged = re.sub(
        rb"<sign><!\[CDATA\[[0-9A-F]+\]\]></sign>",
        b"<sign><![CDATA[" + b"A" * 32 + b"]]></sign>",
        body,
    )
    assert forged != body
    unsigned = re.sub(rb"<sign>.*?</sign>", b"", body)
    for bad in (forged, unsigned):
        with pytest.raises(NotificationRejected, match="signature"):
            wx_gateway.parse_notification(bad, {}, {})


def test_a_notification_signed_with_another_key_is_rejected(
    wx_sandbox: RunningSandbox, wx_gateway: WeChatPayGateway, wx_delivered: tuple[str, bytes]
) -> None:
    _, body = wx_delivered
    wrong_key = make_gateway(wx_sandbox, api_key="0" * 32)
    try:
        with pytest.raises(NotificationRejected):
            wrong_key.parse_notification(body, {}, {})
    finally:
        wrong_key.release()

    # And a notification a forger signed with a key of their own.
    fields = dict(re.findall(rb"<(\w+)>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</\1>", body))
    forged_fields = {k.decode(): v.decode() for k, v in fields.items() if k != b"sign"}
    forged_fields["total_fee"] = forged_fields["cash_fee"] = "1"
    forged_fields["sign"] = sign(forged_fields, "forger-key-" + "x" * 21)
    forged = "<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in forged_fields.items()) + "</xml>"
    with pytest.raises(NotificationRejected, match="signature"):
        wx_gateway.parse_notification(forged.encode(), {}, {})


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b"<root><return_code>SUCCESS</return_code></root>",
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><x>&a;</x></xml>',
        b"<xml><return_code>SUCCESS</return_code></xml>",
    ],
)
def test_malformed_notifications_are_rejected(wx_gateway: WeChatPayGateway, body: bytes) -> None:
    with pytest.raises(NotificationRejected):
        wx_gateway.parse_notification(body, {}, {})


def test_the_acks_are_the_exact_xml_wechat_expects(wx_gateway: WeChatPayGateway) -> None:
    ok = wx_gateway.ack(True)
    assert ok.body == (
        b"<xml><return_code><![CDATA[SUCCESS]]></return_code>"
        b"<return_msg><![CDATA[OK]]></return_msg></xml>"
    )
    assert ok.status == 200 and ok.content_type.startswith("text/xml")
    assert wx_gateway.ack(False).body.startswith(
        b"<xml><return_code><![CDATA[FAIL]]></return_code>"
    )


def test_the_request_payment_parameters_are_signed_with_the_key(
    wx_gateway: WeChatPayGateway,
    wx_sandbox: RunningSandbox,
    wechatpay: WeChatPaySandbox,
    wx_order: MakeOrder,
) -> None:
    _, created = wx_order()
    params = created.client_params
    assert set(params) == {"timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["package"] == f"prepay_id={created.gateway_order_id}"
    assert params["signType"] == "MD5"
    assert params["timeStamp"].isdigit() and len(params["nonceStr"]) == 32

    # MD5 over appId (the mini-program's, not passed) and the four others, key last.
    signed = {"appId": wx_gateway.appid, **{k: v for k, v in params.items() if k != "paySign"}}
    text = "&".join(f"{k}={signed[k]}" for k in sorted(signed))
    text += "&key=" + wx_sandbox.settings["WECHATPAY_API_KEY"]
    assert params["paySign"] == hashlib.md5(text.encode()).hexdigest().upper()  # noqa: S324
    # The phone's own check, as wx.requestPayment makes it.
    assert wechatpay.check_request_payment(params) == created.gateway_order_id
    with pytest.raises(WeChatPayControlError, match="支付验证签名失败"):
        wechatpay.check_request_payment({**params, "nonceStr": "x" * 32})


def test_the_hmac_sha256_variant_signs_and_verifies_with_hmac(
    wx_hmac_gateway: WeChatPayGateway,
    wx_gateway: WeChatPayGateway,
    wx_sandbox: RunningSandbox,
    wechatpay: WeChatPaySandbox,
    wx_receiver: NotifyReceiver,
    wx_clock: SteppedClock,
    wx_openid: str,
) -> None:
    key = wx_sandbox.settings["WECHATPAY_API_KEY"]
    out_trade_no, created = create(wx_hmac_gateway, wx_clock, wx_openid, wx_receiver.url)
    params = created.client_params
    assert params["signType"] == "HMAC-SHA256"
    signed = {"appId": wx_hmac_gateway.appid, **{k: v for k, v in params.items() if k != "paySign"}}
    text = "&".join(f"{k}={signed[k]}" for k in sorted(signed)) + "&key=" + key
    expected = hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    assert params["paySign"] == expected
    assert wechatpay.check_request_payment(params) == created.gateway_order_id
    order = wechatpay.order(out_trade_no)
    assert order is not None and order["sign_type"] == "HMAC-SHA256"

    body = pay_and_deliver(wechatpay, wx_receiver, out_trade_no)
    assert b"<sign_type><![CDATA[HMAC-SHA256]]></sign_type>" in body
    result = wx_hmac_gateway.parse_notification(body, {}, {})
    assert (result.state, result.amount_fen) == (TradeState.PAID, 8000)
    # WeChat's SDKs take the sign type from the notification, so an MD5 gateway with
    # the same key verifies it too.
    assert wx_gateway.parse_notification(body, {}, {}).transaction_id == result.transaction_id
    with pytest.raises(NotificationRejected, match="signature"):
        wx_hmac_gateway.parse_notification(
            body.replace(b"<total_fee>8000</total_fee>", b"<total_fee>80</total_fee>"), {}, {}
        )
    # Every call is signed with HMAC-SHA256, and the answers' signatures check out.
    assert wx_hmac_gateway.query(out_trade_no).state is TradeState.PAID
    assert refund(wx_hmac_gateway, out_trade_no, 100, reason="多收退还").amount_fen == 100


def test_an_unknown_sign_type_is_rejected(wx_gateway: WeChatPayGateway) -> None:
    body = b"<xml><sign_type>SHA1</sign_type><sign>X</sign></xml>"
    with pytest.raises(NotificationRejected, match="sign_type"):
        wx_gateway.parse_notification(body, {}, {})


def test_99_fen_is_declined_without_a_notification(
    wx_gateway: WeChatPayGateway,
    wechatpay: WeChatPaySandbox,
    wx_receiver: NotifyReceiver,
    wx_order: MakeOrder,
) -> None:
    out_trade_no, _ = wx_order(wx_receiver.url, amount_fen=199)

    order = wechatpay.pay(out_trade_no)

    assert order["trade_state"] == "PAYERROR" and order["transaction_id"] is None
    assert wechatpay.deliver_due_notifications() == []
    assert wechatpay.notification_for(out_trade_no) is None
    result = wx_gateway.query(out_trade_no)
    assert result.state is TradeState.FAILED
    assert (result.amount_fen, result.transaction_id, result.paid_at) == (None, None, None)
    with pytest.raises(WeChatPayControlError) as caught:
        wechatpay.pay(out_trade_no)
    assert caught.value.status == 409


def test_98_fen_is_paid_but_only_the_query_says_so(
    wx_gateway: WeChatPayGateway,
    wechatpay: WeChatPaySandbox,
    wx_receiver: NotifyReceiver,
    wx_clock: SteppedClock,
    wx_order: MakeOrder,
) -> None:
    out_trade_no, _ = wx_order(wx_receiver.url, amount_fen=1998)

    wechatpay.pay(out_trade_no)
    wx_clock.advance(86400 * 2)

    assert wechatpay.deliver_due_notifications() == []
    assert wechatpay.notification_for(out_trade_no) is None
    assert wx_receiver.received == []
    result = wx_gateway.query(out_trade_no)
    assert result.state is TradeState.PAID
    assert result.amount_fen == 1998
    assert result.transaction_id and result.paid_at is not None
    assert (result.app_id, result.merchant_id) == (wx_gateway.appid, wx_gateway.mch_id)


def test_query_follows_the_order(
    wx_gateway: WeChatPayGateway, wechatpay: WeChatPaySandbox, wx_order: MakeOrder
) -> None:
    out_trade_no, _ = wx_order()
    waiting = wx_gateway.query(out_trade_no)
    assert waiting.state is TradeState.NOT_PAID
    assert (waiting.amount_fen, waiting.transaction_id, waiting.paid_at) == (None, None, None)

    wechatpay.cancel(out_trade_no)  # the payer closed the payment sheet: nothing changes
    assert wx_gateway.query(out_trade_no).state is TradeState.NOT_PAID

    wechatpay.pay(out_trade_no)
    assert wx_gateway.query(out_trade_no).state is TradeState.PAID

    unknown = wx_gateway.query(new_out_trade_no())
    assert unknown.state is TradeState.UNKNOWN and unknown.raw["err_code"] == "ORDERNOTEXIST"


def test_closing_an_order(
    wx_gateway: WeChatPayGateway, wechatpay: WeChatPaySandbox, wx_order: MakeOrder
) -> None:
    out_trade_no, _ = wx_order()

    wx_gateway.close(out_trade_no)
    wx_gateway.close(out_trade_no)  # closing twice is fine

    assert wx_gateway.query(out_trade_no).state is TradeState.CLOSED
    with pytest.raises(WeChatPayControlError, match="订单已关闭"):
        wechatpay.pay(out_trade_no)

    paid, _ = wx_order()
    wechatpay.pay(paid)
    with pytest.raises(GatewayError) as caught:
        wx_gateway.close(paid)
    assert caught.value.code == "ORDERPAID"
    with pytest.raises(GatewayError) as unknown:
        wx_gateway.close(new_out_trade_no())
    assert unknown.value.code == "ORDERNOTEXIST"


def test_an_expired_order_cannot_be_paid(
    wx_gateway: WeChatPayGateway,
    wechatpay: WeChatPaySandbox,
    wx_clock: SteppedClock,
    wx_order: MakeOrder,
) -> None:
    out_trade_no, _ = wx_order(expires_in=timedelta(minutes=10))
    wx_clock.advance(600)
    with pytest.raises(WeChatPayControlError, match="订单已过期"):
        wechatpay.pay(out_trade_no)
    assert wx_gateway.query(out_trade_no).state is TradeState.NOT_PAID  # close it yourself
    wx_gateway.close(out_trade_no)


def test_an_expiry_under_five_minutes_is_refused(wx_order: MakeOrder) -> None:
    with pytest.raises(GatewayError) as caught:
        wx_order(expires_in=timedelta(minutes=4))
    assert caught.value.code == "PARAM_ERROR" and "time_expire" in caught.value.message


def test_the_same_out_trade_no_with_the_same_parameters_is_the_same_order(
    wx_gateway: WeChatPayGateway,
    wechatpay: WeChatPaySandbox,
    wx_clock: SteppedClock,
    wx_openid: str,
) -> None:
    expires_at = datetime.fromtimestamp(wx_clock(), UTC) + timedelta(minutes=30)
    request = payment_args(wx_openid, expires_at)
    out_trade_no = request["out_trade_no"]
    first = wx_gateway.create_payment(**request)
    wx_clock.advance(5)
    again = wx_gateway.create_payment(**request)

    assert again.gateway_order_id == first.gateway_order_id
    assert len(wechatpay.orders()) == 1
    with pytest.raises(GatewayError) as caught:
        wx_gateway.create_payment(**{**request, "amount_fen": 8001})
    assert (caught.value.code, caught.value.message) == ("INVALID_REQUEST", "201 商户订单号重复")

    wechatpay.pay(out_trade_no)
    with pytest.raises(GatewayError) as paid:
        wx_gateway.create_payment(**request)
    assert paid.value.code == "ORDERPAID"

    closed = new_out_trade_no()
    wx_gateway.create_payment(**{**request, "out_trade_no": closed})
    wx_gateway.close(closed)
    with pytest.raises(GatewayError) as after_close:
        wx_gateway.create_payment(**{**request, "out_trade_no": closed})
    assert after_close.value.code == "ORDERCLOSED"


def test_bad_arguments_are_the_caller_s_bug(wx_gateway: WeChatPayGateway, wx_openid: str) -> None:
    expires_at = datetime.now(UTC) + timedelta(hours=1)
    base = payment_args(wx_openid, expires_at, amount_fen=100, notify_url="http://x.invalid/n")
    for change in (
        {"payer_openid": None},
        {"amount_fen": 0},
        {"amount_fen": 1.5},
        {"expires_at": expires_at.replace(tzinfo=None)},
    ):
        with pytest.raises(ValueError):
            wx_gateway.create_payment(**{**base, **change})


def _refused(gateway: WeChatPayGateway, wx_clock: SteppedClock, wx_openid: str) -> GatewayError:
    """The GatewayError that creating an order with ``gateway`` raises; releases it."""
    try:
        with pytest.raises(GatewayError) as caught:
            create(gateway, wx_clock, wx_openid, NO_NOTIFY)
    finally:
        gateway.release()
    return caught.value


def test_a_wrong_api_key_is_refused_by_wechat(
    wx_sandbox: RunningSandbox, wx_clock: SteppedClock, wx_openid: str
) -> None:
    error = _refused(make_gateway(wx_sandbox, api_key="0" * 32), wx_clock, wx_openid)
    assert error.code == "SIGNERROR"
    assert not isinstance(error, GatewayUnavailable)


def test_a_wrong_merchant_or_app_is_refused(
    wx_sandbox: RunningSandbox, wx_clock: SteppedClock, wx_openid: str
) -> None:
    for override, message in (
        ({"mch_id": "1600000000"}, "商户号mch_id或sub_mch_id不存在"),
        ({"appid": "wx0000000000000000"}, "appid和mch_id不匹配"),
    ):
        error = _refused(make_gateway(wx_sandbox, **override), wx_clock, wx_openid)
        assert (error.code, error.message) == ("FAIL", message)


def test_network_errors_and_5xx_are_unavailable(
    wx_unreachable_url: str, fake_wechat: FakeUpstream
) -> None:
    def gateway_at(url: str, timeout: float = 5) -> WeChatPayGateway:
        return WeChatPayGateway("wx1234567890abcdef", "1600000001", "k" * 32, url, timeout=timeout)

    down = gateway_at(wx_unreachable_url)
    fake_wechat.mode = "error"
    failing = gateway_at(fake_wechat.url + "/")
    slow = gateway_at(fake_wechat.url + "/", timeout=0.3)
    try:
        with pytest.raises(GatewayUnavailable) as refused:
            down.query("ZH1")
        assert refused.value.code == "NETWORK"
        with pytest.raises(GatewayUnavailable) as error:
            failing.query("ZH1")
        assert error.value.code == "HTTP_ERROR" and "500" in error.value.message
        fake_wechat.mode = "html"
        with pytest.raises(GatewayUnavailable) as html:
            failing.query("ZH1")
        assert html.value.code == "UNEXPECTED_RESPONSE"
        fake_wechat.mode = "slow"
        with pytest.raises(GatewayUnavailable) as timeout:
            slow.query("ZH1")
        assert timeout.value.code == "NETWORK"
    finally:
        fake_wechat.release.set()
        for made in (down, failing, slow):
            made.release()


def test_an_answer_not_signed_with_the_key_is_an_error(
    fake_wechat: FakeUpstream, wx_clock: SteppedClock, wx_openid: str
) -> None:
    fake_wechat.mode = "unsigned"
    unsigned = WeChatPayGateway("wx1234567890abcdef", "1600000001", "k" * 32, fake_wechat.url + "/")
    assert _refused(unsigned, wx_clock, wx_openid).code == "INVALID_ANSWER_SIGNATURE"


def test_the_gateway_is_built_from_settings(wx_sandbox: RunningSandbox) -> None:
    made = make_wechatpay_gateway(
        {
            "WECHAT_APPID": wx_sandbox.settings["WECHAT_APPID"],
            "WECHATPAY_MCH_ID": wx_sandbox.settings["WECHATPAY_MCH_ID"],
            "WECHATPAY_API_KEY": wx_sandbox.settings["WECHATPAY_API_KEY"],
            "WECHATPAY_API_BASE": wx_sandbox.url + "/",
            "WECHATPAY_SIGN_TYPE": "HMAC-SHA256",
        }
    )
    try:
        assert made.sign_type == "HMAC-SHA256"
        assert made.query(new_out_trade_no()).state is TradeState.UNKNOWN
    finally:
        made.release()
    with pytest.raises(ValueError):
        WeChatPayGateway("wx1", "1600000001", "k" * 32, sign_type="SHA1")


def test_the_api_key_never_reaches_the_logs(
    wx_sandbox: RunningSandbox,
    wx_gateway: WeChatPayGateway,
    wx_order: MakeOrder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """wechatpy logs the string it signs (``…&key=API_KEY``) at DEBUG; the gateway's
    filter drops that record."""
    with caplog.at_level(logging.DEBUG):
        out_trade_no, _ = wx_order()
        wx_gateway.query(out_trade_no)
    assert "Request to WeChat API" in caplog.text  # DEBUG was on
    assert wx_sandbox.settings["WECHATPAY_API_KEY"] not in caplog.text


def test_a_prepay_id_lives_two_hours(
    wechatpay: WeChatPaySandbox, wx_clock: SteppedClock, wx_order: MakeOrder
) -> None:
    out_trade_no, _ = wx_order(expires_in=timedelta(hours=3))
    wx_clock.advance(7200)
    with pytest.raises(WeChatPayControlError, match="prepay_id 已失效") as caught:
        wechatpay.pay(out_trade_no)
    assert caught.value.status == 409
