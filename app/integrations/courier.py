"""The courier that carries paper certificates: SF Express's open platform (丰桥).

The core depends on :class:`Courier`. :class:`SfExpressCourier` speaks SF's "CSIM" API
(``POST /std/service``, form-encoded): ``partnerID`` (顾客编码), ``requestID`` (a UUID
per request), ``serviceCode``, ``timestamp`` (epoch seconds), ``msgData`` (the JSON
request) and ``msgDigest`` = Base64(MD5(urlencode(msgData + timestamp + checkWord))).
The answer is JSON: ``apiResultCode`` ``A1000`` when the request was accepted, and
``apiResultData`` — a JSON *string* — with ``success``, ``errorCode`` (``S0000``),
``errorMsg`` and ``msgData``. SF publishes no Python SDK; this client follows the
published protocol, and in development and tests ``COURIER_BASE_URL`` is the sandbox
(sandbox/courier.py), which checks the digest, so this exact code path runs.

* ``EXP_RECE_CREATE_ORDER`` — one parcel for our ``orderId`` (the delivery number).
  The recipient's sign-off code goes with the order: the courier hands the parcel over
  only to someone who shows it.
  A second booking of the same ``orderId`` is refused ``8016`` (重复下单); the client
  then asks ``EXP_RECE_SEARCH_ORDER_RESP`` for the waybill it already has.
* ``EXP_RECE_SEARCH_ROUTES`` — the route of a waybill (揽收, 运输, 派送, 签收…).

The recipient's name, phone and address are personal data: never logged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote_plus, urlsplit
from zoneinfo import ZoneInfo

import requests

from app.integrations.registry import is_loopback_url
from app.kernel.settings import SettingsError

logger = logging.getLogger(__name__)

SERVICE_PATH = "std/service"
CREATE_ORDER = "EXP_RECE_CREATE_ORDER"
SEARCH_ROUTES = "EXP_RECE_SEARCH_ROUTES"
SEARCH_ORDER = "EXP_RECE_SEARCH_ORDER_RESP"
DUPLICATE_ORDER = "8016"  # SF: 重复下单
DEFAULT_TIMEOUT_SECONDS = 5.0
SHANGHAI = ZoneInfo("Asia/Shanghai")
# SF's route operation codes the platform acts on (others are shown as they come).
OP_PICKED_UP = "50"  # 顺丰已收取快件
OP_DELIVERED = "80"  # 已签收
OP_RETURNED = "99"  # 退回
FINAL_OPS = frozenset({OP_DELIVERED, OP_RETURNED})


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    address: str
    company: str = ""


@dataclass(frozen=True)
class Parcel:
    order_id: str  # ours: the delivery number, SF's idempotency key
    sender: Contact
    recipient: Contact
    contents: Sequence[str]  # one line per document
    sign_code: str  # the recipient shows it to the courier


@dataclass(frozen=True)
class RouteEvent:
    at: datetime  # aware (SF gives Beijing time)
    op_code: str
    place: str
    remark: str


class CourierError(Exception):
    """The courier refused the request (bad digest, unknown partner, bad request…)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class CourierUnavailable(CourierError):
    """The courier could not be reached or failed on its side: try again later."""


class Courier(Protocol):
    name: str

    def create_order(self, parcel: Parcel) -> str: ...

    def routes(self, waybill_no: str) -> list[RouteEvent]: ...


