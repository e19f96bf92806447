"""Settings: defaults, environment overrides, development secrets, production refusal."""

import json

import pytest

from app.kernel.settings import SettingsError, load_settings


def test_environment_overrides_defaults_with_types(tmp_path):
    settings = load_settings({"INSTANCE_DIR": str(tmp_path), "OTP_TTL_SECONDS": "120",
                              "SMS_TEMPLATE_IDS": '{"login_code": "42"}'})
    assert settings["OTP_TTL_SECONDS"] == 120
    assert settings["SMS_TEMPLATE_IDS"] == {"login_code": "42"}
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'bdc.sqlite3'}"


def test_development_secrets_are_generated_once_and_kept_private(tmp_path):
    first = load_settings({"INSTANCE_DIR": str(tmp_path)})
    second = load_settings({"INSTANCE_DIR": str(tmp_path)})
    assert first["DATA_ENCRYPTION_KEY"] == second["DATA_ENCRYPTION_KEY"]
    path = tmp_path / "dev-secrets.json"
    assert path.stat().st_mode & 0o077 == 0
    assert json.loads(path.read_text())["JWT_SIGNING_KEY"] == first["JWT_SIGNING_KEY"]


def test_development_talks_to_the_sandbox(tmp_path):
    settings = load_settings({"INSTANCE_DIR": str(tmp_path)})
    assert settings["WECHAT_API_BASE"] == "http://127.0.0.1:8001/"
    assert settings["TENCENT_SMS_SCHEME"] == "http"
    assert settings["EBILL_BASE_URL"] == "http://127.0.0.1:8001/"
    assert settings["EBILL_APP_ID"] and settings["EBILL_APP_SECRET"]


def test_production_refuses_to_start_without_secrets(tmp_path):
    with pytest.raises(SettingsError) as caught:
        load_settings({"INSTANCE_DIR": str(tmp_path), "APP_ENV": "production"})
    assert "DATA_ENCRYPTION_KEY" in str(caught.value)
    assert not (tmp_path / "dev-secrets.json").exists()


def test_production_keeps_the_real_vendor_hosts(tmp_path):
    env = {key: "x" for key in ("SECRET_KEY", "DATA_ENCRYPTION_KEY", "LOOKUP_HASH_KEY",
                                 "JWT_SIGNING_KEY", "WECHAT_APPID", "WECHAT_SECRET",
                                 "TENCENT_SMS_SECRET_ID", "TENCENT_SMS_SECRET_KEY",
                                 "TENCENT_SMS_SDK_APP_ID", "REGISTRY_APP_KEY",
                                 "REGISTRY_APP_SECRET", "WECHATPAY_MCH_ID", "WECHATPAY_API_KEY",
                                 "ALIPAY_APP_ID", "ALIPAY_APP_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY",
                                 "ALIPAY_SELLER_ID", "CERT_CA_CERT", "CERT_SIGNING_CERT",
                                 "CERT_SIGNING_KEY", "CERT_PAYLOAD_KEY", "EBILL_APP_ID",
                                 "EBILL_APP_SECRET", "COURIER_PARTNER_ID",
                                 "COURIER_CHECKWORD")}
    settings = load_settings({**env, "INSTANCE_DIR": str(tmp_path), "APP_ENV": "production"})
    assert settings["WECHAT_API_BASE"] == "https://api.weixin.qq.com/"
    assert settings["TENCENT_SMS_ENDPOINT"] == "sms.tencentcloudapi.com"
    assert settings["WECHATPAY_API_BASE"] == "https://api.mch.weixin.qq.com/"
    assert settings["ALIPAY_SERVER_URL"] == "https://openapi.alipay.com/gateway.do"
    assert settings["ALIPAY_APP_PUBLIC_KEY"] == ""  # development only: never generated here
    assert settings["EBILL_BASE_URL"] == ""  # the provincial platform's URL must be set
    assert settings["COURIER_BASE_URL"] == "https://sfapi.sf-express.com/"


def test_a_malformed_number_is_a_clear_error(tmp_path):
    with pytest.raises(SettingsError):
        load_settings({"INSTANCE_DIR": str(tmp_path), "OTP_TTL_SECONDS": "five"})


def test_a_secrets_file_from_an_older_version_gains_the_new_keys(tmp_path):
    path = tmp_path / "dev-secrets.json"
    path.write_text(json.dumps({"SECRET_KEY": "kept"}))
    settings = load_settings({"INSTANCE_DIR": str(tmp_path)})
    assert settings["SECRET_KEY"] == "kept"
    assert json.loads(path.read_text())["REGISTRY_APP_SECRET"] == settings["REGISTRY_APP_SECRET"]


def test_the_public_address_follows_the_app_port_unless_set(tmp_path):
    moved = load_settings({"INSTANCE_DIR": str(tmp_path), "APP_PORT": "8200"})
    assert moved["PUBLIC_BASE_URL"] == "http://127.0.0.1:8200"
    assert moved["PAYMENT_NOTIFY_BASE_URL"] == "http://127.0.0.1:8200"
    public = load_settings({"INSTANCE_DIR": str(tmp_path), "APP_PORT": "8200",
                            "PUBLIC_BASE_URL": "https://bdc.example.cn"})
    assert public["PUBLIC_BASE_URL"] == "https://bdc.example.cn"
