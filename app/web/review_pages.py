"""Admin pages of the parallel review and the helpdesk's case desk.

Routes sit on the admin blueprint (imported at the end of app/web/admin.py); every
view authorises with ``staff_required`` and calls one function of app.review.
"""

from __future__ import annotations

import io
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import flash, g, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue

from app.cases.application import latest_application_form
from app.cases.service import list_business_types
from app.cases.workflow import CaseStatus
from app.checks import service as checks
from app.departments import Department
from app.fees.checkout import daily_settlement, orders_of, pending_refunds
from app.fees.checkout import settlement_csv as make_csv
from app.fees.service import yuan
from app.kernel.audit import ActorType, Channel
from app.kernel.errors import DomainError, NotFound
from app.kernel.timeutil import local_date
from app.kernel.wakeup import nudge
from app.notifications import service as notifications
from app.review import desk, service
from app.review.models import TaskStatus
from app.services import storage
from app.staff.models import StaffRole
from app.usecases import payments as money
from app.usecases import review as review_decisions
from app.usecases import staff_materials
from app.usecases.register_case import register_case
from app.web.staff_pages import CsrfForm, _describe, bp, staff_required
from app.workdays import service as workdays

REVIEWERS = (StaffRole.REGISTRATION_REVIEWER, StaffRole.HOUSING_REVIEWER,
             StaffRole.TAX_REVIEWER)
CASE_READERS = (*REVIEWERS, StaffRole.HELPDESK, StaffRole.SUPERVISOR)
DESK_ROLES = (StaffRole.HELPDESK, StaffRole.SUPERVISOR)
STATUS_FILTERS = [("active", "待办（未认领与审核中）"), ("open", "未认领"), ("mine", "我认领的"),
                  ("done", "已处理")]


def _act(action: Any, success: str) -> None:
    try:
        action()
    except DomainError as error:
        flash(_describe(error), "error")
    else:
        flash(success, "success")


@bp.get("/review")
@staff_required(*REVIEWERS)
def review_queue() -> ResponseReturnValue:
    status = request.args.get("status", "active")
    if status not in dict(STATUS_FILTERS):
        status = "active"
    business_type = request.args.get("business_type") or None
    department = request.args.get("department") or None
    overdue = request.args.get("overdue") == "1"
    rows = service.queue(g.staff, status=status, business_type=business_type,
                         overdue_only=overdue, department=department)

    return render_template(
        "admin/review_queue.html", rows=rows, status=status, status_filters=STATUS_FILTERS,
        business_types=list_business_types(), business_type=business_type, overdue=overdue,
        departments=service.departments_of(g.staff), department=department,
    )


@bp.get("/review/tasks/<int:task_id>")
@staff_required(*REVIEWERS)
def review_task(task_id: int) -> ResponseReturnValue:
    task = service.get_task(task_id, g.staff)
    view = desk.staff_case_view(desk.find_case_by_id(task.case_id))
    scope = service.scope(view["case"], task.department)
    return render_template("admin/review_task.html", task=task, view=view, scope=scope,
                           form=CsrfForm(), TaskStatus=TaskStatus, CaseStatus=CaseStatus)


def _back(task_id: int) -> ResponseReturnValue:
    return redirect(url_for("admin.review_task", task_id=task_id))


@bp.post("/review/tasks/<int:task_id>/claim")
@staff_required(*REVIEWERS)
def review_claim(task_id: int) -> ResponseReturnValue:
    if CsrfForm().validate_on_submit():
        _act(lambda: service.claim(task_id, g.staff), "已认领，请开始审核")
    return _back(task_id)


@bp.post("/review/tasks/<int:task_id>/release")
@staff_required(*REVIEWERS)
def review_release(task_id: int) -> ResponseReturnValue:
    if CsrfForm().validate_on_submit():
        _act(lambda: service.release(task_id, g.staff), "已释放该任务")
    return _back(task_id)


@bp.post("/review/tasks/<int:task_id>/approve")
@staff_required(*REVIEWERS)
def review_approve(task_id: int) -> ResponseReturnValue:
    if CsrfForm().validate_on_submit():
        note = (request.form.get("note") or "").strip() or None
        raw = (request.form.get("deed_tax") or "").strip()
        try:
            deed_tax_fen = _fen(raw) if raw else None
        except ValueError:
            flash("核定契税金额应为元，最多两位小数", "error")
            return _back(task_id)
        _act(lambda: review_decisions.approve(task_id, g.staff, note, deed_tax_fen), "审核通过")
    return _back(task_id)


