"""Message templates as data: ``templates.yaml`` beside this module, loaded and checked once.

Each template has a logical name (``fees_assessed``), a Chinese SMS text with named
variables and the order of its SMS parameters, a template id per SMS provider, the
WeChat subscribe-message template with its data keys, the mini-program page, an optional
short-link purpose and whether it is a verification code. A malformed file stops the
import with :class:`TemplateFileError` naming the file, the template and the field.

This module imports nothing from the rest of the platform: ``app.settings`` takes its
default template ids from here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

TEMPLATES_FILE = Path(__file__).with_name("templates.yaml")
SMS_PROVIDERS = ("tencent", "aliyun")
LINK_PURPOSES = ("pay_case", "view_certificate", "track_case")
LINK_VARIABLE = "link"
# WeChat subscribe-message data types (the key's prefix) and their value length limits
# (None: a formatted value such as a date, not cut).
WECHAT_VALUE_LIMITS: dict[str, int | None] = {
    "thing": 20, "character_string": 32, "phrase": 5, "number": 32, "letter": 32,
    "symbol": 5, "name": 10, "phone_number": 17, "car_number": 8,
    "amount": None, "date": None, "time": None,
}
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}\Z")  # outbox_messages.template is String(40)
_VARIABLE = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_VARIABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")
_WECHAT_KEY = re.compile(r"^([a-z_]+?)(\d+)$")
_TEMPLATE_KEYS = {"title", "code", "sms", "link", "wechat", "page", "example"}


class TemplateFileError(RuntimeError):
    """The templates file is missing or malformed; the platform must not start."""


class TemplateVariableMissing(ValueError):
    """A message lacks a variable its template uses."""


@dataclass(frozen=True)
class MessageTemplate:
    name: str
    title: str
    sms_text: str
    sms_params: tuple[str, ...]
    sms_ids: Mapping[str, str]  # provider → approved template id (configured ones only)
    code: bool = False
    link: str | None = None  # short-link purpose; fills the variable "link"
    wechat_template_id: str | None = None
    wechat_data: Mapping[str, str] = field(default_factory=dict)  # WeChat key → variable
    page: str | None = None
    example: Mapping[str, str] = field(default_factory=dict)

    @property
    def variables(self) -> frozenset[str]:
        """Every variable the SMS text, the WeChat data or the page uses."""
        return frozenset(self.sms_params) | frozenset(self.wechat_data.values()) | frozenset(
            _VARIABLE.findall(self.page or ""))

    @property
    def required_variables(self) -> frozenset[str]:
        """What the event must supply (the link is made when the message is queued)."""
        return self.variables - {LINK_VARIABLE} if self.link else self.variables

    def sms_parameters(self, variables: Mapping[str, Any]) -> list[str]:
        """The SMS template parameters, in the provider's order ({1}, {2} …)."""
        return [_text(variables, name) for name in self.sms_params]

    def render_sms(self, variables: Mapping[str, Any]) -> str:
        """The text the citizen reads (what the provider makes of the parameters)."""
        return _VARIABLE.sub(lambda m: _text(variables, m.group(1)), self.sms_text)

    def positional_text(self) -> str:
        """The text as submitted to the provider for approval: ``{1}``, ``{2}`` …"""
        index = {name: i + 1 for i, name in enumerate(self.sms_params)}
        return _VARIABLE.sub(lambda m: f"{{{index[m.group(1)]}}}", self.sms_text)

    def wechat_values(self, variables: Mapping[str, Any]) -> dict[str, dict[str, str]]:
        """The subscribe message's ``data``, each value cut to its type's limit."""
        data = {}
        for key, name in self.wechat_data.items():
            limit = WECHAT_VALUE_LIMITS[_wechat_type(key)]
            value = _text(variables, name)
            data[key] = {"value": value if limit is None else value[:limit]}
        return data

    def page_for(self, variables: Mapping[str, Any]) -> str | None:
        """The page with its query values URL-encoded (the pages decode them)."""
        if not self.page:
            return None
        return _VARIABLE.sub(lambda m: quote(_text(variables, m.group(1)), safe=""),
                             self.page)


def _text(variables: Mapping[str, Any], name: str) -> str:
    try:
        value = variables[name]
    except KeyError:
        raise TemplateVariableMissing(f"template variable {name!r} missing") from None
    return "" if value is None else str(value)


def _wechat_type(key: str) -> str:
    match = _WECHAT_KEY.match(key)
    return match.group(1) if match else key


