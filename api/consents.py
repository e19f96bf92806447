"""The owner's consents: which institution may see a certificate's content, for what,
until when; granted (with a fresh identity claim) and revoked in the mini-program."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.schemas import StrictSchema, UtcDateTime
from api.security import (
    BEARER,
    BEARER_AND_CLAIM,
    citizen_required,
    current_citizen,
    identity_claim_required,
)
from app.institutions import service

blp = Blueprint("consents", __name__, url_prefix="/api", description="授权机构查看我的证书")


class InstitutionSchema(StrictSchema):
    id = fields.Integer()
    name = fields.String(metadata={"example": "中国工商银行珠海分行"})
    kind = fields.String(metadata={"example": "bank",
                                   "description": "bank、agency、court 或 government"})
    kind_label = fields.String(metadata={"example": "银行"})


class ConsentRequestSchema(StrictSchema):
    institution_id = fields.Integer(required=True)
    purpose = fields.String(required=True, validate=validate.Length(min=2, max=100),
                            metadata={"example": "办理抵押贷款"})
    days = fields.Integer(load_default=service.DEFAULT_CONSENT_DAYS,
                          validate=validate.Range(min=1, max=service.MAX_CONSENT_DAYS),
                          metadata={"description": "授权天数，默认30，最长365"})


class ConsentSchema(StrictSchema):
    id = fields.Integer()
    institution = fields.Nested(InstitutionSchema)
    purpose = fields.String()
    granted_at = UtcDateTime()
    expires_at = UtcDateTime()
    revoked_at = UtcDateTime(allow_none=True)
    status = fields.String(metadata={"description": "active、expired 或 revoked"})
    status_label = fields.String(metadata={"example": "有效"})
    granted_by_me = fields.Boolean(metadata={"description": "是否本人授权（共有人也可授权）"})


@blp.route("/institutions", methods=["GET"])
@citizen_required
@blp.response(200, InstitutionSchema(many=True))
@blp.doc(security=BEARER)
def list_institutions() -> Any:
    """可授权查看证书的机构"""
    return service.active_institutions()


@blp.route("/certificates/<path:number>/consents", methods=["GET"])
@citizen_required
@blp.response(200, ConsentSchema(many=True))
@blp.doc(security=BEARER)
def list_consents(number: str) -> Any:
    """本证书的机构授权（含已过期、已撤销）"""
    return service.consents_of(current_citizen().account, number)


@blp.route("/certificates/<path:number>/consents", methods=["POST"])
@citizen_required
@identity_claim_required
@blp.arguments(ConsentRequestSchema)
@blp.response(201, ConsentSchema)
@blp.alt_response(404, description="未找到该证书或机构")
@blp.alt_response(409, description="CERTIFICATE_NOT_VALID：证书已作废")
@blp.doc(security=BEARER_AND_CLAIM)
def grant_consent(body: dict[str, Any], number: str) -> Any:
    """授权机构查看证书内容（需人脸核验凭证；到期自动失效，可随时撤销）"""
    identity = current_citizen()
    return service.grant_consent(identity.account, number, body["institution_id"],
                                 body["purpose"], body["days"], channel=identity.channel)


@blp.route("/certificates/<path:number>/consents/<int:consent_id>", methods=["DELETE"])
@citizen_required
@blp.response(204)
@blp.alt_response(404, description="未找到该授权")
@blp.doc(security=BEARER)
def revoke_consent(number: str, consent_id: int) -> None:
    """撤销授权（立即生效）"""
    identity = current_citizen()
    service.revoke_consent(identity.account, number, consent_id, channel=identity.channel)
