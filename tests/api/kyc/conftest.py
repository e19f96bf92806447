"""Fixtures for the verification flow: a signed-in demo citizen and bursts of frames."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from stdnum.cn import ric

from tests.helpers import bearer, sms_login

FACES = Path(__file__).resolve().parents[2] / "data" / "faces"
ZHANG_ID = "44040219880101001" + ric.calc_check_digit("44040219880101001" + "0")


@pytest.fixture
def fixed_actions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the 'random' challenge predictable: blink, then turn left."""
    actions = ["blink", "turn_left"]
    monkeypatch.setattr("app.identity.service.pick_actions", lambda choices: list(actions))
    return actions


@pytest.fixture
def citizen(client: Any, sandbox: Any) -> dict[str, Any]:
    """张三 signed in by SMS (the sandbox registry holds his reference photo, obama.jpg)."""
    tokens = sms_login(client, sandbox, "13800000001")
    return {"tokens": tokens, "headers": bearer(tokens)}


def burst_b64(photo: str, actions: list[str]) -> list[str]:
    from kyc.testing import burst

    return [base64.b64encode(frame).decode() for frame in burst(FACES / photo, actions)]


def ready_for_challenge(client: Any, headers: dict[str, str], name: str = "张三",
                        id_number: str = ZHANG_ID) -> None:
    response = client.post("/api/kyc/realname", json={"name": name, "id_number": id_number},
                           headers=headers)
    assert response.status_code == 200, response.get_json()
    version = client.get("/api/kyc/consent").get_json()["version"]
    answer = client.post("/api/kyc/consent", json={"version": version, "accepted": True},
                         headers=headers)
    assert answer.status_code == 201, answer.get_json()
