"""WeChat Pay API v2 (JSAPI, i.e. the mini-program) through wechatpy 1.8.18's ``WeChatPay``.

wechatpy builds and signs the XML requests, parses the answers (raising on FAIL) and
verifies payment notifications (``parse_payment_result``, MD5) and decrypts refund
notifications. What it lacks lives in :class:`_WeChatPayV2`, the one place that bends
wechatpy (keep such hacks here):

- the host: ``API_BASE_URL`` is set on the instance, so the sandbox stands in for
  ``https://api.mch.weixin.qq.com/`` in development and tests;
- HMAC-SHA256: wechatpy signs with HMAC-SHA256 only when the request carries
  ``sign_type``, which its API helpers never add; the subclass adds it to every request;
- answers: wechatpy does not check the signature of WeChat's answers; the subclass does
  (like WeChat's own SDKs), with the request's sign type.

wechatpy's ``get_jsapi_params`` and ``parse_payment_result`` know MD5 only; the
HMAC-SHA256 equivalents below use wechatpy's ``calculate_signature_hmac``.

Errors: a network failure, a timeout, HTTP 5xx, SYSTEMERROR-like codes or an unreadable
answer are :class:`GatewayUnavailable` (retrying is safe: out_trade_no and out_refund_no
make the calls idempotent); any other refusal is :class:`GatewayError` with WeChat's
``err_code`` (ORDERPAID, ORDERNOTEXIST, INVALID_REQUEST, NOTENOUGH, …) or, when WeChat
refused the request itself (``return_code`` FAIL), SIGNERROR, XML_FORMAT_ERROR or FAIL.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import requests
import xmltodict
from defusedxml import ElementTree as SafeElementTree
from wechatpy.exceptions import InvalidSignatureException, WeChatPayException
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac
from wechatpy.utils import random_string

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

logger = logging.getLogger(__name__)

WECHATPAY_DEFAULT_API_BASE = "https://api.mch.weixin.qq.com/"
SIGN_TYPES = ("MD5", "HMAC-SHA256")
SHANGHAI = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y%m%d%H%M%S"  # time_end, time_expire: Beijing time
REFUND_DESC_MAX = 80

# The answer WeChat expects after a payment or refund notification.
ACK_SUCCESS = (
    b"<xml><return_code><![CDATA[SUCCESS]]></return_code>"
    b"<return_msg><![CDATA[OK]]></return_msg></xml>"
)
ACK_FAIL = (
    b"<xml><return_code><![CDATA[FAIL]]></return_code>"
    b"<return_msg><![CDATA[FAIL]]></return_msg></xml>"
)

TRADE_STATES = {
    "SUCCESS": TradeState.PAID,
    "REFUND": TradeState.REFUNDED,
    "NOTPAY": TradeState.NOT_PAID,
    "USERPAYING": TradeState.NOT_PAID,
    "CLOSED": TradeState.CLOSED,
    "REVOKED": TradeState.CLOSED,
    "PAYERROR": TradeState.FAILED,
}
REFUND_STATES = {
    "SUCCESS": "success",
    "PROCESSING": "processing",
    "REFUNDCLOSE": "failed",
    "CHANGE": "failed",  # the refund could not reach the payer's account
}
# err_codes after which the same request may succeed later.
RETRYABLE_ERR_CODES = frozenset({"SYSTEMERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED"})

T = TypeVar("T")


class _SignatureMismatch(Exception):
    """An answer from WeChat whose signature is not the merchant key's."""