class SfExpressCourier:
    """:class:`Courier` over SF's CSIM API; ``clock`` (epoch seconds) stamps requests."""

    name = "顺丰速运"

    def __init__(self, base_url: str, partner_id: str, checkword: str,
                 timeout: float = DEFAULT_TIMEOUT_SECONDS, *,
                 clock: Callable[[], float] = time.time):
        if not base_url or not partner_id or not checkword:
            raise ValueError("the courier's base URL, partner id and checkword are required")
        self.url = base_url.rstrip("/") + "/" + SERVICE_PATH
        self.partner_id = partner_id
        self._checkword = checkword
        self.timeout = timeout
        self.clock = clock
        self._http = requests.Session()

    def __repr__(self) -> str:
        return f"SfExpressCourier({self.url!r}, partner_id={self.partner_id!r})"

    def create_order(self, parcel: Parcel) -> str:
        data = {
            "language": "zh-CN",
            "orderId": parcel.order_id,
            "cargoDetails": [{"name": line[:60], "count": 1} for line in parcel.contents],
            "contactInfoList": [_contact(1, parcel.sender), _contact(2, parcel.recipient)],
            "expressTypeId": 1,  # 顺丰特快
            "payMethod": 1,  # the sender (the registration centre) pays
            "isReturnRoutelabel": 1,
            "extraInfoList": [{"attrName": "signCode", "attrVal": parcel.sign_code}],
        }
        label = f"courier order {parcel.order_id}"
        try:
            result = self._call(CREATE_ORDER, data, label)
        except CourierError as exc:
            if exc.code != DUPLICATE_ORDER:
                raise
            # Booked before (a retry after a timeout): ask for that parcel's waybill.
            result = self._call(SEARCH_ORDER, {"orderId": parcel.order_id, "searchType": 1,
                                               "language": "zh-CN"}, label)
        waybills = result.get("waybillNoInfoList") if isinstance(result, dict) else None
        numbers = [w.get("waybillNo") for w in waybills or [] if isinstance(w, dict)
                   and w.get("waybillType") == 1]
        if len(numbers) != 1 or not isinstance(numbers[0], str) or not numbers[0].isalnum():
            raise CourierError("UNEXPECTED_RESPONSE", "an order answer without one waybill")
        logger.info("courier order %s: waybill %s", parcel.order_id, numbers[0])
        return numbers[0]

    def routes(self, waybill_no: str) -> list[RouteEvent]:
        data = {"language": "zh-CN", "trackingType": 1, "trackingNumber": [waybill_no],
                "methodType": 1}
        result = self._call(SEARCH_ROUTES, data, f"courier routes {waybill_no}")
        responses = result.get("routeResps") if isinstance(result, dict) else None
        if not isinstance(responses, list):
            raise CourierError("UNEXPECTED_RESPONSE", "a routes answer without routeResps")
        events = []
        for response in responses:
            if not isinstance(response, dict) or response.get("mailNo") != waybill_no:
                continue
            for route in response.get("routes") or []:
                events.append(_event(route))
        return sorted(events, key=lambda e: e.at)

    def close(self) -> None:
        self._http.close()

    def _call(self, service: str, data: Mapping[str, Any], label: str) -> Any:
        msg_data = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        timestamp = str(int(self.clock()))
        form = {"partnerID": self.partner_id, "requestID": str(uuid.uuid4()),
                "serviceCode": service, "timestamp": timestamp, "msgData": msg_data,
                "msgDigest": msg_digest(msg_data, timestamp, self._checkword)}
        try:
            response = self._http.post(self.url, data=form, timeout=self.timeout)
        except requests.RequestException as exc:
            logger.warning("%s: unreachable (%s)", label, type(exc).__name__)
            raise CourierUnavailable("UNAVAILABLE",
                                     f"courier unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            logger.warning("%s: HTTP %s", label, response.status_code)
            raise CourierUnavailable("UNAVAILABLE", f"courier answered HTTP {response.status_code}")
        try:
            envelope = response.json()
        except ValueError:
            raise CourierError("UNEXPECTED_RESPONSE", "the answer is not JSON") from None
        code = envelope.get("apiResultCode") if isinstance(envelope, dict) else None
        if code != "A1000":
            message = str(envelope.get("apiErrorMsg") if isinstance(envelope, dict) else "")
            logger.warning("%s: refused %s %s", label, code, message[:100])
            if code in ("A1001", "A1099"):  # SF: system busy / exception on their side
                raise CourierUnavailable(str(code), message)
            raise CourierError(str(code), message)
        try:
            inner = json.loads(envelope.get("apiResultData") or "")
        except ValueError:
            raise CourierError("UNEXPECTED_RESPONSE", "apiResultData is not JSON") from None
        if not isinstance(inner, dict) or inner.get("success") is not True:
            error = inner.get("errorCode") if isinstance(inner, dict) else None
            message = str(inner.get("errorMsg") if isinstance(inner, dict) else "")
            logger.warning("%s: business error %s %s", label, error, message[:100])
            raise CourierError(str(error or "UNEXPECTED_RESPONSE"), message)
        return inner.get("msgData")


def msg_digest(msg_data: str, timestamp: str, checkword: str) -> str:
    """SF's signature: Base64(MD5(urlencode(msgData + timestamp + checkWord)))."""
    encoded = quote_plus(msg_data + timestamp + checkword).encode("utf-8")
    return base64.b64encode(hashlib.md5(encoded).digest()).decode("ascii")  # noqa: S324


def _contact(kind: int, contact: Contact) -> dict[str, Any]:
    return {"contactType": kind, "contact": contact.name, "mobile": contact.phone,
            "company": contact.company, "address": contact.address, "country": "CN"}


def _event(route: Any) -> RouteEvent:
    if not isinstance(route, dict):
        raise CourierError("UNEXPECTED_RESPONSE", "a route is not an object")
    try:
        at = datetime.strptime(str(route.get("acceptTime")), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise CourierError("UNEXPECTED_RESPONSE", "acceptTime is not a time") from None
    return RouteEvent(at=at.replace(tzinfo=SHANGHAI), op_code=str(route.get("opCode") or ""),
                      place=str(route.get("acceptAddress") or "")[:60],
                      remark=str(route.get("remark") or "")[:200])


def make_courier(config: Mapping[str, Any]) -> Courier:
    """The client for ``COURIER_BASE_URL``, ``COURIER_PARTNER_ID`` and
    ``COURIER_CHECKWORD``; :class:`SettingsError` when they are missing, or plain http to
    another host in production (orders carry recipients' addresses)."""
    base_url = str(config.get("COURIER_BASE_URL") or "")
    scheme = urlsplit(base_url).scheme
    if scheme not in ("http", "https"):
        raise SettingsError("COURIER_BASE_URL must be an http:// or https:// URL "
                            "(SF: https://sfapi.sf-express.com/)")
    if config.get("APP_ENV") == "production" and scheme == "http" and not is_loopback_url(base_url):
        raise SettingsError("COURIER_BASE_URL must use https in production")
    if not config.get("COURIER_PARTNER_ID") or not config.get("COURIER_CHECKWORD"):
        raise SettingsError("COURIER_PARTNER_ID and COURIER_CHECKWORD are required")
    return SfExpressCourier(
        base_url, str(config["COURIER_PARTNER_ID"]), str(config["COURIER_CHECKWORD"]),
        timeout=float(config.get("COURIER_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS))
