"""The Alipay sandbox itself: the gateway's common-parameter checks and answer layout,
the cashier's checks, the bill file, the control API, the dev page and the delivery
thread."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import requests
from alipay.aop.api.util.SignatureUtils import verify_with_rsa

from sandbox.alipay import (
    BILL_COLUMNS,
    AlipayControlError,
    AlipaySandbox,
    load_private_key,
    rsa2_sign,
    sign_content,
)
from tests.payments.alipay_fixtures import APP_ID, SELLER_ID, Bench, start_bench


@pytest.fixture(scope="module")
def bench_server() -> Iterator[Bench]:
    bench = start_bench()
    yield bench
    bench.stop()


@pytest.fixture
def bench(bench_server: Bench) -> Bench:
    bench_server.reset()
    return bench_server


def signed(bench: Bench, method: str, biz: dict[str, Any], **common: str) -> dict[str, str]:
    """A request as the SDK builds it, signed with the app's key."""
    params = {
        "app_id": APP_ID,
        "method": method,
        "charset": "utf-8",
        "format": "json",
        "sign_type": "RSA2",
        "timestamp": "2026-11-23 10:13:20",
        "version": "1.0",
        "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
        **common,
    }
    params["sign"] = rsa2_sign(load_private_key(bench.keys.app_private), sign_content(params))
    return params


