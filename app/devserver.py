"""`make run`: migrate, load demo data, serve the platform and the sandbox on 127.0.0.1.

Development only: the sandbox stands in for WeChat and Tencent Cloud SMS, with the
credentials generated in var/dev-secrets.json. Production runs `gunicorn wsgi:app`.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from flask_migrate import upgrade
from werkzeug.serving import make_server, run_simple

from app.demo import already_loaded, load_demo
from app.factory import create_app
from app.jobs import start_worker
from app.kernel.settings import load_settings
from app.kernel.timeutil import local_date
from app.reference import load_reference_data
from sandbox.app import create_sandbox_app, sandbox_state
from sandbox.serving import RedactingRequestHandler
from sandbox.settings import SANDBOX_SETTING_KEYS, check_settings


def _start_sandbox(settings: dict) -> str:
    sandbox_app = create_sandbox_app(
        check_settings({k: settings[k] for k in SANDBOX_SETTING_KEYS}))
    sandbox_state(sandbox_app).alipay.start_delivery_thread()
    server = make_server(settings["SANDBOX_HOST"], int(settings["SANDBOX_PORT"]), sandbox_app,
                         threaded=True, request_handler=RedactingRequestHandler)
    threading.Thread(target=server.serve_forever, name="sandbox", daemon=True).start()
    return f"http://{settings['SANDBOX_HOST']}:{settings['SANDBOX_PORT']}"


def main() -> int:
    settings = load_settings()
    if settings["APP_ENV"] == "production":
        print("make run is for development; production runs gunicorn wsgi:app", file=sys.stderr)
        return 2
    sandbox_url = _start_sandbox(settings)
    app = create_app()
    base = f"http://{settings['APP_HOST']}:{settings['APP_PORT']}"
    with app.app_context():

        upgrade()
        load_reference_data(local_date())
        credentials = Path(settings["INSTANCE_DIR"]) / "demo-accounts.txt"
        if already_loaded():
            print(f"演示账号已存在，见 {credentials}")
        else:
            print("\n".join(load_demo(Path(settings["INSTANCE_DIR"]),
                                      settings["CASE_NUMBER_PREFIX"])))
            print(f"（以上账号已保存到 {credentials}，仅本机可读）")

    start_worker(app)
    print(
        "\n平台已启动：\n"
        f"  API 文档        {base}/api/docs\n"
        f"  OpenAPI         {base}/api/openapi.json\n"
        f"  工作人员登录    {base}/admin/login\n"
        f"  沙箱（微信/短信）{sandbox_url}/\n"
        "  TOTP 验证码     .venv/bin/flask --app wsgi staff totp-code demo.supervisor\n"
        "按 Ctrl+C 停止。\n",
        flush=True,
    )
    run_simple(settings["APP_HOST"], int(settings["APP_PORT"]), app, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
