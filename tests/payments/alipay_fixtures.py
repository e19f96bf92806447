"""The Alipay test bench: RSA keys made once per test session, the sandbox blueprint in a
tiny Flask app of its own on 127.0.0.1 and a free port, a merchant that receives the
notifications (with scripted answers), and a clock that tests step.

Each test module makes its bench with :func:`start_bench` in a module-scoped fixture
and calls :meth:`Bench.reset` before each test.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, make_server

from payments.gateways.alipay import AlipayGateway
from payments.gateways.base import NotificationRejected
from sandbox.alipay import AlipaySandbox, alipay_blueprint, generate_key_pair

APP_ID = "2021000000000001"
SELLER_ID = "2088000000000001"
NOTIFY_PATH = "/merchant/alipay/notify"
RETURN_PATH = "/merchant/alipay/return"


@dataclass(frozen=True)
class Keys:
    app_private: str  # the platform's
    app_public: str  # given to Alipay (the sandbox)
    alipay_private: str  # the sandbox's
    alipay_public: str  # the platform's


@functools.cache
def session_keys() -> Keys:
    """Generated at first use, once per test session; never written anywhere."""
    app_private, app_public = generate_key_pair()
    alipay_private, alipay_public = generate_key_pair()
    return Keys(app_private, app_public, alipay_private, alipay_public)


class Clock:
    """Epoch seconds that only move when a test says so."""

    def __init__(self, start: float):
        self.start = start
        self.now = start

    def __call__(self) -> float:
        return self.now

    def set(self, moment: float) -> None:
        self.now = moment

    def step(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@dataclass
class Merchant:
    """The platform's notify endpoint: answers the scripted bodies first, then parses
    with the gateway and answers its ack. Records what it received, with the clock."""

    clock: Clock
    gateway: AlipayGateway | None = None
    script: list[str] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    returns: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.script.clear()
            self.received.clear()
            self.returns.clear()

    def notify(self) -> Response:
        form = {key: request.form[key] for key in request.form}
        with self.lock:
            scripted = self.script.pop(0) if self.script else None
        record: dict[str, Any] = {"at": self.clock(), "form": form, "answer": scripted}
        if scripted is None:
            assert self.gateway is not None
            try:
                record["result"] = self.gateway.parse_notification(
                    request.get_data(), dict(request.headers.items()), form
                )
                ack = self.gateway.ack(True)
            except NotificationRejected as exc:
                record["rejected"] = exc.reason
                ack = self.gateway.ack(False)
            record["answer"] = ack.body.decode()
            with self.lock:
                self.received.append(record)
            return Response(ack.body, status=ack.status, content_type=ack.content_type)
        with self.lock:
            self.received.append(record)
        return Response(scripted, content_type="text/plain")

    def delivered_at(self) -> list[float]:
        """Seconds after the clock's start at which notifications arrived."""
        with self.lock:
            return [record["at"] - self.clock.start for record in self.received]


@dataclass
class Bench:
    sandbox: AlipaySandbox
    merchant: Merchant
    clock: Clock
    keys: Keys
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    @property
    def notify_url(self) -> str:
        return self.url + NOTIFY_PATH

    @property
    def return_url(self) -> str:
        return self.url + RETURN_PATH

    def gateway(self, **overrides: Any) -> AlipayGateway:
        arguments: dict[str, Any] = {
            "app_id": APP_ID,
            "app_private_key": self.keys.app_private,
            "alipay_public_key": self.keys.alipay_public,
            "server_url": self.url + "/gateway.do",
            "seller_id": SELLER_ID,
            "timeout": 5,
        }
        arguments.update(overrides)
        return AlipayGateway(**arguments)

    def reset(self) -> None:
        self.sandbox.reset()
        self.merchant.reset()
        self.clock.set(self.clock.start)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def build_app(sandbox: AlipaySandbox, merchant: Merchant) -> Flask:
    app = Flask("alipay_bench")
    app.register_blueprint(alipay_blueprint(sandbox))
    app.add_url_rule(NOTIFY_PATH, "notify", merchant.notify, methods=["POST"])

    @app.get(RETURN_PATH)
    def back_at_merchant() -> str:
        with merchant.lock:
            merchant.returns.append(dict(request.args.items()))
        return "back at the merchant"

    # Gateways that misbehave, for the adapter's error paths.
    @app.route("/broken/gateway.do", methods=["GET", "POST"])
    def broken() -> Response:
        return Response("<html>502 Bad Gateway</html>", status=502, mimetype="text/html")

    @app.route("/garbage/gateway.do", methods=["GET", "POST"])
    def garbage() -> Response:
        return Response("<html>maintenance</html>", mimetype="text/html")

    @app.route("/busy/gateway.do", methods=["GET", "POST"])
    def busy() -> Response:
        """A correctly signed "try again later" answer (code 20000)."""
        answer = {
            "code": "20000",
            "msg": "Service Currently Unavailable",
            "sub_code": "isp.unknow-error",
            "sub_msg": "系统繁忙",
        }
        method = request.args.get("method", "")
        return Response(sandbox.signed_response(method, answer), mimetype="application/json")

    @app.route("/slow/gateway.do", methods=["GET", "POST"])
    def slow() -> Response:
        time.sleep(1.5)
        return Response("{}", mimetype="application/json")

    return app


def start_bench() -> Bench:
    keys = session_keys()
    # A Beijing-time morning, so that a test's trades stay on one bill day.
    clock = Clock(1795400000.0)  # 2026-11-23 10:13:20 in Beijing
    sandbox = AlipaySandbox(
        APP_ID,
        keys.app_public,
        seller_id=SELLER_ID,
        alipay_private_key=keys.alipay_private,
        clock=clock,
    )
    merchant = Merchant(clock=clock)
    server = make_server("127.0.0.1", 0, build_app(sandbox, merchant), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="alipay-bench", daemon=True)
    thread.start()
    bench = Bench(sandbox, merchant, clock, keys, server, thread)
    merchant.gateway = bench.gateway()
    return bench
