"""AlipayGateway (alipay-sdk-python) against the Alipay sandbox over real HTTP: the wap
cashier, notifications and their resend schedule, magic amounts, query, close, refund,
the daily bill, the SDK's port patch and the error paths."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests
from alipay.aop.api.util import WebUtils
from alipay.aop.api.util.SignatureUtils import verify_with_rsa
from cryptography.hazmat.primitives import serialization

from payments.gateways import alipay as alipay_module
from payments.gateways.alipay import AlipayGateway, patch_sdk_port, sdk_port_patched
from payments.gateways.base import (
    GatewayError,
    GatewayUnavailable,
    NotificationRejected,
    TradeState,
)
from sandbox.alipay import AlipayControlError, load_private_key, rsa2_sign, sign_content
from tests.payments.alipay_fixtures import APP_ID, SELLER_ID, Bench, start_bench

MINUTE = 60
HOUR = 3600


@pytest.fixture(scope="module")
def bench_server() -> Iterator[Bench]:
    bench = start_bench()
    yield bench
    bench.stop()


@pytest.fixture
def bench(bench_server: Bench) -> Bench:
    bench_server.reset()
    return bench_server


@pytest.fixture
def gateway(bench: Bench) -> AlipayGateway:
    return bench.gateway()


def now(bench: Bench) -> datetime:
    return datetime.fromtimestamp(bench.clock(), UTC)


def create(
    bench: Bench,
    gateway: AlipayGateway,
    out_trade_no: str,
    amount_fen: int = 12345,
    *,
    expires_in: timedelta = timedelta(hours=2),
    description: str = "不动产登记费（转移登记）",
) -> str:
    created = gateway.create_payment(
        out_trade_no=out_trade_no,
        amount_fen=amount_fen,
        description=description,
        expires_at=now(bench) + expires_in,
        payer_openid=None,
        notify_url=bench.notify_url,
        return_url=bench.return_url,
    )
    assert created.gateway_order_id is None
    assert created.client_params == {}
    assert created.pay_url is not None
    return created.pay_url


def open_cashier(pay_url: str) -> requests.Response:
    """The payer's browser opens the URL: the gateway redirects to the cashier page."""
    page = requests.get(pay_url, timeout=5)
    assert page.status_code == 200, page.text
    return page


def press(bench: Bench, page: requests.Response, button: str) -> requests.Response:
    """Press 支付 (``pay``) or 取消 (``cancel``) on the cashier page; the redirect."""
    action = re.search(rf'action="([^"]*/{button})"', page.text)
    assert action, page.text
    answer = requests.post(bench.url + action.group(1), timeout=10, allow_redirects=False)
    assert answer.status_code == 303
    return answer


def opened(bench: Bench, gateway: AlipayGateway, out_trade_no: str, amount_fen: int = 12345) -> Any:
    return open_cashier(create(bench, gateway, out_trade_no, amount_fen))


def paid(bench: Bench, gateway: AlipayGateway, out_trade_no: str, amount_fen: int = 12345) -> None:
    opened(bench, gateway, out_trade_no, amount_fen)
    bench.sandbox.pay(out_trade_no)


def resign(form: dict[str, str], private_pem: str, **changes: str) -> dict[str, str]:
    """The notification with ``changes``, signed again (by Alipay's rule) with a key."""
    changed = {**form, **changes}
    changed["sign"] = rsa2_sign(
        load_private_key(private_pem), sign_content(changed, ("sign", "sign_type"))
    )
    return changed


# --- paying ------------------------------------------------------------------------------


