"""Admin pages for certificates: the helpdesk's correction queue with its one-working-day
clock, and the answer (re-issue, 更正登记, or no error); the certificate search and each
certificate's detail (content masked, status history, who looked at it, corrections),
whose opening is itself recorded as a staff access."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, or_, select
from stdnum.cn import uscc

from app.cases.models import Case
from app.certificates import corrections, lifecycle, viewing
from app.certificates.content import KIND_TITLES, Holder
from app.certificates.models import Certificate, CorrectionOutcome, CorrectionRequest
from app.certificates.service import content_of
from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.errors import DomainError, NotFound, ValidationFailed
from app.kernel.paging import PageNumbers
from app.kernel.validators import mask_id_number, mask_name
from app.people.models import Person
from app.staff.models import StaffRole
from app.usecases.correct_certificate import answer_correction
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
            done = answer_correction(request_id, g.staff.id, request.form.get("outcome", ""),
                                     request.form.get("answer", ""),
                                     request.form.get("case_number") or None)
        except DomainError as error:
            db.session.rollback()
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
PAGE_SIZE = 20
MAX_QUERY = 64
ACCESSOR_TYPES = {"owner": "权利人本人", "institution": "机构", "public": "扫码核验",
                  "staff": "工作人员"}
ACTIONS = {"view": "查看内容", "view_image": "查看证书图片", "download_pdf": "下载 PDF",
           "verify": "核验", "lookup": "查询内容"}
OUTCOMES = {"allowed": "允许", "denied": "拒绝", "not_found": "未找到"}


@bp.context_processor
def _certificate_context() -> dict[str, Any]:
    staff = g.get("staff")
    return {"can_see_certificates": bool(staff and staff.has_role(*VIEWERS))}


@dataclass(frozen=True)
class CertificateRow:
    certificate: Certificate
    case_number: str
    holders: list[str]  # masked names (a company's name is public)

    @property
    def kind_label(self) -> str:
        return KIND_TITLES.get(self.certificate.kind, self.certificate.kind)


@dataclass(frozen=True)
class CertificateSearch(PageNumbers):
    query: str
    rows: list[CertificateRow]
    total: int
    page: int
    per_page: int = PAGE_SIZE


def _masked_holders(certificates: list[Certificate]) -> dict[int, list[str]]:
    person_ids = {h.person_id for c in certificates for h in c.holders}
    persons = {p.id: p for p in db.session.scalars(
        select(Person).where(Person.id.in_(person_ids)))} if person_ids else {}
    return {c.id: [persons[h.person_id].name_masked or "" for h in c.holders
                   if h.person_id in persons] for c in certificates}


def search_certificates(query: str, page: int = 1) -> CertificateSearch:
    """Certificates whose number or case number contains ``query``, newest first."""
    query = (query or "").strip()
    if len(query) > MAX_QUERY:
        raise ValidationFailed({"q": [f"查询内容不能超过{MAX_QUERY}个字符"]})
    criteria = [or_(Certificate.number.contains(query, autoescape=True),
                    Case.case_number.contains(query, autoescape=True))] if query else []
    joined = select(Certificate, Case.case_number).join(Case, Case.id == Certificate.case_id)
    total = db.session.scalar(select(func.count()).select_from(
        joined.where(*criteria).subquery())) or 0
    page = min(max(1, page), max(1, -(-total // PAGE_SIZE)))
    found = db.session.execute(joined.where(*criteria).order_by(Certificate.id.desc())
                               .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    holders = _masked_holders([certificate for certificate, _ in found])
    return CertificateSearch(query, [CertificateRow(c, number, holders[c.id])
                                     for c, number in found], total, page)


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
    rows = db.session.scalars(select(CorrectionRequest).where(
        CorrectionRequest.certificate_id == certificate.id).order_by(CorrectionRequest.id))
    return [{**corrections.view(r), "answered_by": lifecycle.actor_label(
        f"staff:{r.answered_by}") if r.answered_by else ""} for r in rows]


def certificate_view(certificate: Certificate) -> dict[str, Any]:
    """The detail page: the content (personal data masked), the status history, the
    certificates it replaces or is replaced by, who looked at it, and its corrections."""
    content = content_of(certificate)
    case = db.session.get(Case, certificate.case_id)

    def number_of(certificate_id: int | None) -> str | None:
        other = db.session.get(Certificate, certificate_id) if certificate_id else None
        return other.number if other else None

    return {
        "certificate": certificate, "kind_label": KIND_TITLES.get(certificate.kind, ""),
        "case_number": case.case_number if case else "", "content": content,
        "holders": [_person(h) for h in content.holders],
        "obligors": [_person(h) for h in content.obligors],
        "history": lifecycle.history(certificate),
        "replaces": number_of(certificate.replaces_id),
        "replaced_by": number_of(certificate.replaced_by_id),
        "accesses": _accesses(certificate), "corrections": _corrections(certificate),
    }


def _record_staff_view(certificate: Certificate) -> None:
    """Opening the detail page is a look at the certificate: shown to its owner, audited."""
    viewing.record_access(certificate, accessor_type="staff", accessor_id=str(g.staff.id),
                  label=lifecycle.staff_access_label(g.staff.display_name), action="view",
                  channel=Channel.ADMIN)
    audit.record(actor_type=ActorType.STAFF, actor_id=g.staff.id, channel=Channel.ADMIN,
                 action="certificate.staff_viewed", entity_type="certificate",
                 entity_id=certificate.number)
    db.session.commit()


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
    certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
    if certificate is None:
        raise NotFound("未找到该证书")
    _record_staff_view(certificate)
    return render_template("admin/certificate_detail.html", view=certificate_view(certificate),
                           can_open_cases=g.staff.has_role(*DESK))
