"""The sandbox itself: its dev page, its JSON for tests, its settings and protocol edges."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from app.integrations.sms import TencentCloudSms
from app.integrations.wechat import WechatpyApi
from sandbox.app import create_sandbox_app
from sandbox.serving import redact
from sandbox.settings import REQUIRED_KEYS, SandboxSettingsError, load_sandbox_settings
from sandbox.tencent_sms import normalize_phone
from sandbox.testing import RunningSandbox, sandbox_settings, start_sandbox

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PHONE = "+8613800000000"


def get(sandbox: RunningSandbox, path: str, **params: Any) -> requests.Response:
    return requests.get(sandbox.url + path, params=params, timeout=5)


def test_the_dev_page_shows_a_sent_sms_in_chinese_with_beijing_time(
    sms: TencentCloudSms, sandbox: RunningSandbox
) -> None:
    sms.send(PHONE, "login_code", ["482913", "5"])
    [message] = sandbox.state.sms_messages()

    page = get(sandbox, "/")

    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assert "短信" in page.text
    assert PHONE in page.text
    assert "【不动产登记中心】您的验证码为482913，5分钟内有效" in page.text
    beijing = message["at"].astimezone(ZoneInfo("Asia/Shanghai"))
    assert beijing.strftime("%Y-%m-%d %H:%M:%S") in page.text


def test_the_dev_page_lists_the_newest_first(
    sms: TencentCloudSms, wechat: WechatpyApi, sandbox: RunningSandbox
) -> None:
    sms.send(PHONE, "login_code", ["111111", "5"])
    sms.send(PHONE, "login_code", ["222222", "5"])
    wechat.send_subscribe_message("o" * 28, "TPL", {"thing1": {"value": "缴费通知"}})
    link = wechat.generate_url_link("pages/case/detail", "id=7", expire_days=7)

    page = get(sandbox, "/").text

    assert page.index("222222") < page.index("111111")
    assert "缴费通知" in page
    assert link in page


def test_the_dev_page_escapes_what_it_shows(wechat: WechatpyApi, sandbox: RunningSandbox) -> None:
    wechat.send_subscribe_message("o" * 28, "TPL", {"thing1": {"value": "<script>x</script>"}})

    assert "<script>x</script>" not in get(sandbox, "/").text


def test_the_json_lists_subscribe_messages_and_url_links(
    wechat: WechatpyApi, sandbox: RunningSandbox
) -> None:
    openid = wechat.code_to_session("alice").openid
    wechat.send_subscribe_message(openid, "TPL", {"thing1": {"value": "x"}})
    link = wechat.generate_url_link("pages/index", "a=1", expire_days=1)

    [message] = get(sandbox, "/_sandbox/wechat/messages", touser=openid).json()
    [url_link] = get(sandbox, "/_sandbox/wechat/url-links").json()
    user = get(sandbox, "/_sandbox/wechat/users/alice").json()

    assert message["touser"] == openid and message["template_id"] == "TPL"
    assert url_link["url_link"] == link and url_link["query"] == "a=1"
    assert user["openid"] == openid


def test_reset_forgets_messages_and_used_codes(
    sms: TencentCloudSms, wechat: WechatpyApi, sandbox: RunningSandbox
) -> None:
    sms.send(PHONE, "login_code", ["482913", "5"])
    wechat.code_to_session("alice.1")

    answer = requests.post(sandbox.url + "/_sandbox/reset", timeout=5)

    assert answer.json() == {"status": "ok"}
    assert get(sandbox, "/_sandbox/sms").json() == []
    assert wechat.code_to_session("alice.1").openid == sandbox.state.openid_for("alice")


def test_a_phone_filter_with_an_unencoded_plus_still_matches(
    sms: TencentCloudSms, sandbox: RunningSandbox
) -> None:
    sms.send(PHONE, "login_code", ["482913", "5"])

    answer = requests.get(f"{sandbox.url}/_sandbox/sms?phone={PHONE}", timeout=5)

    assert len(answer.json()) == 1


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+8613800000000", "+8613800000000"),
        ("008613800000000", "+8613800000000"),
        ("8613800000000", "+8613800000000"),
        ("13800000000", "+8613800000000"),
        (" 8613800000000", "+8613800000000"),
        ("+85291234567", None),
        ("12345", None),
    ],
)
def test_phone_numbers_are_read_as_the_api_allows(raw: str, e164: str | None) -> None:
    assert normalize_phone(raw) == e164


def test_tencent_cloud_api_calls_other_than_send_sms_are_refused(
    sms: TencentCloudSms,
) -> None:
    with pytest.raises(TencentCloudSDKException) as caught:
        sms._client.call_json("DescribeSmsSignList", {"SignIdSet": [1]})
    assert caught.value.code == "InvalidAction"


def test_an_expired_access_token_is_reported_as_expired(sandbox: RunningSandbox) -> None:
    now = [time.time()]
    with start_sandbox(sandbox.settings, clock=lambda: now[0]) as timed:
        token = requests.get(
            timed.url + "/cgi-bin/token",
            params={
                "grant_type": "client_credential",
                "appid": timed.settings["WECHAT_APPID"],
                "secret": timed.settings["WECHAT_SECRET"],
            },
            timeout=5,
        ).json()["access_token"]
        now[0] += 7201

        answer = requests.post(
            timed.url + "/cgi-bin/message/subscribe/send",
            params={"access_token": token},
            json={"touser": "o" * 28, "template_id": "T", "data": {"a": {"value": "1"}}},
            timeout=5,
        ).json()
    assert answer["errcode"] == 42001


def test_wechat_calls_without_an_access_token_are_refused(sandbox: RunningSandbox) -> None:
    answer = requests.post(sandbox.url + "/wxa/generate_urllink", json={}, timeout=5).json()

    assert answer["errcode"] == 41001


def test_the_sandbox_refuses_to_start_without_credentials() -> None:
    with pytest.raises(SandboxSettingsError, match="WECHAT_APPID"):
        create_sandbox_app({})
    with pytest.raises(SandboxSettingsError, match="TENCENT_SMS_SECRET_KEY"):
        load_sandbox_settings({"WECHAT_APPID": "wx1", "WECHAT_SECRET": "s"})


def test_python_m_sandbox_explains_why_it_will_not_start() -> None:
    environ = {key: value for key, value in os.environ.items() if key not in REQUIRED_KEYS}

    finished = subprocess.run(
        [sys.executable, "-m", "sandbox", "--port", "0"],
        cwd=PROJECT_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert finished.returncode == 2
    assert "refusing to start" in finished.stderr
    assert "WECHAT_APPID" in finished.stderr


def test_settings_come_from_the_platforms_environment_variables() -> None:
    environ = {key: value for key, value in sandbox_settings().items() if key in REQUIRED_KEYS}
    environ["SMS_TEMPLATE_IDS"] = '{"login_code": "1000001", "fees_assessed": 1000002}'

    settings = load_sandbox_settings(environ)

    assert settings["SMS_TEMPLATE_IDS"] == {"login_code": "1000001", "fees_assessed": "1000002"}


def test_template_ids_that_are_not_json_stop_the_sandbox() -> None:
    environ = {key: "x" for key in REQUIRED_KEYS}
    environ["SMS_TEMPLATE_IDS"] = "login_code=1000001"

    with pytest.raises(SandboxSettingsError, match="SMS_TEMPLATE_IDS"):
        load_sandbox_settings(environ)


def test_the_request_log_hides_credentials() -> None:
    line = "GET /sns/jscode2session?appid=wx1&secret=abc&js_code=alice.1&access_token=t HTTP/1.1"

    assert redact(line) == (
        "GET /sns/jscode2session?appid=wx1&secret=***&js_code=***&access_token=*** HTTP/1.1"
    )
