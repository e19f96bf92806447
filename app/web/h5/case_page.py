"""The case page of the mobile web: progress, fees, and one link per allowed action.

The actions come from app.policies.cases through the same use cases as the API, so
this page, the mini-program's case page and the API's ``allowed_actions`` show the same
things (tests/cross_channel checks it).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request
from flask.typing import ResponseReturnValue

from app.cases.workflow import CaseStatus
from app.certificates.models import CertificateStatus
from app.fees.service import citizen_fees, yuan
from app.kernel.audit import Channel
from app.kernel.errors import ValidationFailed
from app.kernel.timeutil import utcnow
from app.policies.cases import CaseAction, held_certificates
from app.policies.payments import PaymentState, payment_state
from app.usecases import citizen_cases
from app.web.h5 import bp
from app.web.h5 import session as h5
from app.web.h5.certificates import certificate_path
from app.web.h5.pay import case_path
from app.web.h5.views import ButtonForm, error_page


@bp.get("/m/cases/<case_number>")
@h5.citizen_required
def case_detail(case_number: str) -> ResponseReturnValue:
    found = h5.case_and_party(case_number)
    detail = citizen_cases.detail(found.case, found.party)
    fees = citizen_fees(found.case)
    return render_template(
        "h5/case.html", case=detail, status_label=CaseStatus(found.case.status).label,
        fees=fees, yuan=yuan, actions=action_links(found, detail["allowed_actions"]),
        bills_href=(case_path(found.case.case_number, "/bills")
                    if payment_state(found.case) == PaymentState.PAID else None),
        now=utcnow())


# Actions the mobile web pages do themselves; the others (filling the form, materials,
# confirming, submitting) need the camera and the face check of the mini-program.
IN_MINIPROGRAM = "#in-miniprogram"


def action_links(found: citizen_cases.OnCase, actions: list[str]) -> list[dict[str, str]]:
    """One link per allowed action, in the server's order: the page shows exactly these."""
    number = found.case.case_number
    held = held_certificates(found.case, found.party)
    valid = [c for c in held if c.status_enum == CertificateStatus.VALID]
    hrefs = {
        CaseAction.PAY: case_path(number, "/pay"),
        CaseAction.VIEW_CERTIFICATE: certificate_path(held[0].number) if held else "",
        CaseAction.REQUEST_CORRECTION:
            certificate_path(valid[0].number, "/correction") if valid else "",
        CaseAction.RATE: case_path(number, "/rating"),
        CaseAction.WITHDRAW: case_path(number, "/withdraw"),
    }
    links_ = []
    for action in map(CaseAction, actions):
        href = hrefs.get(action) or IN_MINIPROGRAM
        label = action.label if href != IN_MINIPROGRAM else f"在小程序中{action.label}"
        links_.append({"action": action.value, "label": label, "href": href,
                       "primary": "1" if action == CaseAction.PAY else ""})
    return links_


RATING_LEVELS = sorted(citizen_cases.RATING_LABELS.items(), reverse=True)


@bp.route("/m/cases/<case_number>/rating", methods=["GET", "POST"])
@h5.citizen_required
def case_rating(case_number: str) -> ResponseReturnValue:
    """好差评: one rating per party once the case is over (the same use case as the API)."""
    found = h5.case_and_party(case_number)
    case_href = case_path(found.case.case_number)
    page: dict[str, Any] = {"case_number": found.case.case_number, "levels": RATING_LEVELS,
                            "case_href": case_href}
    if request.method == "GET":
        return render_template("h5/case_rating.html", **page)
    if not ButtonForm().validate_on_submit():
        return error_page(400, "页面已过期，请返回上一页刷新后重试。")
    score = request.form.get("score", type=int)
    try:
        citizen_cases.rate(h5.current_citizen(), found.case.case_number, score or 0,
                           request.form.get("comment"), Channel.MOBILE_WEB)
    except ValidationFailed as failure:
        return render_template("h5/case_rating.html", error=failure.message, **page), 422
    flash("感谢您的评价", "success")
    return redirect(case_href)


@bp.route("/m/cases/<case_number>/withdraw", methods=["GET", "POST"])
@h5.citizen_required
def case_withdraw(case_number: str) -> ResponseReturnValue:
    found = h5.case_and_party(case_number)
    case_href = case_path(found.case.case_number)
    if request.method == "GET":
        return render_template("h5/case_withdraw.html", case_number=found.case.case_number,
                               case_href=case_href)
    if ButtonForm().validate_on_submit():
        citizen_cases.withdraw(h5.current_citizen(), found.case.case_number, Channel.MOBILE_WEB)
        flash("申请已撤回", "info")
    return redirect(case_href)
