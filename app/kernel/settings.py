"""Settings: embedded defaults, overridden by environment variables.

Every key has a default that works for `make run` on one machine. Secrets have no
default: in development they are generated once into ``var/dev-secrets.json``
(never committed); in production a missing secret stops the start-up.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from app.kernel.devkeys import CERT_KEY_SETTINGS, generate_dev_keys

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Every message's text and template ids (app/notifications loads and checks it in full;
# the settings read only the ids, as the sandbox does, by path).
MESSAGE_TEMPLATES_FILE = PROJECT_ROOT / "app" / "notifications" / "templates.yaml"


def message_template_ids(channel: str, path: Path = MESSAGE_TEMPLATES_FILE) -> dict[str, str]:
    """Logical template name → id: ``channel`` is an SMS provider (``tencent``) or
    ``wechat`` (the subscribe-message template)."""
    templates = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("templates") or {}
    ids: dict[str, str] = {}
    for name, spec in templates.items():
        if channel == "wechat":
            value = ((spec or {}).get("wechat") or {}).get("template_id")
        else:
            value = (((spec or {}).get("sms") or {}).get("ids") or {}).get(channel)
        if value:
            ids[name] = str(value)
    return ids

DEFAULTS: dict[str, Any] = {
    "APP_ENV": "development",  # development | test | production
    "INSTANCE_DIR": str(PROJECT_ROOT / "var"),
    "DATABASE_URL": "",  # empty: SQLite file under INSTANCE_DIR
    # The origin in SMS links, QR codes and payment return addresses. Empty: derived from
    # APP_HOST and APP_PORT (http://127.0.0.1:8000 by default); set it to the public https
    # origin in production.
    "PUBLIC_BASE_URL": "",
    # Number of trusted reverse proxies in front (nginx: 1) for the client address.
    "PROXY_FIX_X_FOR": 0,
    # Tokens for citizens (mini-program and mobile web).
    "ACCESS_TOKEN_TTL_SECONDS": 900,
    "REFRESH_TOKEN_TTL_SECONDS": 30 * 24 * 3600,
    # One-time login codes by SMS.
    "OTP_TTL_SECONDS": 300,
    "OTP_MAX_ATTEMPTS": 5,
    "OTP_MIN_INTERVAL_SECONDS": 60,
    "OTP_DAILY_LIMIT_PER_PHONE": 10,
    "RATELIMIT_OTP_REQUEST_PER_IP": "5 per minute;30 per hour",
    "RATELIMIT_OTP_VERIFY_PER_IP": "20 per minute;100 per hour",
    "RATELIMIT_WECHAT_LOGIN_PER_IP": "30 per minute",
    "RATELIMIT_STAFF_LOGIN_PER_IP": "10 per minute;100 per hour",
    "RATELIMIT_STORAGE_URI": "memory://",
    # Signed short links (/s/<code>) and the mobile web pages (docs/mobile-web.md).
    "SHORT_LINK_TTL_DAYS": 7,
    "H5_SESSION_HOURS": 8,  # a mobile-web login, at most
    "H5_VERIFIED_MINUTES": 10,  # a link opens without a new code within this of the last
    "RATELIMIT_SHORT_LINK_OPEN_PER_IP": "30 per minute;300 per hour",
    "RATELIMIT_H5_CODE_PER_IP": "5 per minute;30 per hour",
    "RATELIMIT_H5_CODE_PER_LINK": "5 per hour;10 per day",
    "RATELIMIT_H5_VERIFY_PER_IP": "20 per minute;100 per hour",
    # Staff.
    "STAFF_MAX_FAILED_LOGINS": 5,
    "STAFF_LOCK_MINUTES": 15,
    "STAFF_SESSION_HOURS": 8,
    "TOTP_ISSUER": "不动产登记自助平台",
    # Case numbers: prefix + Asia/Shanghai date + daily serial, e.g. ZH2026112300001.
    "CASE_NUMBER_PREFIX": "ZH",
    "DISPLAY_TIMEZONE": "Asia/Shanghai",
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    # WeChat (the sandbox in development; the real host in production).
    "WECHAT_APPID": "",
    "WECHAT_SECRET": "",
    "WECHAT_API_BASE": "https://api.weixin.qq.com/",
    # SMS through Tencent Cloud SMS (the sandbox in development).
    "SMS_PROVIDER": "tencent",
    "TENCENT_SMS_SECRET_ID": "",
    "TENCENT_SMS_SECRET_KEY": "",
    "TENCENT_SMS_SDK_APP_ID": "",
    "TENCENT_SMS_SIGN_NAME": "不动产登记中心",
    "TENCENT_SMS_REGION": "ap-guangzhou",
    "TENCENT_SMS_ENDPOINT": "sms.tencentcloudapi.com",
    "TENCENT_SMS_SCHEME": "https",
    # Template ids by logical name, from app/notifications/templates.yaml (a JSON
    # environment value replaces the whole mapping).
    "SMS_TEMPLATE_IDS": message_template_ids("tencent"),
    # WeChat subscribe-message template ids, by the same logical names.
    "WECHAT_TEMPLATE_IDS": message_template_ids("wechat"),
    # Notifications (docs/notifications.md): at most this many SMS a phone per day (Asia/
    # Shanghai; 0: no cap), none in quiet hours ("off": none); verification codes exempt.
    "SMS_DAILY_CAP_PER_PHONE": 10,
    # True: mini-program users get the WeChat subscribe message alone, the SMS only when
    # it cannot arrive (not subscribed); False: both (the SMS is the notice of record).
    "NOTIFY_WECHAT_FIRST": False,
    "SMS_QUIET_HOURS": "22:00-08:00",
    # Development server (make run).
    "APP_HOST": "127.0.0.1",
    "APP_PORT": 8000,
    # Real-name and face verification (issue 3); see also kyc/settings.py for KYC_*
    # thresholds of the face library itself.
    "KYC_PROVIDER": "local",  # local | wechat
    "KYC_CLAIM_TTL_SECONDS": 1800,
    "KYC_CHALLENGE_TTL_SECONDS": 60,
    "KYC_REALNAME_TTL_SECONDS": 1800,
    "KYC_MAX_FAILURES_PER_DAY": 5,
    "KYC_FRAME_RETENTION_SECONDS": 0,
    "RATELIMIT_KYC_PER_IP": "20 per minute;200 per hour",
    # Population registry (data-sharing platform; the sandbox in development).
    "REGISTRY_BASE_URL": "",
    "REGISTRY_APP_KEY": "",
    "REGISTRY_APP_SECRET": "",
    "REGISTRY_TIMEOUT_SECONDS": 5.0,
    # The other data-sharing services (civil affairs, market regulation, courts) share
    # the registry's platform and credentials; a slow answer leaves the check waiting.
    "DATASHARING_TIMEOUT_SECONDS": 3.0,
    # The registration authority, as printed on application forms and on the seal.
    "AUTHORITY_NAME": "珠海市不动产登记中心",
    # Certificates (issue 6): 粤(2026)珠海市不动产权第0000001号. The serial runs per
    # authority code, year and kind; the registering authority is printed on the certificate.
    "CERT_PROVINCE_ABBR": "粤",
    "CERT_CITY": "珠海市",
    "CERT_AUTHORITY_CODE": "440400",
    "CERT_ISSUING_AUTHORITY": "珠海市自然资源局",
    "RATELIMIT_CERTIFICATE_VERIFY": "30 per minute;600 per day",  # the public QR page, per IP
    # Verification: how long another process may show a revoked certificate as valid; how
    # long a queued access row waits to be written with others.
    "CERT_STATUS_CACHE_TTL": 2.0,
    "CERT_ACCESS_LOG_DELAY": 0.25,
    # The authority's keys (PEM): CA, signing certificate and key (PDF), payload key (QR).
    "CERT_CA_CERT": "",
    "CERT_SIGNING_CERT": "",
    "CERT_SIGNING_KEY": "",
    "CERT_PAYLOAD_KEY": "",
    # The CJK font for PDFs (Debian fonts-wqy-microhei, installed by `make install`).
    "CJK_FONT_PATH": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    # Payments (issue 5). WeChat Pay v2 for the mini-program (appid = WECHAT_APPID),
    # Alipay wap for mobile web; the sandbox in development.
    "WECHATPAY_MCH_ID": "",
    "WECHATPAY_API_KEY": "",
    "WECHATPAY_API_BASE": "https://api.mch.weixin.qq.com/",
    "WECHATPAY_SIGN_TYPE": "HMAC-SHA256",
    "WECHATPAY_TIMEOUT_SECONDS": 5.0,
    "WECHATPAY_MCH_CERT": "",  # PEM paths of the merchant's TLS client certificate (refunds)
    "WECHATPAY_MCH_KEY": "",
    "WECHATPAY_CLIENT_IP": "127.0.0.1",  # spbill_create_ip
    "ALIPAY_APP_ID": "",
    "ALIPAY_APP_PRIVATE_KEY": "",
    "ALIPAY_PUBLIC_KEY": "",
    "ALIPAY_SELLER_ID": "",
    "ALIPAY_SERVER_URL": "https://openapi.alipay.com/gateway.do",
    "ALIPAY_TIMEOUT_SECONDS": 5.0,
    # Development only: the app's public key and the sandbox's own key, for the sandbox.
    "ALIPAY_APP_PUBLIC_KEY": "",
    "ALIPAY_SANDBOX_PRIVATE_KEY": "",
    # Where gateways send notifications: the platform's public https origin.
    "PAYMENT_NOTIFY_BASE_URL": "",
    # E-bills (issue 6): fiscal e-bills, tax payment certificates and maintenance-fund
    # receipts from the fiscal e-bill platform (the sandbox in development).
    "EBILL_BASE_URL": "",
    "EBILL_APP_ID": "",
    "EBILL_APP_SECRET": "",
    "EBILL_TIMEOUT_SECONDS": 5.0,
    # The issuer printed on each kind of bill.
    "EBILL_ISSUERS": {"fiscal": "珠海市不动产登记中心", "tax": "国家税务总局珠海市税务局",
                      "fund": "珠海市住房和城乡建设局"},
    # Paper certificates (issue 6): SF Express's open platform (the sandbox in
    # development); the registration centre is the sender; the parcel waits this long
    # for the case's e-bills before it leaves without them; routes are asked this often.
    "COURIER_BASE_URL": "https://sfapi.sf-express.com/",
    "COURIER_PARTNER_ID": "",
    "COURIER_CHECKWORD": "",
    "COURIER_TIMEOUT_SECONDS": 5.0,
    "DELIVERY_SENDER": {"name": "珠海市不动产登记中心", "phone": "0756-2222222",
                        "address": "广东省珠海市香洲区人民东路 1 号"},
    "DELIVERY_WAIT_FOR_BILLS_MINUTES": 30,
    "DELIVERY_TRACK_INTERVAL_SECONDS": 300,
    # Case materials (issue 4): file storage and upload limits.
    "STORAGE_BACKEND": "disk",  # disk | s3
    "STORAGE_ENCRYPTION": True,  # AES-GCM on every stored file; refused off in production
    "STORAGE_DISK_ROOT": "",  # empty: <INSTANCE_DIR>/files
    # STORAGE_BACKEND=s3: any S3-compatible service (MinIO, Tencent COS, Aliyun OSS…).
    "STORAGE_S3_ENDPOINT_URL": "",  # empty: AWS's own endpoint; https in production
    "STORAGE_S3_REGION": "us-east-1",
    "STORAGE_S3_BUCKET": "",
    "STORAGE_S3_ACCESS_KEY_ID": "",
    "STORAGE_S3_SECRET_ACCESS_KEY": "",
    "STORAGE_S3_PREFIX": "",  # e.g. "materials/": object keys start with it
    # path (MinIO) | virtual (Aliyun OSS; Tencent COS buckets created since 2024) | auto
    "STORAGE_S3_ADDRESSING_STYLE": "path",
    "MATERIAL_MAX_BYTES": 10 * 1024 * 1024,
    "MATERIAL_MAX_DIMENSION": 4000,
    "MATERIAL_MAX_PIXELS": 50_000_000,
    # Sandbox (development only).
    "SANDBOX_HOST": "127.0.0.1",
    "SANDBOX_PORT": 8001,
    # Secrets: no defaults.
    "SECRET_KEY": "",
    "DATA_ENCRYPTION_KEY": "",
    "LOOKUP_HASH_KEY": "",
    "JWT_SIGNING_KEY": "",
}

SECRET_KEYS = ("SECRET_KEY", "DATA_ENCRYPTION_KEY", "LOOKUP_HASH_KEY", "JWT_SIGNING_KEY",
               "CERT_CA_CERT", "CERT_SIGNING_CERT", "CERT_SIGNING_KEY", "CERT_PAYLOAD_KEY")
# Credentials shared by the platform and the sandbox in development.
SANDBOX_CREDENTIAL_KEYS = (
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
    "ALIPAY_APP_PRIVATE_KEY",
    "ALIPAY_PUBLIC_KEY",
    "ALIPAY_SELLER_ID",
    "EBILL_APP_ID",
    "EBILL_APP_SECRET",
    "COURIER_PARTNER_ID",
    "COURIER_CHECKWORD",
)
# Generated with the others in development; the sandbox needs them, production never.
DEV_ONLY_KEYS = ("ALIPAY_APP_PUBLIC_KEY", "ALIPAY_SANDBOX_PRIVATE_KEY")


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the platform must not start."""


