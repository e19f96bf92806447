"""The owner's electronic certificates: list, content, watermarked image, signed PDF,
who viewed them; the authority's public key for offline verification."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, current_app, send_file
from flask_smorest import Blueprint
from marshmallow import fields

from api.schemas import StrictSchema, UtcDateTime
from api.security import (
    BEARER,
    BEARER_AND_CLAIM,
    citizen_required,
    current_citizen,
    identity_claim_required,
)
from app.certificates import corrections, viewing
from app.usecases.correct_certificate import report_certificate_error

blp = Blueprint("certificates", __name__, url_prefix="/api", description="我的不动产电子证书")


class CertificateSummarySchema(StrictSchema):
    number = fields.String(metadata={"example": "粤(2026)珠海市不动产权第0000001号"})
    kind = fields.String(metadata={
        "example": "certificate",
        "description": "certificate（不动产权证书）或 proof（不动产登记证明）"})
    kind_label = fields.String(metadata={"example": "不动产权证书"})
    status = fields.String(metadata={"example": "valid", "description": "valid 或 revoked"})
    status_label = fields.String(metadata={"example": "有效"})
    issue_date = fields.Date()
    location = fields.String(metadata={"description": "坐落"})
    unit_number = fields.String(metadata={"description": "不动产单元号"})
    revoked_at = UtcDateTime(allow_none=True)
    revoked_reason = fields.String(allow_none=True)
    replaced_by = fields.String(allow_none=True, metadata={"description": "替代本证的新证号"})
    verify_url = fields.String(metadata={"description": "证书二维码的核验地址（公开核验页）"})


class CertificateDetailSchema(CertificateSummarySchema):
    content = fields.Dict(metadata={"description": "证书记载的全部内容（他人证件号已脱敏）"})
    content_hash = fields.String(metadata={"description": "内容摘要（SHA-256）"})


class AccessSchema(StrictSchema):
    at = UtcDateTime()
    who = fields.String(metadata={"example": "中国工商银行珠海分行"})
    accessor_type = fields.String(metadata={"example": "institution"})
    action = fields.String(metadata={"example": "lookup"})
    outcome = fields.String(metadata={"example": "allowed", "description": "allowed 或 denied"})
    basis = fields.String(allow_none=True, metadata={"description": "授权或法定依据"})


@blp.route("/certificates", methods=["GET"])
@citizen_required
@blp.response(200, CertificateSummarySchema(many=True))
@blp.doc(security=BEARER)
def list_certificates() -> Any:
    """我的电子证书（缴清税费并登簿后自动生成）"""
    return [viewing.summary(c) for c in viewing.certificates_of(current_citizen().account)]


@blp.route("/certificates/<path:number>/image", methods=["GET"])
@citizen_required
@identity_claim_required
@blp.response(200, description="带“仅供查看”水印的证书图片（PNG）")
@blp.doc(security=BEARER_AND_CLAIM)
def certificate_image(number: str) -> Response:
    """查看证书图片（带水印；需人脸核验凭证，每次查看均记录）"""
    identity = current_citizen()
    certificate = viewing.owned(identity.account, number)
    png = viewing.watermarked_image(certificate, identity.account, identity.channel)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "no-store"})


@blp.route("/certificates/<path:number>/pdf", methods=["GET"])
@citizen_required
@identity_claim_required
@blp.response(200, description="登记机构数字签名的证书 PDF")
@blp.doc(security=BEARER_AND_CLAIM)
def certificate_pdf(number: str) -> Any:
    """下载签名的证书 PDF（需人脸核验凭证）"""
    identity = current_citizen()
    certificate = viewing.owned(identity.account, number)
    data = viewing.signed_pdf(certificate, identity.account, identity.channel)
    response = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=f"certificate-{certificate.kind}-{certificate.year}-"
                                       f"{certificate.serial:07d}.pdf")
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/certificates/<path:number>/accesses", methods=["GET"])
@citizen_required
@blp.response(200, AccessSchema(many=True))
@blp.doc(security=BEARER)
def certificate_accesses(number: str) -> Any:
    """谁查看了我的证书"""
    return viewing.accesses(viewing.owned(current_citizen().account, number))


class CorrectionRequestSchema(StrictSchema):
    item = fields.String(required=True, metadata={
        "example": "坐落", "description": "有误的记载事项：权利人、共有情况、坐落、不动产单元号、"
                                       "权利类型、权利性质、用途、面积、使用期限、权利其他状况、附记、其他"})
    description = fields.String(required=True, metadata={
        "example": "门牌号应为 1203 房，证书写成 1230 房"})


class CorrectionSchema(StrictSchema):
    id = fields.Integer()
    item = fields.String()
    description = fields.String()
    status = fields.String(metadata={"example": "open"})
    status_label = fields.String(metadata={"example": "处理中"})
    created_at = UtcDateTime()
    due_at = UtcDateTime(metadata={"description": "答复期限（1 个工作日）"})
    clock_label = fields.String(allow_none=True, metadata={"example": "今日到期"})
    overdue = fields.Boolean()
    answered_at = UtcDateTime(allow_none=True)
    outcome = fields.String(allow_none=True, metadata={
        "description": ("reissued（作废并换发）、register_correction（需更正登记）、"
                        "no_error（无误）")})
    outcome_label = fields.String(allow_none=True)
    answer = fields.String(allow_none=True)
    new_certificate = fields.String(allow_none=True, metadata={"description": "换发的新证号"})


@blp.route("/certificates/<path:number>/corrections", methods=["POST"])
@citizen_required
@identity_claim_required
@blp.arguments(CorrectionRequestSchema)
@blp.response(201, CorrectionSchema)
@blp.doc(security=BEARER_AND_CLAIM)
def report_error(body: dict[str, Any], number: str) -> Any:
    """报告证书记载错误（1 个工作日内答复）"""
    identity = current_citizen()
    request = report_certificate_error(identity.account, number, body["item"],
                                       body["description"], identity.channel)
    return corrections.view(request)


@blp.route("/certificates/<path:number>/corrections", methods=["GET"])
@citizen_required
@blp.response(200, CorrectionSchema(many=True))
@blp.doc(security=BEARER)
def list_corrections(number: str) -> Any:
    """我的更正申请及答复"""
    return [corrections.view(r)
            for r in corrections.requests_of(current_citizen().account, number)]


@blp.route("/certificates/<path:number>", methods=["GET"])
@citizen_required
@identity_claim_required
@blp.response(200, CertificateDetailSchema)
@blp.doc(security=BEARER_AND_CLAIM)
def certificate_detail(number: str) -> Any:
    """证书内容（需人脸核验凭证，每次查看均记录）"""
    identity = current_citizen()
    certificate = viewing.owned(identity.account, number)
    return viewing.detail(certificate, identity.account, identity.channel)


@blp.route("/public/certificate-key", methods=["GET"])
@blp.response(200, description="验证二维码签名的公钥（PEM，Ed25519）")
def public_key() -> Response:
    """登记机构公钥（离线核验二维码载荷）"""
    from app.certificates import signing

    pem = signing.payload_public_key_pem(current_app.config["CERT_PAYLOAD_KEY"])
    return Response(pem, mimetype="application/x-pem-file")