def call(bench: Bench, params: dict[str, str]) -> tuple[str, dict[str, Any], str]:
    """POST to the gateway; (response key, response object, raw text)."""
    answer = requests.post(bench.url + "/gateway.do", data=params, timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    body = json.loads(answer.text)
    [key] = [k for k in body if k != "sign"]
    return key, body[key], answer.text


def wap_biz(out_trade_no: str, amount: str = "12.34", **changes: Any) -> dict[str, Any]:
    return {
        "out_trade_no": out_trade_no,
        "total_amount": amount,
        "subject": "登记费",
        "product_code": "QUICK_WAP_WAY",
        **changes,
    }


def open_trade(bench: Bench, out_trade_no: str, amount: str = "12.34") -> requests.Response:
    params = signed(
        bench, "alipay.trade.wap.pay", wap_biz(out_trade_no, amount), notify_url=bench.notify_url
    )
    return requests.get(bench.url + "/gateway.do?" + urlencode(params), timeout=5)


def test_answers_are_signed_over_the_exact_response_text(bench: Bench) -> None:
    key, answer, text = call(bench, signed(bench, "alipay.trade.query", {"out_trade_no": "X1"}))
    assert key == "alipay_trade_query_response"
    assert answer == {
        "code": "40004",
        "msg": "Business Failed",
        "sub_code": "ACQ.TRADE_NOT_EXIST",
        "sub_msg": "交易不存在",
    }
    match = re.fullmatch(r'\{"alipay_trade_query_response":(\{.*\}),"sign":"([^"]+)"\}', text)
    assert match
    assert verify_with_rsa(bench.keys.alipay_public, match.group(1).encode(), match.group(2))


@pytest.mark.parametrize(
    ("change", "code", "sub_code"),
    [
        ({"method": ""}, "40001", "isv.missing-method"),
        ({"method": "alipay.trade.pay"}, "40002", "isv.invalid-method"),
        ({"app_id": "2021000000000999"}, "40002", "isv.invalid-app-id"),
        ({"sign_type": "RSA"}, "40002", "isv.invalid-signature-type"),
        ({"sign": ""}, "40001", "isv.missing-signature"),
        ({"timestamp": "2026/11/23 10:13"}, "40002", "isv.invalid-timestamp"),
        ({"biz_content": '{"out_trade_no":"X2"}'}, "40002", "isv.invalid-signature"),
    ],
)
def test_common_parameters_and_signature_are_checked(
    bench: Bench, change: dict[str, str], code: str, sub_code: str
) -> None:
    params = {**signed(bench, "alipay.trade.query", {"out_trade_no": "X1"}), **change}
    key, answer, _ = call(bench, params)
    assert (answer["code"], answer["sub_code"]) == (code, sub_code)
    if change.get("method") != "alipay.trade.query" and "method" in change:
        assert key == "error_response"


def test_business_parameters_are_checked(bench: Bench) -> None:
    _, answer, _ = call(bench, signed(bench, "alipay.trade.query", {}))
    assert answer["sub_code"] == "ACQ.INVALID_PARAMETER"
    open_trade(bench, "X3", "10.00")
    bench.sandbox.pay("X3")
    for amount in ("0", "-1.00", "1.234", "abc"):
        _, answer, _ = call(
            bench,
            signed(
                bench,
                "alipay.trade.refund",
                {"out_trade_no": "X3", "refund_amount": amount, "out_request_no": "R1"},
            ),
        )
        assert answer["sub_code"] == "ACQ.INVALID_PARAMETER", amount


@pytest.mark.parametrize(
    ("biz", "sub_code"),
    [
        (wap_biz("bad-no"), "ACQ.INVALID_PARAMETER"),
        (wap_biz("W1", "1.234"), "ACQ.INVALID_PARAMETER"),
        (wap_biz("W1", "0.00"), "ACQ.INVALID_PARAMETER"),
        (wap_biz("W1", "100000000.01"), "ACQ.INVALID_PARAMETER"),
        (wap_biz("W1", subject=""), "ACQ.INVALID_PARAMETER"),
        (wap_biz("W1", product_code="FAST_INSTANT_TRADE_PAY"), "ACQ.INVALID_PARAMETER"),
        (wap_biz("W1", seller_id="2088999999999999"), "ACQ.SELLER_NOT_EXIST"),
        (wap_biz("W1", time_expire="2026-11-23 10:00:00"), "ACQ.TRADE_HAS_CLOSE"),
        (wap_biz("W1", time_expire="tomorrow"), "ACQ.INVALID_PARAMETER"),
    ],
)
def test_the_cashier_refuses_bad_payments(bench: Bench, biz: dict[str, Any], sub_code: str) -> None:
    params = signed(bench, "alipay.trade.wap.pay", biz)
    page = requests.get(bench.url + "/gateway.do?" + urlencode(params), timeout=5)
    assert page.status_code == 200
    assert "支付请求错误" in page.text and sub_code in page.text
    assert bench.sandbox.trades() == []


def test_a_paid_trade_cannot_be_paid_again(bench: Bench) -> None:
    open_trade(bench, "W2")
    bench.sandbox.pay("W2")
    assert "ACQ.TRADE_HAS_SUCCESS" in open_trade(bench, "W2").text
    with pytest.raises(AlipayControlError) as again:
        bench.sandbox.pay("W2")
    assert again.value.status == 409
    with pytest.raises(AlipayControlError) as unknown:
        bench.sandbox.pay("NEVER_OPENED")
    assert unknown.value.status == 404


def test_the_bill_is_a_zip_of_gbk_csvs_behind_a_30_second_url(bench: Bench) -> None:
    open_trade(bench, "B1", "20.00")
    bench.sandbox.pay("B1")
    call(
        bench,
        signed(
            bench,
            "alipay.trade.refund",
            {"out_trade_no": "B1", "refund_amount": "5.00", "out_request_no": "B1R"},
        ),
    )
    bench.clock.step(86400)
    _, answer, _ = call(
        bench,
        signed(
            bench,
            "alipay.data.dataservice.bill.downloadurl.query",
            {"bill_type": "trade", "bill_date": "2026-11-23"},
        ),
    )
    url = answer["bill_download_url"]
    download = requests.get(url, timeout=5)
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        names = archive.namelist()
        assert names == [
            f"{SELLER_ID}_20261123_业务明细.csv",
            f"{SELLER_ID}_20261123_业务明细(汇总).csv",
        ]
        detail = archive.read(names[0]).decode("gbk")
    lines = detail.splitlines()
    assert lines[0] == "#支付宝业务明细查询"
    assert lines[1] == f"#账号：[{SELLER_ID}]"
    rows = list(csv.reader(line for line in lines if not line.startswith("#")))
    assert tuple(rows[0]) == BILL_COLUMNS
    payment, refund = (dict(zip(rows[0], row, strict=True)) for row in rows[1:])
    assert payment["商户订单号"] == "B1\t" and payment["业务类型"] == "交易"
    assert payment["订单金额（元）"] == "20.00" and payment["商家实收（元）"] == "20.00"
    assert refund["业务类型"] == "退款" and refund["商家实收（元）"] == "-5.00"
    assert refund["退款批次号/请求号"] == "B1R\t"
    assert "#交易合计：1笔，商家实收：20.00元，商家优惠：0.00元" in lines
    assert "#退款合计：1笔，商家实收：-5.00元，商家优惠：0.00元" in lines

    bench.clock.step(31)
    assert requests.get(url, timeout=5).status_code == 404
    _, answer, _ = call(
        bench,
        signed(
            bench,
            "alipay.data.dataservice.bill.downloadurl.query",
            {"bill_type": "trade", "bill_date": "2026-11"},
        ),
    )
    assert answer["sub_code"] == "ACQ.INVALID_PARAMETER"


def test_control_api(bench: Bench) -> None:
    key = requests.get(bench.url + "/_sandbox/alipay/public-key", timeout=5).json()
    assert key == {
        "app_id": APP_ID,
        "seller_id": SELLER_ID,
        "alipay_public_key": bench.sandbox.alipay_public_key,
    }
    assert bench.sandbox.alipay_public_key.strip() == bench.keys.alipay_public.strip()

    open_trade(bench, "C1", "30.00")
    [trade] = requests.get(bench.url + "/_sandbox/alipay/trades", timeout=5).json()
    assert (trade["out_trade_no"], trade["trade_status"], trade["total_fen"]) == (
        "C1",
        "WAIT_BUYER_PAY",
        3000,
    )
    assert trade["cashier_path"].startswith("/alipay/cashier/")

    bench.merchant.script.append("failure")
    paid = requests.post(bench.url + "/_sandbox/alipay/trades/C1/pay", timeout=5)
    assert paid.status_code == 200 and paid.json()["trade_status"] == "TRADE_SUCCESS"
    assert paid.json()["paid_at"] == datetime.fromtimestamp(bench.clock(), UTC).isoformat()
    again = requests.post(bench.url + "/_sandbox/alipay/trades/C1/pay", timeout=5)
    assert again.status_code == 409 and "error" in again.json()

    [notification] = requests.get(
        bench.url + "/_sandbox/alipay/notifications?out_trade_no=C1", timeout=5
    ).json()
    assert notification["attempts"][0]["body"] == "failure"
    assert notification["next_due"] == bench.clock() + 240
    bench.clock.step(240)
    [attempt] = requests.post(
        bench.url + "/_sandbox/alipay/notifications/deliver", timeout=5
    ).json()
    assert attempt["success"] and attempt["out_trade_no"] == "C1"

    finished = requests.post(bench.url + "/_sandbox/alipay/trades/C1/finish", timeout=5)
    assert finished.json()["trade_status"] == "TRADE_FINISHED"

    assert requests.post(bench.url + "/_sandbox/alipay/reset", timeout=5).json() == {"status": "ok"}
    assert requests.get(bench.url + "/_sandbox/alipay/trades", timeout=5).json() == []


def test_dev_page_and_cashier_are_in_chinese(bench: Bench) -> None:
    page = open_trade(bench, "D1", "8.99")
    assert "支付宝" in page.text and "¥ 8.99" in page.text
    dev = requests.get(bench.url + "/alipay/", timeout=5)
    assert dev.status_code == 200
    assert "开发沙箱 · 支付宝" in dev.text and "D1" in dev.text
    declined = requests.post(
        bench.url + "/_sandbox/alipay/trades/D1/pay", data={"from_page": "1"}, timeout=5
    )
    assert "支付失败" in declined.text
    unknown = requests.get(bench.url + "/alipay/cashier/nope", timeout=5)
    assert unknown.status_code == 404 and "收银台已失效" in unknown.text


def test_the_delivery_thread_delivers_due_notifications(bench: Bench) -> None:
    open_trade(bench, "T1")
    bench.sandbox.pay("T1", deliver=False)
    assert bench.merchant.received == []
    bench.sandbox.start_delivery_thread(interval=0.02)
    bench.sandbox.start_delivery_thread(interval=0.02)  # once is enough
    try:
        deadline = time.monotonic() + 5
        while not bench.merchant.received and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        bench.sandbox.stop_delivery_thread()
    [delivery] = bench.merchant.received
    assert delivery["answer"] == "success"


def test_keys_are_generated_at_first_use_when_not_given(bench: Bench) -> None:
    sandbox = AlipaySandbox(APP_ID, bench.keys.app_public)
    assert sandbox.alipay_public_key.startswith("-----BEGIN PUBLIC KEY-----")
    assert sandbox.alipay_public_key != bench.sandbox.alipay_public_key
    assert re.fullmatch(r"2088\d{12}", sandbox.seller_id)
    settings = {"ALIPAY_APP_ID": APP_ID, "ALIPAY_APP_PUBLIC_KEY": bench.keys.app_public}
    assert AlipaySandbox.from_settings(settings).app_id == APP_ID


def test_unpaid_expired_trades_close_on_the_sandbox_clock(bench: Bench) -> None:
    expire = datetime.fromtimestamp(bench.clock(), UTC) + timedelta(minutes=5)
    beijing = expire.astimezone(ZoneInfo("Asia/Shanghai"))
    params = signed(
        bench,
        "alipay.trade.wap.pay",
        wap_biz("E1", time_expire=beijing.strftime("%Y-%m-%d %H:%M:%S")),
        notify_url=bench.notify_url,
    )
    requests.get(bench.url + "/gateway.do?" + urlencode(params), timeout=5)
    bench.clock.step(299)
    waiting = bench.sandbox.trade("E1")
    assert waiting is not None and waiting["trade_status"] == "WAIT_BUYER_PAY"
    bench.clock.step(1)
    trade = bench.sandbox.trade("E1")
    assert trade is not None and trade["trade_status"] == "TRADE_CLOSED"
    assert trade["closed_at"] == expire
    with pytest.raises(AlipayControlError):
        bench.sandbox.pay("E1")
