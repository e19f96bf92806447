"""Sandbox settings: the same environment variable names as the platform's."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from sandbox.tencent_sms import platform_templates

# Credentials the platform generates in development (var/dev-secrets.json) and exports
# to both processes; the sandbox accepts exactly these.
REQUIRED_KEYS = (
    "WECHAT_APPID",
    "WECHAT_SECRET",
    "TENCENT_SMS_SECRET_ID",
    "TENCENT_SMS_SECRET_KEY",
    "TENCENT_SMS_SDK_APP_ID",
    "REGISTRY_APP_KEY",
    "REGISTRY_APP_SECRET",
    "WECHATPAY_MCH_ID",
    "WECHATPAY_API_KEY",
    "ALIPAY_APP_ID",
    "ALIPAY_APP_PUBLIC_KEY",
    "ALIPAY_SELLER_ID",
    "ALIPAY_SANDBOX_PRIVATE_KEY",
    "EBILL_APP_ID",
    "EBILL_APP_SECRET",
    "COURIER_PARTNER_ID",
    "COURIER_CHECKWORD",
)
# Everything the sandbox reads from the platform's settings (for app/devserver.py).
SANDBOX_SETTING_KEYS = (*REQUIRED_KEYS, "SMS_TEMPLATE_IDS")
# Same default as the platform's settings: logical template name → Tencent template id,
# from the platform's templates file (app/notifications/templates.yaml).
DEFAULT_SMS_TEMPLATE_IDS = {name: spec["tencent_id"] for name, spec in platform_templates().items()
                            if spec["tencent_id"] is not None}


class SandboxSettingsError(RuntimeError):
    """A sandbox setting is missing or malformed; the sandbox must not start."""


def check_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A complete copy of ``settings``, or :class:`SandboxSettingsError`."""
    missing = [key for key in REQUIRED_KEYS if not settings.get(key)]
    if missing:
        raise SandboxSettingsError(
            "the sandbox needs these settings: "
            + ", ".join(missing)
            + ". In development the platform generates them on first run"
            " (var/dev-secrets.json) and exports them to both processes; start both"
            " with `make run`, or export the same values before `python -m sandbox`."
        )
    checked = dict(settings)
    template_ids = checked.get("SMS_TEMPLATE_IDS") or DEFAULT_SMS_TEMPLATE_IDS
    if not isinstance(template_ids, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str | int) for key, value in template_ids.items()
    ):
        raise SandboxSettingsError(
            'SMS_TEMPLATE_IDS must map template names to ids, e.g. {"login_code": "1000001"}'
        )
    checked["SMS_TEMPLATE_IDS"] = {key: str(value) for key, value in template_ids.items()}
    for key in REQUIRED_KEYS:
        checked[key] = str(checked[key])
    return checked


def load_sandbox_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings from environment variables, checked."""
    environ = os.environ if environ is None else environ
    settings: dict[str, Any] = {key: environ.get(key, "") for key in REQUIRED_KEYS}
    raw_templates = environ.get("SMS_TEMPLATE_IDS", "")
    if raw_templates:
        try:
            settings["SMS_TEMPLATE_IDS"] = json.loads(raw_templates)
        except ValueError as exc:
            raise SandboxSettingsError(f"SMS_TEMPLATE_IDS is not JSON: {exc}") from None
    return check_settings(settings)
