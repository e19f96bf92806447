"""Real-name and face verification for the signed-in citizen."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.schemas import StrictSchema, UtcDateTime
from api.security import BEARER, citizen_required, current_citizen
from app.extensions import limiter
from app.identity import service

blp = Blueprint("kyc", __name__, url_prefix="/api/kyc", description="实名与人脸核验")


def _limited() -> Any:
    return limiter.limit(lambda: current_app.config["RATELIMIT_KYC_PER_IP"])


class StatusSchema(StrictSchema):
    identity_verified = fields.Boolean()
    provider = fields.String(metadata={"example": "local"})
    consent_version = fields.String(allow_none=True)
    current_consent_version = fields.String()
    attempts_left = fields.Integer()
    locked_until = UtcDateTime(allow_none=True)


class ConsentTextSchema(StrictSchema):
    version = fields.String()
    title = fields.String()
    purpose = fields.String()
    method = fields.String()
    retention = fields.String()
    text = fields.String()


class RealnameSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(max=50))
    id_number = fields.String(required=True, validate=validate.Length(max=30))


class RealnameResultSchema(StrictSchema):
    status = fields.Constant("matched")


class ConsentAnswerSchema(StrictSchema):
    version = fields.String(required=True, validate=validate.Length(max=30))
    accepted = fields.Boolean(required=True)


class ConsentRecordSchema(StrictSchema):
    accepted = fields.Boolean()
    version = fields.String()


class AppointmentRequestSchema(StrictSchema):
    preferred_date = fields.Date(required=True)
    note = fields.String(validate=validate.Length(max=200), load_default=None)


class AppointmentSchema(StrictSchema):
    id = fields.Integer()
    status = fields.String()
    preferred_date = fields.Date()


class ChallengeSchema(StrictSchema):
    nonce = fields.String()
    actions = fields.List(fields.String(), metadata={"example": ["blink", "turn_left"]})
    prompts = fields.List(fields.String(), metadata={"example": ["请缓慢眨眼", "请向左转头"]})
    expires_in = fields.Integer()
    frames_min = fields.Integer()
    frames_max = fields.Integer()


class FramesSchema(StrictSchema):
    frames = fields.List(fields.String(validate=validate.Length(max=6_000_000)), required=True,
                         validate=validate.Length(min=1, max=12),
                         metadata={"description": "base64 编码的 JPEG/PNG 照片"})


class VerificationSchema(StrictSchema):
    passed = fields.Boolean()
    claim = fields.String()
    claim_expires_in = fields.Integer()


class WechatSessionSchema(StrictSchema):
    verify_id = fields.String()
    expires_in = fields.Integer()


class WechatResultSchema(StrictSchema):
    verify_id = fields.String(required=True, validate=validate.Length(max=256))


def _verified(result: service.VerificationResult) -> dict[str, Any]:
    assert result.claim is not None
    return {"passed": True, "claim": result.claim.token,
            "claim_expires_in": int(current_app.config["KYC_CLAIM_TTL_SECONDS"])}


@blp.route("/status", methods=["GET"])
@citizen_required
@blp.response(200, StatusSchema)
@blp.doc(security=BEARER)
def kyc_status() -> Any:
    """核验状态：是否已实名、当前方式、剩余次数"""
    return service.status(current_citizen().account)


@blp.route("/consent", methods=["GET"])
@blp.response(200, ConsentTextSchema)
def consent_text() -> Any:
    """人脸识别信息处理单独同意书（含版本）"""
    return service.consent_text()


@blp.route("/consent", methods=["POST"])
@citizen_required
@blp.arguments(ConsentAnswerSchema)
@blp.response(201, ConsentRecordSchema)
@blp.doc(security=BEARER)
def answer_consent(body: dict[str, Any]) -> Any:
    """同意或拒绝人脸识别（拒绝可预约窗口核验）"""
    identity = current_citizen()
    return service.record_consent(identity.account, body["version"], body["accepted"],
                                  identity.channel)


@blp.route("/realname", methods=["POST"])
@citizen_required
@_limited()
@blp.arguments(RealnameSchema)
@blp.response(200, RealnameResultSchema)
@blp.alt_response(409, description="姓名与身份证号码不一致或查无此人")
@blp.doc(security=BEARER)
def realname(body: dict[str, Any]) -> Any:
    """实名核验：姓名 + 身份证号码 → 人口信息库"""
    identity = current_citizen()
    service.check_realname(identity.account, body["name"], body["id_number"], identity.channel)
    return {}


@blp.route("/appointments", methods=["POST"])
@citizen_required
@blp.arguments(AppointmentRequestSchema)
@blp.response(201, AppointmentSchema)
@blp.doc(security=BEARER)
def appointment(body: dict[str, Any]) -> Any:
    """预约到窗口核验身份（不同意人脸识别时的替代方式）"""
    identity = current_citizen()
    return service.request_appointment(identity.account, body["preferred_date"], body["note"],
                                       identity.channel)


@blp.route("/challenges", methods=["POST"])
@citizen_required
@_limited()
@blp.response(201, ChallengeSchema)
@blp.alt_response(409, description="未实名或未同意")
@blp.alt_response(429, description="今日失败次数过多")
@blp.doc(security=BEARER)
def new_challenge() -> Any:
    """获取活体检测动作（60 秒内有效）"""
    identity = current_citizen()
    return service.issue_challenge(identity.account, identity.channel)


@blp.route("/challenges/<nonce>/verify", methods=["POST"])
@citizen_required
@_limited()
@blp.arguments(FramesSchema)
@blp.response(200, VerificationSchema)
@blp.alt_response(422, description="核验未通过：code 为原因，如 KYC_FACE_MISMATCH")
@blp.doc(security=BEARER)
def verify(body: dict[str, Any], nonce: str) -> Any:
    """上传连拍照片完成人脸核验"""
    identity = current_citizen()
    return _verified(service.verify_challenge(identity.account, nonce, body["frames"],
                                              identity.channel))


@blp.route("/wechat/verify-id", methods=["POST"])
@citizen_required
@_limited()
@blp.response(201, WechatSessionSchema)
@blp.doc(security=BEARER)
def wechat_verify_id() -> Any:
    """微信人脸核身：获取 verifyId，供 wx.requestFacialVerify 使用"""
    identity = current_citizen()
    challenge = service.start_wechat_verification(identity.account, identity.channel)
    remaining = int((challenge.expires_at - challenge.issued_at).total_seconds())
    return {"verify_id": challenge.wechat_verify_id, "expires_in": remaining}


@blp.route("/wechat/result", methods=["POST"])
@citizen_required
@_limited()
@blp.arguments(WechatResultSchema)
@blp.response(200, VerificationSchema)
@blp.doc(security=BEARER)
def wechat_result(body: dict[str, Any]) -> Any:
    """微信人脸核身：向微信后台查询真实结果"""
    identity = current_citizen()
    return _verified(service.finish_wechat_verification(identity.account, body["verify_id"],
                                                        identity.channel))
