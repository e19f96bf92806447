"""Plain helper functions for tests: log in through the real endpoints and the sandbox."""

from __future__ import annotations

import itertools
from typing import Any

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
