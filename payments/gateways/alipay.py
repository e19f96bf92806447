"""Alipay (支付宝) mobile-web payments (``alipay.trade.wap.pay``) with the official
alipay-sdk-python.

The SDK builds and signs every request (RSA2 with the app's private key) and verifies
every answer's signature with Alipay's public key; this module translates between it
and :class:`payments.gateways.base.Gateway`. Two quirks of alipay-sdk-python 3.7 are
handled here (see docs/payments-alipay.md):

- ``util.WebUtils.get_http_connection`` connects to port 80 or 443 whatever the server
  URL says. :func:`patch_sdk_port` replaces that one function, once, with one that keeps
  the URL's port; every :class:`AlipayGateway` applies it.
- The SDK has no helper for asynchronous notifications: :meth:`AlipayGateway.
  parse_notification` verifies with its ``verify_with_rsa`` over ``get_sign_content``,
  and that *raises* ``rsa.VerificationError`` on a bad signature.

Money: Alipay speaks yuan strings with two decimals; the platform integer fen. Times:
Alipay speaks Beijing time without a zone; the platform aware UTC datetimes.
"""

from __future__ import annotations

import base64
import binascii
import csv
import http.client
import io
import json
import re
import threading
import zipfile
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import requests
import rsa
from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.domain.AlipayDataDataserviceBillDownloadurlQueryModel import (
    AlipayDataDataserviceBillDownloadurlQueryModel,
)
from alipay.aop.api.domain.AlipayTradeCloseModel import AlipayTradeCloseModel
from alipay.aop.api.domain.AlipayTradeQueryModel import AlipayTradeQueryModel
from alipay.aop.api.domain.AlipayTradeRefundModel import AlipayTradeRefundModel
from alipay.aop.api.domain.AlipayTradeWapPayModel import AlipayTradeWapPayModel
from alipay.aop.api.exception.Exception import RequestException, ResponseException
from alipay.aop.api.request.AlipayDataDataserviceBillDownloadurlQueryRequest import (
    AlipayDataDataserviceBillDownloadurlQueryRequest,
)
from alipay.aop.api.request.AlipayTradeCloseRequest import AlipayTradeCloseRequest
from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
from alipay.aop.api.request.AlipayTradeRefundRequest import AlipayTradeRefundRequest
from alipay.aop.api.request.AlipayTradeWapPayRequest import AlipayTradeWapPayRequest
from alipay.aop.api.util import WebUtils
from alipay.aop.api.util.SignatureUtils import get_sign_content, verify_with_rsa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa as rsa_keys