def _fen(yuan: str) -> int:
    """'1234.56' → 123456, exactly; more than two decimals or a negative amount: ValueError."""
    try:
        value = Decimal(yuan.replace(",", ""))
    except InvalidOperation:
        raise ValueError(yuan) from None
    if value < 0 or value != value.quantize(Decimal("0.01")) or not value.is_finite():
        raise ValueError(yuan)
    return int(value * 100)


def _return_items() -> list[dict[str, Any]]:
    items = []
    for value in request.form.getlist("item"):
        kind, _, rest = value.partition(":")
        code, _, role = rest.partition(":")
        items.append({"kind": kind, "code": code, "role": role or None,
                      "reason": request.form.get(f"reason-{value}", "")})
    return items


@bp.post("/review/tasks/<int:task_id>/return")
@staff_required(*REVIEWERS)
def review_return(task_id: int) -> ResponseReturnValue:
    if CsrfForm().validate_on_submit():
        note = (request.form.get("note") or "").strip() or None
        _act(lambda: review_decisions.return_case(task_id, g.staff, _return_items(), note),
             "已退回补正，并已通知申请人")
    return _back(task_id)


@bp.post("/review/tasks/<int:task_id>/note")
@staff_required(*REVIEWERS)
def review_note(task_id: int) -> ResponseReturnValue:
    task = service.get_task(task_id, g.staff)
    if CsrfForm().validate_on_submit():
        case = desk.find_case_by_id(task.case_id)
        _act(lambda: service.add_note(case.case_number, g.staff, task.department,
                                      request.form.get("text", "")), "已添加备注")
    return _back(task_id)


@bp.post("/review/tasks/<int:task_id>/register")
@staff_required(StaffRole.REGISTRATION_REVIEWER)
def review_register(task_id: int) -> ResponseReturnValue:
    task = service.get_task(task_id, g.staff)
    if CsrfForm().validate_on_submit():
        case = desk.find_case_by_id(task.case_id)
        _act(lambda: register_case(case.case_number, g.staff), "登簿完成，已写入登记簿")
        nudge()  # a pay-first case's certificate is due now
    return _back(task_id)


@bp.post("/review/tasks/<int:task_id>/reject")
@staff_required(StaffRole.REGISTRATION_REVIEWER)
def review_reject(task_id: int) -> ResponseReturnValue:
    task = service.get_task(task_id, g.staff)
    if CsrfForm().validate_on_submit():
        case = desk.find_case_by_id(task.case_id)
        _act(lambda: desk.reject_case(case.case_number, g.staff, request.form.get("reason", "")),
             "已作出不予登记决定，并已通知申请人")
    return _back(task_id)


@bp.get("/cases/<case_number>/materials/<int:material_id>/<kind>")
@staff_required(*CASE_READERS)
def staff_material_file(case_number: str, material_id: int, kind: str) -> ResponseReturnValue:
    stored = staff_materials.open_material(case_number, material_id, kind, g.staff.id)
    return send_file(io.BytesIO(stored.data), mimetype=stored.content_type,
                     download_name=stored.download_name, max_age=0)


@bp.get("/cases/<case_number>/application.pdf")
@staff_required(*CASE_READERS)
def staff_application_pdf(case_number: str) -> ResponseReturnValue:
    case = desk.find_case(case_number)
    document = latest_application_form(case)
    if document is None:
        raise NotFound("该办件尚未生成申请表")
    return send_file(io.BytesIO(storage().get(document.storage_key)),
                     mimetype="application/pdf", download_name=f"{case.case_number}-申请表.pdf")


# --- helpdesk ----------------------------------------------------------------------------

@bp.get("/cases")
@staff_required(*DESK_ROLES)
def case_desk() -> ResponseReturnValue:
    number = (request.args.get("case_number") or "").strip()
    view = None
    if number:
        try:
            view = desk.staff_case_view(desk.find_case(number))
        except DomainError as error:
            flash(_describe(error), "error")

    orders = orders_of(view["case"]) if view else []
    return render_template(
        "admin/case_desk.html", number=number, view=view, form=CsrfForm(), orders=orders,
        waiting=checks.waiting_checks(), failed=notifications.failed_messages(),
        check_labels=checks.KIND_LABELS, Department=Department,
    )


@bp.post("/cases/<case_number>/counter-payment")
@staff_required(*DESK_ROLES)
def case_counter_payment(case_number: str) -> ResponseReturnValue:
    if CsrfForm().validate_on_submit():
        try:
            amount_fen = _fen(request.form.get("amount", ""))
        except ValueError:
            flash("请填写正确的金额（元，最多两位小数）", "error")
        else:
            _act(lambda: money.record_counter_payment(
                case_number, g.staff, request.form.get("reference", ""), amount_fen),
                "已登记窗口缴费")
    return redirect(url_for("admin.case_desk", case_number=case_number))


