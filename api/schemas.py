"""Marshmallow schemas of the JSON API. Personal data leaves only masked."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from app.cases.form import SECTIONS
from app.cases.workflow import CaseStatus
from app.departments import Department
from app.kernel.timeutil import as_utc


class StrictSchema(Schema):
    class Meta:
        ordered = True


class AccountSchema(StrictSchema):
    id = fields.Integer()
    channels = fields.List(fields.String(), metadata={"example": ["wechat"]})
    identity_verified = fields.Boolean()


class TokenSchema(StrictSchema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.Constant("Bearer")
    expires_in = fields.Integer(metadata={"description": "访问令牌有效秒数"})
    refresh_expires_in = fields.Integer()
    account = fields.Nested(AccountSchema)


class WechatLoginSchema(StrictSchema):
    code = fields.String(
        required=True, validate=validate.Length(min=1, max=128),
        metadata={"description": "wx.login() 返回的 code（沙箱中如 zhangsan.1）"},
    )


class SmsCodeRequestSchema(StrictSchema):
    phone = fields.String(required=True, validate=validate.Length(max=20),
                          metadata={"example": "13800000001"})


class SmsCodeSentSchema(StrictSchema):
    expires_in = fields.Integer()
    resend_after = fields.Integer()


class SmsLoginSchema(StrictSchema):
    phone = fields.String(required=True, validate=validate.Length(max=20))
    code = fields.String(required=True, validate=validate.Length(max=10),
                         metadata={"example": "123456"})


class RefreshSchema(StrictSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(max=200))


class PersonSummarySchema(StrictSchema):
    kind = fields.String()
    name = fields.String(metadata={"description": "本人姓名（仅本人可见）"})
    id_number_masked = fields.String(metadata={"example": "4404**********123X"})


class MeSchema(StrictSchema):
    id = fields.Integer()
    channels = fields.List(fields.String())
    phone_masked = fields.String(allow_none=True, metadata={"example": "138****0000"})
    identity_verified = fields.Boolean()
    person = fields.Nested(PersonSummarySchema, allow_none=True)


class BusinessTypeRefSchema(StrictSchema):
    code = fields.String()
    name = fields.String()


class UnitSchema(StrictSchema):
    unit_number = fields.String()
    location = fields.String()
    area_m2 = fields.Decimal(as_string=True, allow_none=True)
    use = fields.String(allow_none=True)


class UtcDateTime(fields.DateTime):
    """ISO 8601 in UTC with a 'Z' suffix; clients show Asia/Shanghai."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None

        return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


