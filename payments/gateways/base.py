"""The one interface every payment gateway implements.

The core (payments/service.py) speaks only these types. An implementation wraps a
vendor SDK (wechatpy for WeChat Pay v2, alipay-sdk-python for Alipay) and translates.
Money is integer fen everywhere; times are aware UTC datetimes.

A WeChat Pay API v3 implementation (wechatpayv3: JSON, RSA-SHA256 signatures, AES-GCM
encrypted notifications) would be one more class of this protocol; nothing in the core
changes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


class GatewayError(Exception):
    """The gateway refused a request (bad parameters, business error)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class GatewayUnavailable(GatewayError):
    """Network error, timeout or a 5xx: try again later."""


class NotificationRejected(Exception):
    """A notification failed the SDK's verification (signature, format). The app id, the
    merchant id and the amount are the core's to check against the order."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TradeState(enum.StrEnum):
    NOT_PAID = "not_paid"  # created, waiting for the payer
    PAID = "paid"
    CLOSED = "closed"  # closed or expired without payment
    REFUNDED = "refunded"  # (fully or partly) refunded after payment
    FAILED = "failed"  # the payment failed (declined)
    UNKNOWN = "unknown"  # the gateway does not know the order


@dataclass(frozen=True)
class CreatedPayment:
    """What the client needs to pay: for WeChat JSAPI the signed parameters of
    ``wx.requestPayment``; for Alipay wap the URL of the cashier page."""

    gateway_order_id: str | None
    client_params: dict[str, Any] = field(default_factory=dict)
    pay_url: str | None = None


@dataclass(frozen=True)
class PaymentResult:
    """A verified statement of the gateway about one order (notification or query)."""

    out_trade_no: str
    state: TradeState
    amount_fen: int | None
    transaction_id: str | None
    paid_at: datetime | None
    app_id: str | None
    merchant_id: str | None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    out_refund_no: str
    out_trade_no: str
    amount_fen: int
    state: str  # "processing" | "success" | "failed"
    refund_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatementLine:
    """One line of the gateway's daily statement (bill)."""

    out_trade_no: str
    transaction_id: str
    kind: str  # "payment" | "refund"
    amount_fen: int
    at: datetime
    out_refund_no: str | None = None


@dataclass(frozen=True)
class NotificationAck:
    """The exact HTTP answer the gateway expects after a notification."""

    body: bytes
    content_type: str
    status: int = 200


class Gateway(Protocol):
    name: str  # "wechat" | "alipay"
    app_id: str  # the core checks every notification's app id against it
    merchant_id: str  # the merchant (WeChat mch_id, Alipay seller_id), likewise

    def create_payment(self, *, out_trade_no: str, amount_fen: int, description: str,
                       expires_at: datetime, payer_openid: str | None, notify_url: str,
                       return_url: str | None) -> CreatedPayment: ...

    def parse_notification(self, body: bytes, headers: dict[str, str],
                           form: dict[str, str]) -> PaymentResult:
        """Verify with the SDK's own checks; raise NotificationRejected on any doubt."""
        ...

    def ack(self, accepted: bool) -> NotificationAck: ...

    def query(self, out_trade_no: str) -> PaymentResult: ...

    def close(self, out_trade_no: str) -> None: ...

    def refund(self, *, out_trade_no: str, out_refund_no: str, total_fen: int,
               refund_fen: int, reason: str, notify_url: str) -> RefundResult: ...

    def statement(self, day: date) -> list[StatementLine]: ...
