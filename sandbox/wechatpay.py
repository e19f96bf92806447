"""WeChat Pay API v2 (api.mch.weixin.qq.com) for one merchant, and the payer's phone.

The wire protocol is WeChat Pay v2's: ``POST`` an ``<xml>…</xml>`` body whose fields are
signed with the merchant's API key (``sign``: MD5, or HMAC-SHA256 when ``sign_type`` says
so, over the non-empty fields sorted by name as ``k=v&…&key=API_KEY``, upper-case hex).
Answers are XML too: ``return_code`` FAIL with a ``return_msg`` when the request itself
is refused (malformed XML, unknown merchant, wrong signature, appid not bound to the
merchant), otherwise a signed answer whose ``result_code`` is SUCCESS or FAIL with
``err_code`` / ``err_code_des`` (ORDERPAID, ORDERNOTEXIST, PARAM_ERROR, …).

Besides the merchant API, the sandbox plays the payer: a dev page per ``prepay_id``
(``/_sandbox/wechatpay/pay/<prepay_id>``) and :meth:`WeChatPaySandbox.pay` for tests.
Paying sends the signed payment notification to the order's ``notify_url`` and sends it
again on WeChat's schedule until the merchant answers ``return_code`` SUCCESS.

Magic amounts (``total_fee`` in fen): ending in **99** → the payment is declined
(trade_state PAYERROR, no notification); ending in **98** → paid, but the notification is
never sent (only orderquery finds the payment). A refund of an amount ending in **97**
is refused with NOTENOUGH (the merchant's balance is too low); one ending in **96** stays
PROCESSING for a minute (sandbox clock), then succeeds and is notified.

See sandbox/README.md ("WeChat Pay API v2") for every endpoint and error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element  # noqa: S405 - type only; parsing uses defusedxml
from zoneinfo import ZoneInfo

import requests
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import ElementTree as SafeElementTree
from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Settings the stand-in reads besides WECHAT_APPID (the mini-program bound to the merchant).
WECHATPAY_SETTING_KEYS = ("WECHATPAY_MCH_ID", "WECHATPAY_API_KEY")

SIGN_TYPES = ("MD5", "HMAC-SHA256")
# WeChat's resend intervals after a failed notification: 15s/15s/30s/3m/10m/20m/30m/30m/
# 30m/60m/3h/3h/3h/6h/6h (24h4m in all); 16 deliveries at most.
RESEND_SCHEDULE_SECONDS: tuple[int, ...] = (
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
)
DECLINED_CENTS = 99  # total_fee % 100: the payer's payment fails (PAYERROR)
SILENT_CENTS = 98  # total_fee % 100: paid, the notification is never sent
NOTENOUGH_REFUND_CENTS = 97  # refund_fee % 100: NOTENOUGH, the merchant's balance is low
SLOW_REFUND_CENTS = 96  # refund_fee % 100: PROCESSING for a while, then SUCCESS
SLOW_REFUND_SECONDS = 60
PREPAY_ID_TTL_SECONDS = 7200  # a prepay_id can start a payment for 2 hours
MIN_EXPIRE_SECONDS = 300  # time_expire at least 5 minutes ahead (JSAPI)
MAX_PARTIAL_REFUNDS = 50
BILL_READY_HOUR = 10  # day D's bill can be downloaded from D+1 10:00 Beijing time
FEE_RATE = Decimal("0.006")  # the merchant's fee rate printed in bills (0.60%)
NOTIFY_TIMEOUT_SECONDS = 5.0
POLL_SECONDS = 0.2  # how often the delivery thread looks at the (possibly fast) clock

OUT_TRADE_NO = re.compile(r"^[0-9A-Za-z_\-|*@]{1,32}$")
OUT_REFUND_NO = re.compile(r"^[0-9A-Za-z_\-|*@]{1,64}$")
TIME_FORMAT = "%Y%m%d%H%M%S"

TRADE_STATE_DESC = {
    "SUCCESS": "支付成功",
    "REFUND": "转入退款",
    "NOTPAY": "订单未支付",
    "CLOSED": "订单已关闭",
    "PAYERROR": "支付失败，请重新下单支付",
}

BILL_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
    "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
    "费率备注"
)
BILL_SUMMARY_HEADER = (
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
)


class _ReturnFail(Exception):
    """The request is refused before any business check: ``return_code`` FAIL."""

    def __init__(self, return_msg: str, error_code: str | None = None):
        super().__init__(return_msg)
        self.return_msg = return_msg
        self.error_code = error_code


class _BusinessError(Exception):
    """A signed answer with ``result_code`` FAIL."""

    def __init__(self, err_code: str, err_code_des: str):
        super().__init__(err_code, err_code_des)
        self.err_code = err_code
        self.err_code_des = err_code_des


class WeChatPayControlError(Exception):
    """The payer (a test or the dev page) cannot do this; ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# --- the wire format --------------------------------------------------------------------


def sign(params: Mapping[str, Any], api_key: str, sign_type: str = "MD5") -> str:
    """WeChat Pay v2's signature: non-empty fields but ``sign``, sorted, ``k=v`` joined by
    ``&``, then ``&key=API_KEY``; MD5 or HMAC-SHA256 (keyed with the API key), upper hex."""
    text = "&".join(
        f"{key}={params[key]}"
        for key in sorted(params)
        if key != "sign" and params[key] is not None and str(params[key]) != ""
    )
    message = f"{text}&key={api_key}".encode()
    if sign_type == "HMAC-SHA256":
        return hmac.new(api_key.encode(), message, hashlib.sha256).hexdigest().upper()
    if sign_type == "MD5":
        return hashlib.md5(message).hexdigest().upper()  # noqa: S324 - the v2 protocol
    raise ValueError(f"unknown sign_type {sign_type!r}")


def to_xml(fields: Mapping[str, Any]) -> bytes:
    """``<xml>`` with one element per field; digits bare, anything else in CDATA."""
    parts = ["<xml>"]
    for key, value in fields.items():
        text = str(value)
        if text.isdigit():
            parts.append(f"<{key}>{text}</{key}>")
        else:
            text = text.replace("]]>", "]]]]><![CDATA[>")
            parts.append(f"<{key}><![CDATA[{text}]]></{key}>")
    parts.append("</xml>")
    return "".join(parts).encode("utf-8")


