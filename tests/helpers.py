"""Plain helpers for tests: log in through the real endpoints and the sandbox; small local
HTTP servers standing in for an upstream that fails."""

from __future__ import annotations

import itertools
import socket
import threading
from typing import Any

from werkzeug.serving import make_server

_codes = itertools.count(1)


def wechat_code(name: str) -> str:
    """A fresh wx.login code for a sandbox user (each code works once, like WeChat's)."""
    return f"{name}.{next(_codes)}"


def wechat_login(client: Any, name: str = "alice") -> dict[str, Any]:
    response = client.post("/api/auth/wechat", json={"code": wechat_code(name)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def last_sms_code(sandbox: Any, e164: str) -> str:
    message = sandbox.state.latest_sms(e164)
    assert message is not None, f"no SMS recorded for {e164}"
    return str(message["params"][0])


def sms_login(client: Any, sandbox: Any, phone: str = "13800000009") -> dict[str, Any]:
    sent = client.post("/api/auth/sms/code", json={"phone": phone})
    assert sent.status_code == 202, sent.get_json()
    code = last_sms_code(sandbox, "+86" + phone[-11:])
    response = client.post("/api/auth/sms/login", json={"phone": phone, "code": code})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


# --- local HTTP servers ----------------------------------------------------------------------


class LocalServer:
    """A WSGI app (:meth:`wsgi`) served on 127.0.0.1, a free port, by a daemon thread until
    :meth:`stop`. Subclasses set their own attributes before calling ``__init__``."""

    def __init__(self) -> None:
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self._server.server_port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, without a trailing slash."""
        return f"http://{self.endpoint}"

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise NotImplementedError

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# A WeChat Pay v2 answer saying SUCCESS, signed with no key at all.
UNSIGNED_WECHATPAY_SUCCESS = (
    b"<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code>"
    b"<prepay_id>wx1</prepay_id><sign>00000000000000000000000000000000</sign></xml>"
)


class FakeUpstream(LocalServer):
    """An upstream (WeChat, WeChat Pay, SMS, the registry) that answers badly on purpose.

    ``mode``: "error" (HTTP 500, the default); "slow" (waits until :meth:`stop` or
    ``release.set()``, 5 s at most, then 500); "html" (200 with an HTML page, not the
    API's format); "unsigned" (200 with WeChat Pay's SUCCESS under a signature no key made).
    """

    MODES = ("error", "slow", "html", "unsigned")

    def __init__(self, mode: str = "error") -> None:
        self.mode = mode
        self.release = threading.Event()
        super().__init__()

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        assert self.mode in self.MODES, self.mode
        if self.mode == "slow":
            self.release.wait(timeout=5)
        if self.mode == "unsigned":
            start_response("200 OK", [("Content-Type", "text/xml")])
            return [UNSIGNED_WECHATPAY_SUCCESS]
        if self.mode == "html":
            start_response("200 OK", [("Content-Type", "text/html")])
            return [b"<html><body>maintenance</body></html>"]
        start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "text/html")])
        return [b"<html>upstream failure</html>"]

    def stop(self) -> None:
        self.release.set()
        super().stop()


def unreachable_url() -> str:
    """``http://127.0.0.1:PORT`` where nothing listens: a port taken, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
