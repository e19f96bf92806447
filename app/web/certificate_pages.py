"""Admin pages for certificates: the helpdesk's correction queue with its one-working-day
clock, and the answer (re-issue, 更正登记, or no error); the certificate search and each
certificate's detail (content masked, status history, who looked at it, corrections),
whose opening is itself recorded as a staff access."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from stdnum.cn import uscc

from app.certificates import corrections, lifecycle, staff_desk, viewing
from app.certificates.content import KIND_TITLES, Holder
from app.certificates.models import Certificate, CorrectionOutcome
from app.certificates.service import content_of
from app.certificates.staff_desk import CertificateSearch
from app.kernel.errors import DomainError
from app.kernel.validators import mask_id_number, mask_name
from app.staff.models import StaffRole
from app.usecases.certificate_desk import open_certificate
from app.usecases.correct_certificate import answer_correction
from app.web.staff_pages import CsrfForm, _describe, bp, staff_required

DESK = (StaffRole.HELPDESK, StaffRole.SUPERVISOR)


@bp.get("/corrections")
@staff_required(*DESK)
def correction_queue() -> ResponseReturnValue:
    return render_template("admin/corrections.html", rows=staff_desk.correction_queue(),
                           form=CsrfForm(), outcomes=list(CorrectionOutcome))


@bp.post("/corrections/<int:request_id>/answer")
@staff_required(*DESK)
def correction_answer(request_id: int) -> ResponseReturnValue:
    if CsrfForm().validate_on_submit():
        try:
            done = answer_correction(request_id, g.staff.id, request.form.get("outcome", ""),
                                     request.form.get("answer", ""),
                                     request.form.get("case_number") or None)
        except DomainError as error:
            flash(_describe(error), "error")
        else:
            flash(f"已答复：{CorrectionOutcome(done.outcome or '').label}", "success")
    return redirect(url_for("admin.correction_queue"))


# --- certificates: search and detail (registration, helpdesk, supervisors, auditors) -------

# Who may look certificates up: the registration reviewers (who enter the register they
# come from), the helpdesk and supervisors (owners' questions, corrections) and the
# auditors. Housing and tax reviewers have no need for them.
VIEWERS = (StaffRole.REGISTRATION_REVIEWER, StaffRole.HELPDESK, StaffRole.SUPERVISOR,
           StaffRole.AUDITOR)
PAGE_SIZE = staff_desk.PAGE_SIZE
MAX_QUERY = staff_desk.MAX_QUERY
ACCESSOR_TYPES = {"owner": "权利人本人", "institution": "机构", "public": "扫码核验",
                  "staff": "工作人员"}
ACTIONS = {"view": "查看内容", "view_image": "查看证书图片", "download_pdf": "下载 PDF",
           "verify": "核验", "lookup": "查询内容"}
OUTCOMES = {"allowed": "允许", "denied": "拒绝", "not_found": "未找到"}


@bp.context_processor
def _certificate_context() -> dict[str, Any]:
    staff = g.get("staff")
    return {"can_see_certificates": bool(staff and staff.has_role(*VIEWERS))}


def search_certificates(query: str, page: int = 1) -> CertificateSearch:
    """Certificates whose number or case number contains ``query``, newest first."""
    return staff_desk.search(query, page)


def _person(holder: Holder) -> dict[str, str]:
    """A name and an ID number as staff lists show them: a company's are public."""
    if uscc.is_valid(holder.id_number):
        return {"name": holder.name, "id_number": holder.id_number, "share": holder.share}
    return {"name": mask_name(holder.name) or "", "share": holder.share,
            "id_number": mask_id_number(holder.id_number) or ""}


def _accesses(certificate: Certificate) -> list[dict[str, Any]]:
    """The owner's "who viewed" list (``viewing.accesses`` writes queued looks first)."""
    return [{**row, "type": ACCESSOR_TYPES.get(row["accessor_type"], row["accessor_type"]),
             "action_label": ACTIONS.get(row["action"], row["action"]),
             "outcome_label": OUTCOMES.get(row["outcome"], row["outcome"]),
             "denied": row["outcome"] != "allowed"} for row in viewing.accesses(certificate)]


def _corrections(certificate: Certificate) -> list[dict[str, Any]]:
    rows = staff_desk.corrections_of(certificate)
    return [{**corrections.view(r), "answered_by": lifecycle.actor_label(
        f"staff:{r.answered_by}") if r.answered_by else ""} for r in rows]


def certificate_view(certificate: Certificate) -> dict[str, Any]:
    """The detail page: the content (personal data masked), the status history, the
    certificates it replaces or is replaced by, who looked at it, and its corrections."""
    content = content_of(certificate)
    return {
        "certificate": certificate, "kind_label": KIND_TITLES.get(certificate.kind, ""),
        "case_number": staff_desk.case_number_of(certificate), "content": content,
        "holders": [_person(h) for h in content.holders],
        "obligors": [_person(h) for h in content.obligors],
        "history": lifecycle.history(certificate),
        "replaces": staff_desk.number_of(certificate.replaces_id),
        "replaced_by": staff_desk.number_of(certificate.replaced_by_id),
        "accesses": _accesses(certificate), "corrections": _corrections(certificate),
    }


@bp.get("/certificates")
@staff_required(*VIEWERS)
def certificate_list() -> ResponseReturnValue:
    query = request.args.get("q", "")
    try:
        found = search_certificates(query, request.args.get("page", 1, type=int) or 1)
    except DomainError as error:
        flash(_describe(error), "error")
        found = CertificateSearch("", [], 0, 1)
    return render_template("admin/certificates.html", found=found,
                           can_open_cases=g.staff.has_role(*DESK))


@bp.get("/certificates/<number>")
@staff_required(*VIEWERS)
def certificate_detail(number: str) -> ResponseReturnValue:
    certificate = open_certificate(number, g.staff.id, g.staff.display_name)
    return render_template("admin/certificate_detail.html", view=certificate_view(certificate),
                           can_open_cases=g.staff.has_role(*DESK))