class _NoSignatureDebugLog(logging.Filter):
    """wechatpy logs the string it signs, ``…&key=API_KEY``, at DEBUG: never let it out."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Calculate Signature URL")


logging.getLogger("wechatpy.pay.utils").addFilter(_NoSignatureDebugLog())


def _signature(params: Mapping[str, Any], api_key: str, sign_type: str) -> str:
    if sign_type == "HMAC-SHA256":
        return str(calculate_signature_hmac(params, api_key))
    return str(calculate_signature(params, api_key))


class _WeChatPayV2(WeChatPay):
    """wechatpy's WeChatPay against ``api_base_url``, signing every request with
    ``sign_type`` and checking the signature of every answer."""

    def __init__(
        self,
        appid: str,
        api_key: str,
        mch_id: str,
        *,
        api_base_url: str,
        sign_type: str,
        timeout: float,
        mch_cert: str | None,
        mch_key: str | None,
    ):
        super().__init__(
            appid, api_key, mch_id, mch_cert=mch_cert, mch_key=mch_key, timeout=timeout
        )
        self.API_BASE_URL = api_base_url.rstrip("/") + "/"
        self.sign_type = sign_type

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        data = kwargs.get("data")
        if isinstance(data, dict) and self.sign_type != "MD5":
            data.setdefault("sign_type", self.sign_type)
        return super()._request(method, url_or_endpoint, **kwargs)

    def _handle_result(self, res: requests.Response) -> Any:
        data = super()._handle_result(res)  # raises WeChatPayException on any FAIL
        if isinstance(data, dict):
            given = data.get("sign") or ""
            unsigned = {key: value for key, value in data.items() if key != "sign"}
            expected = _signature(unsigned, self.api_key, self.sign_type)
            if not hmac.compare_digest(str(given), expected):
                raise _SignatureMismatch()
        return data


class WeChatPayGateway:
    """:class:`payments.gateways.base.Gateway` for WeChat Pay v2 JSAPI payments.

    ``appid`` is the mini-program bound to the merchant ``mch_id``; ``api_key`` the
    merchant's v2 API key (32 characters); ``api_base_url`` WeChat's
    (``https://api.mch.weixin.qq.com/``) or the sandbox's. Refunds need the merchant's
    TLS client certificate in production (``mch_cert``, ``mch_key``: PEM file paths).
    ``client_ip`` is sent as ``spbill_create_ip`` (the interface has no payer address).
    """

    name = "wechat"

    def __init__(
        self,
        appid: str,
        mch_id: str,
        api_key: str,
        api_base_url: str = WECHATPAY_DEFAULT_API_BASE,
        *,
        timeout: float = 5,
        sign_type: str = "MD5",
        mch_cert: str | None = None,
        mch_key: str | None = None,
        client_ip: str = "127.0.0.1",
    ):
        if not appid or not mch_id or not api_key:
            raise ValueError("WeChat Pay needs the appid, the merchant id and the API key")
        if sign_type not in SIGN_TYPES:
            raise ValueError(f"sign_type must be one of {', '.join(SIGN_TYPES)}")
        self.appid = appid
        self.mch_id = mch_id
        # The names the core checks notifications against (base.Gateway).
        self.app_id = appid
        self.merchant_id = mch_id
        self.sign_type = sign_type
        self.client_ip = client_ip
        self._api_key = api_key
        self._pay = _WeChatPayV2(
            appid,
            api_key,
            mch_id,
            api_base_url=api_base_url,
            sign_type=sign_type,
            timeout=timeout,
            mch_cert=mch_cert,
            mch_key=mch_key,
        )

    def release(self) -> None:
        """Close the HTTP connections (``close`` is the interface's order closing)."""
        self._pay._http.close()

    # --- paying ------------------------------------------------------------------------

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
        """unifiedorder (trade_type JSAPI), then the signed ``wx.requestPayment``
        parameters. The same out_trade_no with the same parameters gives the same
        prepay_id, so a retry after GatewayUnavailable is safe."""
        if not payer_openid:
            raise ValueError("a JSAPI payment needs the payer's openid")
        if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
            raise ValueError("amount_fen must be a positive integer")
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be an aware datetime")
        result = self._call(
            lambda: self._pay.order.create(
                trade_type="JSAPI",
                body=description,
                total_fee=amount_fen,
                notify_url=notify_url,
                client_ip=self.client_ip,  # never wechatpy's default: a DNS lookup
                user_id=payer_openid,
                out_trade_no=out_trade_no,
                time_expire=expires_at.astimezone(SHANGHAI),
            )
        )
        prepay_id = result.get("prepay_id")
        if not prepay_id:
            raise GatewayUnavailable("UNEXPECTED_RESPONSE", "unifiedorder answer without prepay_id")
        return CreatedPayment(
            gateway_order_id=str(prepay_id), client_params=self._request_payment_params(prepay_id)
        )

    def _request_payment_params(self, prepay_id: str) -> dict[str, Any]:
        """What ``wx.requestPayment`` takes: timeStamp, nonceStr, package, signType,
        paySign (appId is signed but not passed: it is the mini-program's own)."""
        if self.sign_type == "MD5":
            params = dict(self._pay.jsapi.get_jsapi_params(prepay_id))
        else:
            params = {
                "appId": self.appid,
                "timeStamp": str(int(time.time())),
                "nonceStr": random_string(32),
                "signType": self.sign_type,
                "package": f"prepay_id={prepay_id}",
            }
            params["paySign"] = _signature(params, self._api_key, self.sign_type)
        return {
            key: params[key] for key in ("timeStamp", "nonceStr", "package", "signType", "paySign")
        }

    # --- notifications -------------------------------------------------------------------

    def parse_notification(
        self, body: bytes, headers: dict[str, str], form: dict[str, str]
    ) -> PaymentResult:
        """A payment notification, its signature verified (MD5 by wechatpy's
        ``parse_payment_result``, or HMAC-SHA256 when its ``sign_type`` says so, as
        WeChat's own SDKs decide). The app id, merchant id and amount are returned, not
        checked against the order: the core does that."""
        try:
            fields = self._flat_xml(body)
            sign_type = fields.get("sign_type") or "MD5"
            if sign_type == "MD5":
                data = dict(self._pay.parse_payment_result(body))
            elif sign_type == "HMAC-SHA256":
                data = self._parse_hmac_notification(body)
            else:
                raise NotificationRejected(f"unknown sign_type {sign_type[:20]!r}")
        except NotificationRejected:
            raise
        except InvalidSignatureException:
            raise NotificationRejected("signature mismatch") from None
        except Exception as exc:  # any doubt is a rejection
            raise NotificationRejected(f"malformed notification: {type(exc).__name__}") from None
        return self._payment_result(data)

    @staticmethod
    def _flat_xml(body: bytes) -> dict[str, str]:
        """The fields of a flat ``<xml>`` document (DTDs and entities refused)."""
        root = SafeElementTree.fromstring(body, forbid_dtd=True)
        if root.tag != "xml":
            raise ValueError("the root element is not <xml>")
        return {child.tag: (child.text or "") for child in root}

    def _parse_hmac_notification(self, body: bytes) -> dict[str, Any]:
        """``parse_payment_result`` for HMAC-SHA256, with the same parsing and conversions."""
        data = dict(xmltodict.parse(body)["xml"])
        given = data.pop("sign", None) or ""
        expected = _signature(data, self._api_key, "HMAC-SHA256")
        if not hmac.compare_digest(str(given), expected):
            raise InvalidSignatureException()
        for key in ("total_fee", "settlement_total_fee", "cash_fee", "coupon_fee", "coupon_count"):
            if key in data:
                data[key] = int(data[key])
        data["sign"] = given
        return data

    def _payment_result(self, data: dict[str, Any]) -> PaymentResult:
        if data.get("return_code") != "SUCCESS":
            raise NotificationRejected("return_code is not SUCCESS")
        out_trade_no = data.get("out_trade_no")
        if not out_trade_no:
            raise NotificationRejected("no out_trade_no")
        paid = data.get("result_code") == "SUCCESS"
        try:
            amount = int(data["total_fee"]) if data.get("total_fee") is not None else None
            paid_at = _beijing_time(data["time_end"]) if data.get("time_end") else None
        except (TypeError, ValueError):
            raise NotificationRejected("malformed total_fee or time_end") from None
        transaction_id = data.get("transaction_id") or None
        if paid and (amount is None or paid_at is None or transaction_id is None):
            raise NotificationRejected("a payment without total_fee, time_end or transaction_id")
        return PaymentResult(
            out_trade_no=str(out_trade_no),
            state=TradeState.PAID if paid else TradeState.FAILED,
            amount_fen=amount,
            transaction_id=transaction_id,
            paid_at=paid_at,
            app_id=data.get("appid"),
            merchant_id=data.get("mch_id"),
            raw=data,
        )

    def ack(self, accepted: bool) -> NotificationAck:
        """``SUCCESS``/``OK`` stops WeChat's resending; ``FAIL`` asks for it again."""
        return NotificationAck(
            body=ACK_SUCCESS if accepted else ACK_FAIL, content_type="text/xml; charset=utf-8"
        )

    def parse_refund_notification(self, body: bytes) -> RefundResult:
        """A refund notification (``req_info`` AES-256-ECB encrypted with md5(API key),
        decrypted by wechatpy, which also checks appid and mch_id). Not in the Gateway
        interface. The encryption is not authenticated: confirm with :meth:`refund_query`
        before moving money on its word."""
        try:
            self._flat_xml(body)
            data = dict(self._pay.parse_refund_notify_result(body))
            state = REFUND_STATES[str(data["refund_status"])]
            return RefundResult(
                out_refund_no=str(data["out_refund_no"]),
                out_trade_no=str(data["out_trade_no"]),
                amount_fen=int(data["refund_fee"]),
                state=state,
                refund_id=str(data["refund_id"]),
                raw=data,
            )
        except Exception as exc:
            reason = f"refund notification rejected: {type(exc).__name__}"
            raise NotificationRejected(reason) from None

    # --- orders --------------------------------------------------------------------------

    def query(self, out_trade_no: str) -> PaymentResult:
        """orderquery; an order WeChat does not know is ``TradeState.UNKNOWN``."""
        try:
            data = self._call(lambda: self._pay.order.query(out_trade_no=out_trade_no))
        except GatewayError as exc:
            if exc.code != "ORDERNOTEXIST":
                raise
            return PaymentResult(
                out_trade_no=out_trade_no, state=TradeState.UNKNOWN, amount_fen=None,
                transaction_id=None, paid_at=None, app_id=None, merchant_id=None,
                raw={"err_code": exc.code, "err_code_des": exc.message},
            )
        if data.get("out_trade_no") != out_trade_no:
            raise GatewayUnavailable("UNEXPECTED_RESPONSE", "orderquery answered another order")
        state = TRADE_STATES.get(str(data.get("trade_state")))
        if state is None:
            raise GatewayUnavailable(
                "UNEXPECTED_RESPONSE", f"unknown trade_state {str(data.get('trade_state'))[:20]}"
            )
        try:
            amount = int(data["total_fee"]) if data.get("total_fee") else None
            paid_at = _beijing_time(data["time_end"]) if data.get("time_end") else None
        except ValueError:
            raise GatewayUnavailable("UNEXPECTED_RESPONSE", "malformed total_fee or time_end")
        return PaymentResult(
            out_trade_no=out_trade_no,
            state=state,
            amount_fen=amount,
            transaction_id=data.get("transaction_id") or None,
            paid_at=paid_at,
            app_id=data.get("appid"),
            merchant_id=data.get("mch_id"),
            raw=dict(data),
        )

    def close(self, out_trade_no: str) -> None:
        """closeorder; closing a closed order is fine. ORDERPAID: the payer was faster."""
        try:
            self._call(lambda: self._pay.order.close(out_trade_no))
        except GatewayError as exc:
            if exc.code != "ORDERCLOSED":
                raise

    # --- refunds -------------------------------------------------------------------------

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
        """Apply for a refund. WeChat's SUCCESS means *accepted* (state "processing");
        the result comes by refund notification or :meth:`refund_query`. The same
        out_refund_no again refunds once and answers the same refund_id."""
        data = self._call(
            lambda: self._pay.refund.apply(
                total_fee=total_fen,
                refund_fee=refund_fen,
                out_refund_no=out_refund_no,
                out_trade_no=out_trade_no,
                refund_desc=reason[:REFUND_DESC_MAX] or None,
                notify_url=notify_url or None,
            )
        )
        try:
            return RefundResult(
                out_refund_no=str(data["out_refund_no"]),
                out_trade_no=str(data["out_trade_no"]),
                amount_fen=int(data["refund_fee"]),
                state="processing",
                refund_id=str(data["refund_id"]),
                raw=dict(data),
            )
        except (KeyError, TypeError, ValueError):
            raise GatewayUnavailable("UNEXPECTED_RESPONSE", "refund answer incomplete")

    def refund_query(self, out_refund_no: str) -> RefundResult:
        """refundquery for one refund (not in the Gateway interface)."""
        data = self._call(lambda: self._pay.refund.query(out_refund_no=out_refund_no))
        try:
            count = int(data.get("refund_count") or 0)
            for index in range(count):
                if data.get(f"out_refund_no_{index}") != out_refund_no:
                    continue
                return RefundResult(
                    out_refund_no=out_refund_no,
                    out_trade_no=str(data["out_trade_no"]),
                    amount_fen=int(data[f"refund_fee_{index}"]),
                    state=REFUND_STATES[str(data[f"refund_status_{index}"])],
                    refund_id=str(data[f"refund_id_{index}"]),
                    raw=dict(data),
                )
        except (KeyError, TypeError, ValueError):
            pass
        raise GatewayUnavailable("UNEXPECTED_RESPONSE", "refundquery answer without the refund")

    # --- the daily bill ------------------------------------------------------------------

    def statement(self, day: date) -> list[StatementLine]:
        """The ALL bill of ``day`` (Beijing time): one line per payment and per refund.
        A day without any is ``[]``; a bill not generated yet (WeChat makes day D's from
        D+1 9:00, recommends fetching after 10:00) is GatewayUnavailable BILL_CREATING."""
        try:
            text = self._call(lambda: self._pay.tools.download_bill(day, bill_type="ALL"))
        except GatewayError as exc:
            if exc.code == "NO_BILL_EXIST":
                return []
            raise
        if not isinstance(text, str):
            raise GatewayUnavailable("UNEXPECTED_RESPONSE", "downloadbill answered no bill")
        return parse_bill(text)

    # --- errors --------------------------------------------------------------------------

    @staticmethod
    def _call(request: Callable[[], T]) -> T:
        try:
            result = request()
        except WeChatPayException as exc:
            raise _translate(exc) from exc
        except _SignatureMismatch:
            logger.warning("WeChat Pay answer with a wrong signature")
            raise GatewayError(
                "INVALID_ANSWER_SIGNATURE", "the answer is not signed with the merchant key"
            ) from None
        except requests.RequestException as exc:
            logger.warning("WeChat Pay unreachable: %s", type(exc).__name__)
            raise GatewayUnavailable("NETWORK", f"WeChat Pay unreachable: {type(exc).__name__}")
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            # wechatpy trips over an answer that is XML but not WeChat's.
            raise GatewayUnavailable("UNEXPECTED_RESPONSE", f"unreadable answer: {exc!r}"[:200])
        if isinstance(result, str) and not result.lstrip("\ufeff").startswith("交易时间"):
            # wechatpy hands back any answer that is not XML as text.
            raise GatewayUnavailable("UNEXPECTED_RESPONSE", "answer is not XML")
        return result


def _translate(exc: WeChatPayException) -> GatewayError:
    if exc.return_code is None:
        # wechatpy raises without return_code when the HTTP status is not 2xx.
        status = getattr(exc.response, "status_code", None)
        if status is None or status >= 500:
            return GatewayUnavailable("HTTP_ERROR", f"HTTP {status}")
        return GatewayError("HTTP_ERROR", f"HTTP {status}")
    if exc.return_code != "SUCCESS":
        # WeChat refused the request itself: return_code FAIL and a return_msg.
        message = str(exc.return_msg or "")
        if message.startswith("签名错误"):
            logger.warning("WeChat Pay: signature refused (API key or sign_type wrong?)")
            return GatewayError("SIGNERROR", message)
        code = {
            "XML格式错误": "XML_FORMAT_ERROR",
            "No Bill Exist": "NO_BILL_EXIST",
            "Bill Creating": "BILL_CREATING",
        }.get(message, "FAIL")
        if code == "BILL_CREATING":
            return GatewayUnavailable(code, message)
        return GatewayError(code, message)
    code = str(exc.errcode or "FAIL")
    message = str(exc.errmsg or "")
    if code in RETRYABLE_ERR_CODES:
        return GatewayUnavailable(code, message)
    return GatewayError(code, message)


def _beijing_time(value: str) -> datetime:
    """``yyyyMMddHHmmss`` in Beijing time → aware UTC."""
    return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=SHANGHAI).astimezone(UTC)


def _fen(yuan: str) -> int:
    try:
        amount = Decimal(yuan) * 100
    except InvalidOperation:
        raise GatewayError("BILL_MALFORMED", f"not an amount: {yuan[:20]!r}") from None
    if amount != amount.to_integral_value():
        raise GatewayError("BILL_MALFORMED", f"not whole fen: {yuan[:20]!r}")
    return int(amount)


def parse_bill(text: str) -> list[StatementLine]:
    """WeChat Pay v2's ALL bill: a header, one backtick-prefixed row per payment (交易状态
    SUCCESS) or refund (REFUND), then a summary header (总交易单数, …) and its row.
    Columns are found by name in the header (WeChat does not promise their order)."""
    lines = [line for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    if not lines or not lines[0].startswith("交易时间"):
        raise GatewayError("BILL_MALFORMED", "the bill does not start with its header")
    header = lines[0].split(",")

    def column(*names: str) -> int:
        for name in names:
            if name in header:
                return header.index(name)
        raise GatewayError("BILL_MALFORMED", f"the bill has no column {names[0]}")

    at_col = column("交易时间")
    transaction_col = column("微信订单号")
    out_trade_col = column("商户订单号")
    state_col = column("交易状态")
    paid_col = column("订单金额", "总金额", "应结订单金额")
    refund_no_col = column("商户退款单号")
    refund_col = column("申请退款金额", "退款金额")
    result: list[StatementLine] = []
    for line in lines[1:]:
        if line.startswith("总交易单数"):
            break
        if not line.startswith("`"):
            raise GatewayError("BILL_MALFORMED", "a bill row without its backticks")
        cells = line[1:].split(",`")
        if len(cells) != len(header):
            raise GatewayError("BILL_MALFORMED", "a bill row with another number of columns")
        try:
            at = (
                datetime.strptime(cells[at_col], "%Y-%m-%d %H:%M:%S")
                .replace(tzinfo=SHANGHAI)
                .astimezone(UTC)
            )
        except ValueError:
            raise GatewayError("BILL_MALFORMED", "a bill row with a malformed time") from None
        state = cells[state_col]
        if state == "SUCCESS":
            result.append(
                StatementLine(
                    out_trade_no=cells[out_trade_col],
                    transaction_id=cells[transaction_col],
                    kind="payment",
                    amount_fen=_fen(cells[paid_col]),
                    at=at,
                )
            )
        elif state == "REFUND":
            result.append(
                StatementLine(
                    out_trade_no=cells[out_trade_col],
                    transaction_id=cells[transaction_col],
                    kind="refund",
                    amount_fen=_fen(cells[refund_col]),
                    at=at,
                    out_refund_no=cells[refund_no_col],
                )
            )
        else:
            raise GatewayError("BILL_MALFORMED", f"unknown 交易状态 {state[:20]!r}")
    return result


def make_wechatpay_gateway(config: Mapping[str, Any]) -> WeChatPayGateway:
    """The gateway for these settings: WECHAT_APPID, WECHATPAY_MCH_ID, WECHATPAY_API_KEY,
    WECHATPAY_API_BASE, and optionally WECHATPAY_SIGN_TYPE, WECHATPAY_TIMEOUT_SECONDS,
    WECHATPAY_MCH_CERT, WECHATPAY_MCH_KEY, WECHATPAY_CLIENT_IP."""
    return WeChatPayGateway(
        config["WECHAT_APPID"],
        config["WECHATPAY_MCH_ID"],
        config["WECHATPAY_API_KEY"],
        config.get("WECHATPAY_API_BASE") or WECHATPAY_DEFAULT_API_BASE,
        timeout=float(config.get("WECHATPAY_TIMEOUT_SECONDS") or 5),
        sign_type=config.get("WECHATPAY_SIGN_TYPE") or "MD5",
        mch_cert=config.get("WECHATPAY_MCH_CERT") or None,
        mch_key=config.get("WECHATPAY_MCH_KEY") or None,
        client_ip=config.get("WECHATPAY_CLIENT_IP") or "127.0.0.1",
    )
