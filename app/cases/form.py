"""The combined application form (一窗受理申请表): sections of fields, defined once.

Each section is a list of :class:`FieldDef`. The same definitions build the marshmallow
schema that validates a saved section on the server and the field list the
mini-program draws its wizard from, so the rules are never copied into JavaScript.
A business type names its sections (``form_sections`` in business_types.json); the
``parties`` section has no fields: it is the list of applicants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from app.kernel import validators
from app.kernel.timeutil import local_date

APPLICANTS_SECTION = "parties"
USES = ["住宅", "商业", "办公", "工业", "车位", "其他"]
MAX_MONEY_FEN = 100_000_000_000  # 10 亿元


@dataclass(frozen=True)
class FieldDef:
    name: str
    label: str
    type: str  # string | text | integer | money | decimal | date | boolean | choice
    required: bool = True
    choices: tuple[tuple[str, str], ...] | None = None
    max_length: int | None = None
    help: str | None = None
    minimum: Decimal | int | None = None
    maximum: Decimal | int | None = None
    not_future: bool = False

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name, "label": self.label, "type": self.type,
            "required": self.required,
            "choices": [{"value": v, "label": lbl} for v, lbl in self.choices]
            if self.choices else None,
            "max_length": self.max_length, "help": self.help,
        }


def _choices(*values: str) -> tuple[tuple[str, str], ...]:
    return tuple((v, v) for v in values)


# A yes/no question is a choice, not a switch: an untouched switch would answer "no".
YES_NO = (("yes", "是"), ("no", "否"))


@dataclass(frozen=True)
class SectionDef:
    code: str
    title: str
    fields: tuple[FieldDef, ...] = ()
    # Cross-field rules: (field names, check(data) -> message or None)
    rules: tuple[Any, ...] = field(default=())

    @property
    def kind(self) -> str:
        return "applicants" if self.code == APPLICANTS_SECTION else "fields"

    def public(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "kind": self.kind,
                "fields": [f.public() for f in self.fields]}


def _unit_number_ok(value: str) -> None:
    try:
        validators.unit_number(value)
    except validators.InvalidValue as exc:
        raise ValidationError(exc.message) from None


def _debt_period(data: dict[str, Any]) -> tuple[str, str] | None:
    start, end = data.get("debt_start"), data.get("debt_end")
    if start and end and end <= start:
        return "debt_end", "债务履行期限的结束日期应晚于开始日期"
    return None


# The certificate_delivery choices that print a paper certificate (the 工本费 item).
PAPER_FORMS = ("paper", "paper_window")


def _paper_needs_address(data: dict[str, Any]) -> tuple[str, str] | None:
    if data.get("form") == "paper" and not (data.get("address") or "").strip():
        return "address", "选择纸质证书邮寄时请填写邮寄地址"
    return None


def _paper_phone_ok(data: dict[str, Any]) -> tuple[str, str] | None:
    """The courier calls the recipient: a mainland mobile number when mailing."""
    phone = (data.get("phone") or "").strip()
    if data.get("form") != "paper":
        return None
    if not phone:
        return "phone", "选择纸质证书邮寄时请填写收件人手机号"
    try:
        validators.mobile_phone(phone)
    except validators.InvalidValue as exc:
        return "phone", exc.message
    return None


def _change_differs(data: dict[str, Any]) -> tuple[str, str] | None:
    if data.get("before") and data.get("before") == data.get("after"):
        return "after", "变更后的内容应与变更前不同"
    return None


SECTIONS: dict[str, SectionDef] = {s.code: s for s in [
    SectionDef("unit", "不动产单元", (
        FieldDef("unit_number", "不动产单元号", "string", max_length=28,
                 help="28位，见不动产权证书"),
        FieldDef("location", "坐落", "string", max_length=200),
        FieldDef("area_m2", "建筑面积（平方米）", "decimal", minimum=Decimal("0.01"),
                 maximum=Decimal("100000")),
        FieldDef("use", "用途", "choice", choices=_choices(*USES)),
        FieldDef("land_term_end", "土地使用期限（止）", "date", required=False),
    )),
    SectionDef(APPLICANTS_SECTION, "申请人"),
    SectionDef("transaction", "交易信息", (
        FieldDef("contract_number", "合同编号", "string", max_length=50),
        FieldDef("contract_date", "合同签订日期", "date", not_future=True),
        FieldDef("price_fen", "成交价格（元）", "money", minimum=1, maximum=MAX_MONEY_FEN),
        FieldDef("payment_method", "付款方式", "choice",
                 choices=_choices("一次性付款", "商业贷款", "公积金贷款", "组合贷款")),
    )),
    SectionDef("tax_declaration", "计税申报", (
        FieldDef("buyer_first_home", "买受人家庭是否首套住房", "choice", choices=YES_NO,
                 help="影响契税税率，由税务部门核定"),
        FieldDef("seller_only_home_over_5_years", "出卖人家庭唯一住房且满五年", "choice",
                 choices=YES_NO),
    )),
    SectionDef("maintenance_fund", "专项维修资金", (
        FieldDef("building_kind", "房屋类型", "choice",
                 choices=_choices("多层（无电梯）", "高层（有电梯）")),
    )),
    SectionDef("mortgage", "抵押信息", (
        FieldDef("mortgage_kind", "抵押方式", "choice", choices=_choices("一般抵押", "最高额抵押")),
        FieldDef("secured_amount_fen", "被担保主债权数额（元）", "money", minimum=1,
                 maximum=MAX_MONEY_FEN),
        FieldDef("debt_start", "债务履行期限（起）", "date"),
        FieldDef("debt_end", "债务履行期限（止）", "date"),
        FieldDef("contract_number", "抵押合同编号", "string", max_length=50),
    ), rules=(_debt_period,)),
    SectionDef("discharge", "注销信息", (
        FieldDef("proof_number", "不动产登记证明号", "string", max_length=60),
        FieldDef("reason", "注销原因", "choice",
                 choices=_choices("主债权消灭", "抵押权已经实现", "抵押权人放弃抵押权", "其他")),
    )),
    SectionDef("change_details", "变更事项", (
        FieldDef("change_kind", "变更类型", "choice",
                 choices=_choices("权利人姓名或名称变更", "证件种类或号码变更", "坐落名称变更",
                                  "用途变更")),
        FieldDef("before", "变更前", "string", max_length=200),
        FieldDef("after", "变更后", "string", max_length=200),
    ), rules=(_change_differs,)),
    SectionDef("correction_details", "更正事项", (
        FieldDef("item", "更正的登记事项", "string", max_length=60),
        FieldDef("wrong_value", "登记簿现记载", "string", max_length=200),
        FieldDef("correct_value", "应更正为", "string", max_length=200),
        FieldDef("reason", "更正理由", "text", max_length=500),
    )),
    SectionDef("certificate_delivery", "证书领取方式", (
        FieldDef("form", "证书形式", "choice",
                 choices=(("electronic", "电子证书（免费）"), ("paper", "纸质证书（邮寄）"),
                          ("paper_window", "纸质证书（窗口领取）"))),
        FieldDef("address", "邮寄地址", "string", required=False, max_length=200),
        FieldDef("phone", "收件人手机号", "string", required=False, max_length=20,
                 help="快递员派送时联系；证书寄给权利人本人"),
    ), rules=(_paper_needs_address, _paper_phone_ok)),
]}


def _marshmallow_field(definition: FieldDef) -> fields.Field:
    required: dict[str, Any] = {"required": definition.required,
                                "allow_none": not definition.required}
    messages: dict[str, Any] = {"required": "此项为必填项", "null": "此项为必填项"}
    checks: list[Any] = []
    if definition.max_length:
        checks.append(validate.Length(max=definition.max_length,
                                      error=f"不能超过 {definition.max_length} 个字符"))
    if definition.minimum is not None or definition.maximum is not None:
        checks.append(validate.Range(min=definition.minimum, max=definition.maximum,
                                     error="数值超出允许范围"))
    if definition.choices:
        checks.append(validate.OneOf([v for v, _ in definition.choices], error="请从选项中选择"))
    if definition.type in ("string", "text", "choice"):
        if definition.required:
            checks.append(validate.Length(min=1, error="此项为必填项"))
        if definition.name == "unit_number":
            checks.append(_unit_number_ok)
        return fields.String(validate=checks, error_messages=messages | {
            "invalid": "应为文字"}, **required)
    if definition.type in ("integer", "money"):
        return fields.Integer(strict=True, validate=checks, error_messages=messages | {
            "invalid": "应为整数（金额以分为单位）"}, **required)
    if definition.type == "decimal":
        return fields.Decimal(places=2, as_string=True, validate=checks, error_messages=messages | {
            "invalid": "应为数字，最多两位小数", "special": "应为数字"}, **required)
    if definition.type == "date":
        if definition.not_future:
            checks.append(lambda d: _not_future(d))
        return fields.Date(validate=checks, error_messages=messages | {
            "invalid": "日期格式应为 YYYY-MM-DD"}, **required)
    if definition.type == "boolean":
        return fields.Boolean(truthy={True}, falsy={False},
                              error_messages=messages | {"invalid": "应为是或否"}, **required)
    raise ValueError(f"unknown field type {definition.type}")


def _not_future(value: date) -> None:
    if value > local_date():
        raise ValidationError("日期不能晚于今天")


def _schema_for(section: SectionDef) -> Schema:
    attrs: dict[str, Any] = {f.name: _marshmallow_field(f) for f in section.fields}

    def _rules(self: Schema, data: dict[str, Any], **kwargs: Any) -> None:
        for rule in section.rules:
            problem = rule(data)
            if problem:
                raise ValidationError(problem[1], field_name=problem[0])

    attrs["_rules"] = validates_schema(_rules)
    attrs["Meta"] = type("Meta", (), {"unknown": EXCLUDE})
    schema_class = type(f"{section.code.title()}SectionSchema", (Schema,), attrs)
    return schema_class()


_SCHEMAS: dict[str, Schema] = {}


def section_schema(code: str) -> Schema:
    if code not in _SCHEMAS:
        _SCHEMAS[code] = _schema_for(SECTIONS[code])
    return _SCHEMAS[code]


def validate_section(code: str, payload: Any) -> dict[str, Any]:
    """The section's data ready to store (JSON-safe), or ValidationError with field errors."""
    if not isinstance(payload, dict):
        raise ValidationError({"_schema": ["应为对象"]})
    schema = section_schema(code)
    loaded = schema.load(payload)
    return schema.dump(loaded)


def section_problems(code: str, stored: dict[str, Any] | None) -> list[str]:
    """Why a saved section is not complete (empty list: complete)."""
    if stored is None:
        return ["尚未填写"]
    try:
        validate_section(code, stored)
    except ValidationError as exc:
        messages = exc.normalized_messages()
        labels = {f.name: f.label for f in SECTIONS[code].fields}
        return [f"{labels.get(name, name)}：{'；'.join(map(str, msgs))}"
                for name, msgs in messages.items()] if isinstance(messages, dict) else [
                    str(messages)]
    return []


def display_value(definition: FieldDef, value: Any) -> str:
    """A stored value as people read it (the PDF, the admin pages)."""
    if value is None or value == "":
        return "—"
    if definition.type == "money":
        return f"{int(value) // 100:,}.{int(value) % 100:02d} 元"
    if definition.type == "boolean":
        return "是" if value else "否"
    if definition.choices:
        return dict(definition.choices).get(str(value), str(value))
    return str(value)