def test_pay_on_the_cashier_page_and_the_notification_verifies(
    bench: Bench, gateway: AlipayGateway
) -> None:
    pay_url = create(bench, gateway, "ZH2026112300001", 8000)
    parts = urlsplit(pay_url)
    assert (parts.port, parts.path) == (bench.port, "/gateway.do")
    query = dict(parse_qsl(parts.query))
    assert query["method"] == "alipay.trade.wap.pay"
    assert query["app_id"] == APP_ID and query["sign_type"] == "RSA2" and query["sign"]
    biz = json.loads(query["biz_content"])
    assert biz["total_amount"] == "80.00"
    assert biz["product_code"] == "QUICK_WAP_WAY"
    assert biz["time_expire"] == "2026-11-23 12:13:20"  # Beijing time
    assert biz["quit_url"] == bench.return_url

    page = open_cashier(pay_url)
    assert "/alipay/cashier/" in page.url
    for text in ("收银台", "80.00", "不动产登记费（转移登记）", "ZH2026112300001", "支付", "取消"):
        assert text in page.text
    assert gateway.query("ZH2026112300001").state is TradeState.NOT_PAID

    back = press(bench, page, "pay")
    location = urlsplit(back.headers["Location"])
    assert location.path == "/merchant/alipay/return"
    returned = dict(parse_qsl(location.query))
    assert returned["method"] == "alipay.trade.wap.pay.return"
    assert returned["out_trade_no"] == "ZH2026112300001"
    assert returned["total_amount"] == "80.00"
    # The synchronous return is signed like a notification (without sign and sign_type).
    content = sign_content(returned, ("sign", "sign_type")).encode()
    assert verify_with_rsa(bench.keys.alipay_public, content, returned["sign"])

    [delivery] = bench.merchant.received
    assert delivery["answer"] == "success"
    result = delivery["result"]
    assert result.out_trade_no == "ZH2026112300001"
    assert result.state is TradeState.PAID
    assert result.amount_fen == 8000
    assert result.transaction_id and len(result.transaction_id) == 28
    assert result.paid_at == now(bench)
    assert (result.app_id, result.merchant_id) == (APP_ID, SELLER_ID)
    assert result.raw["trade_status"] == "TRADE_SUCCESS"
    assert "sign" not in result.raw

    queried = gateway.query("ZH2026112300001")
    assert queried.state is TradeState.PAID
    assert queried.amount_fen == 8000
    assert queried.transaction_id == result.transaction_id
    assert queried.paid_at == result.paid_at


def test_query_before_the_cashier_is_opened_is_unknown(
    bench: Bench, gateway: AlipayGateway
) -> None:
    create(bench, gateway, "ZH2026112300002")
    result = gateway.query("ZH2026112300002")
    assert result.state is TradeState.UNKNOWN
    assert result.raw["sub_code"] == "ACQ.TRADE_NOT_EXIST"


def test_amounts_in_fen_are_exact(bench: Bench, gateway: AlipayGateway) -> None:
    for number, fen in enumerate((1, 10, 100, 101, 1010, 2900, 123456789), start=1):
        out_trade_no = f"EXACT{number}"
        paid(bench, gateway, out_trade_no, fen)
        assert gateway.query(out_trade_no).amount_fen == fen
    assert [r["result"].amount_fen for r in bench.merchant.received] == [
        1,
        10,
        100,
        101,
        1010,
        2900,
        123456789,
    ]


def test_reopening_the_url_shows_the_same_trade(bench: Bench, gateway: AlipayGateway) -> None:
    pay_url = create(bench, gateway, "ZH2026112300003")
    first = open_cashier(pay_url)
    again = open_cashier(pay_url)
    assert first.url == again.url
    # The same out_trade_no with another amount is refused at the gateway.
    other = open_cashier(create(bench, gateway, "ZH2026112300003", 99900))
    assert "ACQ.CONTEXT_INCONSISTENT" in other.text
    assert "交易信息被篡改" in other.text


def test_a_tampered_pay_url_is_refused(bench: Bench, gateway: AlipayGateway) -> None:
    parts = urlsplit(create(bench, gateway, "ZH2026112300004", 12345))
    query = parse_qsl(parts.query)
    tampered = [
        (k, v.replace('"total_amount":"123.45"', '"total_amount":"0.01"')) for k, v in query
    ]
    page = open_cashier(urlunsplit(parts._replace(query=urlencode(tampered))))
    assert "支付请求错误" in page.text and "isv.invalid-signature" in page.text
    assert gateway.query("ZH2026112300004").state is TradeState.UNKNOWN


