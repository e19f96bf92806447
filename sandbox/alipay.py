"""Alipay's open API gateway (``openapi.alipay.com/gateway.do``) and its mobile-web (wap)
cashier, as the platform's alipay-sdk-python client sees them.

One endpoint, ``/gateway.do``, takes Alipay's common parameters (``app_id``, ``method``,
``charset``, ``sign_type`` RSA2, ``timestamp``, ``version``, ``biz_content`` JSON,
``notify_url``, ``return_url``) in the query string and/or a form body, and checks the
request signature with the app's RSA public key. API answers are JSON in Alipay's
layout, ``{"<method>_response": {...}, "sign": "..."}``, signed with the sandbox's own
"Alipay" RSA2 private key over the exact text of the ``..._response`` object: the SDK
verifies that with the Alipay public key the platform holds.

Methods: ``alipay.trade.wap.pay`` (a browser GET, answered with the cashier page),
``alipay.trade.query``, ``alipay.trade.close``, ``alipay.trade.refund`` and
``alipay.data.dataservice.bill.downloadurl.query`` (a 30-second URL to a zipped GBK CSV
bill of one Beijing-time day).

Like the real gateway, a wap payment exists only once the buyer opened the cashier URL:
before that the query answers ``ACQ.TRADE_NOT_EXIST``. Paying on the cashier page (or
:meth:`AlipaySandbox.pay`) redirects the browser to ``return_url`` and POSTs the signed
asynchronous notification to ``notify_url`` at once, then again on Alipay's schedule
(4 m, 10 m, 10 m, 1 h, 2 h, 6 h, 15 h after each failed try) until the answer is exactly
``success``. Closes, expiries, refunds and the end of the refund period notify too
(``TRADE_CLOSED`` / ``TRADE_SUCCESS`` with ``refund_fee`` / ``TRADE_FINISHED``), on the
next delivery round rather than inside the API call that caused them. Rounds are
:meth:`AlipaySandbox.deliver_due_notifications` (tests, with their clock) or the
background thread of :meth:`AlipaySandbox.start_delivery_thread` (``make run``).

Magic amounts (the fen of ``total_amount``): ``…99`` is declined at the cashier (the
trade stays ``WAIT_BUYER_PAY``, as Alipay's does); ``…98`` is paid, but no notification
of that trade is ever delivered: only the query finds the payment.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import logging
import re
import secrets
import threading
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
GATEWAY_PATH = "/gateway.do"

WAP_PAY = "alipay.trade.wap.pay"
TRADE_QUERY = "alipay.trade.query"
TRADE_CLOSE = "alipay.trade.close"
TRADE_REFUND = "alipay.trade.refund"
BILL_DOWNLOAD_URL_QUERY = "alipay.data.dataservice.bill.downloadurl.query"
API_METHODS = (TRADE_QUERY, TRADE_CLOSE, TRADE_REFUND, BILL_DOWNLOAD_URL_QUERY)
WAP_PRODUCT_CODES = ("QUICK_WAP_WAY", "QUICK_WAP_PAY")

WAIT_BUYER_PAY = "WAIT_BUYER_PAY"
TRADE_SUCCESS = "TRADE_SUCCESS"
TRADE_CLOSED = "TRADE_CLOSED"
TRADE_FINISHED = "TRADE_FINISHED"

# Alipay retries a notification whose answer is not exactly "success" after these
# intervals (each counted from the previous try): 8 tries over about 25 hours.
RETRY_INTERVALS = (4 * 60, 10 * 60, 10 * 60, 3600, 2 * 3600, 6 * 3600, 15 * 3600)
NOTIFY_TIMEOUT_SECONDS = 5.0
ACK_BODY = "success"

DECLINED_FEN = 99  # a total_amount ending in 99 fen is declined at the cashier
SILENT_FEN = 98  # ending in 98 fen: paid, but no notification is ever delivered
BILL_URL_TTL_SECONDS = 30
MAX_TOTAL = Decimal("100000000.00")
OUT_NO = re.compile(r"^[0-9A-Za-z_]{1,64}$")
AMOUNT = re.compile(r"^(0|[1-9]\d{0,8})(\.\d{1,2})?$")

# Gateway-level codes and their msg, as Alipay words them.
SUCCESS = ("10000", "Success")
MISSING = ("40001", "Missing Required Arguments")
INVALID = ("40002", "Invalid Arguments")
BUSINESS = ("40004", "Business Failed")

# The columns of Alipay's trade bill detail (业务明细).
_BILL_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,"
    "门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,"
    "支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,"
    "券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
    "退款批次号/请求号,服务费（元）,分润（元）,备注"
)
BILL_COLUMNS = tuple(_BILL_HEADER.split(","))


class AlipayApiError(Exception):
    """An answer with ``code`` != 10000: ``code``/``msg`` and ``sub_code``/``sub_msg``."""

    def __init__(self, kind: tuple[str, str], sub_code: str, sub_msg: str):
        super().__init__(f"{kind[0]} {sub_code}: {sub_msg}")
        self.code, self.msg = kind
        self.sub_code = sub_code
        self.sub_msg = sub_msg


class AlipayControlError(Exception):
    """The control API cannot do this (unknown trade, wrong state, declined amount)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# --- keys and signatures -----------------------------------------------------------------


