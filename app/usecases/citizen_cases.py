"""What a citizen does on a case, each step checked against the case policy.

Every channel (the API for the mini-program, the mobile-web pages) calls these, so the
answer to "may this person do this on this case" is the one in
:mod:`app.policies.cases`, and the case's ``allowed_actions`` that the channels render
come from the same table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import IO, Any

from flask import url_for

from app.accounts.models import Account
from app.cases import application
from app.cases import service as cases
from app.cases.models import Case, CaseRating
from app.cases.workflow import CaseStatus
from app.checks.service import citizen_checks
from app.fees import checkout
from app.kernel import audit
from app.kernel.audit import ActorType
from app.kernel.db import db
from app.kernel.errors import Conflict, NotFound, ValidationFailed
from app.materials import service as materials
from app.materials.models import CaseMaterial
from app.materials.service import StoredFile
from app.policies import cases as policy
from app.policies import returns
from app.policies.cases import CaseAction, Party
from app.review.service import citizen_review, latest_tasks
from app.usecases import cases as case_actions
from app.usecases import submission
from app.workdays.service import review_clock
from payments.models import PaymentOrder

RATING_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


@dataclass(frozen=True)
class OnCase:
    case: Case
    party: Party


def on_case(account: Account, case_number: str) -> OnCase:
    """The case and the account's place on it; 404 for anyone who is not a party."""
    case = cases.get_case_for(account, case_number)
    party = policy.party_of(case, account)
    if party is None:
        raise NotFound("未找到该办件")
    return OnCase(case, party)


def case_for_person(case_number: str, person_id: int) -> OnCase | None:
    """The case and the place on it of a person known by a verified short link (not by
    a login); None when the person is not a party."""
    case = cases.find_case(case_number)
    party = policy.party_of_person(case, person_id) if case is not None else None
    return OnCase(case, party) if case is not None and party is not None else None


# --- reading -----------------------------------------------------------------------------


def detail(case: Case, party: Party) -> dict[str, Any]:
    """The case as its party sees it, with the actions every channel shows."""
    mine = [a for a in case.applicants
            if party.person_id is not None and a.confirmer_id == party.person_id]
    actions = policy.allowed_actions(case, party)
    due_at, clock_label = None, None
    tasks = [t for t in latest_tasks(case).values() if t.status in ("open", "claimed")]
    if case.status_enum == CaseStatus.ACCEPTED and tasks:
        opened = min(t.opened_at for t in tasks)
        clock = review_clock(opened, case.business_type.time_limit_working_days)
        due_at, clock_label = clock.due_at, clock.label
    document = application.latest_application_form(case)
    return {
        "case_number": case.case_number,
        "business_type": case.business_type,
        "status": case.status,
        "unit": case.unit,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "party_role": party.role.value,
        "party_role_label": party.role.label,
        "applicants": [
            {"id": a.id, "role": a.role, "role_label": case.business_type.role_label(a.role),
             "kind": a.person.kind, "name_masked": a.person.name_masked, "share": a.share,
             "confirmed": a.confirmed_at is not None, "is_me": a in mine}
            for a in case.applicants
        ],
        "timeline": application.timeline(case),
        "allowed_actions": actions,
        "returned_items": returns.returned_items(case),
        "checks": citizen_checks(case) if case.submission_count else [],
        "review": citizen_review(case),
        "due_at": due_at,
        "clock_label": clock_label,
        "materials_editable": CaseAction.UPLOAD_MATERIALS.value in actions,
        "confirmation_needed": CaseAction.CONFIRM.value in actions,
        "application_pdf_url": url_for("cases.application_pdf", case_number=case.case_number)
        if document else None,
    }


def case_detail(account: Account, case_number: str) -> dict[str, Any]:
    found = on_case(account, case_number)
    return detail(found.case, found.party)


# --- the application ---------------------------------------------------------------------


def _require(account: Account, case_number: str, action: CaseAction) -> OnCase:
    found = on_case(account, case_number)
    policy.require(found.case, found.party, action)
    return found


def form_view(case: Case, party: Party) -> dict[str, Any]:
    """The form as this party sees it: which sections they may change now, and a notice
    that says why the rest may not."""
    may_edit = policy.may(case, party, CaseAction.EDIT)
    editable = returns.editable_sections(case) if may_edit else set()
    view = application.form_view(case, editable)
    if case.status_enum == CaseStatus.RETURNED and party.is_filer:
        view["notice"] = ("办件已退回，请修改退回的内容后重新提交；其他内容不能修改。" if editable
                          else "办件已退回，申请表无需修改；请按退回原因补正材料后重新提交。")
    elif not editable and case.status_enum in application.EDITABLE:
        view["notice"] = "申请表由申请提交人填写，您可以查看并确认本人的部分。"
    elif not editable:
        view["notice"] = "办件当前状态不能修改，以下内容仅供查看。"
    else:
        view["notice"] = ""
    return view


def case_form(account: Account, case_number: str) -> dict[str, Any]:
    found = on_case(account, case_number)
    return form_view(found.case, found.party)


def save_form_section(account: Account, case_number: str, section: str, payload: Any,
                      channel: str) -> dict[str, Any]:
    found = _require(account, case_number, CaseAction.EDIT)
    case = application.save_section(account, case_number, section, payload, channel,
                                    returned=returns.returned_items(found.case))
    return form_view(case, found.party)