def test_cancel_goes_back_and_the_trade_stays_payable(bench: Bench, gateway: AlipayGateway) -> None:
    page = opened(bench, gateway, "ZH2026112300005")
    back = press(bench, page, "cancel")
    assert back.headers["Location"] == bench.return_url
    assert gateway.query("ZH2026112300005").state is TradeState.NOT_PAID
    assert bench.merchant.received == []


# --- notifications -----------------------------------------------------------------------


def test_tampered_amount_is_rejected(bench: Bench, gateway: AlipayGateway) -> None:
    paid(bench, gateway, "ZH2026112300010", 8000)
    form = bench.sandbox.notification_for("ZH2026112300010")
    assert form is not None
    assert gateway.parse_notification(b"", {}, form).amount_fen == 8000  # replays verify
    with pytest.raises(NotificationRejected, match="signature"):
        gateway.parse_notification(b"", {}, {**form, "total_amount": "0.01"})


def test_forged_or_missing_signatures_are_rejected(bench: Bench, gateway: AlipayGateway) -> None:
    paid(bench, gateway, "ZH2026112300011")
    form = bench.sandbox.notification_for("ZH2026112300011")
    assert form is not None
    forged = resign(form, bench.keys.app_private)  # any key but Alipay's
    with pytest.raises(NotificationRejected, match="signature does not verify"):
        gateway.parse_notification(b"", {}, forged)
    with pytest.raises(NotificationRejected, match="malformed signature"):
        gateway.parse_notification(b"", {}, {**form, "sign": "not base64!"})
    with pytest.raises(NotificationRejected, match="no sign"):
        gateway.parse_notification(b"", {}, {k: v for k, v in form.items() if k != "sign"})
    with pytest.raises(NotificationRejected, match="RSA2"):
        gateway.parse_notification(b"", {}, {**form, "sign_type": "RSA"})


def test_wrong_app_id_is_returned_as_is(bench: Bench, gateway: AlipayGateway) -> None:
    """Alipay signed it: the signature holds, and the core compares app_id and seller_id."""
    paid(bench, gateway, "ZH2026112300012")
    form = bench.sandbox.notification_for("ZH2026112300012")
    assert form is not None
    other = resign(
        form, bench.keys.alipay_private, app_id="2021999999999999", seller_id="2088999999999999"
    )
    result = gateway.parse_notification(b"", {}, other)
    assert result.app_id == "2021999999999999"
    assert result.merchant_id == "2088999999999999"


@pytest.mark.parametrize("amount", ["80", "80.0", "80.000", "8e1", "-80.00", "080.00", " 80.00"])
def test_amounts_without_exactly_two_decimals_are_rejected(
    bench: Bench, gateway: AlipayGateway, amount: str
) -> None:
    paid(bench, gateway, "ZH2026112300013", 8000)
    form = bench.sandbox.notification_for("ZH2026112300013")
    assert form is not None
    with pytest.raises(NotificationRejected, match="malformed notification"):
        gateway.parse_notification(
            b"", {}, resign(form, bench.keys.alipay_private, total_amount=amount)
        )


def test_unknown_status_or_missing_order_is_rejected(bench: Bench, gateway: AlipayGateway) -> None:
    paid(bench, gateway, "ZH2026112300014")
    form = bench.sandbox.notification_for("ZH2026112300014")
    assert form is not None
    with pytest.raises(NotificationRejected, match="trade_status"):
        gateway.parse_notification(
            b"", {}, resign(form, bench.keys.alipay_private, trade_status="TRADE_PENDING")
        )
    with pytest.raises(NotificationRejected, match="out_trade_no"):
        gateway.parse_notification(
            b"", {}, resign(form, bench.keys.alipay_private, out_trade_no="")
        )