class CaseSchema(StrictSchema):
    case_number = fields.String(metadata={"example": "ZH2026112300001"})
    business_type = fields.Nested(BusinessTypeRefSchema)
    status = fields.String()
    status_label = fields.Method("get_status_label", metadata={"example": "草稿"})
    unit = fields.Nested(UnitSchema, allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()

    def get_status_label(self, obj: Any) -> str:
        status = obj["status"] if isinstance(obj, dict) else obj.status
        return CaseStatus(status).label


class ApplicantSchema(StrictSchema):
    id = fields.Integer()
    role = fields.String()
    role_label = fields.String()
    kind = fields.String(metadata={"example": "natural"})
    name_masked = fields.String()
    share = fields.String(allow_none=True, metadata={"example": "1/2"})
    confirmed = fields.Boolean(metadata={"description": "该申请人已确认申请内容"})
    is_me = fields.Boolean(metadata={"description": "由当前登录人本人（或其代表）确认"})


class TimelineEntrySchema(StrictSchema):
    status = fields.String()
    status_label = fields.String()
    step_label = fields.String(metadata={"example": "住房和城乡建设局审核通过"})
    department = fields.String(allow_none=True)
    department_label = fields.String(allow_none=True)
    actor_role_label = fields.String(metadata={"example": "申请人"})
    at = UtcDateTime()


class ReturnedItemSchema(StrictSchema):
    kind = fields.String(metadata={"example": "material"})
    code = fields.String()
    name = fields.String()
    role = fields.String(allow_none=True)
    role_label = fields.String(allow_none=True)
    reason = fields.String()
    department_label = fields.String()


class CheckSchema(StrictSchema):
    kind = fields.String()
    label = fields.String()
    status = fields.String()
    status_label = fields.String()
    message = fields.String(allow_none=True)


class ReviewStateSchema(StrictSchema):
    department = fields.String()
    department_label = fields.String()
    status = fields.String()
    status_label = fields.String()


class CaseDetailSchema(CaseSchema):
    applicants = fields.List(fields.Nested(ApplicantSchema))
    timeline = fields.List(fields.Nested(TimelineEntrySchema))
    party_role = fields.String(metadata={
        "description": "您在本办件中的身份：filer 申请提交人 / co_applicant 其他申请人 / "
                       "agent 经办人"})
    party_role_label = fields.String()
    allowed_actions = fields.List(fields.String(), metadata={
        "description": "您现在可以进行的操作（各渠道只显示这些）：edit、upload_materials、"
                       "confirm、submit、pay、view_certificate、request_correction、"
                       "track_delivery、rate、withdraw（docs/policies.md）",
        "example": ["pay", "withdraw"]})
    returned_items = fields.List(fields.Nested(ReturnedItemSchema))
    checks = fields.List(fields.Nested(CheckSchema))
    review = fields.List(fields.Nested(ReviewStateSchema))
    due_at = UtcDateTime(allow_none=True)
    clock_label = fields.String(allow_none=True)
    materials_editable = fields.Boolean(metadata={
        "description": "同 allowed_actions 含 upload_materials"})
    confirmation_needed = fields.Boolean(metadata={
        "description": "同 allowed_actions 含 confirm"})
    application_pdf_url = fields.String(allow_none=True)


class FormSectionStateSchema(StrictSchema):
    code = fields.String()
    title = fields.String()
    kind = fields.String()
    complete = fields.Boolean()
    data = fields.Dict()
    problems = fields.List(fields.String())


class CaseFormSchema(StrictSchema):
    case_number = fields.String()
    editable = fields.Boolean()
    editable_sections = fields.List(fields.String())
    notice = fields.String(metadata={"description": "不能修改时向您说明的原因"})
    sections = fields.List(fields.Nested(FormSectionStateSchema))


class ApplicantCreateSchema(StrictSchema):
    role = fields.String(required=True, validate=validate.Length(min=1, max=30),
                         metadata={"example": "seller"})
    kind = fields.String(required=True, validate=validate.OneOf(["natural", "legal"]),
                         metadata={"example": "natural"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=100),
                         metadata={"example": "李四"})
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=30), metadata={
        "description": "自然人填居民身份证号码，单位填统一社会信用代码"})
    share = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20),
                          metadata={"example": "1/1"})
    representative_name = fields.String(load_default=None, allow_none=True,
                                        validate=validate.Length(max=50))
    representative_id_number = fields.String(load_default=None, allow_none=True,
                                             validate=validate.Length(max=30))


class CaseCreateSchema(StrictSchema):
    business_type = fields.String(required=True, validate=validate.Length(max=40),
                                  metadata={"example": "resale_transfer"})
    unit_number = fields.String(validate=validate.Length(max=40),
                                metadata={"example": "440402003001GB00012F00010203"})
    location = fields.String(validate=validate.Length(max=200))


class DepartmentRefSchema(StrictSchema):
    code = fields.String()
    label = fields.String()


class BusinessTypeSchema(StrictSchema):
    code = fields.String()
    name = fields.String()
    step_order = fields.String()
    certificate_kind = fields.String(allow_none=True)
    time_limit_working_days = fields.Integer()
    roles = fields.List(fields.Dict())
    materials = fields.List(fields.Dict())
    departments = fields.Method("get_departments")
    fee_items = fields.List(fields.String())
    form_sections = fields.Method("get_form_sections", metadata={
        "description": "申请表各部分及字段（类型、是否必填、选项），小程序据此生成向导"})

    def get_departments(self, obj: Any) -> list[dict[str, str]]:
        return [{"code": d, "label": Department(d).label} for d in obj.departments]

    def get_form_sections(self, obj: Any) -> list[dict[str, Any]]:
        return [SECTIONS[code].public() for code in obj.definition.get("form_sections", [])]


class FeeItemSchema(StrictSchema):
    item = fields.String(metadata={"example": "deed_tax"})
    name = fields.String(metadata={"example": "契税"})
    department = fields.String()
    department_label = fields.String(metadata={"example": "税务局"})
    amount_fen = fields.Integer(metadata={"description": "金额（分）"})
    basis = fields.String(metadata={"description": "计算依据"})
    exempt = fields.Boolean()


class FeesSchema(StrictSchema):
    case_number = fields.String()
    items = fields.List(fields.Nested(FeeItemSchema))
    total_fen = fields.Integer(metadata={"description": "合计（分）"})
    assessed_at = UtcDateTime(allow_none=True)


class RatingSchema(StrictSchema):
    score = fields.Integer(required=True, validate=validate.Range(min=1, max=5), metadata={
        "description": "5 非常满意、4 满意、3 基本满意、2 不满意、1 非常不满意", "example": 5})
    comment = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=500))
    created_at = UtcDateTime(dump_only=True)
