"""Admin pages for certificates: the helpdesk's correction queue with its one-working-day
clock, and the answer (re-issue, 更正登记, or no error)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.certificates import corrections
from app.certificates.models import Certificate, CorrectionOutcome
from app.db import db
from app.errors import DomainError
from app.staff.models import StaffRole
from app.web.admin import _describe, bp, staff_required
from app.web.review_pages import CsrfForm

DESK = (StaffRole.HELPDESK, StaffRole.SUPERVISOR)


@bp.get("/corrections")
@staff_required(*DESK)
def correction_queue() -> ResponseReturnValue:
    rows = []
    for item in corrections.open_requests():
        certificate = db.session.get(Certificate, item.certificate_id)
        rows.append({"request": item, "view": corrections.view(item),
                     "certificate": certificate})
    return render_template("admin/corrections.html", rows=rows, form=CsrfForm(),
                           outcomes=list(CorrectionOutcome))


@bp.post("/corrections/<int:request_id>/answer")
@staff_required(*DESK)
def correction_answer(request_id: int) -> ResponseReturnValue:
    if CsrfForm().validate_on_submit():
        try:
            done = corrections.answer(request_id, g.staff.id, request.form.get("outcome", ""),
                                      request.form.get("answer", ""),
                                      request.form.get("case_number") or None)
        except DomainError as error:
            db.session.rollback()
            flash(_describe(error), "error")
        else:
            flash(f"已答复：{CorrectionOutcome(done.outcome or '').label}", "success")
    return redirect(url_for("admin.correction_queue"))
