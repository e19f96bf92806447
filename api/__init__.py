"""The JSON API (flask-smorest): parse, authorise, call the core, serialise.

OpenAPI 3 at /api/openapi.json, interactive documentation at /api/docs.
"""

from __future__ import annotations

from typing import Any

import swagger_ui_bundle
from flask import Blueprint, Flask, request, send_from_directory
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from api import (
    appointments,
    auth,
    cases,
    certificates,
    consents,
    deliveries,
    errors,
    institutions,
    kyc,
    materials,
    me,
    payments,
    receipts,
    reference,
    register,
)
from app.extensions import csrf
from app.kernel.errors import DomainError
from app.web import render_error

SWAGGER_STATIC = "/api/docs/static"


class BdcApi(Api):
    """flask-smorest's Api with our error envelope for every HTTP error."""

    ERROR_SCHEMA = errors.ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        if _is_api_request():
            return errors.from_http_exception(error)

        return render_error(error.code or 500, None)


api = BdcApi()


def _is_api_request() -> bool:
    return request.path.startswith("/api")


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="不动产登记自助服务平台 API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=SWAGGER_STATIC + "/",
        API_SPEC_OPTIONS={
            "info": {"description": "公民自助办理不动产登记：登录、办件、缴费、电子证书。"},
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                    "identityClaim": {"type": "apiKey", "in": "header",
                                      "name": "X-Identity-Claim",
                                      "description": "人脸核验通过后签发的身份核验凭证"},
                    # The institution API: all four headers together (docs/institutions.md).
                    "bdcKeyId": {"type": "apiKey", "in": "header", "name": "X-Bdc-Key-Id",
                                 "description": "机构密钥编号"},
                    "bdcTimestamp": {"type": "apiKey", "in": "header", "name": "X-Bdc-Timestamp",
                                     "description": "Unix 时间戳（秒），与平台时钟相差不超过300秒"},
                    "bdcNonce": {"type": "apiKey", "in": "header", "name": "X-Bdc-Nonce",
                                 "description": "16–64位随机串，同一密钥不得重复使用"},
                    "bdcSignature": {"type": "apiKey", "in": "header", "name": "X-Bdc-Signature",
                                     "description": "base64(HMAC-SHA256(secret, METHOD\\nPATH\\n"
                                                    "QUERY\\nTIMESTAMP\\nNONCE\\nsha256hex(BODY)))"},
                }
            },
        },
    )
    api.init_app(app)

    for module in (auth, me, cases, materials, kyc, reference, register, appointments, payments,
                   receipts, certificates, consents, deliveries, institutions):
        api.register_blueprint(module.blp)
        csrf.exempt(module.blp)  # bearer tokens, not cookies: no CSRF exposure

    static = Blueprint("swagger_static", __name__)

    @static.route(SWAGGER_STATIC + "/<path:filename>")
    def swagger_asset(filename: str) -> Any:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    app.register_blueprint(static)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Any:
        if _is_api_request():
            return errors.from_domain_error(error)

        return render_error(error.status, error.message)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Any:
        if isinstance(error, HTTPException):
            return api.handle_http_exception(error)
        if _is_api_request():
            return errors.from_unexpected(error)

        errors.log.exception("unhandled error", exc_info=error)
        return render_error(500, None)
