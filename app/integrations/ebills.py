"""The issuing adapter: who gives an e-bill its code, number and check code.

The core depends on :class:`EBillIssuer`. :class:`HttpEBillIssuer` speaks JSON over
HTTPS to a fiscal e-bill platform (财政电子票据公共服务平台), shaped like the provincial
platforms: an app id, and every request signed with HMAC-SHA256 over method, path,
timestamp, nonce and body digest — the same scheme, and the same helper
(:func:`app.integrations.registry.signed_headers`), as the data-sharing platform. The
protocol is described in ``sandbox/README.md``; in development and tests
``EBILL_BASE_URL`` is the sandbox (sandbox/ebills.py), which checks signatures,
timestamps and nonces, so this exact code path runs.

* ``POST fiscal-ebill/v1/issue`` — one bill for a ``request_no``: the same request
  number always gets the same bill, so retrying after a timeout cannot issue twice.
* ``POST fiscal-ebill/v1/void`` — red-letter (红冲) an issued bill; voiding twice is
  harmless.

Answers are read strictly. A network error, a timeout, HTTP 5xx or 429 is
:class:`IssuerUnavailable` (try again later); any other refusal :class:`IssuerError`.
The payer's name is personal data: logs show ``张*``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from app.integrations.registry import (
    RegistryError,
    RegistryUnavailable,
    is_loopback_url,
    read_envelope,
    signed_headers,
)
from app.kernel.settings import SettingsError
from app.kernel.validators import mask_name

logger = logging.getLogger(__name__)

ISSUE_PATH = "fiscal-ebill/v1/issue"
VOID_PATH = "fiscal-ebill/v1/void"
DEFAULT_TIMEOUT_SECONDS = 5.0
_IDENTIFIER = re.compile(r"^[0-9A-Za-z]{1,20}$")


@dataclass(frozen=True)
class BillLine:
    name: str
    amount_fen: int


@dataclass(frozen=True)
class BillRequest:
    """What the platform needs to issue one bill (amounts in integer fen)."""

    request_no: str  # ours, unique per bill: the platform's idempotency key
    kind: str  # fiscal | tax | fund
    payer_name: str
    items: Sequence[BillLine]
    total_fen: int
    issuer_name: str
    paid_at: datetime
    reference: str  # the payment order number, printed as 业务流水号


@dataclass(frozen=True)
class IssuedBill:
    bill_code: str  # 票据代码
    bill_number: str  # 票据号码
    check_code: str  # 校验码
    issued_at: datetime
    verify_url: str  # the platform's public check page, put in the QR


class IssuerError(Exception):
    """The platform refused the request (bad signature, unknown app id, bad request…)."""

    def __init__(self, code: str, message: str, *, http_status: int | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status


class IssuerUnavailable(IssuerError):
    """The platform could not be reached or failed on its side: try again later."""


class EBillIssuer(Protocol):
    def issue(self, request: BillRequest) -> IssuedBill: ...

    def void(self, bill_code: str, bill_number: str, reason: str) -> None: ...


class HttpEBillIssuer:
    """:class:`EBillIssuer` over HTTP(S) with an app id and signed requests.

    ``clock`` (epoch seconds) stamps the requests; tests pass a skewed one.
    """

    def __init__(self, base_url: str, app_id: str, app_secret: str,
                 timeout: float = DEFAULT_TIMEOUT_SECONDS, *,
                 clock: Callable[[], float] = time.time):
        if not base_url or not app_id or not app_secret:
            raise ValueError("the e-bill platform's base URL, app id and app secret are required")
        self.base_url = base_url.rstrip("/") + "/"
        self.app_id = app_id
        self._app_secret = app_secret
        self.timeout = timeout
        self.clock = clock
        self._http = requests.Session()

    def __repr__(self) -> str:
        return f"HttpEBillIssuer({self.base_url!r}, app_id={self.app_id!r})"

    def issue(self, request: BillRequest) -> IssuedBill:
        payload = {
            "request_no": request.request_no,
            "kind": request.kind,
            "payer_name": request.payer_name,
            "items": [{"name": line.name, "amount_fen": line.amount_fen}
                      for line in request.items],
            "total_fen": request.total_fen,
            "issuer_name": request.issuer_name,
            "paid_at": request.paid_at.isoformat(),
            "reference": request.reference,
        }
        label = f"e-bill {request.request_no} ({request.kind}, {mask_name(request.payer_name)})"
        result = self._post(ISSUE_PATH, payload, label)
        bill = _issued(result)
        logger.info("%s: issued %s %s", label, bill.bill_code, bill.bill_number)
        return bill

    def void(self, bill_code: str, bill_number: str, reason: str) -> None:
        label = f"e-bill void {bill_code} {bill_number}"
        result = self._post(VOID_PATH, {"bill_code": bill_code, "bill_number": bill_number,
                                        "reason": reason}, label)
        if not isinstance(result, dict) or result.get("status") != "VOIDED":
            raise IssuerError("UNEXPECTED_RESPONSE", "a void answer without status VOIDED",
                              http_status=200)
        logger.info("%s: voided", label)

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, payload: Mapping[str, Any], label: str) -> Any:
        url = self.base_url + path
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        # X-App-Key carries the app id: the data-sharing platform's header names.
        headers = signed_headers(self.app_id, self._app_secret, urlsplit(url).path, body,
                                 self.clock())
        try:
            response = self._http.post(url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            logger.warning("%s: unreachable (%s)", label, type(exc).__name__)
            raise IssuerUnavailable(
                "UNAVAILABLE", f"e-bill platform unreachable: {type(exc).__name__}") from exc
        try:
            result, _ = read_envelope(response, label, logger)
        except RegistryUnavailable as exc:
            raise IssuerUnavailable(exc.code, exc.message, http_status=exc.http_status) from exc
        except RegistryError as exc:
            raise IssuerError(exc.code, exc.message, http_status=exc.http_status) from exc
        return result


def _issued(result: Any) -> IssuedBill:
    def unexpected(what: str) -> IssuerError:
        return IssuerError("UNEXPECTED_RESPONSE", what, http_status=200)

    if not isinstance(result, dict):
        raise unexpected("answer without a result")
    values = {}
    for key in ("bill_code", "bill_number", "check_code"):
        value = result.get(key)
        if not isinstance(value, str) or not _IDENTIFIER.match(value):
            raise unexpected(f"{key} is not 1-20 letters or digits")
        values[key] = value
    raw_time = result.get("issued_at")
    try:
        issued_at = datetime.fromisoformat(str(raw_time))
    except ValueError:
        raise unexpected("issued_at is not an ISO 8601 time") from None
    if issued_at.tzinfo is None:
        raise unexpected("issued_at has no time zone")
    verify_url = result.get("verify_url")
    if (not isinstance(verify_url, str) or len(verify_url) > 500
            or urlsplit(verify_url).scheme not in ("http", "https")):
        raise unexpected("verify_url is not an http(s) URL")
    return IssuedBill(values["bill_code"], values["bill_number"], values["check_code"],
                      issued_at, verify_url)



def make_ebill_issuer(config: Mapping[str, Any]) -> EBillIssuer:
    """The client for ``EBILL_BASE_URL``, ``EBILL_APP_ID`` and ``EBILL_APP_SECRET`` (and
    ``EBILL_TIMEOUT_SECONDS``, default 5); :class:`SettingsError` when they are missing,
    or plain http to another host in production (the requests carry payers' names)."""
    base_url = str(config.get("EBILL_BASE_URL") or "")
    if not base_url:
        raise SettingsError("EBILL_BASE_URL is required (the fiscal e-bill platform's URL)")
    scheme = urlsplit(base_url).scheme
    if scheme not in ("http", "https"):
        raise SettingsError("EBILL_BASE_URL must be an http:// or https:// URL")
    if config.get("APP_ENV") == "production" and scheme == "http" and not is_loopback_url(base_url):
        raise SettingsError("EBILL_BASE_URL must use https in production")
    if not config.get("EBILL_APP_ID") or not config.get("EBILL_APP_SECRET"):
        raise SettingsError("EBILL_APP_ID and EBILL_APP_SECRET are required")
    return HttpEBillIssuer(
        base_url, str(config["EBILL_APP_ID"]), str(config["EBILL_APP_SECRET"]),
        timeout=float(config.get("EBILL_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS))
