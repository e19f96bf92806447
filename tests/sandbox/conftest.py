"""A sandbox served on 127.0.0.1 for the whole session, emptied before each test,
and the platform's real WeChat, SMS and population registry clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.integrations.registry import HttpPopulationRegistry, make_population_registry
from app.integrations.sms import TencentCloudSms, make_sms_sender
from app.integrations.wechat import WechatpyApi, make_wechat_api
from sandbox.testing import RunningSandbox, platform_settings_for, sandbox_settings, start_sandbox


@pytest.fixture(scope="session")
def running_sandbox() -> Iterator[RunningSandbox]:
    running = start_sandbox(sandbox_settings())
    yield running
    running.stop()


@pytest.fixture
def sandbox(running_sandbox: RunningSandbox) -> RunningSandbox:
    running_sandbox.reset()
    return running_sandbox


@pytest.fixture
def platform_config(sandbox: RunningSandbox) -> dict[str, Any]:
    return platform_settings_for(sandbox)


@pytest.fixture
def wechat(platform_config: dict[str, Any]) -> Iterator[WechatpyApi]:
    api = make_wechat_api(platform_config)
    assert isinstance(api, WechatpyApi)
    yield api
    api.close()


@pytest.fixture
def sms(platform_config: dict[str, Any]) -> Iterator[TencentCloudSms]:
    sender = make_sms_sender(platform_config)
    assert isinstance(sender, TencentCloudSms)
    yield sender
    sender.close()


@pytest.fixture
def registry(platform_config: dict[str, Any]) -> Iterator[HttpPopulationRegistry]:
    client = make_population_registry(platform_config)
    assert isinstance(client, HttpPopulationRegistry)
    yield client
    client.close()


@pytest.fixture
def unreachable_url() -> str:
    """A 127.0.0.1 address where nothing listens: a port taken, then released."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class BrokenServer:
    """An HTTP server that fails on purpose: ``mode`` is "error" (HTTP 500) or "slow"."""

    def __init__(self) -> None:
        import threading

        from werkzeug.serving import make_server

        self.mode = "error"
        self.release = threading.Event()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self._server.server_port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def _app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if self.mode == "slow":
            self.release.wait(timeout=5)
        start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "text/html")])
        return [b"<html>upstream failure</html>"]

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def broken_server() -> Iterator[BrokenServer]:
    server = BrokenServer()
    yield server
    server.stop()
