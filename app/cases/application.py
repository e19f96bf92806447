"""The one combined application: fill the form, name the parties, confirm, submit.

A case is edited while it is a draft, or after a return only in the items the return
names. Every applicant (or a legal person's representative) confirms in their own
account with a fresh identity claim; any later change to the form or the parties
clears the confirmations. Submission checks completeness, archives the combined
application form as a PDF and starts the automatic checks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select

from app.accounts.models import Account
from app.cases import form, pdf
from app.cases.models import Case, CaseApplicant, CaseDocument
from app.cases.service import commit_case, get_case_for, get_or_create_unit
from app.cases.workflow import CaseStatus
from app.cases.workflow import CaseStatus as S
from app.departments import Department
from app.identity.claims import IdentityClaim
from app.kernel import audit
from app.kernel.audit import ActorType, AuditRecord
from app.kernel.db import db
from app.kernel.errors import (
    CaseIncomplete,
    CaseNotEditable,
    ConfirmationRequiresOwnIdentity,
    Conflict,
    DomainError,
    FormSectionUnknown,
    NotAnApplicant,
    NotFound,
    ValidationFailed,
)
from app.kernel.timeutil import utcnow
from app.people import service as people
from app.people.models import Person
from app.services import storage

EDITABLE = frozenset({CaseStatus.DRAFT, CaseStatus.RETURNED})
JOINT_SHARE = "共同共有"
# The role whose applicants become the right holders, per business type.
HOLDER_ROLES = {"resale_transfer": "buyer", "new_home_transfer": "buyer", "change": "owner",
                "correction": "owner"}
# Roles that dispose of the right (must be the current owners in the register).
DISPOSER_ROLES = {"resale_transfer": "seller", "mortgage_first": "mortgagor", "change": "owner",
                  "correction": "owner"}


def _section_codes(case: Case) -> list[str]:
    return list(case.business_type.definition.get("form_sections", []))


def editable_sections(case: Case, returned: Sequence[dict[str, Any]]) -> set[str]:
    """A draft: every section; after a return: the sections ``returned`` names (the
    return's items, app.policies.returns)."""
    if case.status_enum == CaseStatus.DRAFT:
        return set(_section_codes(case))
    if case.status_enum == CaseStatus.RETURNED:
        return {i["code"] for i in returned if i["kind"] == "section"}
    return set()


def _require_section_editable(case: Case, code: str,
                              returned: Sequence[dict[str, Any]]) -> None:
    if code not in _section_codes(case) or code not in form.SECTIONS:
        raise FormSectionUnknown(section=code)
    if code not in editable_sections(case, returned):
        raise CaseNotEditable(status=case.status, section=code)


def _digest(value: Any) -> str:
    raw = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def parties_digest(case: Case) -> str:
    return _digest(sorted((a.person_id, a.role, a.share, a.representative_id)
                          for a in case.applicants))


def section_digest(case: Case, code: str) -> str:
    if code == form.APPLICANTS_SECTION:
        return parties_digest(case)
    return _digest(case.form_data.get(code))


def _clear_confirmations(case: Case) -> None:
    for applicant in case.applicants:
        applicant.confirmed_at = None
        applicant.confirmed_by_account_id = None
        applicant.confirmed_channel = None


def form_view(case: Case, editable: set[str]) -> dict[str, Any]:
    """The form with each section's completeness; ``editable``: the sections that may
    change now (``editable_sections``)."""
    sections = []
    for code in _section_codes(case):
        definition = form.SECTIONS[code]
        if code == form.APPLICANTS_SECTION:
            problems = [p["problem"] for p in role_problems(case)]
            data: dict[str, Any] = {}
        else:
            data = dict(case.form_data.get(code) or {})
            problems = form.section_problems(code, case.form_data.get(code))
        sections.append({"code": code, "title": definition.title, "kind": definition.kind,
                         "complete": not problems, "data": data, "problems": problems})
    return {"case_number": case.case_number, "editable": bool(editable),
            "editable_sections": [c for c in _section_codes(case) if c in editable],
            "sections": sections}


def save_section(account: Account, case_number: str, code: str, payload: Any,
                 channel: str, *, returned: Sequence[dict[str, Any]] = ()) -> Case:
    """Save one section; after a return, only a section ``returned`` names."""
    case = get_case_for(account, case_number)
    _require_section_editable(case, code, returned)
    if code == form.APPLICANTS_SECTION:
        raise FormSectionUnknown("申请人请通过“添加申请人”填写", section=code)
    try:
        data = form.validate_section(code, payload)
    except ValidationError as exc:
        messages = exc.normalized_messages()
        raise ValidationFailed(messages if isinstance(messages, dict) else {
            "_schema": [str(messages)]}) from None
    if code == "unit":
        unit = get_or_create_unit(data["unit_number"], data["location"],
                                  Decimal(data["area_m2"]), data["use"])
        case.unit = unit
    if code == "certificate_delivery" and data["form"] in form.PAPER_FORMS and any(
            a.person.is_legal for a in case.applicants
            if a.role == HOLDER_ROLES.get(case.business_type_code)):
        raise ValidationFailed({"form": ["权利人为单位的，只发放电子证书"]})
    if case.form_data.get(code) == data:
        return case
    case.form_data = {**case.form_data, code: data}
    _clear_confirmations(case)
    audit.record(
        actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
        action="case.form_saved", entity_type="case", entity_id=case.case_number,
        after={"section": code, "digest": section_digest(case, code)[:16]},
    )
    commit_case()
    return case


@dataclass(frozen=True)
class NewApplicant:
    role: str
    kind: str
    name: str
    id_number: str
    share: str | None = None
    representative_name: str | None = None
    representative_id_number: str | None = None


def _check_share(share: str | None) -> str | None:
    if share is None or share == "":
        return None
    share = share.strip()
    if share == JOINT_SHARE:
        return share
    try:
        value = Fraction(share)
    except (ValueError, ZeroDivisionError):
        raise ValidationFailed({"share": ["份额格式应为分数，如 1/2，或“共同共有”"]}) from None
    if not 0 < value <= 1:
        raise ValidationFailed({"share": ["份额应大于 0 且不超过 1"]})
    return share


def _person_for(body: NewApplicant) -> tuple[Person, Person | None]:
    if body.kind == "natural":
        if body.representative_name or body.representative_id_number:
            raise ValidationFailed({"representative_name": ["自然人申请人无需填写代表人"]})
        return people.register_natural_person(body.name, body.id_number), None
    if not body.representative_name or not body.representative_id_number:
        raise ValidationFailed({"representative_name": ["单位申请人须填写办理人（代表人）"]})
    try:
        representative = people.register_natural_person(
            body.representative_name, body.representative_id_number)
    except ValidationFailed as exc:
        fields = exc.details.get("fields", {})
        raise ValidationFailed({f"representative_{k}": v for k, v in fields.items()}) from None
    try:
        organisation = people.register_legal_person(body.name, body.id_number)
    except ValidationFailed as exc:
        fields = exc.details.get("fields", {})
        raise ValidationFailed({"id_number" if k == "uscc" else k: v
                                for k, v in fields.items()}) from None
    return organisation, representative


def add_applicant(account: Account, case_number: str, body: NewApplicant,
                  channel: str, *, returned: Sequence[dict[str, Any]] = ()) -> Case:
    case = get_case_for(account, case_number)
    _require_section_editable(case, form.APPLICANTS_SECTION, returned)
    role = next((r for r in case.business_type.roles if r["code"] == body.role), None)
    if role is None:
        raise ValidationFailed({"role": ["该业务不支持此申请人角色"]})
    if body.kind not in ("natural", "legal"):
        raise ValidationFailed({"kind": ["申请人类型应为自然人或单位"]})
    if body.kind not in role.get("kinds", []):
        kind_label = "单位" if body.kind == "legal" else "自然人"
        raise ValidationFailed({"kind": [f"{role['label']}不能为{kind_label}"]})
    share = _check_share(body.share)
    if sum(1 for a in case.applicants if a.role == body.role) >= int(role.get("max", 99)):
        raise ValidationFailed({"role": [f"{role['label']}最多 {role['max']} 名"]})
    try:
        person, representative = _person_for(body)
    except DomainError:
        db.session.rollback()
        raise
    if any(a.person_id == person.id and a.role == body.role for a in case.applicants):
        db.session.rollback()
        raise Conflict("该申请人已在本办件中", role=body.role)
    case.applicants.append(CaseApplicant(
        person=person, role=body.role, share=share,
        representative_id=representative.id if representative else None))
    _clear_confirmations(case)
    db.session.flush()
    audit.record(
        actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
        action="case.applicant_added", entity_type="case", entity_id=case.case_number,
        after={"role": body.role, "kind": body.kind, "person_id": person.id},
    )
    case.updated_at = utcnow()
    commit_case()
    return case


def remove_applicant(account: Account, case_number: str, applicant_id: int,
                     channel: str, *, returned: Sequence[dict[str, Any]] = ()) -> Case:
    case = get_case_for(account, case_number)
    _require_section_editable(case, form.APPLICANTS_SECTION, returned)
    applicant = next((a for a in case.applicants if a.id == applicant_id), None)
    if applicant is None:
        raise NotFound("未找到该申请人")
    case.applicants.remove(applicant)
    _clear_confirmations(case)
    audit.record(
        actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
        action="case.applicant_removed", entity_type="case", entity_id=case.case_number,
        before={"role": applicant.role, "person_id": applicant.person_id},
    )
    case.updated_at = utcnow()
    commit_case()
    return case


def confirm(account: Account, claim: IdentityClaim, case_number: str, channel: str) -> Case:
    """The caller confirms the application for every applicant they are (or represent)."""
    case = get_case_for(account, case_number)
    if case.status_enum not in EDITABLE:
        raise CaseNotEditable(status=case.status)
    if account.person_id is None or claim.person_id != account.person_id:
        raise ConfirmationRequiresOwnIdentity()
    mine = [a for a in case.applicants if a.confirmer_id == account.person_id]
    if not mine:
        raise NotAnApplicant()
    now = utcnow()
    for applicant in mine:
        applicant.confirmed_at = now
        applicant.confirmed_by_account_id = account.id
        applicant.confirmed_channel = channel
    audit.record(
        actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
        action="case.confirmed", entity_type="case", entity_id=case.case_number,
        after={"roles": sorted({a.role for a in mine}), "method": claim.method,
               "form": _digest(case.form_data)[:16], "parties": parties_digest(case)[:16]},
    )
    case.updated_at = now
    commit_case()
    return case


def role_problems(case: Case) -> list[dict[str, str]]:
    problems = []
    counts: dict[str, int] = {}
    for applicant in case.applicants:
        counts[applicant.role] = counts.get(applicant.role, 0) + 1
    for role in case.business_type.roles:
        count = counts.get(role["code"], 0)
        if count < int(role.get("min", 0)):
            problems.append({"role": role["code"], "label": role["label"],
                             "problem": f"至少需要 {role['min']} 名{role['label']}"})
    holder = HOLDER_ROLES.get(case.business_type_code)
    holders = [a for a in case.applicants if a.role == holder]
    if holders:
        shares = [a.share for a in holders]
        label = case.business_type.role_label(holder or "")
        if any(s is None for s in shares):
            problems.append({"role": holder or "", "label": label,
                             "problem": f"请填写每名{label}的份额"})
        elif all(s == JOINT_SHARE for s in shares):
            if len(shares) < 2:
                problems.append({"role": holder or "", "label": label,
                                 "problem": "共同共有至少需要两名权利人"})
        elif JOINT_SHARE in shares or sum(Fraction(s) for s in shares if s) != 1:
            problems.append({"role": holder or "", "label": label,
                             "problem": f"{label}的份额之和应为 1"})
    delivery = (case.form_data.get("certificate_delivery") or {}).get("form")
    if delivery in form.PAPER_FORMS and any(a.person.is_legal for a in holders):
        problems.append({"role": holder or "", "label": case.business_type.role_label(holder or ""),
                         "problem": "权利人为单位的，只发放电子证书，请将证书领取方式改为电子证书"})
    disposer = DISPOSER_ROLES.get(case.business_type_code)
    if holder and disposer and holder != disposer:
        overlap = {a.person_id for a in holders} & {
            a.person_id for a in case.applicants if a.role == disposer}
        if overlap:
            problems.append({"role": holder, "label": case.business_type.role_label(holder),
                             "problem": "买受人与出卖人不能为同一人"})
    return problems


def readiness(case: Case, missing_materials: Sequence[Any]) -> dict[str, Any]:
    """What still stops the submission (all lists empty: ready); ``missing_materials`` are
    the checklist entries still without a file (app.materials.service)."""
    missing_sections = [
        code for code in _section_codes(case)
        if code != form.APPLICANTS_SECTION and form.section_problems(code, case.form_data.get(code))
    ]
    if case.unit is None and "unit" not in missing_sections:
        missing_sections.insert(0, "unit")
    return {
        "missing_sections": missing_sections,
        "roles": role_problems(case),
        "missing_materials": [{"item": m.item, "name": m.name, "role": m.role,
                               "role_label": m.role_label} for m in missing_materials],
        "unconfirmed": [{"role": a.role, "role_label": case.business_type.role_label(a.role),
                         "name_masked": a.person.name_masked}
                        for a in case.applicants if a.confirmed_at is None],
    }


def is_ready(details: dict[str, Any]) -> bool:
    return not any(details.values())


def require_submittable(case: Case, account: Account,
                        missing_materials: Sequence[Any]) -> None:
    """Submit (or resubmit) only an editable case, as an applicant, complete and confirmed
    by everyone (app/usecases/submission.py submits)."""
    if case.status_enum not in EDITABLE:
        raise CaseNotEditable(status=case.status)
    is_creator = case.created_by_account_id == account.id
    if not is_creator and not any(a.confirmer_id == account.person_id for a in case.applicants):
        raise NotAnApplicant("只有申请人可以提交办件")
    details = readiness(case, missing_materials)
    if not is_ready(details):
        raise CaseIncomplete(**details)


def submission_reason(case: Case) -> str:
    return "申请人提交" if case.submission_count == 1 else "补正后重新提交"


# --- the combined application form PDF ------------------------------------------------

def application_document(case: Case, materials: list[pdf.MaterialLine]) -> Any:
    """The combined form; ``materials`` lists the files of each checklist item present."""
    applicants = []
    for a in case.applicants:
        p = a.person
        applicants.append(pdf.ApplicantLine(
            role_label=case.business_type.role_label(a.role),
            kind_label="单位" if p.is_legal else "个人",
            name=p.name or "",
            id_number=(p.uscc if p.is_legal else p.id_number) or "",
            share=a.share, confirmed_at=a.confirmed_at,
        ))
    sections = []
    for code in _section_codes(case):
        definition = form.SECTIONS[code]
        if code == form.APPLICANTS_SECTION:
            continue
        stored = case.form_data.get(code) or {}
        sections.append(pdf.SectionBlock(title=definition.title, fields=[
            pdf.FieldLine(label=f.label, value=form.display_value(f, stored.get(f.name)))
            for f in definition.fields]))
    unit = case.unit
    return pdf.ApplicationDocument(
        case_number=case.case_number, business_type_name=case.business_type.name,
        authority_name=str(current_app.config.get("AUTHORITY_NAME", "不动产登记中心")),
        submitted_at=utcnow(), unit_number=unit.unit_number if unit else "",
        location=unit.location if unit else "", applicants=applicants, sections=sections,
        materials=materials,
        declaration="申请人承诺所提交的申请材料真实、合法、有效，如有虚假，愿承担相应法律责任。"
                    "本申请经全部申请人核验身份后确认。",
    )


def application_form_key(case: Case, submission: int) -> str:
    return f"cases/{case.case_number}/application-{submission}.pdf"


def render_application_form(case: Case, materials: list[pdf.MaterialLine]) -> bytes:
    return pdf.render_application_pdf(application_document(case, materials))


def record_application_form(case: Case, key: str, data: bytes) -> CaseDocument:
    """The archived form of this submission (stored under ``key``; the caller commits)."""
    document = CaseDocument(case_id=case.id, kind="application_form",
                            submission=case.submission_count, storage_key=key,
                            sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
    db.session.add(document)
    db.session.flush()
    return document


def latest_application_form(case: Case) -> CaseDocument | None:
    return db.session.scalar(
        select(CaseDocument).where(CaseDocument.case_id == case.id,
                                   CaseDocument.kind == "application_form")
        .order_by(CaseDocument.submission.desc()).limit(1))


def read_application_form(account: Account, case_number: str) -> tuple[CaseDocument, bytes]:
    case = get_case_for(account, case_number)
    document = latest_application_form(case)
    if document is None:
        raise NotFound("办件提交后才会生成申请表")
    return document, storage().get(document.storage_key)


# --- what the citizen sees ---------------------------------------------------------------

TIMELINE_ACTIONS = ("case.created", "case.transition", "case.confirmed", "review.opened",
                    "review.approved", "review.returned")
ACTOR_LABELS = {"citizen": "申请人", "system": "系统", "staff": "工作人员"}


def timeline(case: Case) -> list[dict[str, Any]]:
    status = S.DRAFT
    entries = []
    for record in db.session.scalars(select(AuditRecord).where(
            AuditRecord.entity_type == "case", AuditRecord.entity_id == case.case_number,
            AuditRecord.action.in_(TIMELINE_ACTIONS)).order_by(AuditRecord.occurred_at,
                                                                AuditRecord.id)):
        after = record.after or {}
        department = after.get("department")
        dept_label = Department(department).label if department else None
        actor = ACTOR_LABELS.get(record.actor_type, "工作人员")
        if record.action == "case.transition":
            status = S(after["status"])
            step = status.label if not record.note else f"{status.label}（{record.note}）"
        elif record.action == "case.created":
            step = "创建申请"
        elif record.action == "case.confirmed":
            step = "申请人确认申请内容"
        elif record.action == "review.opened":
            step = f"{dept_label}开始审核"
        elif record.action == "review.approved":
            step, actor = f"{dept_label}审核通过", f"{dept_label}审核员"
        else:
            step, actor = f"{dept_label}退回补正", f"{dept_label}审核员"
        entries.append({"status": status.value, "status_label": status.label, "step_label": step,
                        "department": department, "department_label": dept_label,
                        "actor_role_label": actor, "at": record.occurred_at})
    return entries
