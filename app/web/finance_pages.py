"""Finance pages of the admin site: reconciliation with the gateways' bills.

Supervisors and auditors read the results; a supervisor can run a day again (after the
gateway fixed its bill, or after a missing payment was settled)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.fees import reconciliation
from app.fees.service import yuan
from app.kernel.timeutil import local_date
from app.staff.models import StaffRole
from app.usecases.reconciliation import reconcile
from app.web.staff_pages import CsrfForm, bp, staff_required


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


@bp.get("/reconciliation")
@staff_required(StaffRole.SUPERVISOR, StaffRole.AUDITOR)
def reconciliation_page() -> ResponseReturnValue:
    runs = reconciliation.recent()
    chosen: Any = None
    if request.args.get("id", "").isdigit():
        chosen = reconciliation.run(int(request.args["id"]))
    if chosen is None:
        chosen = next((run for run in runs if run.differences or run.error), None)
    return render_template("admin/reconciliation.html", runs=runs, chosen=chosen, yuan=yuan,
                           yesterday=local_date() - timedelta(days=1), form=CsrfForm())


@bp.post("/reconciliation")
@staff_required(StaffRole.SUPERVISOR)
def reconciliation_run() -> ResponseReturnValue:
    day = _day(request.form.get("date"))
    if not CsrfForm().validate_on_submit():
        return redirect(url_for("admin.reconciliation_page"))
    if day is None or day >= local_date():
        flash("请选择今天之前的日期（渠道次日生成对账单）", "error")
        return redirect(url_for("admin.reconciliation_page"))
    rows = reconcile(day, staff_id=g.staff.id)
    summary = "；".join(f"{'微信支付' if r.gateway == 'wechat' else '支付宝'}"
                       f"{r.status_enum.label}" for r in rows)
    flash(f"{day.isoformat()} 对账完成：{summary}",
          "success" if all(r.status == "matched" for r in rows) else "error")
    chosen = next((r for r in rows if r.status != "matched"), rows[0] if rows else None)
    return redirect(url_for("admin.reconciliation_page", id=chosen.id if chosen else None))