def parse_xml(body: bytes) -> dict[str, str]:
    """A flat ``<xml>`` document as a dict; ValueError if it is anything else (DTDs and
    entities are refused)."""
    try:
        root: Element = SafeElementTree.fromstring(body, forbid_dtd=True)
    except Exception as exc:  # defusedxml raises ParseError or its own DTD/entity errors
        raise ValueError(f"not XML: {type(exc).__name__}") from None
    if root.tag != "xml":
        raise ValueError("the root element is not <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if len(child) or child.tag in fields:
            raise ValueError(f"nested or repeated element <{child.tag}>")
        fields[child.tag] = (child.text or "").strip()
    return fields


def encrypt_req_info(plain: bytes, api_key: str) -> str:
    """Refund notifications' ``req_info``: AES-256-ECB with key md5(API key) (lower hex,
    32 ASCII bytes), PKCS#7 padding, base64."""
    key = hashlib.md5(api_key.encode()).hexdigest().encode()  # noqa: S324 - the v2 protocol
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - protocol
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def yuan(fen: int) -> str:
    sign_ = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign_}{fen // 100}.{fen % 100:02d}"


def _fee_fen(amount_fen: int) -> int:
    return int((Decimal(amount_fen) * FEE_RATE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def _nonce() -> str:
    return secrets.token_hex(8)


def wechatpay_settings() -> dict[str, str]:
    """Fresh random merchant credentials (``WECHATPAY_MCH_ID``, ``WECHATPAY_API_KEY``)
    shaped like real ones: a 10-digit merchant number and a 32-character API key."""
    return {"WECHATPAY_MCH_ID": "16" + _digits(8), "WECHATPAY_API_KEY": secrets.token_hex(16)}


# --- what the merchant created ----------------------------------------------------------


@dataclass
class _Order:
    out_trade_no: str
    prepay_id: str
    openid: str
    body: str
    attach: str
    total_fee: int
    notify_url: str
    time_expire: datetime | None
    sign_type: str
    created_at: float
    same_request: tuple[str, ...]
    trade_state: str = "NOTPAY"
    transaction_id: str | None = None
    paid_at: float | None = None
    closed_at: float | None = None
    refunded_fee: int = 0
    refund_count: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Refund:
    out_refund_no: str
    refund_id: str
    out_trade_no: str
    transaction_id: str
    total_fee: int
    refund_fee: int
    refund_desc: str
    refund_account: str
    notify_url: str
    applied_at: float
    status: str = "SUCCESS"
    success_at: float | None = None


@dataclass
class _Delivery:
    kind: str  # "payment" | "refund"
    out_trade_no: str
    out_refund_no: str | None
    url: str
    body: bytes
    due_at: float | None
    state: str = "pending"  # pending | delivered | gave_up
    in_flight: bool = False
    attempts: list[dict[str, Any]] = field(default_factory=list)


class WeChatPaySandbox:
    """One merchant (mch_id, API key) with one bound appid, its orders, refunds and the
    notifications sent to it.

    Deliveries happen in a background thread on the sandbox clock (started with the first
    payment) unless :meth:`set_auto_delivery` turned it off; then tests call
    :meth:`deliver_due_notifications` themselves.
    """

    def __init__(
        self,
        appid: str,
        mch_id: str | None,
        api_key: str | None,
        clock: Callable[[], float],
        lock: threading.RLock,
        *,
        auto_delivery: bool = True,
    ):
        self.appid = appid
        self.mch_id = mch_id or ""
        self.api_key = api_key or ""
        self.clock = clock
        self._lock = lock
        self._orders: dict[str, _Order] = {}
        self._by_prepay_id: dict[str, str] = {}
        self._refunds: dict[str, _Refund] = {}
        self._deliveries: list[_Delivery] = []
        self._generation = 0
        self.notify_timeout = NOTIFY_TIMEOUT_SECONDS
        self.poll_seconds = POLL_SECONDS
        self._auto_delivery = auto_delivery
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], clock: Callable[[], float], lock: threading.RLock
    ) -> WeChatPaySandbox:
        return cls(
            str(settings["WECHAT_APPID"]),
            str(settings.get("WECHATPAY_MCH_ID") or ""),
            str(settings.get("WECHATPAY_API_KEY") or ""),
            clock,
            lock,
        )

    @property
    def configured(self) -> bool:
        return bool(self.mch_id and self.api_key)

    def reset(self) -> None:
        """Forget orders, refunds and notifications (pending ones are not sent)."""
        with self._lock:
            self._orders.clear()
            self._by_prepay_id.clear()
            self._refunds.clear()
            self._deliveries.clear()
            self._generation += 1

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    @staticmethod
    def _beijing(epoch: float) -> datetime:
        return datetime.fromtimestamp(epoch, SHANGHAI)

    # --- the merchant API -------------------------------------------------------------

    def handle(self, endpoint: str, body: bytes) -> tuple[bytes, str]:
        """Answer one merchant API request: (body, content type)."""
        xml_type = "text/xml; charset=utf-8"
        try:
            if not self.configured:
                raise _ReturnFail(
                    "沙箱未配置微信支付商户（WECHATPAY_MCH_ID、WECHATPAY_API_KEY）"
                )
            try:
                params = parse_xml(body)
            except ValueError:
                raise _ReturnFail("XML格式错误") from None
            sign_type = self._check_request(params)
            if endpoint == "downloadbill":
                return self._download_bill(params).encode("utf-8"), "text/plain; charset=utf-8"
            handler = {
                "unifiedorder": self._unified_order,
                "orderquery": self._order_query,
                "closeorder": self._close_order,
                "refund": self._refund,
                "refundquery": self._refund_query,
            }[endpoint]
            answer: dict[str, Any] = {
                "return_code": "SUCCESS",
                "return_msg": "OK",
                "appid": self.appid,
                "mch_id": self.mch_id,
                "nonce_str": _nonce(),
            }
            try:
                answer.update({"result_code": "SUCCESS", **handler(params, sign_type)})
            except _BusinessError as exc:
                answer.update(
                    {"result_code": "FAIL", "err_code": exc.err_code,
                     "err_code_des": exc.err_code_des}
                )
            answer["sign"] = sign(answer, self.api_key, sign_type)
            return to_xml(answer), xml_type
        except _ReturnFail as exc:
            fail: dict[str, Any] = {"return_code": "FAIL", "return_msg": exc.return_msg}
            if exc.error_code:
                fail["error_code"] = exc.error_code
            return to_xml(fail), xml_type

    def _check_request(self, params: dict[str, str]) -> str:
        """The checks WeChat makes before any business rule; the request's sign_type."""
        if params.get("mch_id") != self.mch_id:
            raise _ReturnFail("商户号mch_id或sub_mch_id不存在")
        sign_type = params.get("sign_type") or "MD5"
        if sign_type not in SIGN_TYPES:
            raise _ReturnFail("sign_type参数格式错误")
        given = params.get("sign", "")
        if not given or not hmac.compare_digest(given, sign(params, self.api_key, sign_type)):
            raise _ReturnFail("签名错误")
        nonce = params.get("nonce_str", "")
        if not nonce or len(nonce) > 32:
            raise _ReturnFail("nonce_str参数长度有误")
        if params.get("appid") != self.appid:
            raise _ReturnFail("appid和mch_id不匹配")
        return sign_type

    @staticmethod
    def _require(params: dict[str, str], *names: str) -> None:
        for name in names:
            if not params.get(name):
                raise _BusinessError("LACK_PARAMS", f"缺少参数{name}")

    @staticmethod
    def _fen(params: dict[str, str], name: str) -> int:
        raw = params.get(name, "")
        if not raw.isdigit() or int(raw) <= 0:
            raise _BusinessError("PARAM_ERROR", f"{name}必须为大于0的整数（单位：分）")
        return int(raw)

    def _unified_order(self, params: dict[str, str], sign_type: str) -> dict[str, Any]:
        self._require(
            params, "body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url",
            "trade_type",
        )
        if params["trade_type"] != "JSAPI":
            raise _BusinessError("PARAM_ERROR", "沙箱只支持trade_type=JSAPI")
        if not params.get("openid"):
            raise _BusinessError("PARAM_ERROR", "trade_type=JSAPI时（即JSAPI支付），必须传openid")
        out_trade_no = params["out_trade_no"]
        if not OUT_TRADE_NO.match(out_trade_no):
            raise _BusinessError("PARAM_ERROR", "out_trade_no参数格式错误")
        if len(params["body"]) > 128:
            raise _BusinessError("PARAM_ERROR", "body参数长度有误")
        if len(params.get("attach", "")) > 127:
            raise _BusinessError("PARAM_ERROR", "attach参数长度有误")
        total_fee = self._fen(params, "total_fee")
        if params.get("fee_type", "CNY") != "CNY":
            raise _BusinessError("PARAM_ERROR", "fee_type参数格式错误")
        notify_url = params["notify_url"]
        parts = urlsplit(notify_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise _BusinessError(
                "PARAM_ERROR", "notify_url参数格式错误（完整的http(s)地址，不能携带参数）"
            )
        time_expire: datetime | None = None
        if params.get("time_expire"):
            try:
                time_expire = datetime.strptime(params["time_expire"], TIME_FORMAT).replace(
                    tzinfo=SHANGHAI
                )
            except ValueError:
                raise _BusinessError("PARAM_ERROR", "time_expire参数格式错误") from None
            if time_expire.timestamp() - self.clock() < MIN_EXPIRE_SECONDS:
                raise _BusinessError("PARAM_ERROR", "time_expire时间过短，刷卡至少1分钟，其他5分钟")
        same_request = tuple(
            params.get(name, "")
            for name in (
                "body", "detail", "attach", "total_fee", "fee_type", "trade_type", "openid",
                "goods_tag", "limit_pay", "product_id", "notify_url", "time_expire",
            )
        )
        now = self.clock()
        with self._lock:
            existing = self._orders.get(out_trade_no)
            if existing is not None:
                if existing.trade_state in ("SUCCESS", "REFUND"):
                    raise _BusinessError("ORDERPAID", "该订单已支付")
                if existing.trade_state == "CLOSED":
                    raise _BusinessError("ORDERCLOSED", "该订单已关闭")
                if existing.same_request != same_request:
                    raise _BusinessError("INVALID_REQUEST", "201 商户订单号重复")
                return {"trade_type": "JSAPI", "prepay_id": existing.prepay_id}
            prepay_id = "wx" + self._beijing(now).strftime(TIME_FORMAT) + secrets.token_hex(10)
            order = _Order(
                out_trade_no=out_trade_no,
                prepay_id=prepay_id,
                openid=params["openid"],
                body=params["body"],
                attach=params.get("attach", ""),
                total_fee=total_fee,
                notify_url=notify_url,
                time_expire=time_expire,
                sign_type=sign_type,
                created_at=now,
                same_request=same_request,
            )
            self._orders[out_trade_no] = order
            self._by_prepay_id[prepay_id] = out_trade_no
        return {"trade_type": "JSAPI", "prepay_id": prepay_id}

    def _find_order(self, params: dict[str, str]) -> _Order:
        transaction_id = params.get("transaction_id")
        out_trade_no = params.get("out_trade_no")
        if not transaction_id and not out_trade_no:
            raise _BusinessError("LACK_PARAMS", "transaction_id和out_trade_no必须传一个")
        with self._lock:
            if transaction_id:
                for order in self._orders.values():
                    if order.transaction_id == transaction_id:
                        return order
                raise _BusinessError("ORDERNOTEXIST", "order not exist")
            order_ = self._orders.get(out_trade_no or "")
        if order_ is None:
            raise _BusinessError("ORDERNOTEXIST", "order not exist")
        return order_

    def _order_query(self, params: dict[str, str], sign_type: str) -> dict[str, Any]:
        order = self._find_order(params)
        with self._lock:
            answer: dict[str, Any] = {
                "out_trade_no": order.out_trade_no,
                "trade_state": order.trade_state,
                "trade_state_desc": TRADE_STATE_DESC[order.trade_state],
            }
            if order.attach:
                answer["attach"] = order.attach
            if order.trade_state in ("SUCCESS", "REFUND"):
                assert order.paid_at is not None and order.transaction_id is not None
                answer.update(
                    {
                        "openid": order.openid,
                        "is_subscribe": "N",
                        "trade_type": "JSAPI",
                        "bank_type": "OTHERS",
                        "total_fee": order.total_fee,
                        "fee_type": "CNY",
                        "cash_fee": order.total_fee,
                        "transaction_id": order.transaction_id,
                        "time_end": self._beijing(order.paid_at).strftime(TIME_FORMAT),
                    }
                )
            return answer

    def _close_order(self, params: dict[str, str], sign_type: str) -> dict[str, Any]:
        self._require(params, "out_trade_no")
        with self._lock:
            order = self._orders.get(params["out_trade_no"])
            if order is None:
                raise _BusinessError("ORDERNOTEXIST", "订单不存在")
            if order.trade_state in ("SUCCESS", "REFUND"):
                raise _BusinessError("ORDERPAID", "订单已支付，不能发起关单")
            if order.trade_state == "CLOSED":
                raise _BusinessError("ORDERCLOSED", "订单已关闭，无法重复关闭")
            order.trade_state = "CLOSED"
            order.closed_at = self.clock()
            order.events.append({"event": "closed", "at": self._now()})
        return {"result_msg": "OK"}

    def _refund_answer(self, refund: _Refund) -> dict[str, Any]:
        return {
            "transaction_id": refund.transaction_id,
            "out_trade_no": refund.out_trade_no,
            "out_refund_no": refund.out_refund_no,
            "refund_id": refund.refund_id,
            "refund_fee": refund.refund_fee,
            "settlement_refund_fee": refund.refund_fee,
            "total_fee": refund.total_fee,
            "cash_fee": refund.total_fee,
            "cash_refund_fee": refund.refund_fee,
            "coupon_refund_fee": 0,
            "coupon_refund_count": 0,
        }

    def _refund(self, params: dict[str, str], sign_type: str) -> dict[str, Any]:
        # Real WeChat requires the merchant's TLS client certificate here; the sandbox
        # checks the signature only.
        self._require(params, "out_refund_no", "total_fee", "refund_fee")
        out_refund_no = params["out_refund_no"]
        if not OUT_REFUND_NO.match(out_refund_no):
            raise _BusinessError("PARAM_ERROR", "out_refund_no参数格式错误")
        total_fee = self._fen(params, "total_fee")
        raw_refund_fee = params["refund_fee"]
        if not raw_refund_fee.isdigit() or not 0 < int(raw_refund_fee) <= total_fee:
            raise _ReturnFail("invalid refund_fee")
        refund_fee = int(raw_refund_fee)
        if len(params.get("refund_desc", "")) > 80:
            raise _BusinessError("PARAM_ERROR", "refund_desc参数长度有误")
        notify_url = params.get("notify_url", "")
        if notify_url:
            parts = urlsplit(notify_url)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
                raise _BusinessError("PARAM_ERROR", "notify_url参数格式错误")
        try:
            order = self._find_order(params)
        except _BusinessError as exc:
            if exc.err_code == "ORDERNOTEXIST" and params.get("transaction_id"):
                raise _BusinessError("INVALID_TRANSACTIONID", "无效transaction_id") from None
            raise
        now = self.clock()
        with self._lock:
            existing = self._refunds.get(out_refund_no)
            if existing is not None:
                if (existing.out_trade_no, existing.total_fee, existing.refund_fee) != (
                    order.out_trade_no, total_fee, refund_fee,
                ):
                    raise _BusinessError(
                        "REFUND_FEE_MISMATCH", "订单金额或退款金额与之前请求不一致，请核实后再试"
                    )
                return self._refund_answer(existing)
            if total_fee != order.total_fee:
                raise _BusinessError(
                    "REFUND_FEE_MISMATCH", "订单金额或退款金额与之前请求不一致，请核实后再试"
                )
            if order.trade_state not in ("SUCCESS", "REFUND") or order.transaction_id is None:
                raise _BusinessError("ERROR", "订单状态错误")
            if order.refunded_fee >= order.total_fee:
                raise _BusinessError("ERROR", "订单已全额退款")
            if order.refunded_fee + refund_fee > order.total_fee:
                raise _BusinessError("INVALID_REQUEST", "申请退款金额超过订单可退金额")
            if order.refund_count >= MAX_PARTIAL_REFUNDS:
                raise _BusinessError("INVALID_REQUEST", "订单部分退款次数不能超过50次")
            if refund_fee % 100 == NOTENOUGH_REFUND_CENTS:
                raise _BusinessError("NOTENOUGH", "基本账户余额不足，请充值后重新发起")
            slow = refund_fee % 100 == SLOW_REFUND_CENTS
            refund = _Refund(
                out_refund_no=out_refund_no,
                refund_id="50300" + _digits(5) + self._beijing(now).strftime("%Y%m%d")
                + _digits(11),
                out_trade_no=order.out_trade_no,
                transaction_id=order.transaction_id,
                total_fee=order.total_fee,
                refund_fee=refund_fee,
                refund_desc=params.get("refund_desc", ""),
                refund_account=params.get("refund_account") or "REFUND_SOURCE_UNSETTLED_FUNDS",
                notify_url=notify_url,
                applied_at=now,
                # The sandbox's refunds succeed at once, but for the magic slow amount.
                status="PROCESSING" if slow else "SUCCESS",
                success_at=now + SLOW_REFUND_SECONDS if slow else now,
            )
            self._refunds[out_refund_no] = refund
            order.refunded_fee += refund_fee
            order.refund_count += 1
            order.trade_state = "REFUND"
            order.events.append(
                {"event": "refunded", "out_refund_no": out_refund_no, "refund_fee": refund_fee,
                 "at": self._now()}
            )
            if notify_url:
                self._queue(
                    _Delivery(
                        kind="refund",
                        out_trade_no=order.out_trade_no,
                        out_refund_no=out_refund_no,
                        url=notify_url,
                        body=self._refund_notification(refund),
                        due_at=refund.success_at,
                    )
                )
            return self._refund_answer(refund)

    def _settle_slow_refunds(self) -> None:
        now = self.clock()
        for refund in self._refunds.values():
            if refund.status == "PROCESSING" and (refund.success_at or now) <= now:
                refund.status = "SUCCESS"

    def _refund_query(self, params: dict[str, str], sign_type: str) -> dict[str, Any]:
        with self._lock:
            self._settle_slow_refunds()
            refunds: list[_Refund]
            if params.get("refund_id"):
                refunds = [r for r in self._refunds.values() if r.refund_id == params["refund_id"]]
            elif params.get("out_refund_no"):
                found = self._refunds.get(params["out_refund_no"])
                refunds = [found] if found else []
            elif params.get("transaction_id") or params.get("out_trade_no"):
                try:
                    order = self._find_order(params)
                except _BusinessError:
                    raise _BusinessError("REFUNDNOTEXIST", "not exist") from None
                refunds = [
                    r for r in self._refunds.values() if r.out_trade_no == order.out_trade_no
                ]
            else:
                raise _BusinessError(
                    "LACK_PARAMS",
                    "refund_id、out_refund_no、transaction_id、out_trade_no必须传一个",
                )
            if not refunds:
                raise _BusinessError("REFUNDNOTEXIST", "not exist")
            first = refunds[0]
            answer: dict[str, Any] = {
                "transaction_id": first.transaction_id,
                "out_trade_no": first.out_trade_no,
                "total_fee": first.total_fee,
                "cash_fee": first.total_fee,
                "refund_count": len(refunds),
            }
            for index, refund in enumerate(refunds):
                answer.update(
                    {
                        f"out_refund_no_{index}": refund.out_refund_no,
                        f"refund_id_{index}": refund.refund_id,
                        f"refund_channel_{index}": "ORIGINAL",
                        f"refund_fee_{index}": refund.refund_fee,
                        f"settlement_refund_fee_{index}": refund.refund_fee,
                        f"refund_status_{index}": refund.status,
                        f"refund_account_{index}": refund.refund_account,
                        f"refund_recv_accout_{index}": "支付用户零钱",
                    }
                )
                if refund.status == "SUCCESS" and refund.success_at is not None:
                    answer[f"refund_success_time_{index}"] = self._beijing(
                        refund.success_at
                    ).strftime("%Y-%m-%d %H:%M:%S")
            return answer

    # --- bills --------------------------------------------------------------------------

    def _download_bill(self, params: dict[str, str]) -> str:
        raw_date = params.get("bill_date", "")
        try:
            day = datetime.strptime(raw_date, "%Y%m%d").date()
        except ValueError:
            raise _ReturnFail("invalid bill_date", "20001") from None
        if (params.get("bill_type") or "ALL") != "ALL":
            raise _ReturnFail("invalid bill_type", "20001")
        if params.get("tar_type"):
            raise _ReturnFail("invalid tar_type", "20001")
        today = self._beijing(self.clock()).date()
        if day > today:
            raise _ReturnFail("invalid bill_date", "20001")
        ready_at = datetime.combine(day + timedelta(days=1), time(BILL_READY_HOUR), SHANGHAI)
        if self.clock() < ready_at.timestamp():
            raise _ReturnFail("Bill Creating")
        text = self.bill(day)
        if text is None:
            raise _ReturnFail("No Bill Exist", "20002")
        return text

    def bill(self, day: date) -> str | None:
        """Day ``day``'s ALL bill as WeChat sends it (whatever the time), or None when the
        merchant had no payment or refund that day (Beijing time)."""
        start = datetime.combine(day, time(0), SHANGHAI).timestamp()
        end = start + 86400
        rows: list[tuple[float, list[str], dict[str, int]]] = []
        with self._lock:
            self._settle_slow_refunds()
            for order in self._orders.values():
                if order.paid_at is None or not start <= order.paid_at < end:
                    continue
                assert order.transaction_id is not None
                fee = _fee_fen(order.total_fee)
                rows.append(
                    (
                        order.paid_at,
                        self._bill_row(order, order.paid_at, "SUCCESS") + [
                            yuan(order.total_fee), "0.00", "0", "0", "0.00", "0.00", "", "",
                            order.body, order.attach, f"{Decimal(fee) / 100:.5f}", "0.60%",
                            yuan(order.total_fee), "0.00", "",
                        ],
                        {"settle": order.total_fee, "refund": 0, "fee": fee,
                         "total": order.total_fee, "applied": 0},
                    )
                )
            for refund in self._refunds.values():
                if not start <= refund.applied_at < end:
                    continue
                order = self._orders[refund.out_trade_no]
                fee = -_fee_fen(refund.refund_fee)
                rows.append(
                    (
                        refund.applied_at,
                        self._bill_row(order, refund.applied_at, "REFUND") + [
                            "0.00", "0.00", refund.refund_id, refund.out_refund_no,
                            yuan(refund.refund_fee), "0.00", "ORIGINAL", refund.status,
                            order.body, order.attach, f"{Decimal(fee) / 100:.5f}", "0.60%",
                            "0.00", yuan(refund.refund_fee), "",
                        ],
                        {"settle": 0, "refund": refund.refund_fee, "fee": fee, "total": 0,
                         "applied": refund.refund_fee},
                    )
                )
        if not rows:
            return None
        rows.sort(key=lambda row: row[0])

        def line(cells: list[str]) -> str:
            return ",".join("`" + cell for cell in cells)

        sums = {key: sum(row[2][key] for row in rows) for key in rows[0][2]}
        summary = [
            str(len(rows)), yuan(sums["settle"]), yuan(sums["refund"]), "0.00",
            f"{Decimal(sums['fee']) / 100:.5f}", yuan(sums["total"]), yuan(sums["applied"]),
        ]
        lines = [BILL_HEADER, *(line(row[1]) for row in rows), BILL_SUMMARY_HEADER, line(summary)]
        return "\ufeff" + "\r\n".join(lines) + "\r\n"

    def _bill_row(self, order: _Order, at: float, state: str) -> list[str]:
        assert order.transaction_id is not None
        return [
            self._beijing(at).strftime("%Y-%m-%d %H:%M:%S"), self.appid, self.mch_id, "0", "",
            order.transaction_id, order.out_trade_no, order.openid, "JSAPI", state, "OTHERS",
            "CNY",
        ]

    # --- the payer ------------------------------------------------------------------------

    def _order_by_prepay_id(self, prepay_id: str) -> _Order:
        with self._lock:
            out_trade_no = self._by_prepay_id.get(prepay_id)
            order = self._orders.get(out_trade_no or "")
        if order is None:
            raise WeChatPayControlError(404, "prepay_id 无效")
        return order

    def order_for_prepay_id(self, prepay_id: str) -> dict[str, Any]:
        """The order a prepay_id belongs to (as :meth:`orders`); WeChatPayControlError 404."""
        return self._record(self._order_by_prepay_id(prepay_id))

    def check_request_payment(self, params: Mapping[str, Any]) -> str:
        """Check ``wx.requestPayment``'s parameters as the phone does (timeStamp, nonceStr,
        package, signType, paySign; appId is the mini-program's) and give the prepay_id;
        WeChatPayControlError 400 "支付验证签名失败" if they are not the merchant's."""
        values = {name: str(params.get(name) or "") for name in
                  ("timeStamp", "nonceStr", "package", "signType", "paySign")}
        if not all(values.values()):
            raise WeChatPayControlError(400, "调用支付JSAPI缺少参数")
        if not values["package"].startswith("prepay_id="):
            raise WeChatPayControlError(400, "package 必须为 prepay_id=…")
        prepay_id = values["package"].removeprefix("prepay_id=")
        order = self._order_by_prepay_id(prepay_id)
        sign_type = values["signType"]
        signed = {"appId": self.appid, **{k: v for k, v in values.items() if k != "paySign"}}
        if sign_type != order.sign_type or not hmac.compare_digest(
            values["paySign"], sign(signed, self.api_key, sign_type)
        ):
            raise WeChatPayControlError(400, "支付验证签名失败")
        return prepay_id

    def pay(self, out_trade_no: str) -> dict[str, Any]:
        """The payer pays: the order is SUCCESS (or PAYERROR for amounts ending in 99 fen)
        and the payment notification is queued (never for amounts ending in 98 fen).
        WeChatPayControlError 404 for an unknown order, 409 if it cannot be paid."""
        now = self.clock()
        with self._lock:
            order = self._orders.get(out_trade_no)
            if order is None:
                raise WeChatPayControlError(404, "订单不存在")
            self._check_payable(order, now)
            if order.total_fee % 100 == DECLINED_CENTS:
                order.trade_state = "PAYERROR"
                order.events.append({"event": "declined", "at": self._now()})
                return self._record(order)
            order.trade_state = "SUCCESS"
            order.paid_at = now
            order.transaction_id = (
                "4200" + _digits(6) + self._beijing(now).strftime("%Y%m%d") + _digits(10)
            )
            order.events.append({"event": "paid", "at": self._now()})
            if order.total_fee % 100 != SILENT_CENTS:
                self._queue(
                    _Delivery(
                        kind="payment",
                        out_trade_no=order.out_trade_no,
                        out_refund_no=None,
                        url=order.notify_url,
                        body=self._payment_notification(order),
                        due_at=now,
                    )
                )
            return self._record(order)

    def cancel(self, out_trade_no: str) -> dict[str, Any]:
        """The payer closes the payment sheet (``requestPayment:fail cancel``): nothing
        changes at WeChat, the order stays NOTPAY."""
        with self._lock:
            order = self._orders.get(out_trade_no)
            if order is None:
                raise WeChatPayControlError(404, "订单不存在")
            self._check_payable(order, self.clock())
            order.events.append({"event": "cancelled", "at": self._now()})
            return self._record(order)

    def _check_payable(self, order: _Order, now: float) -> None:
        if order.trade_state in ("SUCCESS", "REFUND"):
            raise WeChatPayControlError(409, "订单已支付")
        if order.trade_state == "CLOSED":
            raise WeChatPayControlError(409, "订单已关闭")
        if order.trade_state == "PAYERROR":
            raise WeChatPayControlError(409, "订单支付失败，请商户重新下单")
        if order.time_expire is not None and now >= order.time_expire.timestamp():
            raise WeChatPayControlError(409, "订单已过期")
        if now >= order.created_at + PREPAY_ID_TTL_SECONDS:
            raise WeChatPayControlError(409, "prepay_id 已失效（超过2小时），请商户重新下单")

    def _payment_notification(self, order: _Order) -> bytes:
        assert order.paid_at is not None and order.transaction_id is not None
        fields: dict[str, Any] = {
            "appid": self.appid,
            "bank_type": "OTHERS",
            "cash_fee": order.total_fee,
            "fee_type": "CNY",
            "is_subscribe": "N",
            "mch_id": self.mch_id,
            "nonce_str": secrets.token_hex(16),
            "openid": order.openid,
            "out_trade_no": order.out_trade_no,
            "result_code": "SUCCESS",
            "return_code": "SUCCESS",
            "time_end": self._beijing(order.paid_at).strftime(TIME_FORMAT),
            "total_fee": order.total_fee,
            "trade_type": "JSAPI",
            "transaction_id": order.transaction_id,
        }
        if order.attach:
            fields["attach"] = order.attach
        if order.sign_type != "MD5":
            fields["sign_type"] = order.sign_type
        fields = dict(sorted(fields.items()))
        fields["sign"] = sign(fields, self.api_key, order.sign_type)
        return to_xml(fields)

    def _refund_notification(self, refund: _Refund) -> bytes:
        assert refund.success_at is not None
        info = {
            "out_refund_no": refund.out_refund_no,
            "out_trade_no": refund.out_trade_no,
            "refund_account": refund.refund_account,
            "refund_fee": refund.refund_fee,
            "refund_id": refund.refund_id,
            "refund_recv_accout": "支付用户零钱",
            "refund_request_source": "API",
            "refund_status": "SUCCESS",  # sent when the refund has succeeded
            "settlement_refund_fee": refund.refund_fee,
            "settlement_total_fee": refund.total_fee,
            "success_time": self._beijing(refund.success_at).strftime("%Y-%m-%d %H:%M:%S"),
            "total_fee": refund.total_fee,
            "transaction_id": refund.transaction_id,
        }
        plain = to_xml(info).replace(b"<xml>", b"<root>").replace(b"</xml>", b"</root>")
        return to_xml(
            {
                "return_code": "SUCCESS",
                "appid": self.appid,
                "mch_id": self.mch_id,
                "nonce_str": secrets.token_hex(16),
                "req_info": encrypt_req_info(plain, self.api_key),
            }
        )

    # --- notifications --------------------------------------------------------------------

    def _queue(self, delivery: _Delivery) -> None:
        with self._lock:
            self._deliveries.append(delivery)
        if self._auto_delivery:
            self._ensure_thread()
            self._wake.set()

    def set_auto_delivery(self, enabled: bool) -> None:
        """On (the default): a background thread sends notifications when due by the
        sandbox clock. Off: nothing is sent until :meth:`deliver_due_notifications`."""
        self._auto_delivery = enabled
        if enabled:
            self._ensure_thread()
            self._wake.set()
            return
        thread = self._thread
        if thread is not None:
            self._stop.set()
            self._wake.set()
            thread.join(timeout=self.notify_timeout + 1)
            self._thread = None

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name="sandbox-wechatpay-notify",
                daemon=True,
            )
            self._thread.start()

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.deliver_due_notifications()
            except Exception:  # never let the thread die; the next round tries again
                logger.exception("sandbox: delivering WeChat Pay notifications failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def deliver_due_notifications(self, now: float | None = None) -> list[dict[str, Any]]:
        """Send every notification due at ``now`` (default: the sandbox clock) once, in
        this thread; the attempts made, oldest due first. A failed delivery is due again
        after the next interval of WeChat's schedule, counted from ``now``."""
        now = self.clock() if now is None else now
        with self._lock:
            generation = self._generation
            due = sorted(
                (
                    d for d in self._deliveries
                    if d.state == "pending" and not d.in_flight
                    and d.due_at is not None and d.due_at <= now
                ),
                key=lambda d: d.due_at or 0.0,
            )
            for delivery in due:
                delivery.in_flight = True
        made: list[dict[str, Any]] = []
        for delivery in due:
            outcome = self._post(delivery.url, delivery.body)
            with self._lock:
                if generation != self._generation:
                    continue  # a reset forgot this delivery meanwhile
                delivery.in_flight = False
                attempt = {
                    "attempt": len(delivery.attempts) + 1,
                    "at": datetime.fromtimestamp(now, UTC),
                    **outcome,
                }
                delivery.attempts.append(attempt)
                if outcome["ok"]:
                    delivery.state, delivery.due_at = "delivered", None
                elif len(delivery.attempts) > len(RESEND_SCHEDULE_SECONDS):
                    delivery.state, delivery.due_at = "gave_up", None
                else:
                    delivery.due_at = now + RESEND_SCHEDULE_SECONDS[len(delivery.attempts) - 1]
                made.append(
                    {"kind": delivery.kind, "out_trade_no": delivery.out_trade_no,
                     "out_refund_no": delivery.out_refund_no, "url": delivery.url, **attempt}
                )
        return made

    def _post(self, url: str, body: bytes) -> dict[str, Any]:
        try:
            with requests.Session() as http:
                http.trust_env = False  # WeChat does not use the developer's proxy
                answer = http.post(
                    url,
                    data=body,
                    headers={"Content-Type": "text/xml", "User-Agent": "Mozilla/4.0"},
                    timeout=self.notify_timeout,
                    allow_redirects=False,
                )
        except requests.RequestException as exc:
            return {"status": None, "ok": False, "answer": "", "error": type(exc).__name__}
        text = answer.content[:500].decode("utf-8", "replace")
        ok = False
        if answer.status_code == 200:
            try:
                ok = parse_xml(answer.content).get("return_code") == "SUCCESS"
            except ValueError:
                ok = False
        return {"status": answer.status_code, "ok": ok, "answer": text, "error": None}

    # --- records for tests and the dev page ---------------------------------------------

    def _record(self, order: _Order) -> dict[str, Any]:
        def at(epoch: float | None) -> datetime | None:
            return None if epoch is None else datetime.fromtimestamp(epoch, UTC)

        return {
            "out_trade_no": order.out_trade_no,
            "prepay_id": order.prepay_id,
            "transaction_id": order.transaction_id,
            "openid": order.openid,
            "body": order.body,
            "attach": order.attach,
            "total_fee": order.total_fee,
            "refunded_fee": order.refunded_fee,
            "trade_state": order.trade_state,
            "trade_state_desc": TRADE_STATE_DESC[order.trade_state],
            "notify_url": order.notify_url,
            "sign_type": order.sign_type,
            "time_expire": order.time_expire.astimezone(UTC) if order.time_expire else None,
            "created_at": at(order.created_at),
            "paid_at": at(order.paid_at),
            "closed_at": at(order.closed_at),
            "events": [dict(event) for event in order.events],
        }

    def orders(self) -> list[dict[str, Any]]:
        """Orders, oldest first: out_trade_no, prepay_id, transaction_id, openid, body,
        attach, total_fee, refunded_fee, trade_state, trade_state_desc, notify_url,
        sign_type, time_expire, created_at, paid_at, closed_at, events."""
        with self._lock:
            return [self._record(order) for order in self._orders.values()]

    def order(self, out_trade_no: str) -> dict[str, Any] | None:
        with self._lock:
            order = self._orders.get(out_trade_no)
            return None if order is None else self._record(order)

    def refunds(self) -> list[dict[str, Any]]:
        """Refunds, oldest first: out_refund_no, refund_id, out_trade_no, transaction_id,
        total_fee, refund_fee, refund_desc, status, notify_url, applied_at, success_at."""
        with self._lock:
            self._settle_slow_refunds()
            return [
                {
                    "out_refund_no": r.out_refund_no,
                    "refund_id": r.refund_id,
                    "out_trade_no": r.out_trade_no,
                    "transaction_id": r.transaction_id,
                    "total_fee": r.total_fee,
                    "refund_fee": r.refund_fee,
                    "refund_desc": r.refund_desc,
                    "status": r.status,
                    "notify_url": r.notify_url,
                    "applied_at": datetime.fromtimestamp(r.applied_at, UTC),
                    "success_at": (
                        None if r.success_at is None else datetime.fromtimestamp(r.success_at, UTC)
                    ),
                }
                for r in self._refunds.values()
            ]

    def deliveries(self, out_trade_no: str | None = None) -> list[dict[str, Any]]:
        """Notifications, oldest first: kind (payment, refund), out_trade_no, out_refund_no,
        url, state (pending, delivered, gave_up), next_at, attempts [{attempt, at, status,
        ok, answer, error}]."""
        with self._lock:
            return [
                {
                    "kind": d.kind,
                    "out_trade_no": d.out_trade_no,
                    "out_refund_no": d.out_refund_no,
                    "url": d.url,
                    "state": d.state,
                    "next_at": None if d.due_at is None else datetime.fromtimestamp(d.due_at, UTC),
                    "attempts": [dict(attempt) for attempt in d.attempts],
                }
                for d in self._deliveries
                if out_trade_no is None or d.out_trade_no == out_trade_no
            ]

    def notification_for(self, out_trade_no: str) -> bytes | None:
        """The payment notification body for this order (the exact bytes sent, every time
        it is sent), or None when there is none (unpaid, declined, or ending in 98 fen)."""
        with self._lock:
            for delivery in reversed(self._deliveries):
                if delivery.kind == "payment" and delivery.out_trade_no == out_trade_no:
                    return delivery.body
        return None

    def refund_notification_for(self, out_refund_no: str) -> bytes | None:
        """The refund notification body (``req_info`` encrypted), or None."""
        with self._lock:
            for delivery in reversed(self._deliveries):
                if delivery.kind == "refund" and delivery.out_refund_no == out_refund_no:
                    return delivery.body
        return None


# --- HTTP -------------------------------------------------------------------------------

MERCHANT_ENDPOINTS = {
    "/pay/unifiedorder": "unifiedorder",
    "/pay/orderquery": "orderquery",
    "/pay/closeorder": "closeorder",
    "/secapi/pay/refund": "refund",
    "/pay/refundquery": "refundquery",
    "/pay/downloadbill": "downloadbill",
}


def _jsonable(record: Mapping[str, Any]) -> dict[str, Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, list):
            return [convert(item) for item in value]
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        return value

    return {key: convert(value) for key, value in record.items()}


def wechatpay_blueprint(wechatpay: WeChatPaySandbox) -> Blueprint:
    blueprint = Blueprint("wechatpay", __name__)

    @blueprint.app_template_filter("yuan")
    def yuan_filter(fen: int) -> str:
        return yuan(fen)

    def merchant_api(endpoint: str) -> Callable[[], Response]:
        def view() -> Response:
            if request.method != "POST":
                return Response(
                    to_xml({"return_code": "FAIL", "return_msg": "请使用post方法"}),
                    content_type="text/xml; charset=utf-8",
                )
            body, content_type = wechatpay.handle(endpoint, request.get_data())
            return Response(body, content_type=content_type)

        view.__name__ = f"merchant_{endpoint}"
        return view

    for path, endpoint in MERCHANT_ENDPOINTS.items():
        blueprint.add_url_rule(path, view_func=merchant_api(endpoint), methods=["GET", "POST"])

    @blueprint.get("/_sandbox/wechatpay/")
    def index() -> str:
        return render_template(
            "sandbox/wechatpay_index.html",
            orders=list(reversed(wechatpay.orders())),
            refunds=list(reversed(wechatpay.refunds())),
            deliveries=list(reversed(wechatpay.deliveries())),
            appid=wechatpay.appid,
            mch_id=wechatpay.mch_id,
            configured=wechatpay.configured,
        )

    @blueprint.get("/_sandbox/wechatpay/orders")
    def orders() -> Response:
        return jsonify([_jsonable(order) for order in wechatpay.orders()])

    @blueprint.get("/_sandbox/wechatpay/refunds")
    def refunds() -> Response:
        return jsonify([_jsonable(refund) for refund in wechatpay.refunds()])

    @blueprint.get("/_sandbox/wechatpay/notifications")
    def notifications() -> Response:
        out_trade_no = request.args.get("out_trade_no") or None
        return jsonify([_jsonable(d) for d in wechatpay.deliveries(out_trade_no)])

    @blueprint.get("/_sandbox/wechatpay/pay/<prepay_id>")
    def pay_page(prepay_id: str) -> Any:
        try:
            order = wechatpay.order_for_prepay_id(prepay_id)
        except WeChatPayControlError as exc:
            return render_template("sandbox/wechatpay_pay.html", error=exc.message), exc.status
        params = {k: request.args[k] for k in
                  ("timeStamp", "nonceStr", "package", "signType", "paySign") if k in request.args}
        check: str | None = None
        if params:
            try:
                if wechatpay.check_request_payment(params) != prepay_id:
                    raise WeChatPayControlError(400, "package 中的 prepay_id 与本订单不符")
                check = "ok"
            except WeChatPayControlError as exc:
                check = exc.message
        return render_template(
            "sandbox/wechatpay_pay.html",
            order=order,
            params=params,
            check=check,
            message=request.args.get("message"),
            deliveries=wechatpay.deliveries(order["out_trade_no"]),
            declined_cents=DECLINED_CENTS,
            silent_cents=SILENT_CENTS,
        )

    @blueprint.post("/_sandbox/wechatpay/pay/<prepay_id>")
    def pay_action(prepay_id: str) -> Any:
        """The payer: form ``action`` = pay | cancel (from the page), or JSON
        ``{"action": "pay"}``; optional wx.requestPayment parameters are checked first."""
        from_page = bool(request.form.get("from_page"))
        data: Mapping[str, Any]
        if from_page:
            data = request.form
        else:
            body = request.get_json(silent=True)
            data = body if isinstance(body, dict) else {}
        action = data.get("action")
        try:
            order = wechatpay.order_for_prepay_id(prepay_id)
            params = {k: data[k] for k in ("timeStamp", "nonceStr", "package", "signType",
                                           "paySign") if data.get(k)}
            if params and wechatpay.check_request_payment(params) != prepay_id:
                raise WeChatPayControlError(400, "package 中的 prepay_id 与本订单不符")
            if action == "pay":
                order = wechatpay.pay(order["out_trade_no"])
                message = (
                    "支付失败（模拟银行拒绝，金额以99分结尾）"
                    if order["trade_state"] == "PAYERROR" else "支付成功"
                )
            elif action == "cancel":
                order = wechatpay.cancel(order["out_trade_no"])
                message = "已取消支付，订单仍为未支付"
            else:
                raise WeChatPayControlError(400, "action 必须为 pay 或 cancel")
        except WeChatPayControlError as exc:
            if from_page:
                return redirect(
                    url_for(".pay_page", prepay_id=prepay_id, message=exc.message), code=303
                )
            return jsonify({"error": exc.message}), exc.status
        if from_page:
            return redirect(url_for(".pay_page", prepay_id=prepay_id, message=message), code=303)
        return jsonify(_jsonable(order))

    @blueprint.get("/_sandbox/wechatpay/bill")
    def bill() -> Any:
        """Any day's ALL bill at once (``?date=YYYYMMDD``), not waiting for 10:00 next day."""
        try:
            day = datetime.strptime(request.args.get("date", ""), "%Y%m%d").date()
        except ValueError:
            return jsonify({"error": "date must be YYYYMMDD"}), 400
        text = wechatpay.bill(day)
        if text is None:
            return jsonify({"error": "No Bill Exist"}), 404
        return Response(text, content_type="text/plain; charset=utf-8")

    return blueprint