class _Checker:
    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, problem: str) -> TemplateFileError:
        return TemplateFileError(f"{self.path}: {where}: {problem}")

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, "must be a mapping")
        return value

    def text(self, value: Any, where: str, *, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "must be a non-empty text")
        return value

    def template(self, name: Any, raw: Any) -> MessageTemplate:
        if not isinstance(name, str) or not _NAME.match(name):
            raise self.fail(f"templates.{name}", "names are lower-case letters, digits and _ "
                            "(at most 40)")
        where = f"templates.{name}"
        spec = self.mapping(raw, where)
        unknown = sorted(set(spec) - _TEMPLATE_KEYS)
        if unknown:
            raise self.fail(where, f"unknown key {unknown[0]!r} (known: "
                            f"{', '.join(sorted(_TEMPLATE_KEYS))})")
        title = self.text(spec.get("title"), f"{where}.title")
        code = spec.get("code", False)
        if not isinstance(code, bool):
            raise self.fail(f"{where}.code", "must be true or false")

        sms = self.mapping(spec.get("sms"), f"{where}.sms")
        text = self.text(sms.get("text"), f"{where}.sms.text")
        params = sms.get("params")
        if not isinstance(params, list) or not all(
                isinstance(p, str) and _VARIABLE_NAME.match(p) for p in params):
            raise self.fail(f"{where}.sms.params", "must be a list of variable names")
        if len(set(params)) != len(params):
            raise self.fail(f"{where}.sms.params", "names a variable twice")
        used = _VARIABLE.findall(text or "")
        if set(used) != set(params):
            raise self.fail(f"{where}.sms.text", f"uses {sorted(set(used))} but params are "
                            f"{params}: every parameter appears in the text and no other")
        if len(used) != len(set(used)):
            raise self.fail(f"{where}.sms.text", "uses a variable twice")
        ids = self.mapping(sms.get("ids"), f"{where}.sms.ids")
        for provider in ids:
            if provider not in SMS_PROVIDERS:
                raise self.fail(f"{where}.sms.ids", f"unknown provider {provider!r} "
                                f"(known: {', '.join(SMS_PROVIDERS)})")
        sms_ids = {provider: str(self.text(value, f"{where}.sms.ids.{provider}"))
                   for provider, value in ids.items() if value is not None}
        if "tencent" not in sms_ids:
            raise self.fail(f"{where}.sms.ids.tencent", "the Tencent Cloud template id is "
                            "required (the default provider)")

        link = spec.get("link")
        if link is not None and link not in LINK_PURPOSES:
            raise self.fail(f"{where}.link", f"must be one of {', '.join(LINK_PURPOSES)}")
        if (link is not None) != (LINK_VARIABLE in params):
            raise self.fail(f"{where}.link", "a template with a link has the variable "
                            "{link} in its SMS text, and only such a template")
        if link is not None and used[-1] != LINK_VARIABLE:
            raise self.fail(f"{where}.sms.text", "the link comes last")

        wechat_id, wechat_data = None, {}
        if spec.get("wechat") is not None:
            wechat = self.mapping(spec["wechat"], f"{where}.wechat")
            wechat_id = self.text(wechat.get("template_id"), f"{where}.wechat.template_id")
            data = self.mapping(wechat.get("data"), f"{where}.wechat.data")
            if not data:
                raise self.fail(f"{where}.wechat.data", "must name at least one key")
            for key, variable in data.items():
                if _wechat_type(str(key)) not in WECHAT_VALUE_LIMITS:
                    raise self.fail(f"{where}.wechat.data.{key}", "unknown WeChat data type "
                                    f"(known: {', '.join(WECHAT_VALUE_LIMITS)})")
                if not isinstance(variable, str) or not _VARIABLE_NAME.match(variable):
                    raise self.fail(f"{where}.wechat.data.{key}", "must name a variable")
                if variable == LINK_VARIABLE:
                    raise self.fail(f"{where}.wechat.data.{key}", "the short link is for "
                                    "SMS; a subscribe message opens the mini-program")
                wechat_data[str(key)] = variable
        page = self.text(spec.get("page"), f"{where}.page", optional=True)
        if page is not None and wechat_id is None:
            raise self.fail(f"{where}.page", "only a WeChat subscribe message opens a page")

        example = {str(k): str(v) for k, v in
                   self.mapping(spec.get("example") or {}, f"{where}.example").items()}
        result = MessageTemplate(
            name=name, title=str(title), sms_text=str(text), sms_params=tuple(params),
            sms_ids=sms_ids, code=code, link=link, wechat_template_id=wechat_id,
            wechat_data=wechat_data, page=page, example=example)
        missing = sorted(result.variables - set(example))
        if missing:
            raise self.fail(f"{where}.example", f"gives no value for {', '.join(missing)}")
        return result


@functools.cache
def load_templates(path: Path = TEMPLATES_FILE) -> dict[str, MessageTemplate]:
    """The templates of ``path`` by name, checked (read once per path and process)."""
    checker = _Checker(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateFileError(f"{path}: cannot read the templates file: {exc}") from None
    except yaml.YAMLError as exc:
        raise TemplateFileError(f"{path}: not valid YAML: {exc}") from None
    root = checker.mapping(raw, "the file")
    if set(root) != {"templates"}:
        raise checker.fail("the file", "must hold one key, templates")
    templates = checker.mapping(root["templates"], "templates")
    if not templates:
        raise checker.fail("templates", "is empty")
    return {name: checker.template(name, spec) for name, spec in templates.items()}


def sms_template_ids(provider: str = "tencent",
                     path: Path = TEMPLATES_FILE) -> dict[str, str]:
    """Logical name → the provider's template id (the default of ``SMS_TEMPLATE_IDS``)."""
    return {name: t.sms_ids[provider] for name, t in load_templates(path).items()
            if provider in t.sms_ids}


def wechat_template_ids(path: Path = TEMPLATES_FILE) -> dict[str, str]:
    """Logical name → subscribe-message template id (the default of
    ``WECHAT_TEMPLATE_IDS``)."""
    return {name: t.wechat_template_id for name, t in load_templates(path).items()
            if t.wechat_template_id}
