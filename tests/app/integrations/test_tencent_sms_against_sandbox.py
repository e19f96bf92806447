"""The Tencent Cloud SMS client (the official SDK underneath) against the sandbox."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
import requests

from app.integrations.sms import SmsError, SmsUnavailable, TencentCloudSms, make_sms_sender
from sandbox.testing import RunningSandbox, platform_settings_for, sandbox_settings, start_sandbox

PHONE = "+8613800000000"
BLACKLISTED_PHONE = "+8613900000000"


def sender_with(config: dict[str, Any], **changes: Any) -> TencentCloudSms:
    sender = make_sms_sender({**config, **changes})
    assert isinstance(sender, TencentCloudSms)
    return sender


def test_a_login_code_is_delivered_with_the_template_text(
    sms: TencentCloudSms, sandbox: RunningSandbox
) -> None:
    receipt = sms.send(PHONE, "login_code", ["482913", "5"])

    [message] = sandbox.state.sms_messages(phone=PHONE)
    assert receipt.provider == "tencent"
    assert receipt.phone == PHONE
    assert receipt.message_id == message["serial_no"]
    assert message["template_id"] == "1000001"
    assert message["params"] == ["482913", "5"]
    assert message["sign_name"] == "不动产登记中心"
    assert message["text"] == (
        "您的验证码为482913，5分钟内有效，请勿告诉他人。如非本人操作，请忽略本短信。"
    )


def test_messages_are_kept_per_phone_in_the_order_sent(
    sms: TencentCloudSms, sandbox: RunningSandbox
) -> None:
    sms.send(PHONE, "login_code", ["111111", "5"])
    sms.send("+8613700000000", "login_code", ["222222", "5"])
    sms.send(PHONE, "login_code", ["333333", "5"])

    assert [m["params"][0] for m in sandbox.state.sms_messages(PHONE)] == ["111111", "333333"]
    assert sandbox.state.latest_sms(PHONE)["params"][0] == "333333"  # type: ignore[index]
    assert len(sandbox.state.sms_messages()) == 3


def test_the_sandbox_json_lists_the_messages_of_one_phone(
    sms: TencentCloudSms, sandbox: RunningSandbox
) -> None:
    sms.send(PHONE, "login_code", ["482913", "5"])
    sms.send("+8613700000000", "login_code", ["000000", "5"])

    answer = requests.get(f"{sandbox.url}/_sandbox/sms", params={"phone": PHONE}, timeout=5)

    [message] = answer.json()
    assert message["phone"] == PHONE
    assert message["params"] == ["482913", "5"]
    assert message["at"].endswith("+00:00")


def test_a_wrong_secret_key_fails_the_signature_check(
    platform_config: dict[str, Any], sandbox: RunningSandbox
) -> None:
    forger = sender_with(platform_config, TENCENT_SMS_SECRET_KEY="f" * 32)

    with pytest.raises(SmsError) as caught:
        forger.send(PHONE, "login_code", ["482913", "5"])
    assert caught.value.code == "AuthFailure.SignatureFailure"
    assert not isinstance(caught.value, SmsUnavailable)
    assert sandbox.state.sms_messages() == []


def test_an_unknown_secret_id_is_refused(platform_config: dict[str, Any]) -> None:
    stranger = sender_with(platform_config, TENCENT_SMS_SECRET_ID="AKID" + "0" * 32)

    with pytest.raises(SmsError) as caught:
        stranger.send(PHONE, "login_code", ["482913", "5"])
    assert caught.value.code == "AuthFailure.SecretIdNotFound"


def test_a_request_signed_more_than_five_minutes_ago_is_refused() -> None:
    settings = sandbox_settings()
    with start_sandbox(settings, clock=lambda: time.time() + 301) as late_sandbox:
        sender = sender_with(platform_settings_for(late_sandbox))

        with pytest.raises(SmsError) as caught:
            sender.send(PHONE, "login_code", ["482913", "5"])
        sender.close()
    assert caught.value.code == "AuthFailure.SignatureExpire"


def test_the_blacklisted_number_is_refused(sms: TencentCloudSms, sandbox: RunningSandbox) -> None:
    with pytest.raises(SmsError) as caught:
        sms.send(BLACKLISTED_PHONE, "login_code", ["482913", "5"])
    assert caught.value.code == "FailedOperation.PhoneNumberInBlacklist"
    assert sandbox.state.sms_messages() == []


def test_an_unknown_sms_application_is_refused(platform_config: dict[str, Any]) -> None:
    sender = sender_with(platform_config, TENCENT_SMS_SDK_APP_ID="1400000000")

    with pytest.raises(SmsError) as caught:
        sender.send(PHONE, "login_code", ["482913", "5"])
    assert caught.value.code == "UnauthorizedOperation.SmsSdkAppIdVerifyFail"


def test_a_template_id_tencent_has_not_approved_is_refused(
    platform_config: dict[str, Any],
) -> None:
    sender = sender_with(platform_config, SMS_TEMPLATE_IDS={"login_code": "999"})

    with pytest.raises(SmsError) as caught:
        sender.send(PHONE, "login_code", ["482913", "5"])
    assert caught.value.code == "FailedOperation.TemplateIncorrectOrUnapproved"


def test_parameters_must_fill_the_template_exactly(sms: TencentCloudSms) -> None:
    with pytest.raises(SmsError) as caught:
        sms.send(PHONE, "login_code", ["482913"])
    assert caught.value.code == "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"


def test_a_template_missing_from_settings_is_refused_before_sending(
    sms: TencentCloudSms,
) -> None:
    with pytest.raises(SmsError) as caught:
        sms.send(PHONE, "no_such_template", [])
    assert caught.value.code == "TemplateNotConfigured"


def test_a_phone_number_not_in_e164_is_refused_before_sending(sms: TencentCloudSms) -> None:
    with pytest.raises(SmsError) as caught:
        sms.send("13800000000", "login_code", ["482913", "5"])
    assert caught.value.code == "InvalidPhoneNumber"


def test_an_unreachable_sms_endpoint_raises_unavailable(
    platform_config: dict[str, Any], unreachable_url: str
) -> None:
    sender = sender_with(
        platform_config, TENCENT_SMS_ENDPOINT=unreachable_url.removeprefix("http://")
    )

    with pytest.raises(SmsUnavailable) as caught:
        sender.send(PHONE, "login_code", ["482913", "5"])
    assert caught.value.code == "ClientNetworkError"


def test_an_sms_server_error_raises_unavailable(
    platform_config: dict[str, Any], broken_server: Any
) -> None:
    sender = sender_with(platform_config, TENCENT_SMS_ENDPOINT=broken_server.endpoint)

    with pytest.raises(SmsUnavailable) as caught:
        sender.send(PHONE, "login_code", ["482913", "5"])
    assert caught.value.code == "ServerNetworkError"


def test_an_sms_endpoint_that_does_not_answer_in_time_raises_unavailable(
    platform_config: dict[str, Any], broken_server: Any
) -> None:
    broken_server.mode = "slow"
    config = {**platform_config, "TENCENT_SMS_ENDPOINT": broken_server.endpoint}
    sender = TencentCloudSms(
        secret_id=config["TENCENT_SMS_SECRET_ID"],
        secret_key=config["TENCENT_SMS_SECRET_KEY"],
        sdk_app_id=config["TENCENT_SMS_SDK_APP_ID"],
        sign_name="不动产登记中心",
        template_ids=config["SMS_TEMPLATE_IDS"],
        endpoint=broken_server.endpoint,
        scheme="http",
        timeout=0.2,
    )

    with pytest.raises(SmsUnavailable):
        sender.send(PHONE, "login_code", ["482913", "5"])


def test_logs_show_neither_the_phone_number_nor_the_code(
    sms: TencentCloudSms, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.integrations.sms"):
        sms.send(PHONE, "login_code", ["482913", "5"])
        with pytest.raises(SmsError):
            sms.send(BLACKLISTED_PHONE, "login_code", ["771234", "5"])

    platform_logs = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("app."))
    assert "138****0000" in platform_logs and "139****0000" in platform_logs
    for secret in ("13800000000", "13900000000", "482913", "771234"):
        assert secret not in platform_logs
