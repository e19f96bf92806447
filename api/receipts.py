"""The signed-in citizen's e-receipts (电子缴费凭证)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from api.schemas import BusinessTypeRefSchema, StrictSchema, UtcDateTime
from api.security import BEARER, citizen_required, current_citizen
from app.fees import receipts

blp = Blueprint("receipts", __name__, url_prefix="/api/me/receipts", description="我的缴费凭证")


class ReceiptItemSchema(StrictSchema):
    name = fields.String(metadata={"example": "契税"})
    department = fields.String(metadata={"example": "tax"})
    department_label = fields.String(metadata={"example": "税务局"})
    amount_fen = fields.Integer(metadata={"description": "金额（分）"})
    refunded_fen = fields.Integer(metadata={"description": "已退金额（分）"})


class ReceiptRefundSchema(StrictSchema):
    amount_fen = fields.Integer(metadata={"description": "退款金额（分）"})
    refunded_at = UtcDateTime(allow_none=True)


class ReceiptSchema(StrictSchema):
    kind = fields.String(metadata={
        "example": "payment_receipt",
        "description": "凭证类型：payment_receipt（电子缴费凭证）；将来还有财政电子票据等"})
    kind_label = fields.String(metadata={"example": "电子缴费凭证"})
    number = fields.String(metadata={"description": "凭证编号（缴费凭证即支付订单号）"})
    issued_at = UtcDateTime(allow_none=True, metadata={
        "description": "开具时间（缴费凭证即支付时间）"})
    file_url = fields.String(allow_none=True, metadata={
        "description": "凭证文件地址（缴费凭证没有文件，为 null）"})
    case_number = fields.String(metadata={"example": "ZH2026112300001"})
    business_type = fields.Nested(BusinessTypeRefSchema)
    out_trade_no = fields.String()
    gateway = fields.String(metadata={"example": "wechat"})
    gateway_label = fields.String(metadata={"example": "微信支付"})
    transaction_id_masked = fields.String(allow_none=True, metadata={
        "example": "**********************123456", "description": "支付渠道交易号，仅显示后 6 位"})
    paid_at = UtcDateTime(allow_none=True)
    amount_fen = fields.Integer(metadata={"description": "实付金额（分）"})
    refunded_fen = fields.Integer(metadata={"description": "已退金额（分）"})
    status = fields.String(metadata={"example": "paid"})
    status_label = fields.String(metadata={"example": "已支付"})
    items = fields.List(fields.Nested(ReceiptItemSchema))
    refunds = fields.List(fields.Nested(ReceiptRefundSchema), metadata={
        "description": "已成功的退款"})


@blp.route("", methods=["GET"])
@citizen_required
@blp.response(200, ReceiptSchema(many=True))
@blp.paginate()
@blp.doc(security=BEARER)
def list_receipts(pagination_parameters: Any) -> Any:
    """我的缴费凭证，最近支付的在前（分页信息见响应头 X-Pagination）

    本人（含同一实名身份的其他登录方式）支付成功的每一笔订单，包括已退款的。
    """
    page = receipts.list_for(current_citizen().account, pagination_parameters.page,
                             pagination_parameters.page_size)
    pagination_parameters.item_count = page.total
    return page.items


@blp.route("/<out_trade_no>", methods=["GET"])
@citizen_required
@blp.response(200, ReceiptSchema)
@blp.alt_response(404, description="凭证不存在或不属于本人")
@blp.doc(security=BEARER)
def get_receipt(out_trade_no: str) -> Any:
    """一张缴费凭证（按支付订单号）"""
    return receipts.get_for(current_citizen().account, out_trade_no)