def test_empty_values_are_outside_the_signature(bench: Bench, gateway: AlipayGateway) -> None:
    """Alipay signs without empty values; the SDK's get_sign_content alone would keep them."""
    paid(bench, gateway, "ZH2026112300015")
    form = bench.sandbox.notification_for("ZH2026112300015")
    assert form is not None
    with_empty = resign(form, bench.keys.alipay_private, passback_params="", body="")
    assert gateway.parse_notification(b"", {}, with_empty).state is TradeState.PAID


def test_a_raw_body_without_a_parsed_form_verifies(bench: Bench, gateway: AlipayGateway) -> None:
    paid(bench, gateway, "ZH2026112300016")
    form = bench.sandbox.notification_for("ZH2026112300016")
    assert form is not None
    body = urlencode(form).encode()
    assert gateway.parse_notification(body, {}, {}).state is TradeState.PAID
    with pytest.raises(NotificationRejected, match="UTF-8"):
        gateway.parse_notification(b"\xff\xfe", {}, {})


def test_ack_bodies(gateway: AlipayGateway) -> None:
    assert gateway.ack(True).body == b"success"
    assert gateway.ack(False).body == b"failure"
    assert gateway.ack(True).content_type.startswith("text/plain")
    assert gateway.ack(True).status == 200


def test_resent_until_success_on_alipays_schedule(bench: Bench, gateway: AlipayGateway) -> None:
    bench.merchant.script.extend(["failure", "failure"])
    opened(bench, gateway, "ZH2026112300020")
    bench.sandbox.pay("ZH2026112300020")
    for minute in range(1, 26 * 60):
        bench.clock.set(bench.clock.start + minute * MINUTE)
        bench.sandbox.deliver_due_notifications()
    assert bench.merchant.delivered_at() == [0, 4 * MINUTE, 14 * MINUTE]
    assert [r["answer"] for r in bench.merchant.received] == ["failure", "failure", "success"]
    assert bench.merchant.received[2]["result"].state is TradeState.PAID
    [notification] = bench.sandbox.notifications("ZH2026112300020")
    assert notification["delivered"] and notification["next_due"] is None
    # Every try carries the same signed form (same notify_id).
    assert len({r["form"]["notify_id"] for r in bench.merchant.received}) == 1


def test_an_answer_other_than_exactly_success_is_a_failure(
    bench: Bench, gateway: AlipayGateway
) -> None:
    bench.merchant.script.extend(["success\n", "SUCCESS", "ok"])
    paid(bench, gateway, "ZH2026112300021")
    for minute in range(1, 60):
        bench.sandbox.deliver_due_notifications(bench.clock.start + minute * MINUTE)
    assert bench.merchant.delivered_at() == [0, 0, 0, 0]  # the receiver's clock did not move
    assert [r["answer"] for r in bench.merchant.received] == [
        "success\n",
        "SUCCESS",
        "ok",
        "success",
    ]


def test_alipay_gives_up_after_eight_tries(bench: Bench, gateway: AlipayGateway) -> None:
    bench.merchant.script.extend(["failure"] * 20)
    paid(bench, gateway, "ZH2026112300022")
    for minute in range(1, 50 * 60):
        bench.clock.set(bench.clock.start + minute * MINUTE)
        bench.sandbox.deliver_due_notifications()
    assert bench.merchant.delivered_at() == [
        0,
        4 * MINUTE,
        14 * MINUTE,
        24 * MINUTE,
        84 * MINUTE,
        204 * MINUTE,
        564 * MINUTE,
        1464 * MINUTE,
    ]
    [notification] = bench.sandbox.notifications("ZH2026112300022")
    assert not notification["delivered"] and notification["next_due"] is None


# --- magic amounts -----------------------------------------------------------------------


