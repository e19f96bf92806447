"""Text messages (短信): one interface, one class per provider, chosen by ``SMS_PROVIDER``.

``tencent`` sends through the official Tencent Cloud SDK (API 3.0, TC3-HMAC-SHA256
signing); in development and tests its endpoint is the sandbox, which checks the
signature, so the SDK's real code path runs. ``memory`` records messages in a list and
exists for unit tests only.

Phone numbers and template parameters (login codes) are personal data: they are never
logged in clear; :func:`mask_phone` shows ``138****0000``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as sms_models
from tencentcloud.sms.v20210111.sms_client import SmsClient

from app.kernel.settings import SettingsError

logger = logging.getLogger(__name__)

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
DEFAULT_TIMEOUT_SECONDS = 5.0
# SDK error codes after which trying again later may succeed.
UNAVAILABLE_CODES = frozenset(
    {"ClientNetworkError", "ServerNetworkError", "InternalError", "RequestLimitExceeded"}
)


@dataclass(frozen=True)
class SmsReceipt:
    provider: str
    message_id: str
    phone: str


class SmsError(Exception):
    """The provider refused the message (or it could not be sent at all)."""

    def __init__(self, code: str, message: str, request_id: str | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id


class SmsUnavailable(SmsError):
    """The provider could not be reached or failed on its side; try again later."""


class SmsSender(Protocol):
    def send(self, phone: str, template: str, params: list[str]) -> SmsReceipt:
        """Send the template named ``template`` (e.g. ``"login_code"``) to an E.164 phone."""
        ...


def mask_phone(phone: str) -> str:
    """``+8613800000000`` → ``138****0000``; other numbers keep their last four digits."""
    national = phone[3:] if phone.startswith("+86") else phone
    if len(national) < 8:
        return "*" * len(national)
    return f"{national[:-8]}****{national[-4:]}"


def _check_phone(phone: str) -> None:
    if not E164.match(phone):
        raise SmsError("InvalidPhoneNumber", f"not an E.164 phone number: {mask_phone(phone)}")


def _template_id(template_ids: Mapping[str, str], template: str) -> str:
    try:
        return str(template_ids[template])
    except KeyError:
        raise SmsError("TemplateNotConfigured", f"no template id for {template!r}")


class TencentCloudSms:
    """:class:`SmsSender` through ``tencentcloud-sdk-python-sms`` (SendSms, 2021-01-11)."""

    provider = "tencent"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        template_ids: Mapping[str, str],
        region: str = "ap-guangzhou",
        endpoint: str = "sms.tencentcloudapi.com",
        scheme: str = "https",
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ):
        if scheme not in ("http", "https"):
            raise ValueError(f"scheme must be http or https, not {scheme!r}")
        if not sdk_app_id or not sign_name:
            raise ValueError("the SMS SdkAppId and sign name are required")
        try:
            cred = Credential(secret_id, secret_key)
        except TencentCloudSDKException as exc:
            raise ValueError(f"Tencent Cloud credentials: {exc.message}") from None
        # The SDK builds "<scheme>://<endpoint>/"; the endpoint may carry a port.
        http_profile = HttpProfile(
            protocol=scheme, endpoint=endpoint, reqMethod="POST", reqTimeout=timeout
        )
        self._client = SmsClient(cred, region, ClientProfile(httpProfile=http_profile))
        self.sdk_app_id = str(sdk_app_id)
        self.sign_name = sign_name
        self.template_ids = dict(template_ids)

    def send(self, phone: str, template: str, params: list[str]) -> SmsReceipt:
        _check_phone(phone)
        request = sms_models.SendSmsRequest()
        request.PhoneNumberSet = [phone]
        request.SmsSdkAppId = self.sdk_app_id
        request.SignName = self.sign_name
        request.TemplateId = _template_id(self.template_ids, template)
        request.TemplateParamSet = [str(value) for value in params]
        try:
            response = self._client.SendSms(request)
        except TencentCloudSDKException as exc:
            raise _translate(exc, phone, template) from exc
        statuses = response.SendStatusSet or []
        if len(statuses) != 1:
            raise SmsError("UnexpectedResponse", "SendSms answered without one send status")
        status = statuses[0]
        if status.Code != "Ok":
            logger.warning("SMS %s to %s refused: %s", template, mask_phone(phone), status.Code)
            raise SmsError(str(status.Code), str(status.Message), response.RequestId)
        logger.info("SMS %s sent to %s: %s", template, mask_phone(phone), status.SerialNo)
        return SmsReceipt(provider=self.provider, message_id=str(status.SerialNo), phone=phone)

    def close(self) -> None:
        """Close the SDK's HTTP connections (it offers no public way to)."""
        connection = getattr(self._client.request, "conn", None)
        session = getattr(connection, "_session", None)
        if session is not None:
            session.close()


