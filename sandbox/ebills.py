"""A fiscal e-bill platform (财政电子票据公共服务平台) for the platform's issuing adapter.

Provincial platforms expose bill issuing to the collecting agencies' systems over HTTPS
with an app id and signed requests; there is no national wire standard. This is the
sandbox's protocol, shaped like them, and the one ``app/integrations/ebills.py`` speaks. The
signature is the data-sharing platform's (sandbox/registry.py): the same four headers
(``X-App-Key`` carries the app id, ``EBILL_APP_ID``; the key is ``EBILL_APP_SECRET``),
verified by a :class:`~sandbox.registry.RequestVerifier` of its own (its own nonces).

- ``POST /fiscal-ebill/v1/issue`` ``{"request_no", "kind", "payer_name", "items":
  [{"name", "amount_fen"}], "total_fen", "issuer_name", "paid_at", "reference"}`` →
  ``{"bill_code", "bill_number", "check_code", "issued_at", "verify_url"}``. The same
  ``request_no`` with the same content gets the same bill; with other content, 409
  ``REQUEST_NO_CONFLICT``.
- ``POST /fiscal-ebill/v1/void`` ``{"bill_code", "bill_number", "reason"}`` →
  ``{"status": "VOIDED", "voided_at"}`` (红冲; again: the same answer).
- ``GET /ebills/verify?code=…&number=…&check=…`` — the public check page (HTML): the
  bill is genuine, or voided, or not found.

The bill code is 8 digits: 44 (Guangdong), the bill type (06 非税收入, 12 完税证明, 21
维修资金), the year (Beijing time) and 01; the number is 10 digits, a serial per code;
the check code 6 characters derived from the bill with a key of the sandbox's own.
An outage switch answers 503 before anything else: ``state.ebills.set_outage("down")``
or ``POST /sandbox/ebills/outage {"mode": "down"}``. See sandbox/README.md.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, redirect, render_template, request

from sandbox.privacy import mask_name
from sandbox.registry import RegistryApiError, RequestVerifier, bad_request, read_body

SHANGHAI = ZoneInfo("Asia/Shanghai")
ISSUE_PATH = "/fiscal-ebill/v1/issue"
VOID_PATH = "/fiscal-ebill/v1/void"
VERIFY_PATH = "/ebills/verify"
OUTAGE_CONTROL_PATH = "/sandbox/ebills/outage"
KINDS = {"fiscal": ("06", "非税收入电子票据"), "tax": ("12", "税收完税证明"),
         "fund": ("21", "住宅专项维修资金缴存收据")}
REQUEST_NO = re.compile(r"^[0-9A-Za-z_-]{1,40}$")
MAX_ITEMS = 20
MAX_NAME = 64


class EBillSandbox:
    """Bills issued (by request number), serials per bill code, the outage switch."""

    def __init__(self, app_id: str, app_secret: str, clock: Callable[[], float],
                 lock: threading.RLock):
        self.app_id = app_id
        self.clock = clock
        self._lock = lock
        self.verifier = RequestVerifier(app_id, app_secret, clock, lock)
        self._check_key = secrets.token_bytes(32)
        self._bills: dict[str, dict[str, Any]] = {}  # request_no → bill
        self._serials: dict[str, int] = {}
        self._down = False

    def reset(self) -> None:
        """Forget bills, serials and nonces; the platform is up again."""
        with self._lock:
            self._bills.clear()
            self._serials.clear()
            self._down = False
            self.verifier.reset()

    # For tests ----------------------------------------------------------------------

    def set_outage(self, mode: str) -> None:
        """``down``: every API request is answered 503 until ``up`` or a reset."""
        if mode not in ("up", "down"):
            raise ValueError("mode must be up or down")
        with self._lock:
            self._down = mode == "down"

    @property
    def down(self) -> bool:
        with self._lock:
            return self._down

    def bills(self) -> list[dict[str, Any]]:
        """Bills issued, oldest first, the payer masked: request_no, kind, bill_code,
        bill_number, check_code, payer_name, items, total_fen, issuer_name, reference,
        issued_at, status (ISSUED or VOIDED), voided_at, void_reason."""
        with self._lock:
            return [{**self._public(bill), "items": [dict(i) for i in bill["items"]]}
                    for bill in self._bills.values()]

    def find(self, code: str, number: str, check: str) -> dict[str, Any] | None:
        """The bill with this code, number and check code (masked), else None."""
        with self._lock:
            for bill in self._bills.values():
                if (bill["bill_code"], bill["bill_number"]) == (code, number) and \
                        hmac.compare_digest(bill["check_code"], check.upper()):
                    return {**self._public(bill), "items": [dict(i) for i in bill["items"]]}
        return None

    @staticmethod
    def _public(bill: dict[str, Any]) -> dict[str, Any]:
        return {key: (mask_name(value) if key == "payer_name" else value)
                for key, value in bill.items() if key not in ("fingerprint", "items")}

    # The API ------------------------------------------------------------------------

    def handle(self, operation: str, method: str, path: str, headers: Mapping[str, str],
               body: bytes, url_root: str) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON answer) for one request; ``url_root`` is the sandbox's own
        address, for the check page's URL."""
        request_id = uuid.uuid4().hex
        try:
            if self.down:
                raise RegistryApiError(503, "SERVICE_UNAVAILABLE",
                                       "the e-bill platform is temporarily unavailable")
            self.verifier.verify(method, path, headers, body)
            query = read_body(body)
            result = self._issue(query, url_root) if operation == "issue" else self._void(query)
        except RegistryApiError as exc:
            return exc.status, {"code": exc.code, "message": exc.message, "request_id": request_id}
        return 200, {"code": "OK", "result": result, "request_id": request_id}

    def _issue(self, query: dict[str, Any], url_root: str) -> dict[str, Any]:
        request_no, kind = query.get("request_no"), query.get("kind")
        if not isinstance(request_no, str) or not REQUEST_NO.match(request_no):
            raise bad_request("request_no must be 1-40 of [0-9A-Za-z_-]")
        if kind not in KINDS:
            raise bad_request(f"kind must be one of {', '.join(KINDS)}")
        payer, issuer = query.get("payer_name"), query.get("issuer_name")
        for key, value in (("payer_name", payer), ("issuer_name", issuer)):
            if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME:
                raise bad_request(f"{key} must be a non-empty string")
        items = query.get("items")
        if not isinstance(items, list) or not 0 < len(items) <= MAX_ITEMS:
            raise bad_request(f"items must be a list of 1-{MAX_ITEMS} items")
        clean: list[dict[str, Any]] = []
        amounts: list[int] = []
        for item in items:
            name = item.get("name") if isinstance(item, dict) else None
            amount = item.get("amount_fen") if isinstance(item, dict) else None
            if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME or \
                    isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                raise bad_request("each item needs a name and a positive amount_fen")
            clean.append({"name": name, "amount_fen": amount})
            amounts.append(amount)
        total = query.get("total_fen")
        if isinstance(total, bool) or total != sum(amounts):
            raise bad_request("total_fen must be the sum of the items")
        reference = query.get("reference")
        if not isinstance(reference, str) or not 0 < len(reference) <= MAX_NAME:
            raise bad_request("reference must be a non-empty string")
        fingerprint = (kind, payer, issuer, tuple((i["name"], i["amount_fen"]) for i in clean))
        with self._lock:
            existing = self._bills.get(request_no)
            if existing is not None:
                if existing["fingerprint"] != fingerprint:
                    raise RegistryApiError(409, "REQUEST_NO_CONFLICT",
                                           "request_no was used for another bill")
                return self._answer(existing, url_root)
            now = datetime.fromtimestamp(self.clock(), UTC)
            code = f"44{KINDS[kind][0]}{now.astimezone(SHANGHAI):%y}01"
            self._serials[code] = serial = self._serials.get(code, 0) + 1
            number = f"{serial:010d}"
            bill = {"request_no": request_no, "kind": kind, "bill_code": code,
                    "bill_number": number, "check_code": self._check_code(code, number, total),
                    "payer_name": payer, "items": clean, "total_fen": total,
                    "issuer_name": issuer, "reference": reference, "issued_at": now,
                    "status": "ISSUED", "voided_at": None, "void_reason": None,
                    "fingerprint": fingerprint}
            self._bills[request_no] = bill
            return self._answer(bill, url_root)

    def _check_code(self, code: str, number: str, total: int) -> str:
        digest = hmac.new(self._check_key, f"{code}|{number}|{total}".encode(), hashlib.sha256)
        return digest.hexdigest()[:6].upper()

    @staticmethod
    def _answer(bill: dict[str, Any], url_root: str) -> dict[str, Any]:
        query = urlencode({"code": bill["bill_code"], "number": bill["bill_number"],
                           "check": bill["check_code"]})
        return {"bill_code": bill["bill_code"], "bill_number": bill["bill_number"],
                "check_code": bill["check_code"], "issued_at": bill["issued_at"].isoformat(),
                "verify_url": f"{url_root.rstrip('/')}{VERIFY_PATH}?{query}"}

    def _void(self, query: dict[str, Any]) -> dict[str, Any]:
        code, number, reason = query.get("bill_code"), query.get("bill_number"), query.get("reason")
        if not isinstance(code, str) or not isinstance(number, str):
            raise bad_request("bill_code and bill_number are required")
        if not isinstance(reason, str) or not 0 < len(reason) <= 200:
            raise bad_request("reason must be a non-empty string")
        with self._lock:
            bill = next((b for b in self._bills.values()
                         if (b["bill_code"], b["bill_number"]) == (code, number)), None)
            if bill is None:
                raise RegistryApiError(404, "BILL_NOT_FOUND", "no bill with this code and number")
            if bill["status"] != "VOIDED":
                bill.update(status="VOIDED", void_reason=reason,
                            voided_at=datetime.fromtimestamp(self.clock(), UTC))
            return {"status": "VOIDED", "voided_at": bill["voided_at"].isoformat()}