def add_applicant(account: Account, case_number: str, body: application.NewApplicant,
                  channel: str) -> OnCase:
    found = _require(account, case_number, CaseAction.EDIT)
    case = application.add_applicant(account, case_number, body, channel,
                                     returned=returns.returned_items(found.case))
    return on_case(account, case.case_number)


def remove_applicant(account: Account, case_number: str, applicant_id: int,
                     channel: str) -> OnCase:
    found = _require(account, case_number, CaseAction.EDIT)
    case = application.remove_applicant(account, case_number, applicant_id, channel,
                                        returned=returns.returned_items(found.case))
    return on_case(account, case.case_number)


def confirm(account: Account, claim: Any, case_number: str, channel: str) -> OnCase:
    _require(account, case_number, CaseAction.CONFIRM)
    case = application.confirm(account, claim, case_number, channel)
    return on_case(account, case.case_number)


def submit(account: Account, case_number: str, channel: str) -> OnCase:
    _require(account, case_number, CaseAction.SUBMIT)
    case = submission.submit(account, case_number, channel)
    return on_case(account, case.case_number)


def withdraw(account: Account, case_number: str, channel: str) -> OnCase:
    _require(account, case_number, CaseAction.WITHDRAW)
    case = case_actions.withdraw(account, case_number, channel)
    return on_case(account, case.case_number)


# --- materials ---------------------------------------------------------------------------


def upload_material(account: Account, case_number: str, *, item: str, role: str,
                    filename: str | None, stream: IO[bytes], channel: str,
                    replaces: int | None = None) -> CaseMaterial:
    found = _require(account, case_number, CaseAction.UPLOAD_MATERIALS)
    policy.require_material_upload(found.party, role)
    if replaces is not None:
        _visible_material(found, replaces)
    return materials.upload(account, case_number, item=item, role=role, filename=filename,
                            stream=stream, channel=channel, replaces=replaces,
                            returned=returns.returned_items(found.case))


def _visible_material(found: OnCase, material_id: int) -> CaseMaterial:
    material = materials.active_material(found.case, material_id)
    if not policy.may_see_material(material, found.party):
        raise NotFound("未找到该材料")
    return material


def withdraw_material(account: Account, case_number: str, material_id: int,
                      channel: str) -> None:
    found = _require(account, case_number, CaseAction.UPLOAD_MATERIALS)
    material = _visible_material(found, material_id)
    policy.require_material_upload(found.party, material.role)
    materials.withdraw(account, case_number, material_id, channel,
                       returned=returns.returned_items(found.case))


def read_material_file(account: Account, case_number: str, material_id: int) -> StoredFile:
    return materials.stored_file(_visible_material(on_case(account, case_number), material_id))


def read_material_thumbnail(account: Account, case_number: str,
                            material_id: int) -> StoredFile:
    material = _visible_material(on_case(account, case_number), material_id)
    return materials.stored_thumbnail(material)


def materials_view(account: Account, case_number: str) -> dict[str, Any]:
    """The checklist (which items are present, for everyone) and the files this party may
    see (their own role's, and what they uploaded)."""
    found = on_case(account, case_number)
    view = materials.case_materials_view(account, case_number)
    view["materials"] = [m for m in view["materials"]
                         if policy.may_see_material(m, found.party)]
    returned = returns.returned_items(found.case)
    view["editable"] = policy.may(found.case, found.party, CaseAction.UPLOAD_MATERIALS)
    view["locked_notice"] = "" if view["editable"] else (
        "本次退回无需补正材料，以下材料仅供查看"
        if found.case.status_enum == CaseStatus.RETURNED else "办件当前状态不能修改材料，仅供查看")
    view["checklist"] = [
        {**asdict(entry), "present": entry.present,
         "may_upload": view["editable"] and policy.may_change_material(
             found.case, found.party, entry.item, entry.role, returned)}
        for entry in view["checklist"]]
    return view


# --- rating (好差评) -------------------------------------------------------------------


def rate(account: Account, case_number: str, score: int, comment: str | None,
         channel: str) -> CaseRating:
    """One rating per person and case, once the case is over."""
    found = _require(account, case_number, CaseAction.RATE)
    if score not in RATING_LABELS:
        raise ValidationFailed({"score": ["评价等级应为1至5"]})
    if policy.has_rated(found.case, found.party):
        raise Conflict("您已评价过本办件", status=found.case.status)
    if not policy.may(found.case, found.party, CaseAction.RATE):
        raise Conflict("办件办结后才能评价", status=found.case.status)
    assert found.party.person_id is not None  # a party that may rate is a person
    rating = CaseRating(case_id=found.case.id, person_id=found.party.person_id,
                        account_id=account.id, score=score,
                        comment=(comment or "").strip()[:500] or None, channel=channel)
    db.session.add(rating)
    db.session.flush()
    audit.record(actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
                 action="case.rated", entity_type="case", entity_id=found.case.case_number,
                 after={"score": score, "label": RATING_LABELS[score]})
    db.session.commit()
    return rating


# --- payment orders ---------------------------------------------------------------------


def payment_order(account: Account, out_trade_no: str) -> PaymentOrder:
    """An order of a case the account is a party to, and which the account paid."""
    order = checkout.order_for(account, out_trade_no)  # 404 unless a party of the case
    if not policy.may_see_order(order, account):
        raise NotFound("未找到该支付订单")
    return order