def test_an_amount_ending_in_99_fen_is_declined(bench: Bench, gateway: AlipayGateway) -> None:
    page = opened(bench, gateway, "ZH2026112300030", 8099)
    back = press(bench, page, "pay")
    again = requests.get(bench.url + back.headers["Location"], timeout=5)
    assert "支付失败" in again.text
    assert gateway.query("ZH2026112300030").state is TradeState.NOT_PAID
    with pytest.raises(AlipayControlError) as declined:
        bench.sandbox.pay("ZH2026112300030")
    assert declined.value.status == 402
    bench.sandbox.deliver_due_notifications(bench.clock.start + HOUR)
    assert bench.merchant.received == []
    assert bench.sandbox.notification_for("ZH2026112300030") is None


def test_an_amount_ending_in_98_fen_is_paid_without_notification(
    bench: Bench, gateway: AlipayGateway
) -> None:
    page = opened(bench, gateway, "ZH2026112300031", 8098)
    back = press(bench, page, "pay")
    assert urlsplit(back.headers["Location"]).path == "/merchant/alipay/return"
    for hour in range(1, 30):
        bench.sandbox.deliver_due_notifications(bench.clock.start + hour * HOUR)
    assert bench.merchant.received == []
    result = gateway.query("ZH2026112300031")
    assert (result.state, result.amount_fen) == (TradeState.PAID, 8098)
    # The withheld notification exists, signed, for a test to replay.
    form = bench.sandbox.notification_for("ZH2026112300031")
    assert form is not None
    assert gateway.parse_notification(b"", {}, form).state is TradeState.PAID


# --- close, expiry -----------------------------------------------------------------------


def test_close(bench: Bench, gateway: AlipayGateway) -> None:
    opened(bench, gateway, "ZH2026112300040")
    gateway.close("ZH2026112300040")
    assert gateway.query("ZH2026112300040").state is TradeState.CLOSED
    gateway.close("ZH2026112300040")  # closing again is fine
    # Notifications caused by API calls go out on the next delivery round, never
    # inside the call (the platform may hold a database transaction during it).
    assert bench.merchant.received == []
    bench.sandbox.deliver_due_notifications()
    [delivery] = bench.merchant.received
    assert delivery["form"]["trade_status"] == "TRADE_CLOSED"
    assert delivery["result"].state is TradeState.CLOSED
    with pytest.raises(AlipayControlError):
        bench.sandbox.pay("ZH2026112300040")


def test_close_of_an_unopened_or_paid_trade_is_an_error(
    bench: Bench, gateway: AlipayGateway
) -> None:
    create(bench, gateway, "ZH2026112300041")
    with pytest.raises(GatewayError) as unopened:
        gateway.close("ZH2026112300041")
    assert unopened.value.code == "ACQ.TRADE_NOT_EXIST"
    assert not isinstance(unopened.value, GatewayUnavailable)
    paid(bench, gateway, "ZH2026112300042")
    with pytest.raises(GatewayError) as paid_already:
        gateway.close("ZH2026112300042")
    assert paid_already.value.code == "ACQ.TRADE_STATUS_ERROR"
    assert paid_already.value.message == "交易状态不合法"


def test_an_expired_trade_closes(bench: Bench, gateway: AlipayGateway) -> None:
    pay_url = create(bench, gateway, "ZH2026112300043", expires_in=timedelta(minutes=15))
    open_cashier(pay_url)
    bench.clock.step(15 * MINUTE)
    assert gateway.query("ZH2026112300043").state is TradeState.CLOSED
    bench.sandbox.deliver_due_notifications()
    [delivery] = bench.merchant.received
    assert delivery["result"].state is TradeState.CLOSED
    assert "ACQ.TRADE_HAS_CLOSE" in open_cashier(pay_url).text


# --- refunds -----------------------------------------------------------------------------


def refund(
    gateway: AlipayGateway, out_refund_no: str, refund_fen: int, total_fen: int = 10000
) -> Any:
    return gateway.refund(
        out_trade_no="ZH2026112300050",
        out_refund_no=out_refund_no,
        total_fen=total_fen,
        refund_fen=refund_fen,
        reason="部分业务不予受理",
        notify_url="http://127.0.0.1:9/unused",
    )


