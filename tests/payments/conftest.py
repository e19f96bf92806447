"""WeChat Pay against the sandbox: a sandbox with a merchant on a clock the tests step,
gateways pointed at it, and a local HTTP server playing the platform's notify_url."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.serving import make_server

from payments.gateways.base import CreatedPayment, NotificationRejected
from payments.gateways.wechat import WeChatPayGateway
from sandbox.testing import RunningSandbox, sandbox_settings, start_sandbox
from sandbox.wechatpay import WeChatPaySandbox, wechatpay_settings


class SteppedClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def set(self, when: datetime | float) -> None:
        self.now = when.timestamp() if isinstance(when, datetime) else when

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def wx_clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture(scope="session")
def wx_running_sandbox(wx_clock: SteppedClock) -> Iterator[RunningSandbox]:
    running = start_sandbox(sandbox_settings(**wechatpay_settings()), clock=wx_clock)
    running.state.wechatpay.set_auto_delivery(False)
    yield running
    running.state.wechatpay.set_auto_delivery(False)
    running.stop()


@pytest.fixture
def wx_sandbox(wx_running_sandbox: RunningSandbox, wx_clock: SteppedClock) -> RunningSandbox:
    """The sandbox, emptied, its clock at the real time and stepped by hand from there;
    notifications are sent only by ``wechatpay.deliver_due_notifications()``."""
    wx_clock.set(time.time())
    wx_running_sandbox.state.wechatpay.set_auto_delivery(False)
    wx_running_sandbox.reset()
    return wx_running_sandbox


@pytest.fixture
def wechatpay(wx_sandbox: RunningSandbox) -> WeChatPaySandbox:
    return wx_sandbox.state.wechatpay


def make_gateway(running: RunningSandbox, **overrides: Any) -> WeChatPayGateway:
    options: dict[str, Any] = {
        "appid": running.settings["WECHAT_APPID"],
        "mch_id": running.settings["WECHATPAY_MCH_ID"],
        "api_key": running.settings["WECHATPAY_API_KEY"],
        "api_base_url": running.url + "/",
        "timeout": 5,
    }
    options.update(overrides)
    return WeChatPayGateway(
        options.pop("appid"),
        options.pop("mch_id"),
        options.pop("api_key"),
        options.pop("api_base_url"),
        **options,
    )


@pytest.fixture
def wx_gateway(wx_sandbox: RunningSandbox) -> Iterator[WeChatPayGateway]:
    made = make_gateway(wx_sandbox)
    yield made
    made.release()


@pytest.fixture
def wx_hmac_gateway(wx_sandbox: RunningSandbox) -> Iterator[WeChatPayGateway]:
    made = make_gateway(wx_sandbox, sign_type="HMAC-SHA256")
    yield made
    made.release()


@dataclass
class Received:
    body: bytes
    content_type: str
    at: float  # the sandbox clock when it arrived


class NotifyReceiver:
    """An HTTP server on 127.0.0.1 standing in for the platform's notify_url.

    Each request's body is recorded, then answered by ``script`` (a list of (status,
    body) consumed in order) or, when empty, by ``answer(body)``: by default the
    gateway's own parse_notification and ack, as the platform's endpoint would.
    """

    def __init__(self, wx_clock: SteppedClock) -> None:
        self.clock = wx_clock
        self.received: list[Received] = []
        self.script: list[tuple[int, bytes]] = []
        self.answer: Callable[[bytes], tuple[int, bytes]] = lambda body: (
            200,
            b"<xml><return_code>SUCCESS</return_code></xml>",
        )
        self.arrived = threading.Condition()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/payments/wechat/notify"

    def answer_with(self, wx_gateway: WeChatPayGateway, results: list[Any]) -> None:
        """Answer like the platform: verify with ``gateway``, append the outcome (a
        PaymentResult or the NotificationRejected) to ``results``, ack accordingly."""

        def answer(body: bytes) -> tuple[int, bytes]:
            try:
                results.append(wx_gateway.parse_notification(body, {}, {}))
            except NotificationRejected as exc:
                results.append(exc)
                return 200, wx_gateway.ack(False).body
            return 200, wx_gateway.ack(True).body

        self.answer = answer

    def _app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        status, answer = self.script.pop(0) if self.script else self.answer(body)
        with self.arrived:
            self.received.append(Received(body, environ.get("CONTENT_TYPE", ""), self.clock()))
            self.arrived.notify_all()
        start_response(f"{status} X", [("Content-Type", "text/xml")])
        return [answer]

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, timeout)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def wx_receiver(wx_clock: SteppedClock) -> Iterator[NotifyReceiver]:
    server = NotifyReceiver(wx_clock)
    yield server
    server.stop()


class FakeWeChat:
    """An HTTP server that answers badly on purpose: ``mode`` "error" (HTTP 500),
    "slow" (waits), "unsigned" (SUCCESS without a valid sign) or "html" (200, not XML)."""

    def __init__(self) -> None:
        self.mode = "error"
        self.release = threading.Event()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/"

    def _app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if self.mode == "slow":
            self.release.wait(timeout=5)
        if self.mode == "unsigned":
            start_response("200 OK", [("Content-Type", "text/xml")])
            return [
                b"<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code>"
                b"<prepay_id>wx1</prepay_id><sign>00000000000000000000000000000000</sign></xml>"
            ]
        if self.mode == "html":
            start_response("200 OK", [("Content-Type", "text/html")])
            return [b"<html><body>maintenance</body></html>"]
        start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "text/html")])
        return [b"<html>upstream failure</html>"]

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def fake_wechat() -> Iterator[FakeWeChat]:
    server = FakeWeChat()
    yield server
    server.stop()


@pytest.fixture
def wx_unreachable_url() -> str:
    """A 127.0.0.1 address where nothing listens: a port taken, then released."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def new_out_trade_no() -> str:
    return "ZH" + secrets.token_hex(8)


@pytest.fixture
def wx_openid(wx_sandbox: RunningSandbox) -> str:
    return wx_sandbox.state.openid_for("zhangsan")


def create(
    wx_gateway: WeChatPayGateway,
    wx_clock: SteppedClock,
    wx_openid: str,
    notify_url: str,
    *,
    amount_fen: int = 8000,
    out_trade_no: str | None = None,
    expires_in: timedelta = timedelta(minutes=30),
    description: str = "珠海市不动产登记中心-登记费",
) -> tuple[str, CreatedPayment]:
    """A JSAPI order expiring ``expires_in`` after the sandbox clock."""
    out_trade_no = out_trade_no or new_out_trade_no()
    created = wx_gateway.create_payment(
        out_trade_no=out_trade_no,
        amount_fen=amount_fen,
        description=description,
        expires_at=datetime.fromtimestamp(wx_clock(), UTC) + expires_in,
        payer_openid=wx_openid,
        notify_url=notify_url,
        return_url=None,
    )
    return out_trade_no, created
