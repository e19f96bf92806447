"""A citizen's own cases."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from api.schemas import CaseCreateSchema, CaseDetailSchema, CaseSchema
from api.security import (
    BEARER,
    BEARER_AND_CLAIM,
    citizen_required,
    current_citizen,
    identity_claim_required,
)
from app.cases import service
from app.cases.models import Case

blp = Blueprint("cases", __name__, url_prefix="/api/cases", description="我的办件")


def _detail(case: Case) -> dict[str, Any]:
    return service.citizen_view(case)


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
    return _detail(case)


@blp.route("/<case_number>", methods=["GET"])
@citizen_required
@blp.response(200, CaseDetailSchema)
@blp.alt_response(404, description="办件不存在或不属于本人")
@blp.doc(security=BEARER)
def get_case(case_number: str) -> Any:
    """办件详情与进度"""
    return _detail(service.get_case_for(current_citizen().account, case_number))


@blp.route("/<case_number>/submit", methods=["POST"])
@citizen_required
@identity_claim_required
@blp.response(200, CaseDetailSchema)
@blp.alt_response(403, description="需要人脸核验凭证（X-Identity-Claim）")
@blp.alt_response(409, description="当前状态不能提交")
@blp.doc(security=BEARER_AND_CLAIM)
def submit_case(case_number: str) -> Any:
    """提交办件（需要有效的身份核验凭证）"""
    identity = current_citizen()
    return _detail(service.submit(identity.account, case_number, identity.channel))


@blp.route("/<case_number>/withdraw", methods=["POST"])
@citizen_required
@blp.response(200, CaseDetailSchema)
@blp.alt_response(409, description="当前状态不能撤回")
@blp.doc(security=BEARER)
def withdraw_case(case_number: str) -> Any:
    """撤回办件"""
    identity = current_citizen()
    return _detail(service.withdraw(identity.account, case_number, identity.channel))
