"""``python -m sandbox [--host 127.0.0.1] [--port 8001]``: serve the sandbox.

Credentials come from the environment (WECHAT_APPID, WECHAT_SECRET,
TENCENT_SMS_SECRET_ID, TENCENT_SMS_SECRET_KEY, TENCENT_SMS_SDK_APP_ID, REGISTRY_APP_KEY,
REGISTRY_APP_SECRET, the payment gateways' keys, EBILL_APP_ID, EBILL_APP_SECRET,
COURIER_PARTNER_ID, COURIER_CHECKWORD, and optionally SMS_TEMPLATE_IDS as JSON), the
same variables the platform reads; the list is ``sandbox.settings.REQUIRED_KEYS``.
"""

from __future__ import annotations

import argparse
import os
import sys

from sandbox.app import create_sandbox_app, sandbox_state
from sandbox.serving import RedactingRequestHandler
from sandbox.settings import SandboxSettingsError, load_sandbox_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description=(
            "Local stand-ins for the WeChat API, Tencent Cloud SMS and the population registry."
        ),
    )
    parser.add_argument("--host", default=os.environ.get("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "8001")))
    args = parser.parse_args(argv)
    try:
        settings = load_sandbox_settings()
    except SandboxSettingsError as exc:
        print(f"sandbox: refusing to start: {exc}", file=sys.stderr)
        return 2
    app = create_sandbox_app(settings)
    sandbox_state(app).alipay.start_delivery_thread()  # WeChat Pay delivers on its own
    print(
        f"sandbox: WeChat API, Tencent Cloud SMS and population registry on"
        f" http://{args.host}:{args.port}/; open that address in a browser to read the"
        " messages sent and play the citizen in face verification",
        file=sys.stderr,
    )
    app.run(
        host=args.host,
        port=args.port,
        threaded=True,
        use_reloader=False,
        request_handler=RedactingRequestHandler,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
