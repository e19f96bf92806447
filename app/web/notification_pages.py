"""The helpdesk's view of the notification outbox: messages that failed for good and
those that erred or wait (quiet hours, a phone's daily cap), with "send again"."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.kernel.errors import DomainError
from app.notifications import service
from app.notifications.models import OutboxStatus
from app.staff.models import StaffRole
from app.usecases.notices import resend_notice
from app.web.staff_pages import CsrfForm, bp, staff_required

DESK_ROLES = (StaffRole.HELPDESK, StaffRole.SUPERVISOR)


@bp.get("/notifications")
@staff_required(*DESK_ROLES)
def notification_list() -> ResponseReturnValue:
    status = request.args.get("status", "problems")
    if status not in service.HELPDESK_FILTERS:
        status = "problems"
    rows = [{
        "message": message,
        "title": (service.TEMPLATES[message.template].title
                  if message.template in service.TEMPLATES else message.template),
        "channel": service.CHANNEL_LABELS.get(message.channel, message.channel),
        "recipient": service.recipient_label(message),
        "case_number": (message.variables or {}).get("case_number", ""),
        "status": service.STATUS_LABELS.get(OutboxStatus(message.status), message.status),
    } for message in service.helpdesk_messages(status)]
    return render_template("admin/notifications.html", rows=rows, status=status,
                           filters=service.HELPDESK_FILTERS, form=CsrfForm())


@bp.post("/notifications/<int:message_id>/resend")
@staff_required(*DESK_ROLES)
def notification_resend(message_id: int) -> ResponseReturnValue:
    status = request.form.get("status", "problems")
    back = url_for("admin.notification_list",
                   status=status if status in service.HELPDESK_FILTERS else None)
    if not CsrfForm().validate_on_submit():
        flash("页面已过期，请刷新后重试", "error")
        return redirect(back)
    try:
        resend_notice(message_id, g.staff.id)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash("已重新加入发送队列（夜间免打扰时段和每日上限仍然适用）", "success")
    return redirect(back)
