"""The sandbox application: vendor APIs, a dev page, and JSON for tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, jsonify, redirect, render_template, request

from sandbox.alipay import alipay_blueprint
from sandbox.courier import courier_blueprint
from sandbox.datasharing import MODES, SERVICES, datasharing_blueprint
from sandbox.ebills import ebills_blueprint
from sandbox.registry import IDENTITY_CHECK_PATH
from sandbox.settings import check_settings
from sandbox.state import SandboxState
from sandbox.tencent_sms import BLACKLISTED_PHONE, TencentApiError
from sandbox.wechat_api import wechat_blueprint
from sandbox.wechat_face import FaceControlError, wechat_face_blueprint
from sandbox.wechatpay import wechatpay_blueprint

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in record.items()
    }


def _local_time(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def create_sandbox_app(
    settings: Mapping[str, Any], *, clock: Callable[[], float] = time.time
) -> Flask:
    """A sandbox for these credentials; ``clock`` (epoch seconds) lets tests skew time."""
    checked = check_settings(settings)
    state = SandboxState(checked, clock=clock)
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["sandbox_state"] = state
    app.jinja_env.filters["local_time"] = _local_time
    app.register_blueprint(wechat_blueprint(state.wechat))
    app.register_blueprint(wechat_face_blueprint(state.wechat, state.face))
    app.register_blueprint(datasharing_blueprint(state.datasharing))
    app.register_blueprint(wechatpay_blueprint(state.wechatpay))
    app.register_blueprint(alipay_blueprint(state.alipay))
    app.register_blueprint(ebills_blueprint(state.ebills))
    app.register_blueprint(courier_blueprint(state.courier))

    def tencent_cloud_api() -> Response:
        # Tencent Cloud API 3.0 always answers 200 with the result or error in the body.
        try:
            result = state.sms.handle(
                method=request.method,
                path=request.path,
                query=request.query_string.decode("latin-1"),
                headers=dict(request.headers.items()),
                body=request.get_data(),
            )
        except TencentApiError as exc:
            result = {"Error": {"Code": exc.code, "Message": exc.message}}
        result["RequestId"] = str(uuid.uuid4())
        return jsonify({"Response": result})

    @app.route("/", methods=["GET", "POST"])
    def root() -> Any:
        if request.method == "POST" or "X-TC-Action" in request.headers:
            return tencent_cloud_api()
        return render_template(
            "sandbox/index.html",
            sms=list(reversed(state.sms_messages())),
            wechat_messages=list(reversed(state.wechat_messages())),
            url_links=list(reversed(state.url_links())),
            face_sessions=list(reversed(state.face_sessions())),
            registry_checks=list(reversed(state.registry_checks())),
            registry_persons=state.registry_persons(),
            outages=state.datasharing.outage_modes(),
            outage_services=SERVICES,
            outage_modes=MODES,
            ebills=list(reversed(state.ebills.bills())),
            ebills_down=state.ebills.down,
            parcels=list(reversed(state.courier.parcels())),
            courier_down=state.courier.down,
            templates=sorted(state.sms.templates.values(), key=lambda t: t.template_id),
            appid=state.wechat.appid,
            sdk_app_id=state.sms.sdk_app_id,
            blacklisted_phone=BLACKLISTED_PHONE,
        )

    @app.get("/_sandbox/health")
    def health() -> Response:
        return jsonify({"status": "ok"})

    @app.get("/_sandbox/sms")
    def sms_messages() -> Response:
        # A "+" in a query string arrives as a space; the phone is normalised anyway.
        phone = request.args.get("phone") or None
        return jsonify([_jsonable(m) for m in state.sms_messages(phone)])

    @app.get("/_sandbox/wechat/messages")
    def wechat_messages() -> Response:
        touser = request.args.get("touser") or None
        return jsonify([_jsonable(m) for m in state.wechat_messages(touser)])

    @app.get("/_sandbox/wechat/url-links")
    def url_links() -> Response:
        return jsonify([_jsonable(link) for link in state.url_links()])

    @app.get("/_sandbox/wechat/users/<name>")
    def wechat_user(name: str) -> Response:
        return jsonify(
            {"name": name, "openid": state.openid_for(name), "unionid": state.unionid_for(name)}
        )

    @app.post(IDENTITY_CHECK_PATH)
    def identity_check() -> tuple[Response, int]:
        status, answer = state.registry.handle(
            method=request.method,
            path=request.path,
            headers=dict(request.headers.items()),
            body=request.get_data(),
        )
        return jsonify(answer), status

    @app.get("/_sandbox/wechat/face")
    def face_sessions() -> Response:
        return jsonify([_jsonable(session) for session in state.face_sessions()])

    @app.post("/_sandbox/wechat/face/<verify_id>")
    def complete_face(verify_id: str) -> Any:
        """The citizen at the phone's camera: ``{"verify_ret": 10000}`` or a failure code."""
        from_page = bool(request.form.get("from_page"))
        verify_ret: Any
        if from_page:
            raw = request.form.get("verify_ret", "")
            verify_ret = int(raw) if raw.isdigit() else raw
        else:
            body = request.get_json(silent=True)
            verify_ret = body.get("verify_ret") if isinstance(body, dict) else None
        try:
            session = state.complete_face(verify_id, verify_ret)
        except FaceControlError as exc:
            return jsonify({"error": exc.message}), exc.status
        if from_page:
            return redirect("/", code=303)
        return jsonify(_jsonable(session))

    @app.get("/_sandbox/registry/persons")
    def registry_persons() -> Response:
        return jsonify(state.registry_persons())

    @app.get("/_sandbox/registry/checks")
    def registry_checks() -> Response:
        return jsonify([_jsonable(check) for check in state.registry_checks()])

    @app.post("/_sandbox/reset")
    def reset() -> Any:
        state.reset()
        if request.form.get("from_page"):
            return redirect("/", code=303)
        return jsonify({"status": "ok"})

    return app


def sandbox_state(app: Flask) -> SandboxState:
    state: SandboxState = app.extensions["sandbox_state"]
    return state
