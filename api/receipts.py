"""The signed-in citizen's e-receipts (电子缴费凭证) and e-bills (电子票据)."""

from __future__ import annotations

import io
from typing import Any

from flask import send_file
from flask_smorest import Blueprint
from marshmallow import fields

from api.schemas import BusinessTypeRefSchema, StrictSchema, UtcDateTime
from api.security import BEARER, citizen_required, current_citizen
from app.ebills import receipts

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
        "description": "凭证类型：payment_receipt（电子缴费凭证）、fiscal_ebill（财政电子票据）、"
                       "tax_certificate（税收完税证明）、fund_receipt（专项维修资金收据）"})
    kind_label = fields.String(metadata={"example": "电子缴费凭证"})
    number = fields.String(metadata={
        "description": "凭证编号（缴费凭证即支付订单号；电子票据为“票据代码-票据号码”）"})
    issued_at = UtcDateTime(allow_none=True, metadata={
        "description": "开具时间（缴费凭证即支付时间）"})
    file_url = fields.String(allow_none=True, metadata={
        "description": "凭证文件地址（缴费凭证没有文件，为 null；电子票据为 PDF 的地址，"
                       "以本人令牌下载）"})
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
    # E-bills only.
    bill_code = fields.String(metadata={"example": "44062601",
                                        "description": "票据代码（电子票据）"})
    bill_number = fields.String(metadata={"example": "0000000001",
                                          "description": "票据号码（电子票据）"})
    check_code = fields.String(metadata={"example": "3FA9C1", "description": "校验码（电子票据）"})
    issuer_name = fields.String(metadata={"example": "珠海市不动产登记中心",
                                          "description": "开票单位（电子票据）"})
    verify_url = fields.String(metadata={"description": "票据平台的查验地址（二维码内容）"})
    voided_at = UtcDateTime(allow_none=True, metadata={"description": "红冲时间（电子票据）"})
    note = fields.String(allow_none=True, metadata={
        "example": "该票据已红冲作废（对应款项已全额退还）",
        "description": "红字说明（已红冲的电子票据）"})


@blp.route("", methods=["GET"])
@citizen_required
@blp.response(200, ReceiptSchema(many=True))
@blp.paginate()
@blp.doc(security=BEARER)
def list_receipts(pagination_parameters: Any) -> Any:
    """我的缴费凭证与电子票据，最近的在前（分页信息见响应头 X-Pagination）

    本人（含同一实名身份的其他登录方式）支付成功的每一笔订单，包括已退款的；以及
    据此开具的财政电子票据、税收完税证明和专项维修资金收据（已红冲的带红字说明）。
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


@blp.route("/ebills/<int:ebill_id>.pdf", methods=["GET"])
@citizen_required
@blp.response(200, description="电子票据 PDF")
@blp.alt_response(404, description="票据不存在、尚未开具或不属于本人")
@blp.doc(security=BEARER)
def ebill_pdf(ebill_id: int) -> Any:
    """下载一张电子票据（PDF）"""
    bill, data = receipts.ebill_pdf_for(current_citizen().account, ebill_id)
    response = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=f"ebill-{bill.bill_code}-{bill.bill_number}.pdf")
    response.headers["Cache-Control"] = "private, no-store"
    return response
