"""SF Express's open platform (丰桥) for the paper-certificate courier client.

The wire protocol is SF's "CSIM" API as published: ``POST /std/service`` with the form
fields ``partnerID``, ``requestID``, ``serviceCode``, ``timestamp``, ``msgData`` and
``msgDigest`` = Base64(MD5(urlencode(msgData + timestamp + checkWord))); the answer is
``{"apiResultCode": "A1000", "apiErrorMsg", "apiResponseID", "apiResultData": "<JSON
string>"}`` whose inner JSON has ``success``, ``errorCode`` (``S0000``), ``errorMsg`` and
``msgData``. Refusals the sandbox gives, as SF does: ``A1004`` unknown partner, ``A1006``
bad digest, ``A1003`` timestamp more than 10 minutes off, ``A1002`` unknown service;
inside, ``8016`` for an order id used before (the client then asks
``EXP_RECE_SEARCH_ORDER_RESP`` for its waybill), ``8024`` unknown order, ``1010`` bad
request.

Services: ``EXP_RECE_CREATE_ORDER`` (a waybill ``SF`` + 13 digits), ``EXP_RECE_SEARCH_ORDER_RESP``
and ``EXP_RECE_SEARCH_ROUTES``. The parcel then moves only when a tester moves it, on
the dev page or with ``POST /sandbox/courier/advance {"waybill_no", "step",
"sign_code"}``: ``pickup`` (opCode 50), ``transit`` (30), ``dispatch`` (44), ``deliver``
(80 — only with the sign-off code the platform put in the order, as the courier asks the
recipient for it) and ``return`` (99, the parcel goes back to the sender). An outage
switch answers HTTP 503: ``POST /sandbox/courier/outage {"mode": "down"}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, redirect, request

from sandbox.privacy import mask_name

SHANGHAI = ZoneInfo("Asia/Shanghai")
SERVICE_PATH = "/std/service"
ADVANCE_PATH = "/sandbox/courier/advance"
OUTAGE_PATH = "/sandbox/courier/outage"
MAX_SKEW_SECONDS = 600
STEPS = {
    "pickup": ("50", "珠海市香洲区", "顺丰速运 已收取快件"),
    "transit": ("30", "珠海香洲集散中心", "快件在【珠海香洲集散中心】完成分拣，准备发往下一站"),
    "dispatch": ("44", "珠海市香洲区", "快件交给快递员，正在派送途中"),
    "deliver": ("80", "珠海市香洲区", "已签收，收件人出示签收码后签收"),
    "return": ("99", "珠海市香洲区", "收件人拒收或无法联系，快件退回寄件人"),
}
FINAL_STEPS = ("deliver", "return")


class SfError(Exception):
    def __init__(self, code: str, message: str, *, outer: bool = False):
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.outer = outer  # an apiResultCode refusal rather than a business error


def digest(msg_data: str, timestamp: str, checkword: str) -> str:
    encoded = quote_plus(msg_data + timestamp + checkword).encode("utf-8")
    return base64.b64encode(hashlib.md5(encoded).digest()).decode("ascii")  # noqa: S324


class CourierSandbox:
    """Orders by order id, their routes, the outage switch."""

    def __init__(self, partner_id: str, checkword: str, clock: Callable[[], float],
                 lock: threading.RLock):
        self.partner_id = partner_id
        self._checkword = checkword
        self.clock = clock
        self._lock = lock
        self._orders: dict[str, dict[str, Any]] = {}  # orderId → order
        self._down = False

    def reset(self) -> None:
        with self._lock:
            self._orders.clear()
            self._down = False

    def set_outage(self, mode: str) -> None:
        if mode not in ("up", "down"):
            raise ValueError("mode must be up or down")
        with self._lock:
            self._down = mode == "down"

    @property
    def down(self) -> bool:
        with self._lock:
            return self._down

    def parcels(self) -> list[dict[str, Any]]:
        """Orders, oldest first, the recipient masked: order_id, waybill_no, recipient,
        contents, state (the last step or ``created``), routes."""
        with self._lock:
            return [{"order_id": o["order_id"], "waybill_no": o["waybill_no"],
                     "recipient": mask_name(o["recipient"]), "contents": list(o["contents"]),
                     "state": o["state"], "created_at": o["created_at"],
                     "routes": [dict(r) for r in o["routes"]]}
                    for o in self._orders.values()]

    def advance(self, waybill_no: str, step: str, sign_code: str = "") -> dict[str, Any]:
        """Move a parcel one step; ``ValueError`` (with a message for the tester)."""
        if step not in STEPS:
            raise ValueError(f"step must be one of {', '.join(STEPS)}")
        with self._lock:
            order = next((o for o in self._orders.values() if o["waybill_no"] == waybill_no),
                         None)
            if order is None:
                raise ValueError("no parcel with this waybill number")
            if order["state"] in FINAL_STEPS:
                raise ValueError("the parcel was already delivered or returned")
            if step == "deliver" and not hmac.compare_digest(
                    order["sign_code"].encode(), sign_code.strip().encode()):
                raise ValueError("签收码不正确，快递员不能交付")
            op_code, place, remark = STEPS[step]
            now = datetime.fromtimestamp(self.clock(), UTC).astimezone(SHANGHAI)
            order["routes"].append({"acceptTime": now.strftime("%Y-%m-%d %H:%M:%S"),
                                    "acceptAddress": place, "remark": remark,
                                    "opCode": op_code})
            order["state"] = step
            return {"waybill_no": waybill_no, "state": step}

    # The API ------------------------------------------------------------------------

    def handle(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        response_id = secrets.token_hex(16)
        if self.down:
            return 503, {"apiResultCode": "A1001", "apiErrorMsg": "系统繁忙",
                         "apiResponseID": response_id, "apiResultData": None}
        try:
            data = self._dispatch(form)
            inner = {"success": True, "errorCode": "S0000", "errorMsg": None, "msgData": data}
        except SfError as exc:
            if exc.outer:
                return 200, {"apiResultCode": exc.code, "apiErrorMsg": exc.message,
                             "apiResponseID": response_id, "apiResultData": None}
            inner = {"success": False, "errorCode": exc.code, "errorMsg": exc.message,
                     "msgData": None}
        return 200, {"apiResultCode": "A1000", "apiErrorMsg": "", "apiResponseID": response_id,
                     "apiResultData": json.dumps(inner, ensure_ascii=False)}

    def _dispatch(self, form: Mapping[str, str]) -> Any:
        if form.get("partnerID") != self.partner_id:
            raise SfError("A1004", "无对应服务权限", outer=True)
        msg_data, timestamp = form.get("msgData", ""), form.get("timestamp", "")
        if not hmac.compare_digest(digest(msg_data, timestamp, self._checkword).encode(),
                                   form.get("msgDigest", "").encode()):
            raise SfError("A1006", "数字签名无效", outer=True)
        try:
            skew = abs(self.clock() - int(timestamp))
        except ValueError:
            raise SfError("A1003", "timestamp 无效", outer=True) from None
        if skew > MAX_SKEW_SECONDS:
            raise SfError("A1003", "timestamp 超出有效期", outer=True)
        try:
            data = json.loads(msg_data)
        except ValueError:
            raise SfError("1010", "msgData 不是 JSON") from None
        if not isinstance(data, dict):
            raise SfError("1010", "msgData 应为对象")
        service = form.get("serviceCode")
        if service == "EXP_RECE_CREATE_ORDER":
            return self._create(data)
        if service == "EXP_RECE_SEARCH_ORDER_RESP":
            return self._answer(self._order(data.get("orderId")))
        if service == "EXP_RECE_SEARCH_ROUTES":
            return self._routes(data)
        raise SfError("A1002", "服务代码不存在", outer=True)

    def _create(self, data: dict[str, Any]) -> dict[str, Any]:
        order_id = data.get("orderId")
        if not isinstance(order_id, str) or not 0 < len(order_id) <= 64:
            raise SfError("1010", "orderId 必填")
        contacts = {c.get("contactType"): c for c in data.get("contactInfoList") or []
                    if isinstance(c, dict)}
        recipient = contacts.get(2)
        if contacts.get(1) is None or recipient is None or not all(
                recipient.get(k) for k in ("contact", "mobile", "address")):
            raise SfError("1010", "寄件人和收件人的姓名、电话、地址必填")
        cargo = [c.get("name") for c in data.get("cargoDetails") or [] if isinstance(c, dict)]
        if not cargo or not all(isinstance(n, str) and n for n in cargo):
            raise SfError("1010", "cargoDetails 必填")
        extra = {e.get("attrName"): e.get("attrVal") for e in data.get("extraInfoList") or []
                 if isinstance(e, dict)}
        with self._lock:
            if order_id in self._orders:
                raise SfError("8016", "重复下单")
            waybill = "SF" + "".join(str(secrets.randbelow(10)) for _ in range(13))
            self._orders[order_id] = {
                "order_id": order_id, "waybill_no": waybill, "recipient": recipient["contact"],
                "contents": cargo, "sign_code": str(extra.get("signCode") or ""),
                "state": "created", "routes": [],
                "created_at": datetime.fromtimestamp(self.clock(), UTC).isoformat()}
            return self._answer(self._orders[order_id])

    def _order(self, order_id: Any) -> dict[str, Any]:
        with self._lock:
            order = self._orders.get(order_id) if isinstance(order_id, str) else None
        if order is None:
            raise SfError("8024", "未下单")
        return order

    @staticmethod
    def _answer(order: dict[str, Any]) -> dict[str, Any]:
        return {"orderId": order["order_id"], "filterResult": 2,
                "waybillNoInfoList": [{"waybillType": 1, "waybillNo": order["waybill_no"]}]}

    def _routes(self, data: dict[str, Any]) -> dict[str, Any]:
        numbers = data.get("trackingNumber")
        if not isinstance(numbers, list) or not numbers:
            raise SfError("1010", "trackingNumber 必填")
        answers = []
        with self._lock:
            for number in numbers:
                order = next((o for o in self._orders.values() if o["waybill_no"] == number),
                             None)
                answers.append({"mailNo": number,
                                "routes": [dict(r) for r in order["routes"]] if order else []})
        return {"routeResps": answers}


def courier_blueprint(courier: CourierSandbox) -> Blueprint:
    blueprint = Blueprint("courier", __name__)

    @blueprint.post(SERVICE_PATH)
    def service() -> tuple[Response, int]:
        status, body = courier.handle(request.form)
        return jsonify(body), status

    @blueprint.get("/_sandbox/courier/parcels")
    def parcels() -> Response:
        return jsonify(courier.parcels())

    def _body() -> tuple[Mapping[str, Any], bool]:
        from_page = bool(request.form.get("from_page"))
        body: Any = request.form if from_page else request.get_json(silent=True)
        return (body if isinstance(body, Mapping) else {}), from_page

    @blueprint.post(ADVANCE_PATH)
    def advance() -> Any:
        """JSON ``{"waybill_no", "step", "sign_code"}``, or the dev page's form."""
        body, from_page = _body()
        try:
            result = courier.advance(str(body.get("waybill_no", "")), str(body.get("step", "")),
                                     str(body.get("sign_code", "")))
        except ValueError as exc:
            return jsonify({"error": str(exc)}), 400
        return redirect("/", code=303) if from_page else jsonify(result)

    @blueprint.post(OUTAGE_PATH)
    def outage() -> Any:
        body, from_page = _body()
        try:
            courier.set_outage(str(body.get("mode", "")))
        except ValueError as exc:
            return jsonify({"error": str(exc)}), 400
        return redirect("/", code=303) if from_page else jsonify(
            {"mode": "down" if courier.down else "up"})

    return blueprint
