"""The institution API (banks, agencies, courts): signed requests, scopes, rate limits.

Every request is signed with the institution's key (see app/institutions/auth.py and
docs/institutions.md); every look at a certificate is recorded and shown to its owner.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.schemas import StrictSchema, UtcDateTime
from app.institutions import service
from app.institutions.auth import (
    SIGNED,
    current_institution,
    current_key,
    institution_required,
    rate_limited,
)

blp = Blueprint("institution_api", __name__, url_prefix="/api/institution/v1",
                description="机构接口（银行、中介机构、法院）：请求需以机构密钥签名")

_NUMBER = fields.String(required=True, validate=validate.Length(min=1, max=60),
                        metadata={"example": "粤(2026)珠海市不动产权第0000001号"})


class VerifyRequestSchema(StrictSchema):
    number = _NUMBER
    content_hash = fields.String(
        load_default=None, validate=validate.Regexp(r"^[0-9a-fA-F]{64}$"),
        metadata={"description": "可选：证书内容摘要（SHA-256，64位十六进制），核对是否一致"})


class VerifyResultSchema(StrictSchema):
    number = fields.String()
    status = fields.String(metadata={
        "description": "valid（有效）、revoked（已作废）或 unknown（未查到）"})
    status_label = fields.String(metadata={"example": "有效"})
    issue_date = fields.Date(allow_none=True)
    content_hash_matches = fields.Boolean(
        allow_none=True, metadata={"description": "提供摘要时：是否与证书一致；未提供为 null"})


class LookupQuerySchema(StrictSchema):
    legal_basis = fields.String(
        load_default=None,
        validate=validate.Length(min=service.MIN_LEGAL_BASIS, max=service.MAX_LEGAL_BASIS),
        metadata={"description": "依法查询的依据（如法院案号），需 certificates:legal 权限",
                  "example": "(2026)粤0402执1234号"})


class LookupResultSchema(StrictSchema):
    number = fields.String()
    kind = fields.String(metadata={"example": "certificate"})
    kind_label = fields.String(metadata={"example": "不动产权证书"})
    status = fields.String(metadata={"description": "valid 或 revoked"})
    status_label = fields.String()
    issue_date = fields.Date()
    revoked_at = UtcDateTime(allow_none=True)
    replaced_by = fields.String(allow_none=True, metadata={"description": "替代本证的新证号"})
    basis_type = fields.String(metadata={
        "description": "consent（权利人授权）或 legal（依法查询）"})
    basis = fields.String(metadata={"description": "本次查看的依据，权利人可见"})
    consent_expires_at = UtcDateTime(allow_none=True)
    content = fields.Dict(allow_none=True, metadata={
        "description": "证书记载的全部内容，权利人证件号脱敏；已作废的证书为 null"})
    content_hash = fields.String(allow_none=True, metadata={"description": "内容摘要（SHA-256）"})


@blp.route("/certificates/verify", methods=["POST"])
@institution_required("certificates:verify")
@rate_limited
@blp.arguments(VerifyRequestSchema)
@blp.response(200, VerifyResultSchema)
@blp.alt_response(401, description="签名无效、过期、重放，或密钥无效")
@blp.alt_response(403, description="SCOPE_MISSING：密钥无 certificates:verify 权限")
@blp.alt_response(429, description="超过本机构的调用频率上限")
@blp.doc(security=SIGNED)
def verify(body: dict[str, Any]) -> Any:
    """核验证书状态（有效/作废/未查到）与内容摘要，不含个人信息"""
    return service.verify_status(current_institution(), current_key(), body["number"].strip(),
                                 body.get("content_hash"))


@blp.route("/certificates/<path:number>", methods=["GET"])
@institution_required()
@rate_limited
@blp.arguments(LookupQuerySchema, location="query")
@blp.response(200, LookupResultSchema)
@blp.alt_response(401, description="签名无效、过期、重放，或密钥无效")
@blp.alt_response(403, description=("AUTHORISATION_REQUIRED：无权利人有效授权；"
                                    "SCOPE_MISSING：无相应权限"))
@blp.alt_response(404, description="未找到该证书")
@blp.alt_response(429, description="超过本机构的调用频率上限")
@blp.doc(security=SIGNED)
def lookup(query: dict[str, Any], number: str) -> Any:
    """查看证书内容（需权利人授权或依法查询；每次查看均记录并告知权利人）

    需权利人在小程序中授权本机构（certificates:read），或 certificates:legal 权限并提供
    legal_basis（如法院案号）。权利人证件号脱敏；已作废的证书只返回状态和新证号。
    """
    return service.lookup(current_institution(), current_key(), number,
                          legal_basis=query.get("legal_basis"))
