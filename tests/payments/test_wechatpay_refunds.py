"""Refunds, refund notifications and the daily bill through WeChatPayGateway."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import requests

from payments.gateways.base import (
    GatewayError,
    GatewayUnavailable,
    NotificationRejected,
    StatementLine,
    TradeState,
)
from payments.gateways.wechat import WeChatPayGateway, parse_bill
from sandbox.testing import RunningSandbox
from sandbox.wechatpay import WeChatPaySandbox
from tests.payments.conftest import (
    MakeOrder,
    NotifyReceiver,
    PayOrder,
    SteppedClock,
    make_gateway,
    refund,
)


def test_a_partial_refund_then_an_over_refund(
    wx_gateway: WeChatPayGateway, wechatpay: WeChatPaySandbox, wx_paid: PayOrder
) -> None:
    out_trade_no = wx_paid(8000)

    first = refund(
        wx_gateway, out_trade_no, 3000, out_refund_no="R1" + out_trade_no, reason="契税多缴退还"
    )

    assert (first.out_trade_no, first.amount_fen, first.state) == (out_trade_no, 3000, "processing")
    assert first.refund_id and first.refund_id.startswith("503")
    assert wx_gateway.refund_query("R1" + out_trade_no).state == "success"
    queried = wx_gateway.query(out_trade_no)
    assert (queried.state, queried.amount_fen) == (TradeState.REFUNDED, 8000)

    with pytest.raises(GatewayError) as over:
        refund(wx_gateway, out_trade_no, 5001, out_refund_no="R2" + out_trade_no)
    assert (over.value.code, over.value.message) == (
        "INVALID_REQUEST",
        "申请退款金额超过订单可退金额",
    )
    assert not isinstance(over.value, GatewayUnavailable)

    rest = refund(wx_gateway, out_trade_no, 5000, out_refund_no="R3" + out_trade_no)
    assert rest.amount_fen == 5000
    with pytest.raises(GatewayError) as full:
        refund(wx_gateway, out_trade_no, 1, out_refund_no="R4" + out_trade_no)
    assert (full.value.code, full.value.message) == ("ERROR", "订单已全额退款")
    order = wechatpay.order(out_trade_no)
    assert order is not None and order["refunded_fee"] == 8000


def test_the_same_out_refund_no_refunds_once(
    wx_gateway: WeChatPayGateway, wechatpay: WeChatPaySandbox, wx_paid: PayOrder
) -> None:
    out_trade_no = wx_paid(8000)

    first = refund(wx_gateway, out_trade_no, 2000)
    again = refund(wx_gateway, out_trade_no, 2000)

    assert again.refund_id == first.refund_id
    assert len(wechatpay.refunds()) == 1
    order = wechatpay.order(out_trade_no)
    assert order is not None and order["refunded_fee"] == 2000
    with pytest.raises(GatewayError) as other_amount:
        refund(wx_gateway, out_trade_no, 2100)
    assert other_amount.value.code == "REFUND_FEE_MISMATCH"


@pytest.mark.parametrize(
    ("total_fen", "refund_fen", "code", "message"),
    [
        (8000, 8001, "FAIL", "invalid refund_fee"),  # more than the order
        (7000, 100, "REFUND_FEE_MISMATCH", "订单金额或退款金额与之前请求不一致，请核实后再试"),
        (8000, 197, "NOTENOUGH", "基本账户余额不足，请充值后重新发起"),  # magic 97 fen
    ],
)
def test_refunds_wechat_refuses(
    wx_gateway: WeChatPayGateway,
    wechatpay: WeChatPaySandbox,
    wx_paid: PayOrder,
    total_fen: int,
    refund_fen: int,
    code: str,
    message: str,
) -> None:
    out_trade_no = wx_paid(8000)
    with pytest.raises(GatewayError) as caught:
        refund(wx_gateway, out_trade_no, refund_fen, total_fen=total_fen)
    assert (caught.value.code, caught.value.message) == (code, message)
    assert wechatpay.refunds() == []


def test_an_unpaid_or_unknown_order_cannot_be_refunded(
    wx_gateway: WeChatPayGateway, wx_order: MakeOrder
) -> None:
    out_trade_no, _ = wx_order(amount_fen=8000)
    for order, code in ((out_trade_no, "ERROR"), ("ZHunknown", "ORDERNOTEXIST")):
        with pytest.raises(GatewayError) as caught:
            refund(wx_gateway, order, 100)
        assert caught.value.code == code
    with pytest.raises(GatewayError) as unknown:
        wx_gateway.refund_query("Rnothing")
    assert unknown.value.code == "REFUNDNOTEXIST"


def test_the_refund_notification_decrypts_with_the_key(
    wx_sandbox: RunningSandbox,
    wx_gateway: WeChatPayGateway,
    wechatpay: WeChatPaySandbox,
    wx_receiver: NotifyReceiver,
    wx_paid: PayOrder,
) -> None:
    out_trade_no = wx_paid(8000)
    refunded = refund(wx_gateway, out_trade_no, 2500, reason="退还", notify_url=wx_receiver.url)

    attempts = wechatpay.deliver_due_notifications()

    # The payment's notification went to a closed port; the refund's to the receiver.
    assert [(a["kind"], a["ok"]) for a in attempts] == [("payment", False), ("refund", True)]
    body = wx_receiver.received[0].body
    assert body == wechatpay.refund_notification_for("R" + out_trade_no)
    assert b"<req_info>" in body and b"out_refund_no" not in body  # encrypted
    result = wx_gateway.parse_refund_notification(body)
    assert (result.out_refund_no, result.out_trade_no) == ("R" + out_trade_no, out_trade_no)
    assert (result.amount_fen, result.state, result.refund_id) == (
        2500,
        "success",
        refunded.refund_id,
    )
    assert result.raw["success_time"]

    wrong_key = make_gateway(wx_sandbox, api_key="0" * 32)
    try:
        with pytest.raises(NotificationRejected):
            wrong_key.parse_refund_notification(body)
    finally:
        wrong_key.release()
    with pytest.raises(NotificationRejected):
        wx_gateway.parse_refund_notification(
            body.replace(b"<req_info><![CDATA[", b"<req_info><![CDATA[AAAA")
        )


def test_the_statement_of_a_day_with_one_payment_and_one_refund(
    wx_gateway: WeChatPayGateway, wx_clock: SteppedClock, wx_paid: PayOrder
) -> None:
    day = date(2026, 11, 23)
    wx_clock.set(datetime.fromisoformat("2026-11-23T14:00:00+08:00"))
    paid = wx_paid(8000)
    transaction_id = wx_gateway.query(paid).transaction_id
    wx_clock.advance(3600)
    refund(wx_gateway, paid, 3000, reason="多缴退还")
    wx_clock.set(datetime.fromisoformat("2026-11-23T23:59:59+08:00"))
    wx_paid(1000)  # still the 23rd
    wx_clock.set(datetime.fromisoformat("2026-11-24T00:00:00+08:00"))
    wx_paid(2000)  # the 24th: not in the bill

    wx_clock.set(datetime.fromisoformat("2026-11-24T09:59:59+08:00"))
    with pytest.raises(GatewayUnavailable) as not_yet:
        wx_gateway.statement(day)
    assert not_yet.value.code == "BILL_CREATING"

    wx_clock.set(datetime.fromisoformat("2026-11-24T10:00:00+08:00"))
    lines = wx_gateway.statement(day)

    assert [(line.kind, line.out_trade_no, line.amount_fen) for line in lines] == [
        ("payment", paid, 8000),
        ("refund", paid, 3000),
        ("payment", lines[2].out_trade_no, 1000),
    ]
    same = {"out_trade_no": paid, "transaction_id": str(transaction_id)}
    assert lines[:2] == [
        StatementLine(**same, kind="payment", amount_fen=8000, at=utc("2026-11-23T06:00:00")),
        StatementLine(
            **same,
            kind="refund",
            amount_fen=3000,
            at=utc("2026-11-23T07:00:00"),
            out_refund_no="R" + paid,
        ),
    ]
    assert wx_gateway.statement(date(2026, 11, 22)) == []  # No Bill Exist
    with pytest.raises(GatewayError) as future:
        wx_gateway.statement(date(2026, 11, 25))
    assert (future.value.code, future.value.message) == ("FAIL", "invalid bill_date")
    wx_clock.set(datetime.fromisoformat("2026-11-25T10:00:00+08:00"))
    assert [line.amount_fen for line in wx_gateway.statement(date(2026, 11, 24))] == [2000]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


def test_the_bill_is_wechat_s_text_format(
    wx_gateway: WeChatPayGateway,
    wechatpay: WeChatPaySandbox,
    wx_clock: SteppedClock,
    wx_paid: PayOrder,
) -> None:
    wx_clock.set(datetime.fromisoformat("2026-11-23T14:00:00+08:00"))
    paid = wx_paid(8000)
    refund(wx_gateway, paid, 3000)

    text = wechatpay.bill(date(2026, 11, 23))

    assert text is not None and text.startswith("\ufeff交易时间,公众账号ID,商户号,特约商户号,")
    lines = text.lstrip("\ufeff").splitlines()
    assert len(lines) == 5
    header, payment, refunded, summary_header, summary = lines
    assert header.endswith("订单金额,申请退款金额,费率备注") and len(header.split(",")) == 27
    payment_cells = payment.split(",")
    assert all(cell.startswith("`") for cell in payment_cells) and len(payment_cells) == 27
    assert payment_cells[0] == "`2026-11-23 14:00:00" and payment_cells[9] == "`SUCCESS"
    assert payment_cells[12] == "`80.00" and payment_cells[22] == "`0.48000"
    refund_cells = refunded.split(",")
    assert refund_cells[9] == "`REFUND" and refund_cells[15] == "`R" + paid
    assert refund_cells[16] == "`30.00" and refund_cells[22] == "`-0.18000"
    assert summary_header.startswith("总交易单数,应结订单总金额,退款总金额")
    assert summary == "`2,`80.00,`30.00,`0.00,`0.30000,`80.00,`30.00"
    assert wechatpay.bill(date(2026, 11, 22)) is None


def test_bills_that_do_not_parse_are_errors() -> None:
    header = (
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
        "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
        "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
    )
    row = (  # noqa: SIM905 - the cells of one bill line, as the line reads
        "2026-11-23 14:00:00|wx1|1600000001|0||4200|ZH1|o1|JSAPI|SUCCESS|OTHERS|CNY|80.00|0.00"
        "|0|0|0.00|0.00|||登记费,含逗号||0.48000|0.60%|80.00|0.00|"
    ).split("|")

    def line(cells: list[str]) -> str:
        return ",".join("`" + cell for cell in cells)

    # A comma inside a field is fine: fields are split on ",`".
    (parsed,) = parse_bill(header + "\n" + line(row) + "\n")
    assert parsed.amount_fen == 8000
    for bad in (
        "<html>maintenance</html>",
        header + "\n" + line(row[:-1]),
        header + "\n" + line([*row[:9], "REVOKED", *row[10:]]),
        header + "\n" + line([*row[:24], "80.001", *row[25:]]),
        header + "\n" + line(["23/11/2026", *row[1:]]),
    ):
        with pytest.raises(GatewayError) as caught:
            parse_bill(bad)
        assert caught.value.code == "BILL_MALFORMED"


def test_a_day_s_bill_for_people_without_waiting(
    wx_sandbox: RunningSandbox, wx_clock: SteppedClock, wx_paid: PayOrder
) -> None:
    wx_clock.set(datetime.fromisoformat("2026-11-23T14:00:00+08:00"))
    wx_paid(8000)
    url = wx_sandbox.url + "/_sandbox/wechatpay/bill"

    answer = requests.get(url, params={"date": "20261123"}, timeout=5)
    assert answer.status_code == 200 and "`80.00" in answer.text
    assert requests.get(url, params={"date": "20261122"}, timeout=5).status_code == 404
    assert requests.get(url, params={"date": "2026-11-22"}, timeout=5).status_code == 400
