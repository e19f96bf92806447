"""Paper certificates at the registration centre: the window hands over documents
against the pickup code (typed, or scanned from the owner's QR), and anyone at the
helpdesk sees where a parcel is."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from app.deliveries import service
from app.kernel.errors import DomainError
from app.staff.models import StaffRole
from app.usecases.deliveries import hand_over_at_window
from app.web.staff_pages import bp, staff_required

DESK_ROLES = (StaffRole.HELPDESK, StaffRole.SUPERVISOR)


class PickupForm(FlaskForm):
    code = StringField("取件码", validators=[DataRequired(message="请输入或扫描取件码")])


def _rows(deliveries: list) -> list[dict]:
    cases = service.case_numbers(deliveries)
    return [{"delivery": d, "case_number": cases.get(d.case_id, ""),
             "view": service.view(d, with_code=False)} for d in deliveries]


@bp.get("/deliveries")
@staff_required(*DESK_ROLES)
def delivery_desk() -> ResponseReturnValue:
    found = None
    code = request.args.get("code", "")
    if code:
        try:
            delivery = service.find_by_code(code)
        except DomainError as error:
            flash(error.message, "error")
        else:
            found = _rows([delivery])[0]
    return render_template("admin/deliveries.html", form=PickupForm(code=code), found=found,
                           waiting=_rows(service.at_window()), recent=_rows(service.recent()))


@bp.post("/deliveries/hand-over")
@staff_required(*DESK_ROLES)
def delivery_hand_over() -> ResponseReturnValue:
    form = PickupForm()
    if not form.validate_on_submit():
        flash("请输入或扫描取件码", "error")
        return redirect(url_for("admin.delivery_desk"))
    try:
        delivery = hand_over_at_window(form.code.data or "", g.staff.id)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("admin.delivery_desk"))
    flash(f"已交付：{'、'.join(d['title'] for d in delivery.documents)}（{delivery.number}）",
          "success")
    return redirect(url_for("admin.delivery_desk"))
