"""HTML pages: admin pages for staff (app/web/admin.py) and shared error pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template

ERROR_TITLES = {
    400: "请求有误",
    403: "没有权限",
    404: "页面不存在",
    405: "不支持的请求方式",
    409: "状态冲突",
    413: "内容过大",
    422: "信息有误",
    429: "操作过于频繁",
    500: "系统繁忙",
    503: "服务暂时不可用",
}


def render_error(status: int, message: str | None) -> Any:
    title = ERROR_TITLES.get(status, "请求无法处理")
    return render_template("error.html", status=status, title=title, message=message), status


def init_web(app: Flask) -> None:
    from app.kernel.timeutil import format_local

    app.jinja_env.filters["local_time"] = format_local
    from app.web import (  # noqa: F401  (the staff pages' routes)
        admin,
        certificate_pages,
        delivery_pages,
        finance_pages,
        notification_pages,
        review_pages,
    )
    from app.web.staff_pages import bp as admin_bp
    from app.web.verify_pages import bp as verify_bp

    app.register_blueprint(admin_bp)
    app.register_blueprint(verify_bp)
