"""Run the sandbox inside a test process, on a free port of 127.0.0.1.

Typical use: ``running = start_sandbox(sandbox_settings())``, then give the platform
``platform_settings_for(running)``, read what it sent with
``running.state.latest_sms("+8613800000000")["params"][0]`` (the login code), call
``running.reset()`` between tests and ``running.stop()`` at the end.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from sandbox.alipay import generate_key_pair
from sandbox.app import create_sandbox_app, sandbox_state
from sandbox.serving import RedactingRequestHandler
from sandbox.settings import DEFAULT_SMS_TEMPLATE_IDS, check_settings
from sandbox.state import SandboxState
from sandbox.wechatpay import wechatpay_settings

DEFAULT_SIGN_NAME = "不动产登记中心"


@dataclass
class RunningSandbox:
    """A sandbox served by a background thread until :meth:`stop`."""

    app: Flask
    settings: dict[str, Any]
    _server: BaseWSGIServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> SandboxState:
        """Direct access to what the sandbox received (``sms_messages()``, …)."""
        return sandbox_state(self.app)

    def reset(self) -> None:
        self.state.reset()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def sandbox_settings(**overrides: Any) -> dict[str, Any]:
    """Fresh random credentials, shaped like the platform's generated dev secrets."""
    settings: dict[str, Any] = {
        "WECHAT_APPID": "wx" + secrets.token_hex(8),
        "WECHAT_SECRET": secrets.token_hex(16),
        "TENCENT_SMS_SECRET_ID": "AKID" + secrets.token_hex(16),
        "TENCENT_SMS_SECRET_KEY": secrets.token_hex(16),
        "TENCENT_SMS_SDK_APP_ID": str(1400000000 + secrets.randbelow(99999999)),
        "SMS_TEMPLATE_IDS": dict(DEFAULT_SMS_TEMPLATE_IDS),
        "REGISTRY_APP_KEY": "pr" + secrets.token_hex(8),
        "REGISTRY_APP_SECRET": secrets.token_hex(32),
        **wechatpay_settings(),
        **_alipay_settings(),
        "EBILL_APP_ID": "eb" + secrets.token_hex(8),
        "EBILL_APP_SECRET": secrets.token_hex(24),
        "COURIER_PARTNER_ID": "BDC" + secrets.token_hex(4).upper(),
        "COURIER_CHECKWORD": secrets.token_hex(16),
    }
    settings.update(overrides)
    return settings


_ALIPAY_KEYS: dict[str, str] = {}


def _alipay_settings() -> dict[str, str]:
    """An Alipay app and merchant (RSA keys made once per process: they are slow)."""
    if not _ALIPAY_KEYS:
        app_private, app_public = generate_key_pair()
        sandbox_private, _ = generate_key_pair()
        _ALIPAY_KEYS.update(ALIPAY_APP_PRIVATE_KEY=app_private, ALIPAY_APP_PUBLIC_KEY=app_public,
                            ALIPAY_SANDBOX_PRIVATE_KEY=sandbox_private)
    return {"ALIPAY_APP_ID": "2021" + "".join(str(secrets.randbelow(10)) for _ in range(12)),
            "ALIPAY_SELLER_ID": "2088" + "".join(str(secrets.randbelow(10)) for _ in range(12)),
            **_ALIPAY_KEYS}


def start_sandbox(
    settings: Mapping[str, Any], *, clock: Callable[[], float] = time.time
) -> RunningSandbox:
    """Serve a sandbox for ``settings`` on 127.0.0.1 and a free port, in a daemon thread."""
    checked = check_settings(settings)
    app = create_sandbox_app(checked, clock=clock)
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=RedactingRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="sandbox", daemon=True)
    thread.start()
    return RunningSandbox(app=app, settings=checked, _server=server, _thread=thread)


def platform_settings_for(
    running: RunningSandbox, settings: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The platform settings that point its WeChat, SMS, registry, payment, e-bill and
    courier clients at ``running``."""
    settings = check_settings(running.settings if settings is None else settings)
    return {
        "WECHAT_APPID": settings["WECHAT_APPID"],
        "WECHAT_SECRET": settings["WECHAT_SECRET"],
        "WECHAT_API_BASE": running.url + "/",
        "SMS_PROVIDER": "tencent",
        "TENCENT_SMS_SECRET_ID": settings["TENCENT_SMS_SECRET_ID"],
        "TENCENT_SMS_SECRET_KEY": settings["TENCENT_SMS_SECRET_KEY"],
        "TENCENT_SMS_SDK_APP_ID": settings["TENCENT_SMS_SDK_APP_ID"],
        "TENCENT_SMS_SIGN_NAME": DEFAULT_SIGN_NAME,
        "TENCENT_SMS_REGION": "ap-guangzhou",
        "TENCENT_SMS_ENDPOINT": f"{running.host}:{running.port}",
        "TENCENT_SMS_SCHEME": "http",
        "SMS_TEMPLATE_IDS": dict(settings["SMS_TEMPLATE_IDS"]),
        "REGISTRY_BASE_URL": running.url + "/",
        "REGISTRY_APP_KEY": settings["REGISTRY_APP_KEY"],
        "REGISTRY_APP_SECRET": settings["REGISTRY_APP_SECRET"],
        "WECHATPAY_MCH_ID": settings["WECHATPAY_MCH_ID"],
        "WECHATPAY_API_KEY": settings["WECHATPAY_API_KEY"],
        "WECHATPAY_API_BASE": running.url + "/",
        "ALIPAY_APP_ID": settings["ALIPAY_APP_ID"],
        "ALIPAY_SELLER_ID": settings["ALIPAY_SELLER_ID"],
        "ALIPAY_APP_PRIVATE_KEY": settings.get("ALIPAY_APP_PRIVATE_KEY", ""),
        "ALIPAY_APP_PUBLIC_KEY": settings["ALIPAY_APP_PUBLIC_KEY"],
        "ALIPAY_SANDBOX_PRIVATE_KEY": settings["ALIPAY_SANDBOX_PRIVATE_KEY"],
        "ALIPAY_PUBLIC_KEY": running.state.alipay.alipay_public_key,
        "ALIPAY_SERVER_URL": running.url + "/gateway.do",
        "EBILL_BASE_URL": running.url + "/",
        "EBILL_APP_ID": settings["EBILL_APP_ID"],
        "EBILL_APP_SECRET": settings["EBILL_APP_SECRET"],
        "COURIER_BASE_URL": running.url + "/",
        "COURIER_PARTNER_ID": settings["COURIER_PARTNER_ID"],
        "COURIER_CHECKWORD": settings["COURIER_CHECKWORD"],
    }
