"""Citizen login: WeChat mini-program, SMS one-time code, refresh, logout."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from api.schemas import (
    RefreshSchema,
    SmsCodeRequestSchema,
    SmsCodeSentSchema,
    SmsLoginSchema,
    TokenSchema,
    WechatLoginSchema,
)
from api.security import BEARER, citizen_required, current_citizen
from app.accounts import service, tokens
from app.extensions import client_ip, limiter
from app.kernel import crypto

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="登录与令牌")


def _limit(setting: str) -> Any:
    return limiter.limit(lambda: current_app.config[setting])


@blp.route("/wechat", methods=["POST"])
@_limit("RATELIMIT_WECHAT_LOGIN_PER_IP")
@blp.arguments(WechatLoginSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="微信登录凭证无效")
@blp.alt_response(503, description="微信服务不可用")
def wechat_login(body: dict[str, Any]) -> Any:
    """小程序登录：wx.login 的 code 换取令牌"""
    return service.login_with_wechat(body["code"])


@blp.route("/sms/code", methods=["POST"])
@_limit("RATELIMIT_OTP_REQUEST_PER_IP")
@blp.arguments(SmsCodeRequestSchema)
@blp.response(202, SmsCodeSentSchema)
@blp.alt_response(429, description="发送过于频繁或超过每日上限")
def sms_code(body: dict[str, Any]) -> Any:
    """发送短信验证码（每个号码每分钟1次、每天10次）"""
    return service.send_login_code(body["phone"], crypto.lookup_hash(client_ip(), "ip"))


@blp.route("/sms/login", methods=["POST"])
@_limit("RATELIMIT_OTP_VERIFY_PER_IP")
@blp.arguments(SmsLoginSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="验证码错误或已失效")
@blp.alt_response(429, description="错误次数过多")
def sms_login(body: dict[str, Any]) -> Any:
    """短信验证码登录"""
    return service.login_with_sms_code(body["phone"], body["code"])


@blp.route("/refresh", methods=["POST"])
@blp.arguments(RefreshSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="刷新令牌无效、已使用或已撤销")
def refresh(body: dict[str, Any]) -> Any:
    """刷新令牌（每个刷新令牌只能使用一次）"""
    return tokens.rotate(body["refresh_token"])


@blp.route("/logout", methods=["POST"])
@citizen_required
@blp.response(204)
@blp.doc(security=BEARER)
def logout() -> None:
    """退出登录（撤销本次登录的所有令牌）"""
    tokens.logout(current_citizen())
