"""WeChat server API: mini-program login, subscribe messages, URL links, face verification.

The core depends on :class:`WeChatApi`. :class:`WechatpyApi` implements it with
wechatpy 1.8.18, whose host is made configurable so that in development and tests the
same wechatpy code (token fetching, retries on an expired token, error parsing) talks to
the sandbox, and in production to ``https://api.weixin.qq.com/``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import requests
from wechatpy.client import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

logger = logging.getLogger(__name__)

WECHAT_DEFAULT_API_BASE = "https://api.weixin.qq.com/"
DEFAULT_TIMEOUT_SECONDS = 5.0
# URL Links may live at most 30 days when given as an interval (expire_type 1).
MAX_URL_LINK_DAYS = 30

CODE_INVALID_ERRCODES = frozenset({40029, 40163})  # invalid code; code been used
SYSTEM_BUSY_ERRCODE = -1

# Face verification 2.0 (微信人脸核身 2.0: getverifyid, wx.requestFacialVerify,
# queryverifyinfo). verify_ret 10000 is the only success.
FACE_CERT_TYPE = "IDENTITY_CARD"
FACE_VERIFY_SUCCESS = 10000
FACE_OUT_SEQ_NO = re.compile(r"^[0-9A-Za-z_-]{5,32}$")
# WeChat does not publish these endpoints' errcodes; these are the sandbox's
# (sandbox/README.md). Check them against production answers before relying on the
# subclasses below: any other errcode still raises WeChatError, which is never a pass.
FACE_NOT_FINISHED_ERRCODES = frozenset({84003})
FACE_EXPIRED_ERRCODES = frozenset({84001, 84002})  # unknown or expired verify_id
FACE_MISMATCH_ERRCODES = frozenset({84004, 84005, 84006})  # cert_hash, openid, out_seq_no

T = TypeVar("T")


@dataclass(frozen=True)
class WeChatSession:
    """The result of a mini-program login (code2Session)."""

    openid: str
    unionid: str | None
    session_key: str


class WeChatError(Exception):
    """WeChat answered with an error code, or could not be asked at all."""

    def __init__(self, errcode: int | None, errmsg: str):
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatCodeInvalid(WeChatError):
    """The login code is unknown, expired or already used (40029, 40163)."""


class WeChatUnavailable(WeChatError):
    """WeChat could not be reached or failed on its side (network, timeout, 5xx, -1)."""


class FaceVerifyNotFinished(WeChatError):
    """queryverifyinfo: the citizen has not finished wx.requestFacialVerify yet."""


class FaceVerifyExpired(WeChatError):
    """queryverifyinfo: the verify_id is unknown or past its expires_in; start again."""


class FaceVerifyMismatch(WeChatError):
    """queryverifyinfo: cert_hash, openid or out_seq_no differ from getverifyid's."""


@dataclass(frozen=True)
class FaceVerifySession:
    """getverifyid's answer: give ``verify_id`` to ``wx.requestFacialVerify``."""

    verify_id: str
    expires_in: int


def face_cert_hash(name: str, id_number: str, cert_type: str = FACE_CERT_TYPE) -> str:
    """WeChat's cert_hash: SHA-256, lower-case hex, of
    ``cert_type=B64&cert_name=B64&cert_no=B64`` with standard base64 of each UTF-8 value."""

    def b64(value: str) -> str:
        return base64.b64encode(value.encode("utf-8")).decode("ascii")

    text = f"cert_type={b64(cert_type)}&cert_name={b64(name)}&cert_no={b64(id_number)}"
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _check_out_seq_no(out_seq_no: str) -> None:
    if not FACE_OUT_SEQ_NO.match(out_seq_no):
        raise ValueError("out_seq_no must be 5-32 characters of [0-9A-Za-z_-]")


class WeChatApi(Protocol):
    def code_to_session(self, code: str) -> WeChatSession: ...

    def send_subscribe_message(
        self, openid: str, template_id: str, data: dict[str, Any], page: str | None = None
    ) -> str | None: ...

    def generate_url_link(self, path: str, query: str, expire_days: int) -> str: ...

    def get_face_verify_id(
        self, out_seq_no: str, openid: str, name: str, id_number: str
    ) -> FaceVerifySession: ...

    def query_face_verify(
        self, verify_id: str, out_seq_no: str, openid: str, name: str, id_number: str
    ) -> int: ...


