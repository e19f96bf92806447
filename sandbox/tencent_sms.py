"""Tencent Cloud SMS (短信), API 3.0, action SendSms of version 2021-01-11.

Requests must be signed with TC3-HMAC-SHA256 by the configured SecretId/SecretKey; the
answer uses Tencent's envelope, ``{"Response": {..., "RequestId"}}`` with
``{"Error": {"Code", "Message"}}`` on failure. Per-number results are in
``SendStatusSet``. The magic number ``+8613900000000`` is always refused
(``FailedOperation.PhoneNumberInBlacklist``); mainland mobile numbers only.
"""

from __future__ import annotations

import functools
import json
import math
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from sandbox.tc3 import Tc3AuthError, verify_tc3_request

SERVICE = "sms"
API_VERSION = "2021-01-11"
ACTION = "SendSms"
REGIONS = frozenset({"ap-guangzhou", "ap-beijing", "ap-nanjing"})
BLACKLISTED_PHONE = "+8613900000000"
MAX_PHONES_PER_REQUEST = 200
# One SMS holds 70 characters (sign included); longer texts go in 67-character parts.
SINGLE_SMS_LENGTH, LONG_SMS_PART_LENGTH = 70, 67

# The platform's message templates (app/notifications/templates.yaml), read by path: the
# sandbox is a separate program and imports nothing from ``app``. Only the parts a
# provider knows are taken: each SMS text, in the positional form submitted for approval
# ({1}, {2} …), and its Tencent template id.
PLATFORM_TEMPLATES_FILE = (
    Path(__file__).resolve().parent.parent / "app" / "notifications" / "templates.yaml"
)
_NAMED_VARIABLE = re.compile(r"\{([a-z][a-z0-9_]*)\}")


class TemplateFileError(RuntimeError):
    """The platform's templates file is missing or not shaped as expected."""


def _positional(name: str, text: str, params: list[str]) -> str:
    def number(match: re.Match[str]) -> str:
        try:
            return f"{{{params.index(match.group(1)) + 1}}}"
        except ValueError:
            raise TemplateFileError(
                f"template {name}: variable {match.group(1)} is not in its params"
            ) from None

    return _NAMED_VARIABLE.sub(number, text)


