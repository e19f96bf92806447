"""Reference data: business types."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from api.schemas import BusinessTypeSchema
from app.cases import service

blp = Blueprint("reference", __name__, url_prefix="/api", description="业务类型")


@blp.route("/business-types", methods=["GET"])
@blp.response(200, BusinessTypeSchema(many=True))
def business_types() -> Any:
    """可办理的业务类型及其材料清单、审核部门、收费项目"""
    return service.list_business_types()


@blp.route("/health", methods=["GET"])
@blp.response(200)
def health() -> Any:
    """健康检查"""
    return {"status": "ok"}
