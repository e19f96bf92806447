"""The sandbox's dev page and JSON for face verification and the registry; its settings."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import requests

from app.integrations.registry import HttpPopulationRegistry
from app.integrations.wechat import WechatpyApi
from sandbox.app import create_sandbox_app
from sandbox.settings import (
    REQUIRED_KEYS,
    SANDBOX_SETTING_KEYS,
    SandboxSettingsError,
    load_sandbox_settings,
)
from sandbox.testing import RunningSandbox, platform_settings_for, sandbox_settings

NAME, ID_NUMBER = "张三", "440402198801010018"


def start_face_verification(wechat: WechatpyApi) -> tuple[str, str, str]:
    """(verify_id, out_seq_no, openid) of a new face verification for 张三."""
    openid = wechat.code_to_session(f"zhangsan.{secrets.token_hex(4)}").openid
    out_seq_no = "kyc-" + secrets.token_hex(8)
    session = wechat.get_face_verify_id(out_seq_no, openid, NAME, ID_NUMBER)
    return session.verify_id, out_seq_no, openid


def page(sandbox: RunningSandbox) -> str:
    answer = requests.get(sandbox.url + "/", timeout=5)
    assert answer.status_code == 200
    return answer.text


def test_the_dev_page_lists_face_sessions_with_the_name_and_number_masked(
    wechat: WechatpyApi, sandbox: RunningSandbox
) -> None:
    verify_id, out_seq_no, _ = start_face_verification(wechat)

    text = page(sandbox)

    assert "微信人脸核身" in text and out_seq_no in text and "等待刷脸" in text
    assert "张*" in text and "4404**********0018" in text
    assert NAME not in text and ID_NUMBER not in text
    assert f'action="/_sandbox/wechat/face/{verify_id}"' in text


def test_a_button_on_the_dev_page_plays_the_citizen_at_the_camera(
    wechat: WechatpyApi, sandbox: RunningSandbox
) -> None:
    verify_id, out_seq_no, openid = start_face_verification(wechat)

    answer = requests.post(
        f"{sandbox.url}/_sandbox/wechat/face/{verify_id}",
        data={"from_page": "1", "verify_ret": "10000"},
        allow_redirects=False,
        timeout=5,
    )

    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    assert wechat.query_face_verify(verify_id, out_seq_no, openid, NAME, ID_NUMBER) == 10000
    assert "核身通过（10000）" in page(sandbox)


def test_the_dev_page_lists_registry_checks_and_persons_masked(
    registry: HttpPopulationRegistry, sandbox: RunningSandbox
) -> None:
    registry.check_identity(NAME, ID_NUMBER)
    registry.check_identity("张四", ID_NUMBER)

    text = page(sandbox)

    assert "人口库核验（2 次）" in text
    assert "姓名不一致" in text and "已返回" in text
    assert "钱*" in text and "死亡" in text
    assert ID_NUMBER not in text and NAME not in text


def test_the_json_lists_face_sessions_and_registry_checks(
    wechat: WechatpyApi, registry: HttpPopulationRegistry, sandbox: RunningSandbox
) -> None:
    verify_id, _, openid = start_face_verification(wechat)
    registry.check_identity(NAME, ID_NUMBER, want_photo=False)

    [session] = requests.get(sandbox.url + "/_sandbox/wechat/face", timeout=5).json()
    [check] = requests.get(sandbox.url + "/_sandbox/registry/checks", timeout=5).json()
    persons = requests.get(sandbox.url + "/_sandbox/registry/persons", timeout=5).json()

    assert (session["verify_id"], session["openid"], session["cert_no"]) == (
        verify_id,
        openid,
        "4404**********0018",
    )
    assert session["expires_at"].endswith("+00:00")
    assert (check["name"], check["match"], check["photo_returned"]) == ("张*", "CONSISTENT", False)
    assert {
        "name": "张*",
        "id_number": "4404**********0018",
        "status": "NORMAL",
        "has_photo": True,
    } in persons


def test_reset_forgets_face_sessions_registry_checks_and_added_persons(
    wechat: WechatpyApi, registry: HttpPopulationRegistry, sandbox: RunningSandbox
) -> None:
    start_face_verification(wechat)
    sandbox.state.add_person("周九", "440402199912310017")
    registry.check_identity(NAME, ID_NUMBER, want_photo=False)

    requests.post(sandbox.url + "/_sandbox/reset", timeout=5)

    assert sandbox.state.face_sessions() == []
    assert sandbox.state.registry_checks() == []
    assert len(sandbox.state.registry_persons()) == 5


def test_a_person_needs_a_well_formed_number_and_a_known_status(sandbox: RunningSandbox) -> None:
    with pytest.raises(ValueError):
        sandbox.state.add_person("周九", "4404021999123100")
    with pytest.raises(ValueError):
        sandbox.state.add_person("周九", "440402199912310017", status="MISSING")


# --- settings -------------------------------------------------------------------------


def test_the_sandbox_refuses_to_start_without_registry_credentials() -> None:
    settings = sandbox_settings()
    del settings["REGISTRY_APP_SECRET"]

    with pytest.raises(SandboxSettingsError, match="REGISTRY_APP_SECRET"):
        create_sandbox_app(settings)


def test_registry_credentials_come_from_the_platforms_environment_variables() -> None:
    environ = {key: "x" for key in REQUIRED_KEYS}
    environ.update(REGISTRY_APP_KEY="pr0123", REGISTRY_APP_SECRET="s3cr3t")

    settings = load_sandbox_settings(environ)

    assert (settings["REGISTRY_APP_KEY"], settings["REGISTRY_APP_SECRET"]) == ("pr0123", "s3cr3t")
    assert set(SANDBOX_SETTING_KEYS) == {*REQUIRED_KEYS, "SMS_TEMPLATE_IDS"}


def test_the_platform_settings_point_the_registry_client_at_the_sandbox(
    sandbox: RunningSandbox,
) -> None:
    config: dict[str, Any] = platform_settings_for(sandbox)

    assert config["REGISTRY_BASE_URL"] == sandbox.url + "/"
    assert config["REGISTRY_APP_KEY"] == sandbox.settings["REGISTRY_APP_KEY"]
    assert config["REGISTRY_APP_SECRET"] == sandbox.settings["REGISTRY_APP_SECRET"]