@functools.cache
def platform_templates(path: Path = PLATFORM_TEMPLATES_FILE) -> dict[str, dict[str, Any]]:
    """Logical name → ``{"text": positional SMS text, "tencent_id": id or None}``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        result = {}
        for name, spec in raw["templates"].items():
            sms = spec["sms"]
            tencent_id = (sms.get("ids") or {}).get("tencent")
            result[str(name)] = {
                "text": _positional(name, str(sms["text"]), [str(p) for p in sms["params"]]),
                "tencent_id": None if tencent_id is None else str(tencent_id),
            }
        return result
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise TemplateFileError(f"{path}: cannot read the SMS templates: {exc!r}") from None


# The approved template texts, by the platform's logical template name. A configured
# name missing here gets a generic text that shows its parameters.
TEMPLATE_TEXTS = {name: spec["text"] for name, spec in platform_templates().items()}

REQUEST_FIELDS = frozenset(
    {
        "PhoneNumberSet",
        "SmsSdkAppId",
        "TemplateId",
        "SignName",
        "TemplateParamSet",
        "ExtendCode",
        "SessionContext",
        "SenderId",
    }
)

STATUS_MESSAGES = {
    "Ok": "send success",
    "FailedOperation.PhoneNumberInBlacklist": (
        "手机号在免打扰名单库中，通常是用户退订或者命中运营商免打扰名单导致的。"
    ),
    "InvalidParameterValue.IncorrectPhoneNumber": "手机号格式错误。",
}

_PLACEHOLDER = re.compile(r"\{(\d+)\}")
_MAINLAND_MOBILE = re.compile(r"^861\d{10}$")


class TencentApiError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SmsTemplate:
    template_id: str
    name: str
    text: str | None  # None: no approved text known; any parameters are accepted

    def render(self, params: list[str]) -> str:
        if self.text is None:
            return f"[{self.name}] " + "，".join(params)
        return _PLACEHOLDER.sub(lambda m: params[int(m.group(1)) - 1], self.text)

    def parameter_count(self) -> int | None:
        if self.text is None:
            return None
        return max((int(n) for n in _PLACEHOLDER.findall(self.text)), default=0)


def normalize_phone(raw: str) -> str | None:
    """E.164 for a mainland mobile number written as the API allows, else None.

    The API accepts ``+86…``, ``0086…``, ``86…`` and bare 11-digit numbers.
    """
    value = raw.strip().replace(" ", "")
    if value.startswith("+"):
        digits = value[1:]
    elif value.startswith("0086"):
        digits = value[2:]
    elif len(value) == 13 and value.startswith("86"):
        digits = value
    else:
        digits = "86" + value
    return "+" + digits if _MAINLAND_MOBILE.match(digits) else None


def sms_fee(text: str) -> int:
    if len(text) <= SINGLE_SMS_LENGTH:
        return 1
    return math.ceil(len(text) / LONG_SMS_PART_LENGTH)


class SmsSandbox:
    """One Tencent Cloud account with one SMS application and its templates."""

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        template_ids: Mapping[str, str],
        clock: Callable[[], float],
        lock: threading.RLock,
    ):
        self.secret_keys = {secret_id: secret_key}
        self.sdk_app_id = sdk_app_id
        self.templates = {
            template_id: SmsTemplate(template_id, name, TEMPLATE_TEXTS.get(name))
            for name, template_id in template_ids.items()
        }
        self.clock = clock
        self._lock = lock
        self._messages: list[dict[str, Any]] = []

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()

    def handle(
        self, *, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> dict[str, Any]:
        """The content of ``Response`` for one API call; raises :class:`TencentApiError`."""
        if method != "POST":
            raise TencentApiError(
                "UnsupportedProtocol", "the sandbox accepts TC3-signed POST requests only."
            )
        try:
            verify_tc3_request(
                method=method,
                path=path,
                query=query,
                headers=headers,
                body=body,
                secret_keys=self.secret_keys,
                service=SERVICE,
                now=self.clock(),
            )
        except Tc3AuthError as exc:
            raise TencentApiError(exc.code, exc.message) from None
        lowered = {name.lower(): value for name, value in headers.items()}
        action = lowered.get("x-tc-action", "")
        if action != ACTION:
            raise TencentApiError("InvalidAction", f"接口`{action}`不存在。")
        if lowered.get("x-tc-version") != API_VERSION:
            raise TencentApiError("NoSuchVersion", "接口版本不存在。")
        if lowered.get("x-tc-region") not in REGIONS:
            raise TencentApiError("UnsupportedRegion", "接口不支持所传地域。")
        try:
            params = json.loads(body)
        except ValueError:
            raise TencentApiError("InvalidParameter", "请求体不是合法的 JSON。") from None
        if not isinstance(params, dict):
            raise TencentApiError("InvalidParameter", "请求体不是 JSON 对象。")
        return {"SendStatusSet": self.send_sms(params)}

    def send_sms(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        unknown = sorted(set(params) - REQUEST_FIELDS)
        if unknown:
            raise TencentApiError("UnknownParameter", f"参数`{unknown[0]}`没有定义。")
        for field in ("PhoneNumberSet", "SmsSdkAppId", "TemplateId"):
            if not params.get(field):
                raise TencentApiError("MissingParameter", f"缺少参数`{field}`。")
        phones = params["PhoneNumberSet"]
        template_params = params.get("TemplateParamSet") or []
        if not isinstance(phones, list) or not all(isinstance(p, str) for p in phones):
            raise TencentApiError("InvalidParameter", "PhoneNumberSet 必须是字符串数组。")
        if len(phones) > MAX_PHONES_PER_REQUEST:
            raise TencentApiError(
                "LimitExceeded.PhoneNumberCountLimit", "单次提交的手机号个数超过200个。"
            )
        if not isinstance(template_params, list) or not all(
            isinstance(p, str) for p in template_params
        ):
            raise TencentApiError("InvalidParameter", "TemplateParamSet 必须是字符串数组。")
        if str(params["SmsSdkAppId"]) != self.sdk_app_id:
            raise TencentApiError(
                "UnauthorizedOperation.SmsSdkAppIdVerifyFail", "SmsSdkAppId 校验失败。"
            )
        sign_name = params.get("SignName")
        if not sign_name:
            raise TencentApiError("MissingParameter", "缺少参数`SignName`，国内短信必须填写签名。")
        template = self.templates.get(str(params["TemplateId"]))
        if template is None:
            raise TencentApiError(
                "FailedOperation.TemplateIncorrectOrUnapproved",
                "模板未审批或请求的内容与审核通过的模板内容不匹配。",
            )
        expected = template.parameter_count()
        if expected is not None and expected != len(template_params):
            raise TencentApiError(
                "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
                "请求内容与审核通过的模板内容不匹配。",
            )
        text = template.render(template_params)
        context = str(params.get("SessionContext") or "")
        return [
            dict(
                self._deliver(phone, template, template_params, str(sign_name), text),
                SessionContext=context,
            )
            for phone in phones
        ]

    def _deliver(
        self, raw_phone: str, template: SmsTemplate, params: list[str], sign_name: str, text: str
    ) -> dict[str, Any]:
        phone = normalize_phone(raw_phone)
        if phone is None:
            return self._status(raw_phone, "InvalidParameterValue.IncorrectPhoneNumber", fee=0)
        if phone == BLACKLISTED_PHONE:
            return self._status(phone, "FailedOperation.PhoneNumberInBlacklist", fee=0)
        fee = sms_fee(f"【{sign_name}】{text}")
        status = self._status(phone, "Ok", fee=fee)
        with self._lock:
            self._messages.append(
                {
                    "phone": phone,
                    "template_id": template.template_id,
                    "template": template.name,
                    "params": list(params),
                    "sign_name": sign_name,
                    "text": text,
                    "serial_no": status["SerialNo"],
                    "at": datetime.fromtimestamp(self.clock(), UTC),
                }
            )
        return status

    @staticmethod
    def _status(phone: str, code: str, *, fee: int) -> dict[str, Any]:
        serial_no = ""
        if code == "Ok":
            serial_no = f"{secrets.randbelow(9000) + 1000}:{secrets.randbelow(10**27):027d}"
        return {
            "SerialNo": serial_no,
            "PhoneNumber": phone,
            "Fee": fee,
            "SessionContext": "",
            "Code": code,
            "Message": STATUS_MESSAGES[code],
            "IsoCode": "CN" if code != "InvalidParameterValue.IncorrectPhoneNumber" else "",
        }

    def messages(self, phone: str | None = None) -> list[dict[str, Any]]:
        wanted = normalize_phone(phone) if phone else None
        if phone and wanted is None:
            return []
        with self._lock:
            return [
                dict(message, params=list(message["params"]))
                for message in self._messages
                if wanted is None or message["phone"] == wanted
            ]
