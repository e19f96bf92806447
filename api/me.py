"""The signed-in citizen's own profile."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from api.schemas import MeSchema
from api.security import BEARER, citizen_required, current_citizen
from app.accounts import service

blp = Blueprint("me", __name__, url_prefix="/api/me", description="我的信息")


@blp.route("", methods=["GET"])
@citizen_required
@blp.response(200, MeSchema)
@blp.doc(security=BEARER)
def get_me() -> Any:
    """我的账号信息（身份证号、手机号脱敏）"""
    return service.profile(current_citizen().account)
