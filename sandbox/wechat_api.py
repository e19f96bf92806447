"""The WeChat server API (api.weixin.qq.com) as the mini-program backend sees it.

JSON answers with ``errcode``/``errmsg``; HTTP 200 even for errors, like the real one.

Test login codes (what ``wx.login()`` would return): ``NAME`` or ``NAME.ANYTHING`` logs
in the user NAME — a stable openid per appid+NAME and a stable unionid per NAME. Each
exact code string works once (then 40163); codes starting with ``invalid`` give 40029.
Magic names: ``busy`` answers -1 (system busy), ``nounionid…`` users have no unionid,
and the user ``refused`` has refused subscribe messages (43101).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import string
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request

TOKEN_TTL_SECONDS = 7200
MAX_URL_LINK_DAYS = 30
URL_LINK_ALPHABET = string.ascii_letters + string.digits
BUSY_USER = "busy"  # logging in answers -1, system busy
REFUSING_USER = "refused"  # has refused subscribe messages: 43101
NO_UNIONID_PREFIX = "nounionid"  # users whose mini-program is not bound to an open platform

# errcode → errmsg, as WeChat words them.
ERRORS = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40029: "invalid code",
    40037: "invalid template_id",
    40097: "invalid args",
    40125: "invalid appsecret",
    40163: "code been used",
    40165: "invalid weapp pagepath",
    41001: "access_token missing",
    41008: "missing code",
    42001: "access_token expired",
    43101: "user refuse to accept the msg",
    47001: "data format error",
    47003: "argument invalid!",
    # Face verification 2.0 (sandbox/wechat_face.py). WeChat does not publish these
    # errcodes; the numbers and wording are the sandbox's choice (see sandbox/README.md).
    84001: "invalid verify_id",
    84002: "verify_id expired",
    84003: "face verify not finished",
    84004: "cert_hash not match",
    84005: "openid not match",
    84006: "out_seq_no not match",
    84007: "out_seq_no already used",
    84008: "invalid out_seq_no",
    84009: "invalid cert_info",
}


class WeChatApiError(Exception):
    def __init__(self, errcode: int, detail: str = ""):
        super().__init__(errcode, detail)
        self.errcode = errcode
        self.errmsg = ERRORS[errcode] + (f" {detail}" if detail else "")


def _stable_id(*parts: str) -> str:
    """28 characters starting with "o", like WeChat's openids and unionids."""
    digest = hashlib.sha256(":".join(parts).encode("utf-8")).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode()[:27]


def openid_for(appid: str, name: str) -> str:
    return _stable_id("openid", appid, name)


def unionid_for(name: str) -> str:
    return _stable_id("unionid", name)