def _translate(exc: TencentCloudSDKException, phone: str, template: str) -> SmsError:
    code = str(exc.code or "UnknownError")
    # Some SDK messages quote the request; keep them out of logs, they may hold the phone.
    logger.warning("SMS %s to %s failed: %s", template, mask_phone(phone), code)
    message = str(exc.message or "")
    if code in UNAVAILABLE_CODES or code.startswith("InternalError."):
        return SmsUnavailable(code, message, exc.requestId)
    return SmsError(code, message, exc.requestId)


@dataclass(frozen=True)
class SentSms:
    phone: str
    template: str
    params: tuple[str, ...]


class MemorySmsSender:
    """Records messages in ``sent`` instead of sending them. For unit tests only.

    Numbers in ``failing_phones`` are refused, like a blacklisted number at a provider.
    """

    provider = "memory"

    def __init__(
        self,
        template_ids: Mapping[str, str] | None = None,
        failing_phones: Iterable[str] = (),
    ):
        self.template_ids = dict(template_ids) if template_ids is not None else None
        self.failing_phones = set(failing_phones)
        self.sent: list[SentSms] = []
        self._lock = threading.Lock()

    def send(self, phone: str, template: str, params: list[str]) -> SmsReceipt:
        _check_phone(phone)
        if self.template_ids is not None:
            _template_id(self.template_ids, template)
        if phone in self.failing_phones:
            raise SmsError("FailedOperation.PhoneNumberInBlacklist", "phone number refused")
        with self._lock:
            self.sent.append(SentSms(phone, template, tuple(str(p) for p in params)))
            message_id = f"memory-{len(self.sent)}"
        return SmsReceipt(provider=self.provider, message_id=message_id, phone=phone)


def _tencent_from_config(config: Mapping[str, Any]) -> SmsSender:
    return TencentCloudSms(
        secret_id=config["TENCENT_SMS_SECRET_ID"],
        secret_key=config["TENCENT_SMS_SECRET_KEY"],
        sdk_app_id=config["TENCENT_SMS_SDK_APP_ID"],
        sign_name=config["TENCENT_SMS_SIGN_NAME"],
        template_ids=config["SMS_TEMPLATE_IDS"],
        region=config.get("TENCENT_SMS_REGION") or "ap-guangzhou",
        endpoint=config.get("TENCENT_SMS_ENDPOINT") or "sms.tencentcloudapi.com",
        scheme=config.get("TENCENT_SMS_SCHEME") or "https",
    )


def _memory_from_config(config: Mapping[str, Any]) -> SmsSender:
    if config.get("APP_ENV") == "production":
        raise SettingsError("SMS_PROVIDER=memory sends nothing; it is not for production")
    return MemorySmsSender(template_ids=config.get("SMS_TEMPLATE_IDS"))


SMS_PROVIDERS: dict[str, Callable[[Mapping[str, Any]], SmsSender]] = {
    "tencent": _tencent_from_config,
    "memory": _memory_from_config,
}


def make_sms_sender(config: Mapping[str, Any]) -> SmsSender:
    """The SMS sender named by ``SMS_PROVIDER`` (default ``tencent``)."""
    provider = config.get("SMS_PROVIDER") or "tencent"
    try:
        factory = SMS_PROVIDERS[provider]
    except KeyError:
        choices = ", ".join(sorted(SMS_PROVIDERS))
        raise SettingsError(f"SMS_PROVIDER {provider!r} is unknown; choose one of {choices}")
    return factory(config)