def test_refunds_partial_idempotent_over_and_full(bench: Bench, gateway: AlipayGateway) -> None:
    paid(bench, gateway, "ZH2026112300050", 10000)
    first = refund(gateway, "R1", 3000)
    bench.sandbox.deliver_due_notifications()
    assert (first.out_refund_no, first.amount_fen, first.state) == ("R1", 3000, "success")
    assert first.raw["fund_change"] == "Y" and first.raw["refund_fee"] == "30.00"

    again = refund(gateway, "R1", 3000)  # the same request: refunded once
    assert again.amount_fen == 3000
    assert again.raw["fund_change"] == "N" and again.raw["refund_fee"] == "30.00"
    # A partly refunded trade is still TRADE_SUCCESS at Alipay.
    assert gateway.query("ZH2026112300050").state is TradeState.PAID

    with pytest.raises(GatewayError) as over:
        refund(gateway, "R2", 7001)
    assert over.value.code == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    assert over.value.message == "退款金额超限"

    with pytest.raises(GatewayError) as reused:
        refund(gateway, "R1", 2000)  # the same out_request_no for another amount
    assert reused.value.code == "REFUND_MISMATCH"

    rest = refund(gateway, "R2", 7000)
    bench.sandbox.deliver_due_notifications()
    assert rest.raw["refund_fee"] == "100.00"
    assert gateway.query("ZH2026112300050").state is TradeState.REFUNDED

    notified = [
        (r["form"]["trade_status"], r["form"].get("refund_fee"), r["result"].state)
        for r in bench.merchant.received
    ]
    assert notified == [
        ("TRADE_SUCCESS", None, TradeState.PAID),
        ("TRADE_SUCCESS", "30.00", TradeState.REFUNDED),
        ("TRADE_CLOSED", "100.00", TradeState.REFUNDED),
    ]
    with pytest.raises(GatewayError) as closed:
        refund(gateway, "R3", 1)
    assert closed.value.code == "ACQ.TRADE_HAS_CLOSE"


def test_refund_of_an_unpaid_or_unknown_trade(bench: Bench, gateway: AlipayGateway) -> None:
    with pytest.raises(GatewayError) as unknown:
        refund(gateway, "R1", 100)
    assert unknown.value.code == "ACQ.TRADE_NOT_EXIST"
    opened(bench, gateway, "ZH2026112300050", 10000)
    with pytest.raises(GatewayError) as unpaid:
        refund(gateway, "R1", 100)
    assert unpaid.value.code == "ACQ.TRADE_STATUS_ERROR"
    with pytest.raises(GatewayError, match="INVALID_PARAMETER"):
        refund(gateway, "R1", 10001)
    with pytest.raises(GatewayError, match="INVALID_PARAMETER"):
        refund(gateway, "R-1", 100)


def test_after_the_refund_period_the_trade_is_finished(
    bench: Bench, gateway: AlipayGateway
) -> None:
    paid(bench, gateway, "ZH2026112300050", 10000)
    bench.sandbox.finish("ZH2026112300050")
    bench.sandbox.deliver_due_notifications()
    assert gateway.query("ZH2026112300050").state is TradeState.PAID
    assert bench.merchant.received[-1]["form"]["trade_status"] == "TRADE_FINISHED"
    assert bench.merchant.received[-1]["result"].state is TradeState.PAID
    with pytest.raises(GatewayError) as finished:
        refund(gateway, "R1", 100)
    assert finished.value.code == "ACQ.TRADE_HAS_FINISHED"


# --- the daily bill ----------------------------------------------------------------------