def generate_key_pair() -> tuple[str, str]:
    """A fresh RSA-2048 pair: (private key PKCS#1 PEM, public key SubjectPublicKeyInfo PEM),
    the formats alipay-sdk-python reads. Generated at first use, never stored here."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return private_pem, public_pem


def load_public_key(text: str) -> rsa.RSAPublicKey:
    """A PEM public key, or the bare base64 that Alipay's console shows."""
    text = text.strip()
    if "-----BEGIN" in text:
        key = serialization.load_pem_public_key(text.encode("ascii"))
    else:
        key = serialization.load_der_public_key(base64.b64decode(text))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def load_private_key(text: str) -> rsa.RSAPrivateKey:
    """A PEM private key (PKCS#1 or PKCS#8), or bare base64 DER."""
    text = text.strip()
    if "-----BEGIN" in text:
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
    else:
        key = serialization.load_der_private_key(base64.b64decode(text), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def sign_content(params: Mapping[str, str], exclude: tuple[str, ...] = ("sign",)) -> str:
    """Alipay's string to sign: ``k=v`` sorted by key and joined by ``&``, raw values,
    leaving out ``exclude`` and empty values. Requests exclude only ``sign``;
    notifications and return parameters exclude ``sign`` and ``sign_type``."""
    return "&".join(
        f"{key}={value}" for key, value in sorted(params.items()) if key not in exclude and value
    )


def rsa2_sign(key: rsa.RSAPrivateKey, content: str) -> str:
    """SHA256withRSA (PKCS#1 v1.5) over the UTF-8 bytes, base64."""
    signature = key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def rsa2_verify(key: rsa.RSAPublicKey, content: str, sign: str) -> bool:
    try:
        signature = base64.b64decode(sign, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        key.verify(signature, content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


# --- money and time ----------------------------------------------------------------------


def yuan(fen: int) -> str:
    """Integer fen → Alipay's yuan string with 2 decimals (``12345`` → ``"123.45"``)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def parse_amount(value: object, field_name: str) -> int:
    """An Alipay amount (string or number, at most 2 decimals, 0.01–100000000) in fen."""
    text = value if isinstance(value, str) else json.dumps(value)
    if not AMOUNT.match(text):
        raise _invalid(f"{field_name}格式错误")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise _invalid(f"{field_name}格式错误")
    if amount <= 0 or amount > MAX_TOTAL:
        raise _invalid(f"{field_name}超出范围")
    return int(amount * 100)


def beijing(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime(TIME_FORMAT)


def _invalid(message: str) -> AlipayApiError:
    return AlipayApiError(BUSINESS, "ACQ.INVALID_PARAMETER", "参数无效：" + message)


def _http_post(url: str, form: dict[str, str]) -> tuple[int, str]:
    """POST a notification like Alipay: a UTF-8 form, 5 s, no redirects."""
    try:
        response = requests.post(
            url,
            data=form,
            timeout=NOTIFY_TIMEOUT_SECONDS,
            allow_redirects=False,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
    except requests.RequestException as exc:
        return 0, f"{type(exc).__name__}: {exc}"
    with response:
        return response.status_code, response.text


# --- state -------------------------------------------------------------------------------


@dataclass
class _Refund:
    out_request_no: str
    amount_fen: int
    reason: str
    at: datetime
    refunded_after_fen: int


@dataclass
class _Trade:
    out_trade_no: str
    trade_no: str
    total_fen: int
    subject: str
    notify_url: str
    return_url: str
    quit_url: str
    time_expire: datetime | None
    cashier_token: str
    created_at: datetime
    status: str = WAIT_BUYER_PAY
    paid_at: datetime | None = None
    closed_at: datetime | None = None
    finished_at: datetime | None = None
    buyer_id: str = ""
    buyer_logon_id: str = ""
    declines: int = 0
    refunds: list[_Refund] = field(default_factory=list)

    @property
    def refunded_fen(self) -> int:
        return sum(refund.amount_fen for refund in self.refunds)

    @property
    def silent(self) -> bool:
        return self.total_fen % 100 == SILENT_FEN


@dataclass
class _Notification:
    notify_id: str
    out_trade_no: str
    trade_status: str
    notify_url: str
    form: dict[str, str]
    created_at: float
    withheld: bool
    next_due: float | None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False
    in_flight: bool = False


class AlipaySandbox:
    """One Alipay app (``app_id``) of one merchant (``seller_id``): its trades, refunds,
    notifications and bills, in memory behind a lock.

    ``app_public_key`` is the app's RSA public key (PEM or bare base64) that checks the
    requests; ``alipay_private_key`` the sandbox's own "Alipay" key, generated at first
    use when not given (its public half is :attr:`alipay_public_key`). ``clock`` gives
    epoch seconds (tests step it); ``post(url, form) -> (status, body)`` delivers a
    notification (default: ``requests``, 5 s).
    """

    def __init__(
        self,
        app_id: str,
        app_public_key: str,
        *,
        seller_id: str | None = None,
        alipay_private_key: str | None = None,
        clock: Callable[[], float] = time.time,
        post: Callable[[str, dict[str, str]], tuple[int, str]] | None = None,
    ):
        self.app_id = app_id
        self.seller_id = seller_id or "2088" + "".join(
            str(secrets.randbelow(10)) for _ in range(12)
        )
        self._app_public_key = load_public_key(app_public_key)
        if alipay_private_key is None:
            alipay_private_key, _ = generate_key_pair()
        self._private_key = load_private_key(alipay_private_key)
        self.alipay_public_key = (
            self._private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )
        self.clock = clock
        self._post = post or _http_post
        self._lock = threading.RLock()
        self._trades: dict[str, _Trade] = {}
        self._cashiers: dict[str, str] = {}  # cashier token → out_trade_no
        self._notifications: list[_Notification] = []
        self._bills: dict[str, tuple[float, str, bytes]] = {}  # token → (expiry, name, zip)
        self._timer: threading.Thread | None = None
        self._timer_stop = threading.Event()

    @classmethod
    def from_settings(
        cls,
        settings: Mapping[str, Any],
        *,
        clock: Callable[[], float] = time.time,
        post: Callable[[str, dict[str, str]], tuple[int, str]] | None = None,
    ) -> AlipaySandbox:
        """From the platform's settings: ``ALIPAY_APP_ID``, ``ALIPAY_APP_PUBLIC_KEY``,
        ``ALIPAY_SELLER_ID`` and ``ALIPAY_SANDBOX_PRIVATE_KEY`` (the last two optional)."""
        return cls(
            str(settings["ALIPAY_APP_ID"]),
            str(settings["ALIPAY_APP_PUBLIC_KEY"]),
            seller_id=settings.get("ALIPAY_SELLER_ID") or None,
            alipay_private_key=settings.get("ALIPAY_SANDBOX_PRIVATE_KEY") or None,
            clock=clock,
            post=post,
        )

    def reset(self) -> None:
        """Forget trades, refunds, notifications and bill links (the keys stay)."""
        with self._lock:
            self._trades.clear()
            self._cashiers.clear()
            self._notifications.clear()
            self._bills.clear()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # --- the open API gateway ------------------------------------------------------------

    def verify_request(self, params: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
        """Check the common parameters and the signature; (method, biz_content dict)."""
        method = params.get("method", "")
        if not method:
            raise AlipayApiError(MISSING, "isv.missing-method", "缺少方法名参数")
        if method != WAP_PAY and method not in API_METHODS:
            raise AlipayApiError(INVALID, "isv.invalid-method", "不存在的方法名")
        if not params.get("app_id"):
            raise AlipayApiError(MISSING, "isv.missing-app-id", "缺少AppID参数")
        if params["app_id"] != self.app_id:
            raise AlipayApiError(INVALID, "isv.invalid-app-id", "无效的AppID参数")
        if not params.get("sign_type"):
            raise AlipayApiError(MISSING, "isv.missing-signature-type", "缺少签名类型参数")
        if params["sign_type"] != "RSA2":
            raise AlipayApiError(INVALID, "isv.invalid-signature-type", "无效的签名类型参数")
        if not params.get("sign"):
            raise AlipayApiError(MISSING, "isv.missing-signature", "缺少签名参数")
        if not params.get("timestamp"):
            raise AlipayApiError(MISSING, "isv.missing-timestamp", "缺少时间戳参数")
        try:
            datetime.strptime(params["timestamp"], TIME_FORMAT)
        except ValueError:
            raise AlipayApiError(INVALID, "isv.invalid-timestamp", "非法的时间戳参数")
        if params.get("charset", "utf-8").lower() != "utf-8":
            raise AlipayApiError(INVALID, "isv.invalid-charset", "字符集错误")
        if params.get("version", "1.0") != "1.0":
            raise AlipayApiError(INVALID, "isv.invalid-version", "版本号错误")
        if not rsa2_verify(self._app_public_key, sign_content(params), params["sign"]):
            raise AlipayApiError(
                INVALID,
                "isv.invalid-signature",
                "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配",
            )
        try:
            biz = json.loads(params.get("biz_content") or "{}")
        except ValueError:
            raise _invalid("biz_content不是合法的JSON")
        if not isinstance(biz, dict):
            raise _invalid("biz_content不是JSON对象")
        return method, biz

    def signed_response(self, method: str | None, body: dict[str, Any]) -> str:
        """``{"<method>_response": body, "sign": …}``, signed over the exact text of body."""
        key = (method.replace(".", "_") + "_response") if method else "error_response"
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        sign = rsa2_sign(self._private_key, content)
        return f'{{"{key}":{content},"sign":"{sign}"}}'

    def handle_api(self, params: Mapping[str, str], bill_url: Callable[[str], str]) -> str:
        """One API call (everything but wap.pay) → the signed JSON answer text."""
        method = params.get("method")
        if method != WAP_PAY and method not in API_METHODS:
            method = None  # answered as "error_response"
        try:
            verified_method, biz = self.verify_request(params)
            if verified_method == WAP_PAY:
                raise AlipayApiError(INVALID, "isv.invalid-method", "手机网站支付请在浏览器中打开")
            if verified_method == TRADE_QUERY:
                body = self._query(biz)
            elif verified_method == TRADE_CLOSE:
                body = self._close(biz)
            elif verified_method == TRADE_REFUND:
                body = self._refund(biz)
            else:
                body = self._bill_url(biz, bill_url)
            answer = {"code": SUCCESS[0], "msg": SUCCESS[1], **body}
        except AlipayApiError as exc:
            answer = {
                "code": exc.code,
                "msg": exc.msg,
                "sub_code": exc.sub_code,
                "sub_msg": exc.sub_msg,
            }
        return self.signed_response(method, answer)

    def open_cashier(self, params: Mapping[str, str]) -> str:
        """``alipay.trade.wap.pay`` opened by the buyer's browser: check it, create (or
        find) the trade and return its cashier token; :class:`AlipayApiError` otherwise."""
        method, biz = self.verify_request(params)
        if method != WAP_PAY:
            raise AlipayApiError(INVALID, "isv.invalid-method", "不存在的方法名")
        out_trade_no = biz.get("out_trade_no")
        if not isinstance(out_trade_no, str) or not OUT_NO.match(out_trade_no):
            raise _invalid("out_trade_no必须是1到64位字母、数字或下划线")
        total_fen = parse_amount(biz.get("total_amount"), "total_amount")
        subject = biz.get("subject")
        if not isinstance(subject, str) or not subject.strip() or len(subject) > 256:
            raise _invalid("subject不能为空且不超过256个字符")
        if biz.get("product_code") not in WAP_PRODUCT_CODES:
            raise _invalid("product_code应为QUICK_WAP_WAY")
        if biz.get("seller_id") not in (None, "", self.seller_id):
            raise AlipayApiError(BUSINESS, "ACQ.SELLER_NOT_EXIST", "卖家不存在")
        time_expire: datetime | None = None
        if biz.get("time_expire"):
            try:
                time_expire = datetime.strptime(str(biz["time_expire"]), TIME_FORMAT).replace(
                    tzinfo=SHANGHAI
                )
            except ValueError:
                raise _invalid("time_expire格式应为yyyy-MM-dd HH:mm:ss")
        now = self._now()
        with self._lock:
            self._sweep(now)
            trade = self._trades.get(out_trade_no)
            if trade is not None:
                if trade.status in (TRADE_SUCCESS, TRADE_FINISHED):
                    raise AlipayApiError(BUSINESS, "ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
                if trade.status == TRADE_CLOSED:
                    raise AlipayApiError(BUSINESS, "ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
                if trade.total_fen != total_fen or trade.subject != subject:
                    raise AlipayApiError(BUSINESS, "ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
                return trade.cashier_token
            if time_expire is not None and time_expire <= now:
                raise AlipayApiError(
                    BUSINESS, "ACQ.TRADE_HAS_CLOSE", "交易已经关闭（已超过time_expire）"
                )
            trade = _Trade(
                out_trade_no=out_trade_no,
                trade_no=now.astimezone(SHANGHAI).strftime("%Y%m%d")
                + "2200"
                + "".join(str(secrets.randbelow(10)) for _ in range(16)),
                total_fen=total_fen,
                subject=subject,
                notify_url=params.get("notify_url", ""),
                return_url=params.get("return_url", ""),
                quit_url=str(biz.get("quit_url") or ""),
                time_expire=time_expire,
                cashier_token=secrets.token_urlsafe(16),
                created_at=now,
            )
            self._trades[out_trade_no] = trade
            self._cashiers[trade.cashier_token] = out_trade_no
            return trade.cashier_token

    def _find(self, biz: Mapping[str, Any]) -> _Trade:
        out_trade_no = biz.get("out_trade_no")
        trade_no = biz.get("trade_no")
        if not out_trade_no and not trade_no:
            raise _invalid("out_trade_no和trade_no不能同时为空")
        self._sweep(self._now())
        trade = self._trades.get(str(out_trade_no)) if out_trade_no else None
        if trade is None and trade_no:
            trade = next((t for t in self._trades.values() if t.trade_no == trade_no), None)
        if trade is None or (trade_no and trade.trade_no != trade_no):
            raise AlipayApiError(BUSINESS, "ACQ.TRADE_NOT_EXIST", "交易不存在")
        return trade

    def _query(self, biz: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            trade = self._find(biz)
            paid = trade.paid_at is not None
            body: dict[str, Any] = {
                "trade_no": trade.trade_no,
                "out_trade_no": trade.out_trade_no,
                "trade_status": trade.status,
                "total_amount": yuan(trade.total_fen),
                "buyer_pay_amount": yuan(trade.total_fen if paid else 0),
                "point_amount": "0.00",
                "invoice_amount": yuan(trade.total_fen if paid else 0),
                "receipt_amount": yuan(trade.total_fen if paid else 0),
            }
            if trade.paid_at is not None:
                body["send_pay_date"] = beijing(trade.paid_at)
                body["buyer_logon_id"] = trade.buyer_logon_id
                body["buyer_user_id"] = trade.buyer_id
            return body

    def _close(self, biz: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            trade = self._find(biz)
            if trade.status != WAIT_BUYER_PAY:
                raise AlipayApiError(BUSINESS, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            self._close_trade(trade, self._now())
            return {"trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no}

    def _refund(self, biz: Mapping[str, Any]) -> dict[str, Any]:
        refund_fen = parse_amount(biz.get("refund_amount"), "refund_amount")
        with self._lock:
            trade = self._find(biz)
            out_request_no = str(biz.get("out_request_no") or trade.out_trade_no)
            if len(out_request_no) > 64:
                raise _invalid("out_request_no不能超过64个字符")
            previous = next((r for r in trade.refunds if r.out_request_no == out_request_no), None)
            if previous is not None:  # idempotent: the same request, answered again
                return self._refund_answer(trade, previous, fund_change="N")
            if trade.status == WAIT_BUYER_PAY:
                raise AlipayApiError(BUSINESS, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            if trade.status == TRADE_FINISHED:
                raise AlipayApiError(BUSINESS, "ACQ.TRADE_HAS_FINISHED", "交易已完结")
            if trade.status == TRADE_CLOSED:
                raise AlipayApiError(BUSINESS, "ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
            if trade.refunded_fen + refund_fen > trade.total_fen:
                raise AlipayApiError(BUSINESS, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
            now = self._now()
            refund = _Refund(
                out_request_no=out_request_no,
                amount_fen=refund_fen,
                reason=str(biz.get("refund_reason") or ""),
                at=now,
                refunded_after_fen=trade.refunded_fen + refund_fen,
            )
            trade.refunds.append(refund)
            extra = {
                "refund_fee": yuan(trade.refunded_fen),
                "gmt_refund": beijing(now),
                "out_biz_no": out_request_no,
            }
            if trade.refunded_fen == trade.total_fen:
                trade.status = TRADE_CLOSED
                trade.closed_at = now
                extra["gmt_close"] = beijing(now)
            self._notify(trade, extra)
            return self._refund_answer(trade, refund, fund_change="Y")

    def _refund_answer(self, trade: _Trade, refund: _Refund, *, fund_change: str) -> dict[str, Any]:
        return {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": trade.buyer_logon_id,
            "buyer_user_id": trade.buyer_id,
            "fund_change": fund_change,
            "refund_fee": yuan(refund.refunded_after_fen),
            "send_back_fee": yuan(refund.amount_fen),
            "gmt_refund_pay": beijing(refund.at),
        }

    def _bill_url(self, biz: Mapping[str, Any], bill_url: Callable[[str], str]) -> dict[str, Any]:
        if biz.get("bill_type") != "trade":
            raise _invalid("bill_type仅支持trade（沙箱）")
        try:
            day = date.fromisoformat(str(biz.get("bill_date")))
        except ValueError:
            raise _invalid("bill_date格式应为yyyy-MM-dd（沙箱不提供月账单）")
        if day >= self._now().astimezone(SHANGHAI).date():
            raise AlipayApiError(BUSINESS, "isp.bill_not_exist", "账单不存在")
        name, content = self.bill_zip(day)
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._bills[token] = (self.clock() + BILL_URL_TTL_SECONDS, name, content)
        return {"bill_download_url": bill_url(token)}

    def bill_download(self, token: str) -> tuple[str, bytes] | None:
        """The zip behind a bill URL, while it is valid (30 s by the sandbox clock)."""
        with self._lock:
            entry = self._bills.get(token)
        if entry is None or entry[0] < self.clock():
            return None
        return entry[1], entry[2]

    def bill_zip(self, day: date) -> tuple[str, bytes]:
        """The trade bill of ``day`` (Beijing time): a zip with the detail and summary CSVs
        in GBK, shaped like Alipay's 业务明细 (see sandbox/README.md)."""
        start = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
        end = start + timedelta(days=1)
        rows: list[list[str]] = []
        payments = refunds = 0
        paid_fen = refunded_fen = 0
        with self._lock:
            trades = sorted(self._trades.values(), key=lambda t: t.created_at)
            for trade in trades:
                if trade.paid_at is not None and start <= trade.paid_at < end:
                    payments += 1
                    paid_fen += trade.total_fen
                    rows.append(self._bill_row(trade, "交易", trade.paid_at, trade.total_fen, ""))
                for refund in trade.refunds:
                    if start <= refund.at < end:
                        refunds += 1
                        refunded_fen += refund.amount_fen
                        rows.append(
                            self._bill_row(
                                trade, "退款", refund.at, -refund.amount_fen, refund.out_request_no
                            )
                        )
        stamp = day.strftime("%Y%m%d")
        period = (
            f"#起始日期：[{start.strftime('%Y年%m月%d日 %H:%M:%S')}]   "
            f"终止日期：[{end.strftime('%Y年%m月%d日 %H:%M:%S')}]"
        )
        exported = (
            f"#导出时间：[{self._now().astimezone(SHANGHAI).strftime('%Y年%m月%d日 %H:%M:%S')}]"
        )
        detail = io.StringIO()
        detail.write(f"#支付宝业务明细查询\r\n#账号：[{self.seller_id}]\r\n{period}\r\n")
        detail.write(
            "#-----------------------------------------业务明细列表----------------------------------------\r\n"
        )
        writer = csv.writer(detail, lineterminator="\r\n")
        writer.writerow(BILL_COLUMNS)
        writer.writerows(rows)
        detail.write(
            "#-----------------------------------------业务明细列表结束------------------------------------\r\n"
        )
        detail.write(f"#交易合计：{payments}笔，商家实收：{yuan(paid_fen)}元，商家优惠：0.00元\r\n")
        detail.write(
            f"#退款合计：{refunds}笔，商家实收：{yuan(-refunded_fen)}元，商家优惠：0.00元\r\n"
        )
        detail.write(exported + "\r\n")
        summary = io.StringIO()
        summary.write(f"#支付宝业务汇总查询\r\n#账号：[{self.seller_id}]\r\n{period}\r\n")
        writer = csv.writer(summary, lineterminator="\r\n")
        writer.writerow(
            [
                "门店编号",
                "门店名称",
                "交易订单总笔数",
                "退款订单总笔数",
                "订单金额（元）",
                "商家实收（元）",
                "服务费（元）",
                "实收净额（元）",
            ]
        )
        writer.writerow(
            [
                "",
                "合计",
                str(payments),
                str(refunds),
                yuan(paid_fen),
                yuan(paid_fen - refunded_fen),
                "0.00",
                yuan(paid_fen - refunded_fen),
            ]
        )
        summary.write(exported + "\r\n")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(
                f"{self.seller_id}_{stamp}_业务明细.csv", detail.getvalue().encode("gbk")
            )
            archive.writestr(
                f"{self.seller_id}_{stamp}_业务明细(汇总).csv", summary.getvalue().encode("gbk")
            )
        return f"{self.seller_id}_{stamp}.csv.zip", buffer.getvalue()

    @staticmethod
    def _bill_row(
        trade: _Trade, kind: str, at: datetime, received_fen: int, out_request_no: str
    ) -> list[str]:
        # Alipay pads long numbers with a tab so that spreadsheets keep every digit.
        values = {
            "支付宝交易号": trade.trade_no + "\t",
            "商户订单号": trade.out_trade_no + "\t",
            "业务类型": kind,
            "商品名称": trade.subject,
            "创建时间": beijing(trade.created_at),
            "完成时间": beijing(at),
            "对方账户": trade.buyer_logon_id,
            "订单金额（元）": yuan(trade.total_fen),
            "商家实收（元）": yuan(received_fen),
            "退款批次号/请求号": (out_request_no + "\t") if out_request_no else "",
        }
        return [
            values.get(column, "0.00" if column.endswith("（元）") else "")
            for column in BILL_COLUMNS
        ]

    # --- the buyer at the cashier and the control API ------------------------------------

    def trade_for_cashier(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            out_trade_no = self._cashiers.get(token)
            if out_trade_no is None:
                return None
            self._sweep(self._now())
            return self._trade_dict(self._trades[out_trade_no])

    def pay(self, out_trade_no: str, *, deliver: bool = True) -> dict[str, Any]:
        """The buyer pays at the opened cashier. Returns the trade (as :meth:`trades`);
        :class:`AlipayControlError` 404 if the cashier was never opened, 409 if the trade
        is not waiting, 402 for a declined (…99 fen) amount. The notification's first try
        is made at once (unless ``deliver=False``); later ones by
        :meth:`deliver_due_notifications`."""
        now = self._now()
        with self._lock:
            self._sweep(now)
            trade = self._trades.get(out_trade_no)
            if trade is None:
                raise AlipayControlError(404, f"没有这笔交易（收银台尚未打开）：{out_trade_no}")
            if trade.status != WAIT_BUYER_PAY:
                raise AlipayControlError(409, f"交易状态为{trade.status}，不能支付")
            if trade.total_fen % 100 == DECLINED_FEN:
                trade.declines += 1
                raise AlipayControlError(
                    402, "支付失败：余额不足（沙箱：金额以99分结尾的订单总是失败）"
                )
            trade.status = TRADE_SUCCESS
            trade.paid_at = now
            trade.buyer_id = "2088" + "".join(str(secrets.randbelow(10)) for _ in range(12))
            trade.buyer_logon_id = "186******" + "".join(
                str(secrets.randbelow(10)) for _ in range(2)
            )
            notification = self._notify(trade, {"gmt_payment": beijing(now)})
            answer = self._trade_dict(trade)
        if deliver and notification is not None and not notification.withheld:
            self.deliver_due_notifications(now.timestamp())
        return answer

    def finish(self, out_trade_no: str) -> dict[str, Any]:
        """The refund period of a paid trade ends: ``TRADE_FINISHED`` (notified)."""
        with self._lock:
            trade = self._trades.get(out_trade_no)
            if trade is None:
                raise AlipayControlError(404, f"没有这笔交易：{out_trade_no}")
            if trade.status != TRADE_SUCCESS:
                raise AlipayControlError(409, f"交易状态为{trade.status}，不能完结")
            trade.status = TRADE_FINISHED
            trade.finished_at = self._now()
            self._notify(trade, {})
            return self._trade_dict(trade)

    def return_url_for(self, out_trade_no: str) -> str | None:
        """Where the browser goes after paying: ``return_url`` with Alipay's signed
        synchronous parameters (``method=alipay.trade.wap.pay.return``)."""
        with self._lock:
            trade = self._trades.get(out_trade_no)
            if trade is None or not trade.return_url or trade.paid_at is None:
                return None
            params = {
                "charset": "utf-8",
                "out_trade_no": trade.out_trade_no,
                "method": "alipay.trade.wap.pay.return",
                "total_amount": yuan(trade.total_fen),
                "trade_no": trade.trade_no,
                "auth_app_id": self.app_id,
                "version": "1.0",
                "app_id": self.app_id,
                "sign_type": "RSA2",
                "seller_id": self.seller_id,
                "timestamp": beijing(trade.paid_at),
            }
            params["sign"] = rsa2_sign(
                self._private_key, sign_content(params, ("sign", "sign_type"))
            )
            separator = "&" if "?" in trade.return_url else "?"
            return trade.return_url + separator + urlencode(params)

    def quit_url_for(self, out_trade_no: str) -> str | None:
        with self._lock:
            trade = self._trades.get(out_trade_no)
            if trade is None:
                return None
            return trade.quit_url or trade.return_url or None

    def trades(self) -> list[dict[str, Any]]:
        """Every trade, oldest first: out_trade_no, trade_no, subject, total_amount,
        total_fen, trade_status, refunded_fen, refunds, notify_url, return_url,
        time_expire, created_at, paid_at, closed_at, finished_at, declines, cashier_path."""
        with self._lock:
            self._sweep(self._now())
            return [
                self._trade_dict(t)
                for t in sorted(self._trades.values(), key=lambda t: t.created_at)
            ]

    def trade(self, out_trade_no: str) -> dict[str, Any] | None:
        with self._lock:
            self._sweep(self._now())
            trade = self._trades.get(out_trade_no)
            return None if trade is None else self._trade_dict(trade)

    def _trade_dict(self, trade: _Trade) -> dict[str, Any]:
        return {
            "out_trade_no": trade.out_trade_no,
            "trade_no": trade.trade_no,
            "subject": trade.subject,
            "total_amount": yuan(trade.total_fen),
            "total_fen": trade.total_fen,
            "trade_status": trade.status,
            "refunded_fen": trade.refunded_fen,
            "refunds": [
                {
                    "out_request_no": r.out_request_no,
                    "refund_amount": yuan(r.amount_fen),
                    "reason": r.reason,
                    "at": r.at,
                }
                for r in trade.refunds
            ],
            "notify_url": trade.notify_url,
            "return_url": trade.return_url,
            "time_expire": trade.time_expire,
            "created_at": trade.created_at,
            "paid_at": trade.paid_at,
            "closed_at": trade.closed_at,
            "finished_at": trade.finished_at,
            "declines": trade.declines,
            "cashier_path": f"/alipay/cashier/{trade.cashier_token}",
        }

    def _close_trade(self, trade: _Trade, now: datetime) -> None:
        trade.status = TRADE_CLOSED
        trade.closed_at = now
        self._notify(trade, {"gmt_close": beijing(now)})

    def _sweep(self, now: datetime) -> None:
        """Close the waiting trades whose ``time_expire`` has passed (lock held)."""
        for trade in self._trades.values():
            if (
                trade.status == WAIT_BUYER_PAY
                and trade.time_expire is not None
                and trade.time_expire <= now
            ):
                self._close_trade(trade, trade.time_expire.astimezone(UTC))

    # --- asynchronous notifications -------------------------------------------------------

    def _notify(self, trade: _Trade, extra: dict[str, str]) -> _Notification | None:
        """Queue the signed notification of the trade's current status (lock held)."""
        if not trade.notify_url:
            return None
        now = self._now()
        form: dict[str, str] = {
            "notify_time": beijing(now),
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "charset": "utf-8",
            "version": "1.0",
            "app_id": self.app_id,
            "auth_app_id": self.app_id,
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "seller_id": self.seller_id,
            "trade_status": trade.status,
            "total_amount": yuan(trade.total_fen),
            "subject": trade.subject,
            "gmt_create": beijing(trade.created_at),
        }
        if trade.paid_at is not None:
            form.update(
                buyer_id=trade.buyer_id,
                buyer_logon_id=trade.buyer_logon_id,
                receipt_amount=yuan(trade.total_fen),
                invoice_amount=yuan(trade.total_fen),
                buyer_pay_amount=yuan(trade.total_fen),
                point_amount="0.00",
                gmt_payment=beijing(trade.paid_at),
                fund_bill_list=json.dumps(
                    [{"amount": yuan(trade.total_fen), "fundChannel": "ALIPAYACCOUNT"}],
                    separators=(",", ":"),
                ),
            )
        form.update(extra)
        form["sign_type"] = "RSA2"
        form["sign"] = rsa2_sign(self._private_key, sign_content(form, ("sign", "sign_type")))
        notification = _Notification(
            notify_id=form["notify_id"],
            out_trade_no=trade.out_trade_no,
            trade_status=trade.status,
            notify_url=trade.notify_url,
            form=form,
            created_at=now.timestamp(),
            withheld=trade.silent,
            next_due=None if trade.silent else now.timestamp(),
        )
        self._notifications.append(notification)
        return notification

    def notification_for(self, out_trade_no: str) -> dict[str, str] | None:
        """The newest signed notification form of a trade (a copy, to replay or tamper
        with), withheld ones included; None if there is none."""
        with self._lock:
            for notification in reversed(self._notifications):
                if notification.out_trade_no == out_trade_no:
                    return dict(notification.form)
        return None

    def notifications(self, out_trade_no: str | None = None) -> list[dict[str, Any]]:
        """Notifications, oldest first: notify_id, out_trade_no, trade_status, notify_url,
        form, withheld, delivered, next_due (epoch seconds or None), attempts
        (``at``, ``status``, ``body``, ``success``)."""
        with self._lock:
            return [
                {
                    "notify_id": n.notify_id,
                    "out_trade_no": n.out_trade_no,
                    "trade_status": n.trade_status,
                    "notify_url": n.notify_url,
                    "form": dict(n.form),
                    "withheld": n.withheld,
                    "delivered": n.delivered,
                    "next_due": n.next_due,
                    "attempts": [dict(a) for a in n.attempts],
                }
                for n in self._notifications
                if out_trade_no is None or n.out_trade_no == out_trade_no
            ]

    def deliver_due_notifications(self, now: float | None = None) -> list[dict[str, Any]]:
        """Try every notification due at ``now`` (epoch seconds; default the clock) once,
        outside the lock (the receiver may call the gateway back). A try succeeds when
        the answer is HTTP 200 with the body exactly ``success``; otherwise the next is
        due ``RETRY_INTERVALS[n]`` seconds after this one, and after the 8th, never.
        Returns the tries made: notify_id, out_trade_no, trade_status, at, status, body,
        success."""
        if now is None:
            now = self.clock()
        with self._lock:
            self._sweep(datetime.fromtimestamp(now, UTC))
            due = [
                n
                for n in self._notifications
                if n.next_due is not None and n.next_due <= now and not n.in_flight
            ]
            for notification in due:
                notification.in_flight = True
        tries = []
        for notification in due:
            status, body = self._post(notification.notify_url, dict(notification.form))
            success = status == 200 and body == ACK_BODY
            attempt = {"at": now, "status": status, "body": body[:200], "success": success}
            with self._lock:
                notification.in_flight = False
                notification.attempts.append(attempt)
                if success:
                    notification.delivered = True
                    notification.next_due = None
                elif len(notification.attempts) <= len(RETRY_INTERVALS):
                    notification.next_due = now + RETRY_INTERVALS[len(notification.attempts) - 1]
                else:
                    notification.next_due = None
            tries.append(
                {
                    "notify_id": notification.notify_id,
                    "out_trade_no": notification.out_trade_no,
                    "trade_status": notification.trade_status,
                    **attempt,
                }
            )
        return tries

    def start_delivery_thread(self, interval: float = 1.0) -> None:
        """Deliver due notifications every ``interval`` seconds by the wall clock, in a
        daemon thread (for ``make run``); tests call :meth:`deliver_due_notifications`."""
        with self._lock:
            if self._timer is not None:
                return
            self._timer_stop.clear()
            self._timer = threading.Thread(
                target=self._deliver_forever, args=(interval,), name="alipay-notify", daemon=True
            )
            self._timer.start()

    def stop_delivery_thread(self) -> None:
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            self._timer_stop.set()
            timer.join(timeout=NOTIFY_TIMEOUT_SECONDS + 1)

    def _deliver_forever(self, interval: float) -> None:
        while not self._timer_stop.wait(interval):
            try:
                self.deliver_due_notifications()
            except Exception:  # keep the timer alive; the sandbox logs and goes on
                log.exception("alipay sandbox: delivering notifications failed")


# --- HTTP --------------------------------------------------------------------------------


def _params() -> dict[str, str]:
    """Common and business parameters: the SDK puts the common ones (with ``sign``) in
    the query string and the rest in a form body; a page GET puts all in the query."""
    params = {key: request.args[key] for key in request.args}
    for key in request.form:
        params.setdefault(key, request.form[key])
    return params


def alipay_blueprint(sandbox: AlipaySandbox) -> Blueprint:
    """``/gateway.do``, the cashier pages, bill downloads and ``/_sandbox/alipay/…``."""
    blueprint = Blueprint("alipay", __name__, template_folder="templates")

    def json_answer(payload: Any, status: int = 200) -> tuple[Response, int]:
        return jsonify(_jsonable(payload)), status

    @blueprint.route(GATEWAY_PATH, methods=["GET", "POST"])
    def gateway() -> Any:
        params = _params()
        if params.get("method") == WAP_PAY:
            try:
                token = sandbox.open_cashier(params)
            except AlipayApiError as exc:
                return render_template(
                    "sandbox/alipay_message.html", title="支付请求错误", error=exc, return_url=None
                ), 200
            return redirect(url_for("alipay.cashier", token=token), code=302)
        body = sandbox.handle_api(
            params, lambda token: url_for("alipay.bill", token=token, _external=True)
        )
        return Response(body, content_type="application/json;charset=utf-8")

    @blueprint.get("/alipay/cashier/<token>")
    def cashier(token: str) -> Any:
        trade = sandbox.trade_for_cashier(token)
        if trade is None:
            return render_template(
                "sandbox/alipay_message.html", title="收银台已失效", error=None, return_url=None
            ), 404
        return render_template(
            "sandbox/alipay_cashier.html",
            trade=trade,
            token=token,
            message=request.args.get("message"),
        )

    @blueprint.post("/alipay/cashier/<token>/pay")
    def cashier_pay(token: str) -> Any:
        trade = sandbox.trade_for_cashier(token)
        if trade is None:
            return redirect(url_for("alipay.cashier", token=token), code=303)
        try:
            sandbox.pay(trade["out_trade_no"])
        except AlipayControlError as exc:
            return redirect(url_for("alipay.cashier", token=token, message=exc.message), code=303)
        target = sandbox.return_url_for(trade["out_trade_no"])
        if target:
            return redirect(target, code=303)
        return redirect(url_for("alipay.cashier", token=token, message="支付成功"), code=303)

    @blueprint.post("/alipay/cashier/<token>/cancel")
    def cashier_cancel(token: str) -> Any:
        trade = sandbox.trade_for_cashier(token)
        target = sandbox.quit_url_for(trade["out_trade_no"]) if trade else None
        if target:
            return redirect(target, code=303)
        return render_template(
            "sandbox/alipay_message.html", title="已取消支付", error=None, return_url=None
        )

    @blueprint.get("/alipay/bill/<token>")
    def bill(token: str) -> Any:
        found = sandbox.bill_download(token)
        if found is None:
            return Response("bill link expired or unknown", status=404, mimetype="text/plain")
        name, content = found
        return Response(
            content,
            mimetype="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @blueprint.get("/alipay/")
    def dev_page() -> Any:
        return render_template(
            "sandbox/alipay_index.html",
            trades=list(reversed(sandbox.trades())),
            notifications=list(reversed(sandbox.notifications())),
            app_id=sandbox.app_id,
            seller_id=sandbox.seller_id,
            message=request.args.get("message"),
        )

    @blueprint.get("/_sandbox/alipay/trades")
    def trades() -> Any:
        return json_answer(sandbox.trades())

    @blueprint.get("/_sandbox/alipay/notifications")
    def notifications() -> Any:
        return json_answer(sandbox.notifications(request.args.get("out_trade_no") or None))

    @blueprint.post("/_sandbox/alipay/trades/<out_trade_no>/pay")
    def control_pay(out_trade_no: str) -> Any:
        from_page = bool(request.form.get("from_page"))
        try:
            trade = sandbox.pay(out_trade_no)
        except AlipayControlError as exc:
            if from_page:
                return redirect(url_for("alipay.dev_page", message=exc.message), code=303)
            return json_answer({"error": exc.message}, exc.status)
        if from_page:
            return redirect(url_for("alipay.dev_page"), code=303)
        return json_answer(trade)

    @blueprint.post("/_sandbox/alipay/trades/<out_trade_no>/finish")
    def control_finish(out_trade_no: str) -> Any:
        try:
            return json_answer(sandbox.finish(out_trade_no))
        except AlipayControlError as exc:
            return json_answer({"error": exc.message}, exc.status)

    @blueprint.post("/_sandbox/alipay/notifications/deliver")
    def control_deliver() -> Any:
        tries = sandbox.deliver_due_notifications()
        if request.form.get("from_page"):
            return redirect(url_for("alipay.dev_page"), code=303)
        return json_answer(tries)

    @blueprint.get("/_sandbox/alipay/public-key")
    def public_key() -> Any:
        return json_answer(
            {
                "app_id": sandbox.app_id,
                "seller_id": sandbox.seller_id,
                "alipay_public_key": sandbox.alipay_public_key,
            }
        )

    @blueprint.post("/_sandbox/alipay/reset")
    def reset() -> Any:
        sandbox.reset()
        return json_answer({"status": "ok"})

    return blueprint


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value