def _coerce(default: Any, raw: str) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, dict | list):
        return json.loads(raw)
    return raw


def new_key() -> str:
    """A random 256-bit key, URL-safe base64."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _rsa_pair() -> tuple[str, str]:
    """An RSA-2048 key pair as PEM (private PKCS#1, public SubjectPublicKeyInfo)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def _digits(n: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(n))


def generate_dev_secrets() -> dict[str, str]:
    values = {key: new_key() for key in SECRET_KEYS if key not in CERT_KEY_SETTINGS}
    values.update(generate_dev_keys())
    app_private, app_public = _rsa_pair()
    sandbox_private, alipay_public = _rsa_pair()
    values.update(
        WECHAT_APPID="wx" + secrets.token_hex(8),
        WECHAT_SECRET=secrets.token_hex(16),
        TENCENT_SMS_SECRET_ID="AKID" + secrets.token_hex(16),
        TENCENT_SMS_SECRET_KEY=secrets.token_hex(16),
        TENCENT_SMS_SDK_APP_ID=str(1400000000 + secrets.randbelow(99999999)),
        REGISTRY_APP_KEY="rk" + secrets.token_hex(8),
        REGISTRY_APP_SECRET=secrets.token_hex(24),
        WECHATPAY_MCH_ID="16" + _digits(8),
        WECHATPAY_API_KEY=secrets.token_hex(16),
        ALIPAY_APP_ID="2021" + _digits(12),
        ALIPAY_SELLER_ID="2088" + _digits(12),
        ALIPAY_APP_PRIVATE_KEY=app_private,
        ALIPAY_APP_PUBLIC_KEY=app_public,
        ALIPAY_SANDBOX_PRIVATE_KEY=sandbox_private,
        ALIPAY_PUBLIC_KEY=alipay_public,
        EBILL_APP_ID="eb" + secrets.token_hex(8),
        EBILL_APP_SECRET=secrets.token_hex(24),
        COURIER_PARTNER_ID="BDC" + secrets.token_hex(4).upper(),
        COURIER_CHECKWORD=secrets.token_hex(16),
    )
    return values


DEV_SECRET_KEYS = (*SECRET_KEYS, *SANDBOX_CREDENTIAL_KEYS, *DEV_ONLY_KEYS)


def load_dev_secrets(instance_dir: Path) -> dict[str, str]:
    """Read, or create once, the development secrets file (mode 0600)."""
    path = instance_dir / "dev-secrets.json"
    values: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if set(DEV_SECRET_KEYS) <= set(values):
        return values
    # First run, or a file from an older version: add the keys it lacks.
    values = {**generate_dev_secrets(), **values}
    instance_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh, indent=2)
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Defaults ← environment ← overrides; secrets filled for development."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        if key in environ and environ[key] != "":
            try:
                settings[key] = _coerce(default, environ[key])
            except ValueError as exc:
                raise SettingsError(f"setting {key} is malformed: {exc}") from None
    settings.update(overrides or {})

    instance_dir = Path(settings["INSTANCE_DIR"])
    generated_keys: tuple[str, ...] = SECRET_KEYS + SANDBOX_CREDENTIAL_KEYS
    if settings["APP_ENV"] != "production":
        generated_keys += DEV_ONLY_KEYS
    missing = [key for key in generated_keys if not settings.get(key)]
    if missing:
        if settings["APP_ENV"] == "production":
            raise SettingsError("missing secrets in production: " + ", ".join(missing))
        dev = load_dev_secrets(instance_dir)
        for key in missing:
            settings[key] = dev[key]
    if settings["APP_ENV"] != "production":
        # Development and tests talk to the local sandbox unless told otherwise.
        for key, value in sandbox_endpoints(settings).items():
            if key not in environ and key not in (overrides or {}):
                settings[key] = value
    if not settings["PUBLIC_BASE_URL"]:
        settings["PUBLIC_BASE_URL"] = f"http://{settings['APP_HOST']}:{settings['APP_PORT']}"
    if not settings["DATABASE_URL"]:
        instance_dir.mkdir(parents=True, exist_ok=True)
        settings["DATABASE_URL"] = f"sqlite:///{instance_dir / 'bdc.sqlite3'}"
    return settings


def sandbox_endpoints(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings that point the WeChat, SMS, data-sharing, payment and e-bill clients at
    the local sandbox."""
    host, port = settings["SANDBOX_HOST"], settings["SANDBOX_PORT"]
    return {
        "WECHAT_API_BASE": f"http://{host}:{port}/",
        "TENCENT_SMS_ENDPOINT": f"{host}:{port}",
        "TENCENT_SMS_SCHEME": "http",
        "REGISTRY_BASE_URL": f"http://{host}:{port}/",
        "WECHATPAY_API_BASE": f"http://{host}:{port}/",
        "ALIPAY_SERVER_URL": f"http://{host}:{port}/gateway.do",
        "EBILL_BASE_URL": f"http://{host}:{port}/",
        "COURIER_BASE_URL": f"http://{host}:{port}/",
        "PAYMENT_NOTIFY_BASE_URL": f"http://{settings['APP_HOST']}:{settings['APP_PORT']}",
        # The sandbox's phones never sleep: no quiet hours unless set explicitly.
        "SMS_QUIET_HOURS": "",
    }
