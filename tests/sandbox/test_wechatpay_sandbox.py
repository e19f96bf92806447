"""The sandbox's WeChat Pay v2 on the wire (XML, signatures, errors) and its pay page."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
import requests

from payments.gateways.wechat import WeChatPayGateway
from sandbox.testing import RunningSandbox, sandbox_settings, start_sandbox
from sandbox.wechatpay import WeChatPaySandbox, parse_xml, sign, to_xml
from tests.payments.conftest import SteppedClock, create, new_out_trade_no


def test_signatures_match_wechat_s_documented_example() -> None:
    # WeChat Pay v2's signature documentation (签名生成的通用步骤): these fields and key.
    params = {
        "appid": "wxd930ea5d5a258f4f",
        "mch_id": "10000100",
        "device_info": "1000",
        "body": "test",
        "nonce_str": "ibuaiVcKdpRxkhJA",
    }
    key = "192006250b4c09247ec02edce69f6a2d"
    assert sign(params, key) == "9A0A8659F005D6984697E2CA0A9CF3B7"
    assert sign(params, key, "HMAC-SHA256") == (
        "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
    )
    assert sign({**params, "empty": "", "sign": "X"}, key) == "9A0A8659F005D6984697E2CA0A9CF3B7"


def _post(
    running: RunningSandbox,
    path: str,
    fields: dict[str, Any],
    *,
    key: str | None = None,
    sign_type: str = "MD5",
) -> dict[str, str]:
    settings = running.settings
    body = {
        "appid": settings["WECHAT_APPID"],
        "mch_id": settings["WECHATPAY_MCH_ID"],
        "nonce_str": secrets.token_hex(8),
        **fields,
    }
    if sign_type != "MD5":
        body["sign_type"] = sign_type
    body["sign"] = sign(body, key or settings["WECHATPAY_API_KEY"], sign_type)
    answer = requests.post(running.url + path, data=to_xml(body), timeout=5)
    assert answer.status_code == 200
    return parse_xml(answer.content)


def _order_fields(payer: str, **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "body": "登记费",
        "out_trade_no": new_out_trade_no(),
        "total_fee": 8000,
        "spbill_create_ip": "127.0.0.1",
        "notify_url": "https://bdc.example.cn/api/payments/wechat/notify",
        "trade_type": "JSAPI",
        "openid": payer,
    }
    fields.update(changes)
    return {key: value for key, value in fields.items() if value is not None}


def _assert_signed(running: RunningSandbox, answer: dict[str, str], sign_type: str = "MD5") -> None:
    assert answer["sign"] == sign(answer, running.settings["WECHATPAY_API_KEY"], sign_type)


def test_a_unified_order_answer_is_signed(wx_sandbox: RunningSandbox, wx_openid: str) -> None:
    for sign_type in ("MD5", "HMAC-SHA256"):
        answer = _post(
            wx_sandbox, "/pay/unifiedorder", _order_fields(wx_openid), sign_type=sign_type
        )
        assert (answer["return_code"], answer["result_code"]) == ("SUCCESS", "SUCCESS")
        assert answer["trade_type"] == "JSAPI"
        assert re.fullmatch(r"wx\d{14}[0-9a-f]{20}", answer["prepay_id"])
        _assert_signed(wx_sandbox, answer, sign_type)


@pytest.mark.parametrize(
    ("changes", "err_code", "err_code_des"),
    [
        ({"body": None}, "LACK_PARAMS", "缺少参数body"),
        ({"openid": None}, "PARAM_ERROR", "trade_type=JSAPI时（即JSAPI支付），必须传openid"),
        ({"trade_type": "NATIVE"}, "PARAM_ERROR", "沙箱只支持trade_type=JSAPI"),
        ({"total_fee": "0"}, "PARAM_ERROR", "total_fee必须为大于0的整数（单位：分）"),
        ({"total_fee": "80.00"}, "PARAM_ERROR", "total_fee必须为大于0的整数（单位：分）"),
        ({"out_trade_no": "has space"}, "PARAM_ERROR", "out_trade_no参数格式错误"),
        ({"out_trade_no": "x" * 33}, "PARAM_ERROR", "out_trade_no参数格式错误"),
        ({"fee_type": "USD"}, "PARAM_ERROR", "fee_type参数格式错误"),
        ({"notify_url": "https://bdc.example.cn/notify?order=1"}, "PARAM_ERROR", None),
        ({"notify_url": "/notify"}, "PARAM_ERROR", None),
        ({"time_expire": "2026-11-23"}, "PARAM_ERROR", "time_expire参数格式错误"),
    ],
)
def test_unified_order_parameter_errors(
    wx_sandbox: RunningSandbox,
    wx_openid: str,
    changes: dict[str, Any],
    err_code: str,
    err_code_des: str | None,
) -> None:
    answer = _post(wx_sandbox, "/pay/unifiedorder", _order_fields(wx_openid, **changes))
    assert (answer["return_code"], answer["result_code"]) == ("SUCCESS", "FAIL")
    assert answer["err_code"] == err_code
    if err_code_des:
        assert answer["err_code_des"] == err_code_des
    _assert_signed(wx_sandbox, answer)


def test_requests_wechat_refuses_before_any_business_rule(
    wx_sandbox: RunningSandbox, wx_openid: str
) -> None:
    url = wx_sandbox.url + "/pay/unifiedorder"

    def fail_message(answer: requests.Response) -> str:
        fields = parse_xml(answer.content)
        assert fields["return_code"] == "FAIL" and "sign" not in fields
        return fields["return_msg"]

    assert fail_message(requests.get(url, timeout=5)) == "请使用post方法"
    assert fail_message(requests.post(url, data=b"<xml><a>", timeout=5)) == "XML格式错误"
    dtd = b'<!DOCTYPE xml [<!ENTITY e "x">]><xml><a>&e;</a></xml>'
    assert fail_message(requests.post(url, data=dtd, timeout=5)) == "XML格式错误"
    fields = _order_fields(wx_openid)
    assert _post(wx_sandbox, "/pay/unifiedorder", fields, key="0" * 32)["return_msg"] == "签名错误"
    assert _post(wx_sandbox, "/pay/unifiedorder", {**fields, "mch_id": "1"})["return_msg"] == (
        "商户号mch_id或sub_mch_id不存在"
    )
    assert _post(wx_sandbox, "/pay/unifiedorder", {**fields, "appid": "wx1"})["return_msg"] == (
        "appid和mch_id不匹配"
    )
    unknown_type = {
        **fields,
        "appid": wx_sandbox.settings["WECHAT_APPID"],
        "mch_id": wx_sandbox.settings["WECHATPAY_MCH_ID"],
        "nonce_str": "n1",
        "sign_type": "SHA1",
        "sign": "0" * 40,
    }
    answer = requests.post(url, data=to_xml(unknown_type), timeout=5)
    assert fail_message(answer) == "sign_type参数格式错误"


def test_a_sandbox_without_merchant_settings_refuses_to_start() -> None:
    import pytest

    from sandbox.settings import SandboxSettingsError

    with pytest.raises(SandboxSettingsError, match="WECHATPAY_MCH_ID"):
        start_sandbox(sandbox_settings(WECHATPAY_MCH_ID=""))


def test_orderquery_by_transaction_id_and_refundquery_by_order(
    wx_sandbox: RunningSandbox,
    wx_gateway: WeChatPayGateway,
    wechatpay: WeChatPaySandbox,
    wx_clock: SteppedClock,
    wx_openid: str,
) -> None:
    out_trade_no, _ = create(wx_gateway, wx_clock, wx_openid, "http://127.0.0.1:9/n")
    paid = wechatpay.pay(out_trade_no)
    for number, amount in (("RA", 1000), ("RB", 2000)):
        wx_gateway.refund(
            out_trade_no=out_trade_no,
            out_refund_no=number + out_trade_no,
            total_fen=8000,
            refund_fen=amount,
            reason="",
            notify_url="",
        )

    by_transaction = _post(
        wx_sandbox, "/pay/orderquery", {"transaction_id": paid["transaction_id"]}
    )
    refunds = _post(wx_sandbox, "/pay/refundquery", {"out_trade_no": out_trade_no})
    missing = _post(wx_sandbox, "/pay/orderquery", {})

    assert by_transaction["out_trade_no"] == out_trade_no
    assert by_transaction["trade_state"] == "REFUND"
    assert refunds["refund_count"] == "2"
    assert (refunds["refund_fee_0"], refunds["refund_fee_1"]) == ("1000", "2000")
    assert refunds["refund_status_0"] == "SUCCESS" and refunds["refund_success_time_1"]
    assert missing["err_code"] == "LACK_PARAMS"


def test_the_pay_page_shows_the_order_in_chinese_and_pays(
    wx_sandbox: RunningSandbox,
    wx_gateway: WeChatPayGateway,
    wechatpay: WeChatPaySandbox,
    wx_clock: SteppedClock,
    wx_openid: str,
) -> None:
    out_trade_no, created = create(
        wx_gateway,
        wx_clock,
        wx_openid,
        "http://127.0.0.1:9/n",
        description="珠海市不动产登记中心-登记费",
    )
    page_url = f"{wx_sandbox.url}/_sandbox/wechatpay/pay/{created.gateway_order_id}"

    page = requests.get(page_url, timeout=5)
    assert page.status_code == 200
    for text in (
        "¥80.00",
        "珠海市不动产登记中心-登记费",
        out_trade_no,
        "未支付",
        ">支付<",
        ">取消<",
    ):
        assert text in page.text
    checked = requests.get(page_url, params=created.client_params, timeout=5)
    assert "签名正确" in checked.text
    forged = requests.get(
        page_url, params={**created.client_params, "paySign": "0" * 32}, timeout=5
    )
    assert "支付验证签名失败" in forged.text

    cancelled = requests.post(page_url, data={"from_page": "1", "action": "cancel"}, timeout=5)
    assert cancelled.status_code == 200 and "已取消支付" in cancelled.text
    paid = requests.post(
        page_url, data={"from_page": "1", "action": "pay", **created.client_params}, timeout=5
    )
    assert paid.status_code == 200 and "支付成功" in paid.text
    assert paid.history and paid.history[0].status_code == 303
    order = wechatpay.order(out_trade_no)
    assert order is not None and order["trade_state"] == "SUCCESS"
    assert ">支付<" not in paid.text


def test_the_pay_page_as_json(
    wx_sandbox: RunningSandbox,
    wx_gateway: WeChatPayGateway,
    wx_clock: SteppedClock,
    wx_openid: str,
) -> None:
    _, declined = create(wx_gateway, wx_clock, wx_openid, "http://127.0.0.1:9/n", amount_fen=99)
    _, created = create(wx_gateway, wx_clock, wx_openid, "http://127.0.0.1:9/n")
    url = f"{wx_sandbox.url}/_sandbox/wechatpay/pay/"

    bad = requests.post(url + str(created.gateway_order_id), json={"action": "x"}, timeout=5)
    forged = requests.post(
        url + str(created.gateway_order_id),
        json={"action": "pay", **created.client_params, "paySign": "0"},
        timeout=5,
    )
    paid = requests.post(
        url + str(created.gateway_order_id),
        json={"action": "pay", **created.client_params},
        timeout=5,
    )
    again = requests.post(url + str(created.gateway_order_id), json={"action": "pay"}, timeout=5)
    unknown = requests.post(url + "wx123", json={"action": "pay"}, timeout=5)
    failed = requests.post(url + str(declined.gateway_order_id), json={"action": "pay"}, timeout=5)

    assert bad.status_code == 400
    assert (forged.status_code, forged.json()) == (400, {"error": "支付验证签名失败"})
    assert paid.status_code == 200 and paid.json()["trade_state"] == "SUCCESS"
    assert paid.json()["transaction_id"]
    assert (again.status_code, again.json()) == (409, {"error": "订单已支付"})
    assert unknown.status_code == 404
    assert failed.json()["trade_state"] == "PAYERROR"
    assert requests.get(url + "wx123", timeout=5).status_code == 404


def test_the_lists_for_people_and_tests(
    wx_sandbox: RunningSandbox,
    wx_gateway: WeChatPayGateway,
    wechatpay: WeChatPaySandbox,
    wx_clock: SteppedClock,
    wx_openid: str,
) -> None:
    out_trade_no, _ = create(wx_gateway, wx_clock, wx_openid, "http://127.0.0.1:9/n")
    wechatpay.pay(out_trade_no)
    wechatpay.deliver_due_notifications()

    index = requests.get(wx_sandbox.url + "/_sandbox/wechatpay/", timeout=5)
    orders = requests.get(wx_sandbox.url + "/_sandbox/wechatpay/orders", timeout=5).json()
    notifications = requests.get(
        wx_sandbox.url + "/_sandbox/wechatpay/notifications",
        params={"out_trade_no": out_trade_no},
        timeout=5,
    ).json()

    assert out_trade_no in index.text and "支付成功" in index.text and "待重发" in index.text
    assert [o["out_trade_no"] for o in orders] == [out_trade_no]
    assert orders[0]["paid_at"].endswith("+00:00")
    (notification,) = notifications
    assert notification["state"] == "pending" and len(notification["attempts"]) == 1

    requests.post(wx_sandbox.url + "/_sandbox/reset", timeout=5)
    assert requests.get(wx_sandbox.url + "/_sandbox/wechatpay/orders", timeout=5).json() == []