class _TimeoutSession(requests.Session):
    """A requests session with a default timeout.

    wechatpy passes its timeout to API calls but not to the access-token request.
    """

    def __init__(self, timeout: float):
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


class RebasedWeChatClient(WeChatClient):
    """wechatpy's client with ``https://api.weixin.qq.com/`` replaced by ``api_base``.

    wechatpy hard-codes the host in ``API_BASE_URL`` (on the client and on each API
    group such as ``wxa``) and in ``fetch_access_token``; every request passes through
    ``_request`` or ``fetch_access_token``, so rewriting the prefix there is enough.
    """

    def __init__(
        self,
        appid: str,
        secret: str,
        *,
        api_base: str = WECHAT_DEFAULT_API_BASE,
        session: SessionStorage | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ):
        super().__init__(appid, secret, session=session, timeout=timeout)
        self.api_base = api_base.rstrip("/") + "/"
        self._http = _TimeoutSession(timeout)

    def rebase(self, url: str) -> str:
        if url.startswith(WECHAT_DEFAULT_API_BASE):
            return self.api_base + url[len(WECHAT_DEFAULT_API_BASE) :]
        return url

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        base = kwargs.pop("api_base_url", self.API_BASE_URL)
        if not url_or_endpoint.startswith(("http://", "https://")):
            url_or_endpoint = f"{base}{url_or_endpoint}"
        return super()._request(method, self.rebase(url_or_endpoint), **kwargs)

    def fetch_access_token(self) -> Any:
        return self._fetch_access_token(
            url=self.rebase(WECHAT_DEFAULT_API_BASE + "cgi-bin/token"),
            params={
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self.secret,
            },
        )

    def close(self) -> None:
        self._http.close()


class WechatpyApi:
    """:class:`WeChatApi` through wechatpy's ``WeChatClient``.

    Access tokens are cached in wechatpy's session storage: in memory by default; give
    a shared one (``wechatpy.session.redisstorage.RedisStorage``) when several
    processes call WeChat, so that they do not invalidate each other's token.
    """

    def __init__(
        self,
        appid: str,
        secret: str,
        *,
        api_base: str = WECHAT_DEFAULT_API_BASE,
        session: SessionStorage | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ):
        if not appid or not secret:
            raise ValueError("WeChat appid and secret are required")
        self.client = RebasedWeChatClient(
            appid, secret, api_base=api_base, session=session, timeout=timeout
        )

    def code_to_session(self, code: str) -> WeChatSession:
        if not code:
            raise WeChatCodeInvalid(40029, "invalid code: empty")
        result = self._call(lambda: self.client.wxa.code_to_session(code))
        try:
            return WeChatSession(
                openid=result["openid"],
                unionid=result.get("unionid") or None,
                session_key=result["session_key"],
            )
        except (KeyError, TypeError):
            raise WeChatError(None, "code2Session answer without openid or session_key")

    def send_subscribe_message(
        self, openid: str, template_id: str, data: dict[str, Any], page: str | None = None
    ) -> str | None:
        result = self._call(
            lambda: self.client.wxa.send_subscribe_message(openid, template_id, data, page=page)
        )
        msgid = result.get("msgid") if isinstance(result, dict) else None
        return None if msgid is None else str(msgid)

    def generate_url_link(self, path: str, query: str, expire_days: int) -> str:
        if not 1 <= expire_days <= MAX_URL_LINK_DAYS:
            raise ValueError(f"expire_days must be between 1 and {MAX_URL_LINK_DAYS}")
        body = {
            "path": path,
            "query": query,
            "is_expire": True,
            "expire_type": 1,  # expire after expire_interval days
            "expire_interval": expire_days,
        }
        # wechatpy 1.8.18 has no helper for URL Links. `client.post` is the call its
        # (deprecated, warning) `_post` forwards to; the path is under the host root.
        result = self._call(
            lambda: self.client.post(
                "wxa/generate_urllink", data=body, api_base_url=WECHAT_DEFAULT_API_BASE
            )
        )
        try:
            return str(result["url_link"])
        except (KeyError, TypeError):
            raise WeChatError(None, "generate_urllink answer without url_link")

    def get_face_verify_id(
        self, out_seq_no: str, openid: str, name: str, id_number: str
    ) -> FaceVerifySession:
        """Start a face verification bound to this openid and identity (getverifyid).

        ``out_seq_no`` is the platform's own reference, unique per appid.
        """
        _check_out_seq_no(out_seq_no)
        if not openid or not name or not id_number:
            raise ValueError("openid, name and ID number are required")
        body = {
            "out_seq_no": out_seq_no,
            "cert_info": {"cert_type": FACE_CERT_TYPE, "cert_name": name, "cert_no": id_number},
            "openid": openid,
        }
        result = self._call(
            lambda: self.client.post(
                "cityservice/face/identify/getverifyid",
                data=body,
                api_base_url=WECHAT_DEFAULT_API_BASE,
            )
        )
        try:
            return FaceVerifySession(
                verify_id=str(result["verify_id"]), expires_in=int(result["expires_in"])
            )
        except (KeyError, TypeError, ValueError):
            raise WeChatError(None, "getverifyid answer without verify_id or expires_in")

    def query_face_verify(
        self, verify_id: str, out_seq_no: str, openid: str, name: str, id_number: str
    ) -> int:
        """The verify_ret of a finished face verification (queryverifyinfo); 10000 is a
        pass. The same out_seq_no, openid, name and ID number as getverifyid's."""
        _check_out_seq_no(out_seq_no)
        if not verify_id:
            raise ValueError("verify_id is required")
        body = {
            "verify_id": verify_id,
            "out_seq_no": out_seq_no,
            "cert_hash": face_cert_hash(name, id_number),
            "openid": openid,
        }
        result = self._call(
            lambda: self.client.post(
                "cityservice/face/identify/queryverifyinfo",
                data=body,
                api_base_url=WECHAT_DEFAULT_API_BASE,
            )
        )
        verify_ret = result.get("verify_ret") if isinstance(result, dict) else None
        if isinstance(verify_ret, bool) or not isinstance(verify_ret, int):
            raise WeChatError(None, "queryverifyinfo answer without verify_ret")
        return verify_ret

    def close(self) -> None:
        self.client.close()

    @staticmethod
    def _call(request: Callable[[], T]) -> T:
        try:
            return request()
        except WeChatClientException as exc:
            raise _translate(exc) from exc
        except requests.RequestException as exc:
            logger.warning("WeChat API unreachable: %s", type(exc).__name__)
            raise WeChatUnavailable(None, f"WeChat API unreachable: {type(exc).__name__}") from exc