class WeChatSandbox:
    """One mini-program's view of WeChat: credentials, tokens, codes, what was sent."""

    def __init__(self, appid: str, secret: str, clock: Callable[[], float], lock: threading.RLock):
        self.appid = appid
        self.secret = secret
        self.clock = clock
        self._lock = lock
        self._tokens: dict[str, float] = {}
        self.tokens_issued = 0
        self._used_codes: set[str] = set()
        self._messages: list[dict[str, Any]] = []
        self._url_links: list[dict[str, Any]] = []

    def reset(self) -> None:
        with self._lock:
            self._tokens.clear()
            self.tokens_issued = 0
            self._used_codes.clear()
            self._messages.clear()
            self._url_links.clear()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def check_app(self, appid: str | None, secret: str | None) -> None:
        if appid != self.appid:
            raise WeChatApiError(40013)
        if secret != self.secret:
            raise WeChatApiError(40125)

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(102)
        with self._lock:
            self._tokens[token] = self.clock() + TOKEN_TTL_SECONDS
            self.tokens_issued += 1
        return token

    def check_token(self, token: str | None) -> None:
        if not token:
            raise WeChatApiError(41001)
        with self._lock:
            expires_at = self._tokens.get(token)
        if expires_at is None:
            raise WeChatApiError(40001)
        if expires_at <= self.clock():
            raise WeChatApiError(42001)

    def login(self, code: str | None) -> dict[str, str]:
        if not code:
            raise WeChatApiError(41008)
        name = code.split(".", 1)[0]
        if code.startswith("invalid") or not name:
            raise WeChatApiError(40029)
        if name == BUSY_USER:
            raise WeChatApiError(-1)
        with self._lock:
            if code in self._used_codes:
                raise WeChatApiError(40163)
            self._used_codes.add(code)
        answer = {
            "session_key": base64.b64encode(secrets.token_bytes(16)).decode(),
            "openid": openid_for(self.appid, name),
        }
        if not name.startswith(NO_UNIONID_PREFIX):
            answer["unionid"] = unionid_for(name)
        return answer

    def send_subscribe_message(self, body: dict[str, Any]) -> int:
        touser = body.get("touser")
        template_id = body.get("template_id")
        data = body.get("data")
        page = body.get("page")
        if not isinstance(touser, str) or not touser:
            raise WeChatApiError(40003)
        if not isinstance(template_id, str) or not template_id:
            raise WeChatApiError(40037)
        if not isinstance(data, dict) or not data:
            raise WeChatApiError(47003, "data invalid")
        for key, item in data.items():
            if not isinstance(item, dict) or not isinstance(item.get("value"), str | int | float):
                raise WeChatApiError(47003, f"data.{key}.value invalid")
        if page is not None and not isinstance(page, str):
            raise WeChatApiError(40165)
        if touser == openid_for(self.appid, REFUSING_USER):
            raise WeChatApiError(43101)
        msgid = secrets.randbelow(2**53)
        with self._lock:
            self._messages.append(
                {
                    "touser": touser,
                    "template_id": template_id,
                    "page": page,
                    "data": data,
                    "msgid": msgid,
                    "at": self._now(),
                }
            )
        return msgid

    def generate_url_link(self, body: dict[str, Any]) -> str:
        path = body.get("path") or ""
        query = body.get("query") or ""
        if not isinstance(path, str) or "?" in path:
            raise WeChatApiError(40165)
        if not isinstance(query, str):
            raise WeChatApiError(40097, "query invalid")
        now = self._now()
        expires_at: datetime | None = None
        if body.get("is_expire"):
            if body.get("expire_type") == 1:
                days = body.get("expire_interval")
                if not isinstance(days, int) or not 1 <= days <= MAX_URL_LINK_DAYS:
                    raise WeChatApiError(40097, "expire_interval must be 1 to 30 days")
                expires_at = now + timedelta(days=days)
            else:
                expire_time = body.get("expire_time")
                if not isinstance(expire_time, int) or expire_time <= now.timestamp():
                    raise WeChatApiError(40097, "expire_time invalid")
                expires_at = datetime.fromtimestamp(expire_time, UTC)
        url_link = "https://wxaurl.cn/" + "".join(
            secrets.choice(URL_LINK_ALPHABET) for _ in range(11)
        )
        with self._lock:
            self._url_links.append(
                {
                    "url_link": url_link,
                    "path": path,
                    "query": query,
                    "env_version": body.get("env_version") or "release",
                    "expires_at": expires_at,
                    "at": now,
                }
            )
        return url_link

    def messages(self, touser: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                dict(message)
                for message in self._messages
                if touser is None or message["touser"] == touser
            ]

    def url_links(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(link) for link in self._url_links]


def _answer(payload: dict[str, Any]) -> Response:
    return jsonify(payload)


def error_answer(error: WeChatApiError) -> Response:
    """``{"errcode", "errmsg"}`` with a request id, as WeChat words its errors."""
    rid = secrets.token_hex(12)
    return _answer(
        {"errcode": error.errcode, "errmsg": f"{error.errmsg} rid: {rid[:8]}-{rid[8:16]}"}
    )


def read_json_body() -> dict[str, Any]:
    # wechatpy posts UTF-8 JSON without a JSON content type, as WeChat allows.
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        raise WeChatApiError(47001)
    if not isinstance(body, dict):
        raise WeChatApiError(47001)
    return body


def wechat_blueprint(wechat: WeChatSandbox) -> Blueprint:
    blueprint = Blueprint("wechat_api", __name__)

    blueprint.register_error_handler(WeChatApiError, error_answer)

    @blueprint.get("/cgi-bin/token")
    def token() -> Response:
        if request.args.get("grant_type") != "client_credential":
            raise WeChatApiError(40002)
        wechat.check_app(request.args.get("appid"), request.args.get("secret"))
        return _answer({"access_token": wechat.issue_token(), "expires_in": TOKEN_TTL_SECONDS})

    @blueprint.get("/sns/jscode2session")
    def jscode2session() -> Response:
        # wechatpy also sends an access_token here; WeChat ignores it, and so do we.
        wechat.check_app(request.args.get("appid"), request.args.get("secret"))
        if request.args.get("grant_type") != "authorization_code":
            raise WeChatApiError(40002)
        return _answer(wechat.login(request.args.get("js_code")))

    @blueprint.post("/cgi-bin/message/subscribe/send")
    def subscribe_send() -> Response:
        wechat.check_token(request.args.get("access_token"))
        msgid = wechat.send_subscribe_message(read_json_body())
        return _answer({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    @blueprint.post("/wxa/generate_urllink")
    def generate_urllink() -> Response:
        wechat.check_token(request.args.get("access_token"))
        url_link = wechat.generate_url_link(read_json_body())
        return _answer({"errcode": 0, "errmsg": "ok", "url_link": url_link})

    return blueprint
