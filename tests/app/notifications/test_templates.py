"""The templates file: every template renders, a bad file is refused clearly, and the
platform's settings and the sandbox read the same texts and ids."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.kernel.settings import DEFAULTS, load_settings
from app.notifications.templates import (
    LINK_VARIABLE,
    TEMPLATES_FILE,
    WECHAT_VALUE_LIMITS,
    MessageTemplate,
    TemplateFileError,
    TemplateVariableMissing,
    load_templates,
    sms_template_ids,
    wechat_template_ids,
)
from sandbox import tencent_sms
from sandbox.settings import DEFAULT_SMS_TEMPLATE_IDS

TEMPLATES = load_templates()
PROJECT = Path(__file__).resolve().parents[3]


def test_the_file_holds_every_message_of_the_platform() -> None:
    assert set(TEMPLATES) >= {
        "login_code", "case_returned", "case_accepted", "case_registered", "case_rejected",
        "fees_assessed", "certificate_issued", "certificate_shipped", "certificate_at_window",
        "correction_answered", "appointment_reminder"}
    assert [n for n, t in TEMPLATES.items() if t.code] == ["login_code"]
    links = {n: t.link for n, t in TEMPLATES.items() if t.link}
    assert links == {"fees_assessed": "pay_case", "certificate_issued": "view_certificate",
                     "case_returned": "track_case", "case_accepted": "track_case",
                     "case_registered": "track_case", "case_rejected": "track_case",
                     "correction_answered": "view_certificate"}


@pytest.mark.parametrize("spec", TEMPLATES.values(), ids=list(TEMPLATES))
def test_every_template_renders_with_its_variables(spec: MessageTemplate) -> None:
    values = dict(spec.example)
    text = spec.render_sms(values)
    assert "{" not in text and "}" not in text
    parameters = spec.sms_parameters(values)
    assert len(parameters) == len(spec.sms_params) and all(parameters)
    assert all(p in text for p in parameters)
    # The provider's positional text with the parameters gives the same message.
    positional = spec.positional_text()
    for i, parameter in enumerate(parameters, 1):
        positional = positional.replace(f"{{{i}}}", parameter)
    assert positional == text
    if spec.link:
        assert text.endswith(values[LINK_VARIABLE])
    assert spec.sms_ids["tencent"]
    if spec.wechat_template_id:
        data = spec.wechat_values(values)
        assert set(data) == set(spec.wechat_data)
        for key, item in data.items():
            limit = WECHAT_VALUE_LIMITS[key.rstrip("0123456789")]
            assert item["value"] and (limit is None or len(item["value"]) <= limit), key
        page = spec.page_for(values)
        assert page and "{" not in page
    else:
        assert spec.code  # only codes are SMS-only
    for name in spec.required_variables:
        partial = {k: v for k, v in values.items() if k != name}
        with pytest.raises(TemplateVariableMissing, match=name):
            spec.render_sms(partial)
            spec.wechat_values(partial)
            spec.page_for(partial)


def test_wechat_values_are_cut_to_their_type_and_pages_encode_their_query() -> None:
    spec = TEMPLATES["correction_answered"]
    values = {**spec.example, "hint": "很长的说明" * 10}
    assert len(spec.wechat_values(values)["thing3"]["value"]) == 20
    page = spec.page_for(values)
    assert page is not None and page.startswith("pages/certificate/index?number=%E7%B2%A4")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "templates.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
templates:
  hello:
    title: 你好
    sms:
      text: 办件{case_number}：{link}
      params: [case_number, link]
      ids: {tencent: "1"}
    link: track_case
    wechat:
      template_id: t-hello
      data: {character_string1: case_number}
    page: pages/case-detail/index?case_number={case_number}
    example: {case_number: ZH1, link: "https://x/s/1"}
"""


def test_a_good_small_file_loads(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    [spec] = load_templates(path).values()
    assert spec.positional_text() == "办件{1}：{2}"
    assert sms_template_ids("tencent", path) == {"hello": "1"}
    assert sms_template_ids("aliyun", path) == {}
    assert wechat_template_ids(path) == {"hello": "t-hello"}


@pytest.mark.parametrize(("change", "message"), [
    (("params: [case_number, link]", "params: [case_number]"), "every parameter appears"),
    (("text: 办件{case_number}：{link}", "text: 办件{case_number}"), "link"),
    (("text: 办件{case_number}：{link}", "text: '{link}办件{case_number}'"),
     "the link comes last"),
    (("link: track_case", "link: open_everything"), "must be one of"),
    (("{tencent: \"1\"}", "{huawei: \"1\"}"), "unknown provider"),
    (("{tencent: \"1\"}", "{aliyun: \"1\"}"), "Tencent Cloud template id is required"),
    (("character_string1", "colour1"), "unknown WeChat data type"),
    (("title: 你好", "titel: 你好"), "unknown key 'titel'"),
    (("example: {case_number: ZH1, link: \"https://x/s/1\"}", "example: {link: x}"),
     "gives no value for case_number"),
    (("  hello:", "  Hello:"), "names are lower-case"),
    (("wechat:\n      template_id: t-hello\n      data: {character_string1: case_number}",
      "wechat: just-a-text"), "wechat: must be a mapping"),
])
def test_a_bad_file_is_refused_with_where_and_why(
        tmp_path: Path, change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(TemplateFileError, match=message) as refused:
        load_templates(path)
    assert str(path) in str(refused.value)


def test_a_file_that_is_not_yaml_or_missing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TemplateFileError, match="not valid YAML"):
        load_templates(_write(tmp_path, "templates: [unclosed"))
    with pytest.raises(TemplateFileError, match="cannot read"):
        load_templates(tmp_path / "missing.yaml")


def test_settings_take_their_default_ids_from_the_file_and_the_environment_wins() -> None:
    assert DEFAULTS["SMS_TEMPLATE_IDS"] == sms_template_ids("tencent")
    assert DEFAULTS["WECHAT_TEMPLATE_IDS"] == wechat_template_ids()
    settings = load_settings(environ={"APP_ENV": "test", "SMS_TEMPLATE_IDS": '{"x": "9"}',
                                      "WECHAT_TEMPLATE_IDS": '{"y": "w"}'},
                             overrides={"SECRET_KEY": "k"})
    assert settings["SMS_TEMPLATE_IDS"] == {"x": "9"}
    assert settings["WECHAT_TEMPLATE_IDS"] == {"y": "w"}


def test_the_sandbox_reads_the_same_texts_and_ids() -> None:
    assert tencent_sms.PLATFORM_TEMPLATES_FILE.resolve() == TEMPLATES_FILE.resolve()
    assert {n: t.positional_text() for n, t in TEMPLATES.items()} == tencent_sms.TEMPLATE_TEXTS
    assert sms_template_ids("tencent") == DEFAULT_SMS_TEMPLATE_IDS
    for name, spec in TEMPLATES.items():
        approved = tencent_sms.SmsTemplate(spec.sms_ids["tencent"], name,
                                           tencent_sms.TEMPLATE_TEXTS[name])
        assert approved.parameter_count() == len(spec.sms_params)
        assert approved.render(spec.sms_parameters(spec.example)) == spec.render_sms(
            spec.example)


def test_the_sandbox_does_not_import_the_platform() -> None:
    code = ("import sys, sandbox.settings, sandbox.tencent_sms;"
            "bad = [m for m in sys.modules if m == 'app' or m.startswith('app.')];"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT, check=True)  # noqa: S603
