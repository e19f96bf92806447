"""One error envelope for every API error: {"code", "message", "details"}.

Domain errors carry their own code and Chinese message; HTTP errors raised by Flask,
webargs, Flask-Limiter or werkzeug are mapped here. A client never sees a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, jsonify
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from app.kernel.errors import DomainError

log = logging.getLogger(__name__)

HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", "请求格式有误，请检查后重试"),
    401: ("UNAUTHENTICATED", "请先登录"),
    403: ("FORBIDDEN", "您没有权限进行此操作"),
    404: ("NOT_FOUND", "未找到请求的内容"),
    405: ("METHOD_NOT_ALLOWED", "不支持此请求方式"),
    409: ("CONFLICT", "操作与当前状态冲突，请刷新后重试"),
    413: ("PAYLOAD_TOO_LARGE", "提交的内容过大"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "不支持的内容类型"),
    422: ("VALIDATION_FAILED", "提交的信息有误，请检查后重试"),
    429: ("RATE_LIMITED", "操作过于频繁，请稍后再试"),
    500: ("INTERNAL_ERROR", "系统繁忙，请稍后再试"),
    503: ("SERVICE_UNAVAILABLE", "服务暂时不可用，请稍后再试"),
}

# marshmallow/webargs messages a citizen may see, in Chinese.
FIELD_MESSAGES = {
    "Missing data for required field.": "此项为必填项",
    "Field may not be null.": "此项不能为空",
    "Unknown field.": "不支持的字段",
    "Not a valid string.": "应为文本",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Not a valid boolean.": "应为是或否",
    "Not a valid datetime.": "日期时间格式不正确",
    "Not a valid date.": "日期格式不正确",
    "Invalid input type.": "输入类型不正确",
    "Invalid value.": "取值不正确",
    "Invalid JSON body.": "JSON 格式不正确",
}


class ErrorSchema(Schema):
    code = fields.String(metadata={"example": "CASE_STATE_CONFLICT"})
    message = fields.String(metadata={"example": "办件当前状态不允许此操作"})
    details = fields.Dict()


def _translate(messages: Any) -> Any:
    if isinstance(messages, dict):
        return {key: _translate(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [_translate(value) for value in messages]
    if isinstance(messages, str):
        if messages in FIELD_MESSAGES:
            return FIELD_MESSAGES[messages]
        if messages.startswith(("Length must", "Longer than", "Shorter than")):
            return "长度不符合要求"
        if messages.startswith("Must be one of"):
            return "取值不在允许范围内"
        if messages.startswith("Must be greater") or messages.startswith("Must be less"):
            return "数值超出允许范围"
        return messages
    return messages


def envelope(code: str, message: str, status: int, details: dict[str, Any] | None = None,
             headers: Any = None) -> Response:
    response = jsonify({"code": code, "message": message, "details": details or {}})
    response.status_code = status
    if headers:
        response.headers.extend(headers)
    return response


def from_domain_error(error: DomainError) -> Response:
    return envelope(error.code, error.message, error.status, error.details)


def from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    code, message = HTTP_ERRORS.get(status, ("HTTP_ERROR", "请求无法处理"))
    details: dict[str, Any] = {}
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if status == 422 and messages:
        # webargs: {"json": {"field": ["msg"]}} → {"fields": {"field": ["中文"]}}
        flat: dict[str, Any] = {}
        for location_messages in messages.values():
            if isinstance(location_messages, dict):
                flat.update(location_messages)
        details["fields"] = _translate(flat)
    elif status == 400 and messages:
        message = "请求格式有误：JSON 无法解析"
        code = "MALFORMED_JSON"
    if status == 429:
        description = getattr(error, "description", "") or ""
        details["limit"] = str(description)
    headers = None
    if hasattr(error, "get_headers"):
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return envelope(code, message, status, details, headers)


def from_unexpected(error: Exception) -> Response:
    log.exception("unhandled error", exc_info=error)
    code, message = HTTP_ERRORS[500]
    return envelope(code, message, 500)
