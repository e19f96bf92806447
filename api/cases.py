"""A citizen's own cases."""

from __future__ import annotations

import io
from typing import Any

from flask import current_app, g, request, send_file
from flask_smorest import Blueprint

from api.schemas import (
    ApplicantCreateSchema,
    CaseCreateSchema,
    CaseDetailSchema,
    CaseFormSchema,
    CaseSchema,
    FeesSchema,
    RatingSchema,
)
from api.security import (
    BEARER,
    BEARER_AND_CLAIM,
    citizen_required,
    current_citizen,
    identity_claim_required,
)
from app.cases import application, service
from app.fees.service import citizen_fees
from app.usecases import citizen_cases
from app.usecases.citizen_cases import OnCase

blp = Blueprint("cases", __name__, url_prefix="/api/cases", description="我的办件")


def _detail(found: OnCase) -> dict[str, Any]:
    return citizen_cases.detail(found.case, found.party)


def _case_detail(case_number: str) -> dict[str, Any]:
    return citizen_cases.case_detail(current_citizen().account, case_number)


@blp.route("", methods=["GET"])
@citizen_required
@blp.response(200, CaseSchema(many=True))
@blp.paginate()
@blp.doc(security=BEARER)
def list_cases(pagination_parameters: Any) -> Any:
    """我的办件（分页信息见响应头 X-Pagination）"""
    page = service.list_cases_for(
        current_citizen().account, pagination_parameters.page, pagination_parameters.page_size
    )
    pagination_parameters.item_count = page.total
    return page.items


@blp.route("", methods=["POST"])
@citizen_required
@blp.arguments(CaseCreateSchema)
@blp.response(201, CaseDetailSchema)
@blp.doc(security=BEARER)
def create_case(body: dict[str, Any]) -> Any:
    """新建办件草稿"""
    identity = current_citizen()
    case = service.create_draft(
        identity.account, body["business_type"], channel=identity.channel,
        prefix=current_app.config["CASE_NUMBER_PREFIX"],
        unit_number=body.get("unit_number"), location=body.get("location"),
    )
    return _case_detail(case.case_number)


@blp.route("/<case_number>", methods=["GET"])
@citizen_required
@blp.response(200, CaseDetailSchema)
@blp.alt_response(404, description="办件不存在或不属于本人")
@blp.doc(security=BEARER)
def get_case(case_number: str) -> Any:
    """办件详情与进度"""
    return _case_detail(case_number)


@blp.route("/<case_number>/submit", methods=["POST"])
@citizen_required
@identity_claim_required
@blp.response(200, CaseDetailSchema)
@blp.alt_response(403, description="需要人脸核验凭证（X-Identity-Claim）")
@blp.alt_response(409, description="当前状态不能提交")
@blp.doc(security=BEARER_AND_CLAIM)
def submit_case(case_number: str) -> Any:
    """提交办件（需要有效的身份核验凭证）

    提交前须：申请表各部分填写完整、申请人齐全、必需材料齐全、每名申请人已确认。
    不完整时返回 422 CASE_INCOMPLETE，details 中列出缺少的内容。提交后系统立即通过
    数据共享平台自动核查；核查通过即受理并进入各部门并联审核。
    """
    identity = current_citizen()
    return _detail(citizen_cases.submit(identity.account, case_number, identity.channel))


@blp.route("/<case_number>/withdraw", methods=["POST"])
@citizen_required
@blp.response(200, CaseDetailSchema)
@blp.alt_response(409, description="当前状态不能撤回")
@blp.doc(security=BEARER)
def withdraw_case(case_number: str) -> Any:
    """撤回办件"""
    identity = current_citizen()
    return _detail(citizen_cases.withdraw(identity.account, case_number, identity.channel))


@blp.route("/<case_number>/form", methods=["GET"])
@citizen_required
@blp.response(200, CaseFormSchema)
@blp.doc(security=BEARER)
def get_form(case_number: str) -> Any:
    """申请表（各部分的填写内容与完整性）"""
    return citizen_cases.case_form(current_citizen().account, case_number)


