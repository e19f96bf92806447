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

from payments.gateways.base import CreatedPayment, NotificationRejected, RefundResult
from payments.gateways.wechat import WeChatPayGateway
from sandbox.testing import RunningSandbox, sandbox_settings, start_sandbox
from sandbox.wechatpay import WeChatPaySandbox, wechatpay_settings
from tests.helpers import FakeUpstream, LocalServer, unreachable_url


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


class NotifyReceiver(LocalServer):
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
        super().__init__()

    @property
    def url(self) -> str:
        return super().url + "/payments/wechat/notify"

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

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
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


@pytest.fixture
def wx_receiver(wx_clock: SteppedClock) -> Iterator[NotifyReceiver]:
    server = NotifyReceiver(wx_clock)
    yield server
    server.stop()


@pytest.fixture
def wx_results(wx_receiver: NotifyReceiver, wx_gateway: WeChatPayGateway) -> list[Any]:
    """``wx_receiver`` answering as the platform does (see ``answer_with``): what it made
    of each notification, a PaymentResult or the NotificationRejected."""
    results: list[Any] = []
    wx_receiver.answer_with(wx_gateway, results)
    return results


@pytest.fixture
def fake_wechat() -> Iterator[FakeUpstream]:
    """A WeChat Pay that answers badly on purpose (``mode``: see FakeUpstream); its
    ``url`` ends in "/", as a gateway's api_base_url does."""
    server = FakeUpstream("error")
    yield server
    server.stop()


@pytest.fixture
def wx_unreachable_url() -> str:
    """A 127.0.0.1 address where nothing listens, ending in "/"."""
    return unreachable_url() + "/"


NO_NOTIFY = "http://127.0.0.1:9/notify"  # a closed port: notifications sent there fail


def new_out_trade_no() -> str:
    return "ZH" + secrets.token_hex(8)


@pytest.fixture
def wx_openid(wx_sandbox: RunningSandbox) -> str:
    return wx_sandbox.state.openid_for("zhangsan")


def payment_args(openid: str, expires_at: datetime, **changes: Any) -> dict[str, Any]:
    """The keyword arguments of ``create_payment`` for a JSAPI order of 80 yuan."""
    return {
        "out_trade_no": new_out_trade_no(),
        "amount_fen": 8000,
        "description": "登记费",
        "expires_at": expires_at,
        "payer_openid": openid,
        "notify_url": NO_NOTIFY,
        "return_url": None,
        **changes,
    }


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
    args = payment_args(
        wx_openid,
        datetime.fromtimestamp(wx_clock(), UTC) + expires_in,
        amount_fen=amount_fen,
        description=description,
        notify_url=notify_url,
    )
    if out_trade_no:
        args["out_trade_no"] = out_trade_no
    return args["out_trade_no"], wx_gateway.create_payment(**args)


MakeOrder = Callable[..., tuple[str, CreatedPayment]]
PayOrder = Callable[..., str]


@pytest.fixture
def wx_order(wx_gateway: WeChatPayGateway, wx_clock: SteppedClock, wx_openid: str) -> MakeOrder:
    """``wx_order(notify_url=NO_NOTIFY, **options)``: :func:`create` with ``wx_gateway``."""

    def make(notify_url: str = NO_NOTIFY, **options: Any) -> tuple[str, CreatedPayment]:
        return create(wx_gateway, wx_clock, wx_openid, notify_url, **options)

    return make


@pytest.fixture
def wx_paid(wx_order: MakeOrder, wechatpay: WeChatPaySandbox) -> PayOrder:
    """``wx_paid(amount_fen=8000, notify_url=NO_NOTIFY)``: an order the payer has paid
    (its notification queued, not sent); returns its out_trade_no."""

    def pay(amount_fen: int = 8000, notify_url: str = NO_NOTIFY) -> str:
        out_trade_no, _ = wx_order(notify_url, amount_fen=amount_fen)
        wechatpay.pay(out_trade_no)
        return out_trade_no

    return pay


def pay_and_deliver(
    wechatpay: WeChatPaySandbox, wx_receiver: NotifyReceiver, out_trade_no: str
) -> bytes:
    """Pay the order and deliver its notification: the one body ``wx_receiver`` got."""
    wechatpay.pay(out_trade_no)
    attempts = wechatpay.deliver_due_notifications()
    assert [a["ok"] for a in attempts] == [True]
    assert len(wx_receiver.received) == 1
    return wx_receiver.received[0].body


@pytest.fixture
def wx_delivered(
    wx_order: MakeOrder, wechatpay: WeChatPaySandbox, wx_receiver: NotifyReceiver
) -> tuple[str, bytes]:
    """An 80-yuan order paid and its notification delivered: (out_trade_no, the body)."""
    out_trade_no, _ = wx_order(wx_receiver.url)
    return out_trade_no, pay_and_deliver(wechatpay, wx_receiver, out_trade_no)


def refund(
    gateway: WeChatPayGateway,
    out_trade_no: str,
    refund_fen: int,
    *,
    total_fen: int = 8000,
    out_refund_no: str | None = None,
    reason: str = "",
    notify_url: str = "",
) -> RefundResult:
    """``gateway.refund`` of an order of ``total_fen``; out_refund_no "R" + out_trade_no."""
    return gateway.refund(
        out_trade_no=out_trade_no,
        out_refund_no=out_refund_no or "R" + out_trade_no,
        total_fen=total_fen,
        refund_fen=refund_fen,
        reason=reason,
        notify_url=notify_url,
    )
