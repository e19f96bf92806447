"""Choosing the SMS sender from settings, the in-memory fake, and masked phone numbers."""

from __future__ import annotations

import pytest

from app.integrations.sms import (
    MemorySmsSender,
    SmsError,
    TencentCloudSms,
    make_sms_sender,
    mask_phone,
)
from app.kernel.settings import SettingsError

TENCENT_CONFIG = {
    "SMS_PROVIDER": "tencent",
    "TENCENT_SMS_SECRET_ID": "AKIDexample",
    "TENCENT_SMS_SECRET_KEY": "key",
    "TENCENT_SMS_SDK_APP_ID": "1400000001",
    "TENCENT_SMS_SIGN_NAME": "不动产登记中心",
    "SMS_TEMPLATE_IDS": {"login_code": "1000001"},
}


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+8613800000000", "138****0000"),
        ("+85291234567", "+852****4567"),
        ("+1234", "*****"),
    ],
)
def test_phone_numbers_are_masked_for_logs(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_the_tencent_provider_is_the_default() -> None:
    config = {key: value for key, value in TENCENT_CONFIG.items() if key != "SMS_PROVIDER"}

    assert isinstance(make_sms_sender(config), TencentCloudSms)


def test_the_memory_provider_records_what_it_is_asked_to_send() -> None:
    sender = make_sms_sender({"SMS_PROVIDER": "memory", "SMS_TEMPLATE_IDS": {"login_code": "1"}})
    assert isinstance(sender, MemorySmsSender)

    receipt = sender.send("+8613800000000", "login_code", ["482913", "5"])

    assert receipt.provider == "memory"
    assert [(s.phone, s.template, s.params) for s in sender.sent] == [
        ("+8613800000000", "login_code", ("482913", "5"))
    ]


def test_the_memory_provider_refuses_what_the_real_one_would() -> None:
    sender = MemorySmsSender({"login_code": "1"}, failing_phones={"+8613900000000"})

    with pytest.raises(SmsError):
        sender.send("+8613900000000", "login_code", ["1", "5"])
    with pytest.raises(SmsError):
        sender.send("+8613800000000", "unknown_template", [])
    with pytest.raises(SmsError):
        sender.send("13800000000", "login_code", ["1", "5"])
    assert sender.sent == []


def test_the_memory_provider_is_refused_in_production() -> None:
    with pytest.raises(SettingsError):
        make_sms_sender({"SMS_PROVIDER": "memory", "APP_ENV": "production"})


def test_an_unknown_provider_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="memory, tencent"):
        make_sms_sender({"SMS_PROVIDER": "carrier-pigeon"})


def test_only_http_and_https_are_accepted_schemes() -> None:
    with pytest.raises(ValueError):
        make_sms_sender(dict(TENCENT_CONFIG, TENCENT_SMS_SCHEME="ftp"))


def test_missing_tencent_credentials_are_reported_without_the_sdk_exception() -> None:
    with pytest.raises(ValueError, match="credentials"):
        make_sms_sender(dict(TENCENT_CONFIG, TENCENT_SMS_SECRET_KEY=""))
