"""A case's paper certificate on its way: status, courier route, pickup code."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import fields

from api.schemas import StrictSchema, UtcDateTime
from api.security import BEARER, citizen_required, current_citizen
from app.cases import service as cases
from app.deliveries import service

blp = Blueprint("deliveries", __name__, url_prefix="/api", description="纸质证书邮寄与领取")


class DocumentSchema(StrictSchema):
    kind = fields.String(metadata={"example": "certificate", "description": "certificate 或 ebill"})
    title = fields.String(metadata={"example": "不动产权证书"})
    number = fields.String()


class RouteEventSchema(StrictSchema):
    at = fields.String(metadata={"description": "快递公司记录的时间（ISO 8601，北京时间）"})
    at_local = fields.String(metadata={"example": "2026-11-24 10:30"})
    op_code = fields.String(metadata={"example": "50"})
    place = fields.String()
    remark = fields.String(metadata={"example": "顺丰速运 已收取快件"})


class DeliverySchema(StrictSchema):
    number = fields.String(metadata={"description": "寄递单号（本平台）"})
    method = fields.String(metadata={"example": "mail",
                                     "description": "mail（邮寄）或 window（窗口领取）"})
    method_label = fields.String()
    status = fields.String(metadata={
        "example": "shipped",
        "description": "waiting、shipped、delivered、returned、ready、collected"})
    status_label = fields.String()
    recipient_masked = fields.String()
    phone_masked = fields.String()
    address_masked = fields.String(allow_none=True)
    documents = fields.List(fields.Nested(DocumentSchema), metadata={
        "description": "同一办件的证书和票据一并寄递"})
    courier = fields.String(allow_none=True, metadata={"example": "顺丰速运"})
    tracking_number = fields.String(allow_none=True, metadata={"example": "SF1234567890123"})
    events = fields.List(fields.Nested(RouteEventSchema),
                         metadata={"description": "物流轨迹，最新在前"})
    shipped_at = UtcDateTime(allow_none=True)
    finished_at = UtcDateTime(allow_none=True)
    pickup_code = fields.String(allow_none=True, metadata={
        "example": "12345678",
        "description": "签收码/取件码：快递员或窗口凭此交付；仅权利人本人可见，交付后不再显示"})


@blp.route("/cases/<case_number>/deliveries", methods=["GET"])
@citizen_required
@blp.response(200, DeliverySchema(many=True))
@blp.doc(security=BEARER)
def list_deliveries(case_number: str) -> Any:
    """纸质证书的寄递或领取情况（签收码仅权利人可见）"""
    account = current_citizen().account
    return service.views_for(cases.get_case_for(account, case_number), account)


@blp.route("/cases/<case_number>/deliveries/<number>/pickup-qr", methods=["GET"])
@citizen_required
@blp.response(200, description="签收码/取件码二维码（PNG）")
@blp.doc(security=BEARER)
def pickup_qr(case_number: str, number: str) -> Response:
    """签收码/取件码的二维码（仅权利人本人）"""
    account = current_citizen().account
    png = service.pickup_qr_for(cases.get_case_for(account, case_number), account, number)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "no-store"})