from payments.gateways.base import (
    CreatedPayment,
    GatewayError,
    GatewayUnavailable,
    NotificationAck,
    NotificationRejected,
    PaymentResult,
    RefundResult,
    StatementLine,
    TradeState,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PRODUCT_CODE = "QUICK_WAP_WAY"
MAX_SUBJECT = 256
OUT_NO = re.compile(r"^[0-9A-Za-z_]{1,64}$")
# Alipay's amounts: yuan with exactly two decimals (what its notifications and answers
# carry); a refund line of a bill is negative.
YUAN = re.compile(r"^(0|[1-9]\d*)\.\d{2}$")
SIGNED_YUAN = re.compile(r"^-?(0|[1-9]\d*)\.\d{2}$")
# Answers meaning "try again later" rather than "no".
UNAVAILABLE_CODES = {"20000", "ACQ.SYSTEM_ERROR", "isp.unknow-error", "isp.unknown-error"}
TRADE_NOT_EXIST = "ACQ.TRADE_NOT_EXIST"
KNOWN_STATUSES = {"WAIT_BUYER_PAY", "TRADE_SUCCESS", "TRADE_CLOSED", "TRADE_FINISHED"}

# --- the port patch ----------------------------------------------------------------------

_patch_lock = threading.Lock()
_connections = threading.local()  # the connection the SDK opened in this thread


def _get_http_connection(url: str, query_string: str, timeout: float) -> tuple[str, Any]:
    """``WebUtils.get_http_connection`` that connects to the port of ``url``.

    The SDK's own always uses 80 (http) or 443 (https), and its attempt to keep the port
    in the request URL would fail (``str + int``). Same return value: the absolute URL
    to request (with the query string) and an unopened connection."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    connection: http.client.HTTPConnection
    if https:
        connection = http.client.HTTPSConnection(
            host=parts.hostname or "", port=port, timeout=timeout
        )
    else:
        connection = http.client.HTTPConnection(
            host=parts.hostname or "", port=port, timeout=timeout
        )
    _connections.current = connection
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{query_string}", connection


def patch_sdk_port() -> None:
    """Make the SDK connect to the server URL's port. Idempotent and thread-safe."""
    with _patch_lock:
        if WebUtils.get_http_connection is not _get_http_connection:
            WebUtils.get_http_connection = _get_http_connection


def sdk_port_patched() -> bool:
    return WebUtils.get_http_connection is _get_http_connection


# --- keys, money, time -------------------------------------------------------------------


def _der_or_pem(text: str) -> tuple[bytes, bool]:
    text = text.strip()
    if "-----BEGIN" in text:
        return text.encode("ascii"), True
    try:
        return base64.b64decode("".join(text.split()), validate=True), False
    except (binascii.Error, ValueError):
        raise ValueError("not a PEM key or base64 DER")


def app_private_key_pem(text: str) -> str:
    """The app's private key as PKCS#1 PEM, the one format the SDK's ``rsa`` reads.
    Accepts PKCS#1 or PKCS#8 (what Alipay's key tool makes for Java), PEM or bare base64."""
    data, pem = _der_or_pem(text)
    loader = serialization.load_pem_private_key if pem else serialization.load_der_private_key
    key = loader(data, password=None)
    if not isinstance(key, rsa_keys.RSAPrivateKey):
        raise ValueError("the app private key is not an RSA key")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")


def alipay_public_key_pem(text: str) -> str:
    """Alipay's public key as SubjectPublicKeyInfo PEM; accepts PEM or the bare base64
    that Alipay's console shows."""
    data, pem = _der_or_pem(text)
    loader = serialization.load_pem_public_key if pem else serialization.load_der_public_key
    key = loader(data)
    if not isinstance(key, rsa_keys.RSAPublicKey):
        raise ValueError("the Alipay public key is not an RSA key")
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def fen_to_yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_to_fen(text: object, *, signed: bool = False) -> int:
    """``"123.45"`` → 12345 exactly (Decimal); ValueError unless exactly two decimals."""
    if not isinstance(text, str) or not (SIGNED_YUAN if signed else YUAN).match(text):
        raise ValueError(f"not an amount in yuan with two decimals: {text!r}")
    return int(Decimal(text) * 100)


def beijing_time(text: object) -> datetime:
    """``"2026-11-23 21:30:00"`` (Beijing) → aware UTC; ValueError if malformed."""
    if not isinstance(text, str):
        raise ValueError(f"not a time: {text!r}")
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=SHANGHAI).astimezone(UTC)


# --- the gateway -------------------------------------------------------------------------