def test_statement_lines_of_a_beijing_day(bench: Bench, gateway: AlipayGateway) -> None:
    day = date(2026, 11, 23)
    paid(bench, gateway, "BILLA", 10000)  # 10:13:20 in Beijing
    bench.clock.step(HOUR)
    paid(bench, gateway, "BILLB", 5050)
    refund_a = gateway.refund(
        out_trade_no="BILLA",
        out_refund_no="BILLA_R1",
        total_fen=10000,
        refund_fen=2500,
        reason="",
        notify_url=bench.notify_url,
    )
    assert refund_a.amount_fen == 2500
    bench.clock.set(datetime(2026, 11, 23, 23, 59, 30, tzinfo=alipay_module.SHANGHAI).timestamp())
    paid(bench, gateway, "BILLC", 1)
    bench.clock.step(MINUTE)  # 00:00:30 the next day in Beijing, still the 23rd in UTC
    paid(bench, gateway, "BILLD", 700)

    with pytest.raises(GatewayError) as not_yet:
        gateway.statement(day + timedelta(days=1))  # today's bill does not exist yet
    assert not_yet.value.code == "isp.bill_not_exist"

    lines = gateway.statement(day)
    summary = [
        (line.out_trade_no, line.kind, line.amount_fen, line.out_refund_no) for line in lines
    ]
    assert summary == [
        ("BILLA", "payment", 10000, None),
        ("BILLA", "refund", 2500, "BILLA_R1"),
        ("BILLB", "payment", 5050, None),
        ("BILLC", "payment", 1, None),
    ]
    trade_nos = {trade["out_trade_no"]: trade["trade_no"] for trade in bench.sandbox.trades()}
    assert all(line.transaction_id == trade_nos[line.out_trade_no] for line in lines)
    assert lines[0].at == datetime(2026, 11, 23, 2, 13, 20, tzinfo=UTC)
    assert lines[3].at == datetime(2026, 11, 23, 15, 59, 30, tzinfo=UTC)

    bench.clock.step(24 * HOUR)
    [next_day] = gateway.statement(day + timedelta(days=1))
    assert (next_day.out_trade_no, next_day.amount_fen) == ("BILLD", 700)
    assert gateway.statement(day - timedelta(days=1)) == []


# --- the port patch ----------------------------------------------------------------------


def test_the_sdk_port_patch_is_in_place_and_idempotent(bench: Bench) -> None:
    bench.gateway()
    patch_sdk_port()
    patch_sdk_port()
    assert sdk_port_patched()
    assert WebUtils.get_http_connection is alipay_module._get_http_connection

    url, connection = WebUtils.get_http_connection("http://127.0.0.1:8123/gateway.do", "a=b", 3)
    assert (connection.host, connection.port, connection.timeout) == ("127.0.0.1", 8123, 3)
    assert url == "http://127.0.0.1:8123/gateway.do?a=b"
    connection.close()
    url, connection = WebUtils.get_http_connection("https://openapi.alipay.com/gateway.do", "a", 5)
    assert type(connection).__name__ == "HTTPSConnection" and connection.port == 443
    assert url == "https://openapi.alipay.com/gateway.do?a"
    connection.close()


def test_the_unpatched_sdk_ignores_the_port() -> None:
    """Why the patch exists. If this fails, the SDK was fixed: drop the patch."""
    spec = importlib.util.spec_from_file_location("alipay_webutils_original", WebUtils.__file__)
    assert spec is not None and spec.loader is not None
    original = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(original)
    with pytest.raises(TypeError):  # its attempt to keep the port: str + int
        original.get_http_connection("http://127.0.0.1:8123/gateway.do", "a=b", 3)
    _, connection = original.get_http_connection("http://127.0.0.1/gateway.do", "a=b", 3)
    assert connection.port == 80
    connection.close()


def test_the_sdk_talks_to_the_port_given(bench: Bench, gateway: AlipayGateway) -> None:
    assert bench.port not in (80, 443)
    paid(bench, gateway, "ZH2026112300060")
    assert gateway.query("ZH2026112300060").state is TradeState.PAID


