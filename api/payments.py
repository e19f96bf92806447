"""One-click payment: one order for every fee of a case; gateway notifications."""

from __future__ import annotations

from typing import Any

from flask import Response, request
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
from app.fees import checkout
from app.usecases import citizen_cases
from app.usecases import payments as usecases

blp = Blueprint("payments", __name__, url_prefix="/api", description="一键缴费")


class PaymentRequestSchema(StrictSchema):
    gateway = fields.String(required=True, validate=validate.OneOf(["wechat", "alipay"]),
                            metadata={"description": "wechat（小程序）或 alipay（手机网页）"})


class OrderItemSchema(StrictSchema):
    name = fields.String()
    department = fields.String()
    amount_fen = fields.Integer()


class OrderSchema(StrictSchema):
    out_trade_no = fields.String()
    gateway = fields.String()
    status = fields.String(metadata={"example": "paying"})
    status_label = fields.String()
    amount_fen = fields.Integer()
    expires_at = UtcDateTime()
    paid_at = UtcDateTime(allow_none=True)
    client_params = fields.Dict(metadata={"description": (
        "微信支付：wx.requestPayment 的参数（timeStamp、nonceStr、package、signType、paySign）")})
    pay_url = fields.String(allow_none=True, metadata={"description": "支付宝：收银台地址"})
    items = fields.List(fields.Nested(OrderItemSchema))


@blp.route("/cases/<case_number>/payments", methods=["POST"])
@citizen_required
@identity_claim_required
@blp.arguments(PaymentRequestSchema)
@blp.response(201, OrderSchema)
@blp.doc(security=BEARER_AND_CLAIM)
def create_payment(body: dict[str, Any], case_number: str) -> Any:
    """为办件的全部税费创建一笔支付订单（同一请求重复提交返回同一订单）

    支付结果以支付渠道的签名通知或订单查询为准，客户端请轮询订单状态。
    """
    identity = current_citizen()
    order = usecases.start_payment(identity.account, case_number, body["gateway"],
                                   identity.channel)
    return checkout.order_view(order)


@blp.route("/payments/<out_trade_no>", methods=["GET"])
@citizen_required
@blp.response(200, OrderSchema)
@blp.doc(security=BEARER)
def get_payment(out_trade_no: str) -> Any:
    """支付订单状态（支付后轮询，以服务器状态为准）"""
    return checkout.order_view(citizen_cases.payment_order(current_citizen().account,
                                                           out_trade_no))


@blp.route("/payments/notify/<gateway_name>", methods=["POST"])
@blp.doc(description="支付渠道的异步通知（微信支付 XML、支付宝表单），验签后处理")
def notify(gateway_name: str) -> Response:
    """支付结果通知（由支付渠道调用）"""
    body = request.get_data(cache=True)
    form = {k: v for k, v in request.form.items()} if request.mimetype.endswith(
        "x-www-form-urlencoded") else {}
    answer, content_type, status = usecases.handle_notification(
        gateway_name, body, dict(request.headers), form)
    return Response(answer, status=status, content_type=content_type)


@blp.route("/payments/refund-notify/<gateway_name>", methods=["POST"])
@blp.doc(description="退款结果通知（微信支付 req_info 加密 XML），经退款查询确认后处理")
def refund_notify(gateway_name: str) -> Response:
    """退款结果通知（由支付渠道调用）"""
    answer, content_type, status = usecases.handle_refund_notification(
        gateway_name, request.get_data(cache=True))
    return Response(answer, status=status, content_type=content_type)