class AlipayGateway:
    """:class:`payments.gateways.base.Gateway` for Alipay wap payments.

    ``app_private_key`` signs requests; ``alipay_public_key`` checks answers and
    notifications. ``server_url`` is the gateway, ``https://openapi.alipay.com/gateway.do``
    in production. ``seller_id`` is the merchant's Alipay user id (2088…), sent with each
    payment. ``timeout`` (seconds) bounds connecting and each read.
    """

    name = "alipay"

    def __init__(
        self,
        app_id: str,
        app_private_key: str,
        alipay_public_key: str,
        server_url: str,
        seller_id: str,
        *,
        timeout: float = 5,
    ):
        patch_sdk_port()
        parts = urlsplit(server_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"server_url must be an http(s) URL: {server_url!r}")
        self.app_id = app_id
        self.seller_id = seller_id
        self.merchant_id = seller_id  # the name the core checks notifications against
        self.server_url = server_url
        self.timeout = timeout
        self._alipay_public_key = alipay_public_key_pem(alipay_public_key)
        config = AlipayClientConfig()
        config.app_id = app_id
        config.app_private_key = app_private_key_pem(app_private_key)
        config.alipay_public_key = self._alipay_public_key
        config.server_url = server_url
        config.sign_type = "RSA2"
        config.charset = "utf-8"
        config.timeout = timeout
        self._client = DefaultAlipayClient(config)

    # --- calls -----------------------------------------------------------------------------

    def _call(self, request: Any, *, allow: tuple[str, ...] = ()) -> dict[str, Any]:
        """Execute one API request: the verified ``…_response`` object. A ``code`` other
        than 10000 raises, unless its ``sub_code`` is in ``allow``."""
        _connections.current = None
        try:
            text = self._client.execute(request)
        except RequestException as exc:  # connecting or sending failed
            raise GatewayUnavailable("NETWORK_ERROR", str(exc))
        except ResponseException as exc:
            if "sign verify failed" in str(exc):
                raise GatewayError("INVALID_RESPONSE_SIGNATURE", "answer signature is invalid")
            raise GatewayUnavailable("BAD_RESPONSE", str(exc)[:300])
        except (OSError, http.client.HTTPException) as exc:  # timeouts, resets while reading
            raise GatewayUnavailable("NETWORK_ERROR", f"{type(exc).__name__}: {exc}")
        except TypeError as exc:
            # The SDK's branch for an HTTP status other than 200 concatenates str and
            # bytes, so a 502 from a proxy surfaces as this TypeError.
            raise GatewayUnavailable("HTTP_ERROR", f"non-200 answer ({exc})")
        finally:
            connection = getattr(_connections, "current", None)
            _connections.current = None
            if connection is not None:
                connection.close()
        try:
            body = json.loads(text)
        except ValueError:
            raise GatewayUnavailable("BAD_RESPONSE", "answer is not JSON")
        if not isinstance(body, dict):
            raise GatewayUnavailable("BAD_RESPONSE", "answer is not a JSON object")
        code = str(body.get("code", ""))
        if code == "10000":
            return body
        sub_code = str(body.get("sub_code") or code or "UNKNOWN")
        sub_msg = str(body.get("sub_msg") or body.get("msg") or "")
        if sub_code in allow:
            return body
        if code in UNAVAILABLE_CODES or sub_code in UNAVAILABLE_CODES:
            raise GatewayUnavailable(sub_code, sub_msg)
        raise GatewayError(sub_code, sub_msg)

    def create_payment(
        self,
        *,
        out_trade_no: str,
        amount_fen: int,
        description: str,
        expires_at: datetime,
        payer_openid: str | None,
        notify_url: str,
        return_url: str | None,
    ) -> CreatedPayment:
        """The signed URL of Alipay's wap cashier (``page_execute`` GET): no network call.
        Alipay creates the trade only when the payer opens it. ``payer_openid`` is
        WeChat's and unused here."""
        if not OUT_NO.match(out_trade_no):
            raise GatewayError("INVALID_PARAMETER", "out_trade_no: 1-64 of [0-9A-Za-z_]")
        if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
            raise GatewayError("INVALID_PARAMETER", "amount_fen must be a positive integer")
        if expires_at.tzinfo is None:
            raise GatewayError("INVALID_PARAMETER", "expires_at must be aware")
        model = AlipayTradeWapPayModel()
        model.out_trade_no = out_trade_no
        model.total_amount = fen_to_yuan(amount_fen)
        model.subject = description[:MAX_SUBJECT]
        model.product_code = PRODUCT_CODE
        model.seller_id = self.seller_id
        model.time_expire = expires_at.astimezone(SHANGHAI).strftime(TIME_FORMAT)
        if return_url:
            model.quit_url = return_url  # where 取消 (leaving the cashier) goes
        request = AlipayTradeWapPayRequest(biz_model=model)
        request.notify_url = notify_url
        if return_url:
            request.return_url = return_url
        try:
            pay_url = self._client.page_execute(request, http_method="GET")
        except RequestException as exc:  # signing failed
            raise GatewayError("SIGN_FAILED", str(exc))
        return CreatedPayment(gateway_order_id=None, pay_url=pay_url)

    def parse_notification(
        self, body: bytes, headers: dict[str, str], form: dict[str, str]
    ) -> PaymentResult:
        """Verify an asynchronous notification (a form POST) and read it.

        The signature covers every parameter but ``sign`` and ``sign_type``, sorted, with
        empty values left out (Alipay's rule; the SDK's ``get_sign_content`` would keep
        them). ``app_id`` and ``seller_id`` are returned as sent: the core checks them.
        """
        if form:
            params = dict(form)
        else:
            try:
                params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                raise NotificationRejected("body is not UTF-8")
        sign = params.pop("sign", "")
        sign_type = params.pop("sign_type", "")
        if not sign:
            raise NotificationRejected("no sign")
        if sign_type != "RSA2":
            raise NotificationRejected(f"sign_type {sign_type!r} is not RSA2")
        content = get_sign_content({key: value for key, value in params.items() if value})
        try:
            verify_with_rsa(self._alipay_public_key, content.encode("utf-8"), sign)
        except rsa.VerificationError:
            raise NotificationRejected("signature does not verify")
        except (binascii.Error, ValueError, TypeError):
            raise NotificationRejected("malformed signature")
        raw = dict(params, sign_type=sign_type)
        try:
            return self._result(params, raw)
        except ValueError as exc:
            raise NotificationRejected(f"malformed notification: {exc}")

    def _result(self, params: Mapping[str, Any], raw: dict[str, Any]) -> PaymentResult:
        out_trade_no = params.get("out_trade_no")
        if not isinstance(out_trade_no, str) or not out_trade_no:
            raise ValueError("no out_trade_no")
        status = params.get("trade_status")
        if status not in KNOWN_STATUSES:
            raise ValueError(f"unknown trade_status {status!r}")
        amount_fen = yuan_to_fen(params.get("total_amount"))
        refund_fen = yuan_to_fen(params["refund_fee"]) if params.get("refund_fee") else 0
        paid_text = params.get("gmt_payment") or params.get("send_pay_date")
        paid_at = beijing_time(paid_text) if paid_text else None
        state: TradeState
        if status == "WAIT_BUYER_PAY":
            state = TradeState.NOT_PAID
        elif refund_fen > 0:
            state = TradeState.REFUNDED
        elif status == "TRADE_CLOSED":
            # Closed after a payment means fully refunded; without one, closed unpaid.
            state = TradeState.REFUNDED if paid_at else TradeState.CLOSED
        else:  # TRADE_SUCCESS, or TRADE_FINISHED (paid, refund period over)
            state = TradeState.PAID
        trade_no = params.get("trade_no")
        return PaymentResult(
            out_trade_no=out_trade_no,
            state=state,
            amount_fen=amount_fen,
            transaction_id=str(trade_no) if trade_no else None,
            paid_at=paid_at,
            app_id=params.get("app_id"),
            merchant_id=params.get("seller_id"),
            raw=raw,
        )

    def ack(self, accepted: bool) -> NotificationAck:
        """Alipay stops resending only on the exact body ``success``."""
        return NotificationAck(
            body=b"success" if accepted else b"failure", content_type="text/plain; charset=utf-8"
        )

    def query(self, out_trade_no: str) -> PaymentResult:
        """``alipay.trade.query``. ``UNKNOWN`` while Alipay has no trade (the payer has
        not opened the cashier). A partly refunded trade stays ``TRADE_SUCCESS`` at
        Alipay and so ``PAID`` here; a fully refunded one is ``REFUNDED``."""
        model = AlipayTradeQueryModel()
        model.out_trade_no = out_trade_no
        body = self._call(AlipayTradeQueryRequest(biz_model=model), allow=(TRADE_NOT_EXIST,))
        if body.get("sub_code") == TRADE_NOT_EXIST:
            return PaymentResult(
                out_trade_no,
                TradeState.UNKNOWN,
                None,
                None,
                None,
                self.app_id,
                self.seller_id,
                raw=body,
            )
        if body.get("out_trade_no") != out_trade_no:
            raise GatewayError("BAD_RESPONSE", "the answer is about another out_trade_no")
        # A signed answer to this app's own request: the app and merchant are ours.
        params = {**body, "app_id": self.app_id, "seller_id": self.seller_id}
        try:
            return self._result(params, body)
        except ValueError as exc:
            raise GatewayError("BAD_RESPONSE", str(exc))

    def close(self, out_trade_no: str) -> None:
        """``alipay.trade.close`` of a waiting trade. Closing one already closed is not an
        error. ``ACQ.TRADE_NOT_EXIST`` (the cashier was never opened) is raised: the URL
        then stays payable until ``expires_at``."""
        model = AlipayTradeCloseModel()
        model.out_trade_no = out_trade_no
        try:
            self._call(AlipayTradeCloseRequest(biz_model=model))
        except GatewayUnavailable:
            raise
        except GatewayError as exc:
            if exc.code != "ACQ.TRADE_STATUS_ERROR":
                raise
            if self.query(out_trade_no).state != TradeState.CLOSED:
                raise

    def refund(
        self,
        *,
        out_trade_no: str,
        out_refund_no: str,
        total_fen: int,
        refund_fen: int,
        reason: str,
        notify_url: str,
    ) -> RefundResult:
        """``alipay.trade.refund``; ``out_refund_no`` is Alipay's ``out_request_no``, so
        the same request twice refunds once. Alipay refunds synchronously: an answer
        with code 10000 is a success. Over-refunding is
        ``GatewayError("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL")``. Alipay notifies the refund
        to the payment's ``notify_url`` (``refund_fee``), not to this one."""
        if not OUT_NO.match(out_refund_no):
            raise GatewayError("INVALID_PARAMETER", "out_refund_no: 1-64 of [0-9A-Za-z_]")
        if refund_fen <= 0 or refund_fen > total_fen:
            raise GatewayError("INVALID_PARAMETER", "0 < refund_fen <= total_fen")
        model = AlipayTradeRefundModel()
        model.out_trade_no = out_trade_no
        model.out_request_no = out_refund_no
        model.refund_amount = fen_to_yuan(refund_fen)
        if reason:
            model.refund_reason = reason[:256]
        request = AlipayTradeRefundRequest(biz_model=model)
        request.notify_url = notify_url
        body = self._call(request)
        amount_fen = refund_fen
        if body.get("send_back_fee"):
            try:
                amount_fen = yuan_to_fen(body["send_back_fee"])
            except ValueError as exc:
                raise GatewayError("BAD_RESPONSE", str(exc))
            if amount_fen != refund_fen:
                raise GatewayError(
                    "REFUND_MISMATCH",
                    f"out_request_no {out_refund_no} was used for {fen_to_yuan(amount_fen)}",
                )
        return RefundResult(
            out_refund_no=out_refund_no,
            out_trade_no=out_trade_no,
            amount_fen=amount_fen,
            state="success",
            refund_id=None,
            raw=body,
        )

    def statement(self, day: date) -> list[StatementLine]:
        """The trade bill of ``day`` (Beijing time; available from the next day):
        ``alipay.data.dataservice.bill.downloadurl.query``, then the zip behind the URL
        (valid 30 s), its GBK detail CSV read into payment and refund lines."""
        model = AlipayDataDataserviceBillDownloadurlQueryModel()
        model.bill_type = "trade"
        model.bill_date = day.isoformat()
        body = self._call(AlipayDataDataserviceBillDownloadurlQueryRequest(biz_model=model))
        url = body.get("bill_download_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise GatewayError("BAD_RESPONSE", "no bill_download_url")
        try:
            response = requests.get(url, timeout=self.timeout)
        except requests.RequestException as exc:
            raise GatewayUnavailable("NETWORK_ERROR", f"bill download: {exc}")
        with response:
            if response.status_code != 200:
                raise GatewayUnavailable(
                    "HTTP_ERROR", f"bill download: HTTP {response.status_code}"
                )
            content = response.content
        try:
            return parse_bill_zip(content)
        except (ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
            raise GatewayError("BAD_STATEMENT", f"{type(exc).__name__}: {exc}")


def parse_bill_zip(content: bytes) -> list[StatementLine]:
    """Lines of an Alipay trade bill zip: the member whose table has the column
    支付宝交易号 (the detail; the summary has none), GBK, ``#`` lines are comments, cells
    may carry a tab. 交易 rows are payments (订单金额), 退款 rows refunds (|商家实收|);
    other business types are left out."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for info in archive.infolist():
            rows = _bill_rows(archive.read(info).decode("gbk"))
            if rows and "支付宝交易号" in rows[0]:
                return [line for line in map(_bill_line(rows[0]), rows[1:]) if line]
    raise ValueError("no detail table in the bill")


def _bill_rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [[cell.strip() for cell in row] for row in csv.reader(lines)]


def _bill_line(header: list[str]) -> Callable[[list[str]], StatementLine | None]:
    index = {name: position for position, name in enumerate(header)}

    def line(row: list[str]) -> StatementLine | None:
        def cell(name: str) -> str:
            return row[index[name]]

        kind = cell("业务类型")
        if kind == "交易":
            return StatementLine(
                out_trade_no=cell("商户订单号"),
                transaction_id=cell("支付宝交易号"),
                kind="payment",
                amount_fen=yuan_to_fen(cell("订单金额（元）")),
                at=beijing_time(cell("完成时间")),
            )
        if kind == "退款":
            return StatementLine(
                out_trade_no=cell("商户订单号"),
                transaction_id=cell("支付宝交易号"),
                kind="refund",
                amount_fen=abs(yuan_to_fen(cell("商家实收（元）"), signed=True)),
                at=beijing_time(cell("完成时间")),
                out_refund_no=cell("退款批次号/请求号") or None,
            )
        return None

    return line