def _translate(exc: WeChatClientException) -> WeChatError:
    errcode = exc.errcode
    errmsg = str(exc.errmsg or "")
    if errcode is None:
        # wechatpy raises with errcode None when the HTTP status is not 2xx.
        status = getattr(exc.response, "status_code", None)
        message = f"HTTP {status}" if status else "no answer"
        if status is None or status >= 500:
            return WeChatUnavailable(None, message)
        return WeChatError(None, message)
    errcode = int(errcode)
    if errcode in CODE_INVALID_ERRCODES:
        return WeChatCodeInvalid(errcode, errmsg)
    if errcode == SYSTEM_BUSY_ERRCODE:
        return WeChatUnavailable(errcode, errmsg)
    if errcode in FACE_NOT_FINISHED_ERRCODES:
        return FaceVerifyNotFinished(errcode, errmsg)
    if errcode in FACE_EXPIRED_ERRCODES:
        return FaceVerifyExpired(errcode, errmsg)
    if errcode in FACE_MISMATCH_ERRCODES:
        logger.warning("WeChat face verification mismatch %s: %s", errcode, errmsg)
        return FaceVerifyMismatch(errcode, errmsg)
    logger.warning("WeChat API error %s: %s", errcode, errmsg)
    return WeChatError(errcode, errmsg)


def make_wechat_api(
    config: Mapping[str, Any], *, session: SessionStorage | None = None
) -> WeChatApi:
    """The WeChat API client for these settings (``WECHAT_APPID``, ``WECHAT_SECRET``,
    ``WECHAT_API_BASE``); ``session`` stores access tokens (memory when omitted)."""
    return WechatpyApi(
        config["WECHAT_APPID"],
        config["WECHAT_SECRET"],
        api_base=config.get("WECHAT_API_BASE") or WECHAT_DEFAULT_API_BASE,
        session=session,
    )