@blp.route("/<case_number>/form/<section>", methods=["PUT"])
@citizen_required
@blp.response(200, CaseFormSchema)
@blp.alt_response(404, description="该业务没有这一部分（FORM_SECTION_UNKNOWN）")
@blp.alt_response(409, description="办件已提交，不能修改（CASE_NOT_EDITABLE）")
@blp.alt_response(422, description="字段校验未通过，什么也没有保存")
@blp.doc(security=BEARER, requestBody={"required": True, "content": {"application/json": {
    "schema": {"type": "object"},
    "example": {"unit_number": "440402003001GB00012F00010203",
                "location": "珠海市香洲区示范路1号1栋203房", "area_m2": "89.50",
                "use": "住宅", "land_term_end": "2077-06-30"}}}})
def save_form_section(section: str, case_number: str) -> Any:
    """保存申请表的一个部分（整部分提交，服务器校验后保存为草稿）"""
    identity = current_citizen()
    payload = request.get_json(silent=True)
    return citizen_cases.save_form_section(identity.account, case_number, section, payload,
                                           identity.channel)


@blp.route("/<case_number>/applicants", methods=["POST"])
@citizen_required
@blp.arguments(ApplicantCreateSchema)
@blp.response(201, CaseDetailSchema)
@blp.doc(security=BEARER)
def add_applicant(body: dict[str, Any], case_number: str) -> Any:
    """添加申请人（单位申请人须填写代表其确认的办理人）"""
    identity = current_citizen()
    return _detail(citizen_cases.add_applicant(identity.account, case_number,
                                               application.NewApplicant(**body),
                                               identity.channel))


@blp.route("/<case_number>/applicants/<int:applicant_id>", methods=["DELETE"])
@citizen_required
@blp.response(200, CaseDetailSchema)
@blp.doc(security=BEARER)
def remove_applicant(case_number: str, applicant_id: int) -> Any:
    """删除申请人"""
    identity = current_citizen()
    return _detail(citizen_cases.remove_applicant(identity.account, case_number, applicant_id,
                                                  identity.channel))


@blp.route("/<case_number>/confirm", methods=["POST"])
@citizen_required
@identity_claim_required
@blp.response(200, CaseDetailSchema)
@blp.alt_response(403, description="需要本人的人脸核验凭证，或您不是本办件的申请人")
@blp.doc(security=BEARER_AND_CLAIM)
def confirm_case(case_number: str) -> Any:
    """申请人确认申请内容（每名申请人在本人账号中、凭有效的身份核验凭证确认）"""
    identity = current_citizen()
    return _detail(citizen_cases.confirm(identity.account, g.identity_claim, case_number,
                                         identity.channel))


@blp.route("/<case_number>/application.pdf", methods=["GET"])
@citizen_required
@blp.response(200, content_type="application/pdf")
@blp.doc(security=BEARER)
def application_pdf(case_number: str) -> Any:
    """下载提交时归档的一窗受理申请表（PDF）"""
    document, data = application.read_application_form(current_citizen().account, case_number)
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{case_number}-application-{document.submission}.pdf")


@blp.route("/<case_number>/fees", methods=["GET"])
@citizen_required
@blp.response(200, FeesSchema)
@blp.doc(security=BEARER)
def case_fees(case_number: str) -> Any:
    """已核定的全部税费（各部门的每一项与合计，单位：分）"""

    return citizen_fees(service.get_case_for(current_citizen().account, case_number))


@blp.route("/<case_number>/rating", methods=["POST"])
@citizen_required
@blp.arguments(RatingSchema)
@blp.response(201, RatingSchema)
@blp.alt_response(403, description="您不是本办件的当事人（ACTION_NOT_ALLOWED）")
@blp.alt_response(409, description="办件未办结，或您已评价过")
@blp.doc(security=BEARER)
def rate_case(body: dict[str, Any], case_number: str) -> Any:
    """评价办件服务（好差评：5 非常满意 … 1 非常不满意；每名当事人一次，办结后）"""
    identity = current_citizen()
    return citizen_cases.rate(identity.account, case_number, body["score"],
                              body.get("comment"), identity.channel)