# --- errors ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_network_errors_are_unavailable(bench: Bench) -> None:
    closed = bench.gateway(server_url=f"http://127.0.0.1:{free_port()}/gateway.do")
    with pytest.raises(GatewayUnavailable, match="NETWORK_ERROR"):
        closed.query("ZH2026112300070")
    broken = bench.gateway(server_url=bench.url + "/broken/gateway.do")
    with pytest.raises(GatewayUnavailable, match="HTTP_ERROR"):
        broken.query("ZH2026112300070")
    garbage = bench.gateway(server_url=bench.url + "/garbage/gateway.do")
    with pytest.raises(GatewayUnavailable, match="BAD_RESPONSE"):
        garbage.query("ZH2026112300070")
    busy = bench.gateway(server_url=bench.url + "/busy/gateway.do")
    with pytest.raises(GatewayUnavailable) as unavailable:
        busy.query("ZH2026112300070")
    assert (unavailable.value.code, unavailable.value.message) == ("isp.unknow-error", "系统繁忙")
    slow = bench.gateway(server_url=bench.url + "/slow/gateway.do", timeout=0.3)
    with pytest.raises(GatewayUnavailable, match="NETWORK_ERROR"):
        slow.refund(
            out_trade_no="ZH2026112300070",
            out_refund_no="R1",
            total_fen=100,
            refund_fen=100,
            reason="",
            notify_url=bench.notify_url,
        )


def test_an_answer_signed_by_another_key_is_refused(bench: Bench) -> None:
    gateway = bench.gateway(alipay_public_key=bench.keys.app_public)
    with pytest.raises(GatewayError) as refused:
        gateway.query("ZH2026112300071")
    assert refused.value.code == "INVALID_RESPONSE_SIGNATURE"
    assert not isinstance(refused.value, GatewayUnavailable)


def test_requests_signed_by_another_key_or_app_are_refused(bench: Bench) -> None:
    wrong_key = bench.gateway(app_private_key=bench.keys.alipay_private)
    with pytest.raises(GatewayError) as bad_signature:
        wrong_key.query("ZH2026112300072")
    assert bad_signature.value.code == "isv.invalid-signature"
    wrong_app = bench.gateway(app_id="2021000000000999")
    with pytest.raises(GatewayError) as bad_app:
        wrong_app.query("ZH2026112300072")
    assert bad_app.value.code == "isv.invalid-app-id"


def test_keys_as_alipay_tools_export_them(bench: Bench) -> None:
    """PKCS#8 app key and a bare base64 Alipay public key (as the console shows it)."""
    key = serialization.load_pem_private_key(bench.keys.app_private.encode(), password=None)
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    bare_public = "".join(bench.keys.alipay_public.strip().splitlines()[1:-1])
    gateway = bench.gateway(
        app_private_key=base64.b64encode(pkcs8).decode(), alipay_public_key=bare_public
    )
    assert gateway.query("ZH2026112300073").state is TradeState.UNKNOWN
    with pytest.raises(ValueError):
        bench.gateway(app_private_key="not a key")
    with pytest.raises(ValueError):
        bench.gateway(server_url="openapi.alipay.com/gateway.do")


def test_create_payment_checks_its_arguments(bench: Bench, gateway: AlipayGateway) -> None:
    arguments: dict[str, Any] = {
        "out_trade_no": "ZH2026112300074",
        "amount_fen": 100,
        "description": "登记费",
        "expires_at": now(bench) + timedelta(hours=1),
        "payer_openid": None,
        "notify_url": bench.notify_url,
        "return_url": None,
    }
    created = gateway.create_payment(**arguments)
    assert "return_url" not in dict(parse_qsl(urlsplit(created.pay_url or "").query))
    for bad in (
        {"out_trade_no": "ZH-1"},
        {"amount_fen": 0},
        {"amount_fen": 1.5},
        {"expires_at": datetime(2026, 11, 23, 12, 0)},
    ):
        with pytest.raises(GatewayError, match="INVALID_PARAMETER"):
            gateway.create_payment(**{**arguments, **bad})