def ebills_blueprint(ebills: EBillSandbox) -> Blueprint:
    """The API, the public check page and the outage control (no signature: the sandbox
    listens on 127.0.0.1 only)."""
    blueprint = Blueprint("ebills", __name__)

    def api(operation: str) -> Callable[[], tuple[Response, int]]:
        def answer() -> tuple[Response, int]:
            status, body = ebills.handle(operation, request.method, request.path,
                                         dict(request.headers.items()), request.get_data(),
                                         request.url_root)
            return jsonify(body), status

        return answer

    blueprint.add_url_rule(ISSUE_PATH, endpoint="issue", view_func=api("issue"),
                           methods=["POST"])
    blueprint.add_url_rule(VOID_PATH, endpoint="void", view_func=api("void"), methods=["POST"])

    @blueprint.get(VERIFY_PATH)
    def verify() -> tuple[str, int]:
        code = request.args.get("code", "")
        number = request.args.get("number", "")
        check = request.args.get("check", "")
        bill = ebills.find(code, number, check) if code and number and check else None
        page = render_template("sandbox/ebill_verify.html", bill=bill, kinds=KINDS,
                               code=code, number=number)
        return page, 200 if bill is not None else 404

    @blueprint.get("/_sandbox/ebills")
    def issued() -> Response:
        return jsonify([{**bill, "issued_at": bill["issued_at"].isoformat(),
                         "voided_at": bill["voided_at"].isoformat() if bill["voided_at"] else None}
                        for bill in ebills.bills()])

    @blueprint.post(OUTAGE_CONTROL_PATH)
    def outage() -> Any:
        """JSON ``{"mode": "up" | "down"}``, or the dev page's form."""
        from_page = bool(request.form.get("from_page"))
        body: Any = request.form if from_page else request.get_json(silent=True)
        if not isinstance(body, Mapping):
            body = {}
        try:
            ebills.set_outage(str(body.get("mode", "")))
        except ValueError as exc:
            return jsonify({"error": str(exc)}), 400
        if from_page:
            return redirect("/", code=303)
        return jsonify({"mode": "down" if ebills.down else "up"})

    return blueprint