# --- the working-day calendar (supervisors) ------------------------------------------------

@bp.get("/calendar")
@staff_required(StaffRole.SUPERVISOR)
def calendar_month() -> ResponseReturnValue:
    today = local_date()
    try:
        year, month = (int(p) for p in request.args.get("month", "").split("-"))
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise ValueError
    except ValueError:
        year, month = today.year, today.month
    previous = f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
    following = f"{year + 1}-01" if month == 12 else f"{year}-{month + 1:02d}"
    return render_template(
        "admin/calendar.html", days=workdays.month_days(year, month), year=year, month=month,
        previous=previous, following=following, covered=workdays.library_covers(year),
        form=CsrfForm())


@bp.post("/calendar")
@staff_required(StaffRole.SUPERVISOR)
def calendar_set() -> ResponseReturnValue:
    from datetime import date as date_type

    month = request.args.get("month", "")
    if CsrfForm().validate_on_submit():
        try:
            day = date_type.fromisoformat(request.form.get("day", ""))
        except ValueError:
            flash("请选择日期", "error")
            return redirect(url_for("admin.calendar_month", month=month))
        kind = request.form.get("kind")
        who = {"channel": Channel.ADMIN, "actor_type": ActorType.STAFF, "actor_id": g.staff.id,
               "updated_by": f"staff:{g.staff.username}"}
        if kind == "unset":
            _act(lambda: workdays.remove_override(day, **who), "已恢复为法定日历")
        elif kind in ("workday", "holiday"):
            _act(lambda: workdays.set_override(
                day, is_workday=kind == "workday", note=request.form.get("note", ""), **who),
                "已保存")
        else:
            flash("请选择工作日或休息日", "error")
        month = f"{day.year}-{day.month:02d}"
    return redirect(url_for("admin.calendar_month", month=month))



# --- refunds: the helpdesk asks, a supervisor approves ------------------------------------

@bp.post("/cases/<case_number>/orders/<out_trade_no>/refund")
@staff_required(*DESK_ROLES)
def case_refund_request(case_number: str, out_trade_no: str) -> ResponseReturnValue:
    if CsrfForm().validate_on_submit():
        items = []
        try:
            for value in request.form.getlist("item"):
                items.append((int(value), _fen(request.form.get(f"amount-{value}", ""))))
        except ValueError:
            flash("退款金额应为元，最多两位小数", "error")
        else:
            _act(lambda: money.request_refund(case_number, out_trade_no, items,
                                        request.form.get("reason", ""), g.staff.id),
                 "已提交退款申请，等待主管审批")
    return redirect(url_for("admin.case_desk", case_number=case_number))


@bp.get("/refunds")
@staff_required(StaffRole.SUPERVISOR)
def refund_list() -> ResponseReturnValue:
    return render_template("admin/refunds.html", refunds=pending_refunds(), form=CsrfForm())


@bp.post("/refunds/<int:refund_id>/<decision>")
@staff_required(StaffRole.SUPERVISOR)
def refund_decide(refund_id: int, decision: str) -> ResponseReturnValue:
    if CsrfForm().validate_on_submit() and decision in ("approve", "reject"):
        _act(lambda: money.decide_refund(refund_id, g.staff.id, decision == "approve"),
             "已批准，退款已提交支付渠道" if decision == "approve" else "已驳回退款申请")
    return redirect(url_for("admin.refund_list"))



# --- daily settlement per department (supervisors, auditors) ---------------------------------

def _settlement_day() -> Any:
    from datetime import date as date_type

    try:
        return date_type.fromisoformat(request.args.get("date", ""))
    except ValueError:
        return local_date()


@bp.get("/settlement")
@staff_required(StaffRole.SUPERVISOR, StaffRole.AUDITOR)
def settlement_page() -> ResponseReturnValue:
    day = _settlement_day()
    rows = daily_settlement(day)
    return render_template("admin/settlement.html", day=day, rows=rows, yuan=yuan,
                           Department=Department)


@bp.get("/settlement.csv")
@staff_required(StaffRole.SUPERVISOR, StaffRole.AUDITOR)
def settlement_csv() -> ResponseReturnValue:
    from flask import Response

    day = _settlement_day()
    return Response(make_csv(day), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=settlement-{day.isoformat()}.csv"})
