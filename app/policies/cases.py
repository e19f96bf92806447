"""Who may do what on a case (办件): the parties, the actions, one table.

A registration centre's rule, written once: the person who filed the application (the
**filer**, 申请提交人) runs it — fills the form, names the parties, uploads the
materials, submits, withdraws; every other applicant (a **co-applicant**, e.g. the seller
the buyer named) confirms their own part and adds their own documents; an **agent**
(经办人) acts for a legal-person applicant or as the 代理人 role and has the rights of a
co-applicant. Whoever the certificate (or proof) names sees it and may report an error
in it; the right holders (the buyer of a resale, the owner of a change …) follow the
paper certificate's delivery; any party may pay the case in one step. Personal documents of one
party are not shown to another (``may_see_material``).

``allowed_actions`` is what every channel renders — the mini-program's buttons, the
mobile-web links, the API's ``allowed_actions`` — and ``require`` is what every use case
checks: the same table answers both. docs/policies.md has the table for people;
tests/app/policies/test_case_policy.py walks it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.accounts.models import Account
from app.cases import application
from app.cases.models import Case, CaseRating
from app.cases.workflow import CaseStatus, can_move
from app.certificates.models import Certificate, CertificateHolder, CertificateStatus
from app.deliveries.models import Delivery
from app.fees import checkout
from app.fees.service import current_fees
from app.kernel.db import db
from app.kernel.errors import Forbidden
from app.materials.models import CaseMaterial
from app.policies import returns
from payments.models import PaymentOrder


class PartyRole(enum.StrEnum):
    FILER = "filer"  # 申请提交人: filed the case from their account
    CO_APPLICANT = "co_applicant"  # 其他申请人: named on the case by the filer
    AGENT = "agent"  # 经办人 / 代理人: acts for a legal-person applicant

    @property
    def label(self) -> str:
        return {"filer": "申请提交人", "co_applicant": "其他申请人", "agent": "经办人"}[self.value]


class CaseAction(enum.StrEnum):
    """What a party may be offered on a case, in the order every channel shows them."""

    EDIT = "edit"  # 修改申请
    UPLOAD_MATERIALS = "upload_materials"  # 上传材料
    CONFIRM = "confirm"  # 确认申请内容
    SUBMIT = "submit"  # 提交申请
    PAY = "pay"  # 缴纳税费
    VIEW_CERTIFICATE = "view_certificate"  # 查看电子证书
    REQUEST_CORRECTION = "request_correction"  # 申请更正
    TRACK_DELIVERY = "track_delivery"  # 证书寄递
    RATE = "rate"  # 评价服务（好差评）
    WITHDRAW = "withdraw"  # 撤回申请

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    CaseAction.EDIT: "修改申请", CaseAction.UPLOAD_MATERIALS: "上传材料",
    CaseAction.CONFIRM: "确认申请内容", CaseAction.SUBMIT: "提交申请",
    CaseAction.PAY: "缴纳税费", CaseAction.VIEW_CERTIFICATE: "查看电子证书",
    CaseAction.REQUEST_CORRECTION: "申请更正", CaseAction.TRACK_DELIVERY: "证书寄递",
    CaseAction.RATE: "评价服务", CaseAction.WITHDRAW: "撤回申请",
}

# The role whose applicants become the right holders, per business type (mortgages: the
# proof goes to the mortgagee; a discharge issues nothing).
HOLDER_ROLES = application.HOLDER_ROLES
# A case is over, and its service may be rated (好差评), in these statuses.
RATEABLE_STATUSES = frozenset({CaseStatus.CERTIFICATE_ISSUED, CaseStatus.ARCHIVED,
                               CaseStatus.REJECTED})


@dataclass(frozen=True)
class Party:
    """One person's place on one case."""

    person_id: int | None
    account_id: int | None
    role: PartyRole
    applicant_roles: frozenset[str]  # the business roles they hold (buyer, seller …)

    @property
    def is_filer(self) -> bool:
        return self.role == PartyRole.FILER


def party_of(case: Case, account: Account) -> Party | None:
    """The account's place on the case; None for anyone else (who gets a 404)."""
    return _party(case, account.person_id, account.id, filed=_filed_by(case, account))


def party_of_person(case: Case, person_id: int) -> Party | None:
    """The place of a person known by a verified short link, not by a login."""
    creator = db.session.get(Account, case.created_by_account_id)
    filed = creator is not None and creator.person_id == person_id
    return _party(case, person_id, None, filed=filed)


def _filed_by(case: Case, account: Account) -> bool:
    if case.created_by_account_id == account.id:
        return True
    if account.person_id is None:
        return False
    creator = db.session.get(Account, case.created_by_account_id)
    return creator is not None and creator.person_id == account.person_id


def _party(case: Case, person_id: int | None, account_id: int | None, *,
           filed: bool) -> Party | None:
    roles: set[str] = set()
    represents = False
    if person_id is not None:
        for applicant in case.applicants:
            if applicant.person_id == person_id:
                roles.add(applicant.role)
            if applicant.representative_id == person_id:
                roles.add(applicant.role)
                represents = True
    if filed:
        role = PartyRole.FILER
    elif represents or roles == {"agent"}:
        role = PartyRole.AGENT
    elif roles:
        role = PartyRole.CO_APPLICANT
    else:
        return None
    return Party(person_id, account_id, role, frozenset(roles))


# --- the conditions, each under its name ---------------------------------------------------


def is_holder(case: Case, party: Party) -> bool:
    """The party holds the role whose applicants become the right holders."""
    holder_role = HOLDER_ROLES.get(case.business_type_code)
    return holder_role is not None and holder_role in party.applicant_roles


def case_payable(case: Case) -> bool:
    """When a case may be paid: its business type's path allows the move to paid now
    (fees assessed in Tongling order, registered in Zhuhai order) and something is due."""
    return checkout.payable(case) and any(f.amount_fen > 0 for f in current_fees(case))


def _unconfirmed_own_part(case: Case, party: Party) -> bool:
    if case.status_enum not in application.EDITABLE:
        return False
    return party.person_id is not None and any(
        a.confirmer_id == party.person_id and a.confirmed_at is None for a in case.applicants)


def _may_be_submitted(case: Case) -> bool:
    return case.status_enum in application.EDITABLE and can_move(
        case.status_enum, CaseStatus.SUBMITTED, case.business_type.rules)


def held_certificates(case: Case, party: Party) -> list[Certificate]:
    """The case's shown certificates (issued, case paid) that name the party as holder."""
    if party.person_id is None or case.status_enum not in (
            CaseStatus.CERTIFICATE_ISSUED, CaseStatus.ARCHIVED):
        return []
    return list(db.session.scalars(
        select(Certificate).join(CertificateHolder,
                                 CertificateHolder.certificate_id == Certificate.id)
        .where(Certificate.case_id == case.id, CertificateHolder.person_id == party.person_id,
               Certificate.status != CertificateStatus.ISSUING)
        .order_by(Certificate.id)))


def _has_valid_certificate(case: Case, party: Party) -> bool:
    return any(c.status_enum == CertificateStatus.VALID for c in held_certificates(case, party))


def _has_delivery(case: Case, party: Party) -> bool:
    return is_holder(case, party) and db.session.scalar(
        select(Delivery.id).where(Delivery.case_id == case.id).limit(1)) is not None


def has_rated(case: Case, party: Party) -> bool:
    return party.person_id is not None and db.session.scalar(
        select(CaseRating.id).where(CaseRating.case_id == case.id,
                                    CaseRating.person_id == party.person_id)) is not None


# --- the table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    who: str  # the sentence docs/policies.md shows
    may: Callable[[Case, Party], bool]
    when: str
    now: Callable[[Case, Party], bool]


def _filer(case: Case, party: Party) -> bool:
    return party.is_filer


def _any_party(case: Case, party: Party) -> bool:
    return True


def _holder(case: Case, party: Party) -> bool:
    return is_holder(case, party)


RULES: dict[CaseAction, Rule] = {
    CaseAction.EDIT: Rule(
        "申请提交人", _filer,
        "草稿；退回补正且补正事项含申请表内容",
        lambda c, p: bool(returns.editable_sections(c))),
    CaseAction.UPLOAD_MATERIALS: Rule(
        "申请提交人（各方材料）；其他申请人、经办人（本人角色的材料）", _any_party,
        "草稿；退回补正且补正事项含材料", lambda c, p: returns.materials_open(c)),
    CaseAction.CONFIRM: Rule(
        "每名申请人（或单位申请人的经办人）确认本人部分", _any_party,
        "草稿或退回补正，本人部分尚未确认", _unconfirmed_own_part),
    CaseAction.SUBMIT: Rule(
        "申请提交人", _filer, "草稿或退回补正", lambda c, p: _may_be_submitted(c)),
    CaseAction.PAY: Rule(
        "每名当事人（一次缴清全部税费；由谁承担按双方约定）", _any_party,
        "按业务顺序可缴费（先缴后登：已核税；先登后缴：已登簿）且有应缴金额",
        lambda c, p: case_payable(c)),
    CaseAction.VIEW_CERTIFICATE: Rule(
        "证书（证明）上记载的人", _any_party, "证书已发放且已缴费",
        lambda c, p: bool(held_certificates(c, p))),
    CaseAction.REQUEST_CORRECTION: Rule(
        "证书（证明）上记载的人", _any_party, "证书有效", _has_valid_certificate),
    CaseAction.TRACK_DELIVERY: Rule(
        "权利人", _holder, "选择纸质证书且已寄出或待领取", _has_delivery),
    CaseAction.RATE: Rule(
        "每名当事人各评价一次", _any_party, "已发证、已归档或不予登记，本人尚未评价",
        lambda c, p: c.status_enum in RATEABLE_STATUSES and not has_rated(c, p)),
    CaseAction.WITHDRAW: Rule(
        "申请提交人", _filer, "缴费、登簿之前",
        lambda c, p: can_move(c.status_enum, CaseStatus.WITHDRAWN, c.business_type.rules)),
}


def may(case: Case, party: Party, action: CaseAction) -> bool:
    rule = RULES[action]
    return rule.may(case, party) and rule.now(case, party)


def allowed_actions(case: Case, party: Party) -> list[str]:
    """What this party may do on this case now: every channel shows exactly these."""
    return [action.value for action in CaseAction if may(case, party, action)]


class ActionNotAllowed(Forbidden):
    code = "ACTION_NOT_ALLOWED"
    message = "您不能对本办件进行此操作"


def require(case: Case, party: Party, action: CaseAction) -> None:
    """Refuse an action the party may never do on this case (403); whether the case's
    status allows it now stays the use case's own 409."""
    if not RULES[action].may(case, party):
        raise ActionNotAllowed(action=action.value, party=party.role.value)


# --- materials -----------------------------------------------------------------------------


def may_upload_material(party: Party, role: str) -> bool:
    """The filer adds every party's documents; anyone else only their own role's."""
    return party.is_filer or role in party.applicant_roles


def may_change_material(case: Case, party: Party, item: str, role: str,
                        returned: list[dict[str, Any]]) -> bool:
    """Whether this party may upload, replace or withdraw a file of this checklist entry
    now: their role's (or the filer's), and after a return only an entry it names."""
    if not may_upload_material(party, role):
        return False
    if case.status_enum != CaseStatus.RETURNED:
        return True
    return any(i["kind"] == "material" and i["code"] == item and i.get("role") in (None, role)
               for i in returned)


def may_see_material(material: CaseMaterial, party: Party) -> bool:
    """A file (and its original name) is shown to whoever uploaded it and to the parties
    of its role: one party's ID scan or marital-status proof is not the other's to see."""
    if party.account_id is not None and material.uploaded_by_account_id == party.account_id:
        return True
    if party.person_id is not None:
        uploader = db.session.get(Account, material.uploaded_by_account_id)
        if uploader is not None and uploader.person_id == party.person_id:
            return True
    return material.role in party.applicant_roles


def require_material_upload(party: Party, role: str) -> None:
    if not may_upload_material(party, role):
        raise ActionNotAllowed("只能上传本人角色的材料", action="upload_materials",
                               party=party.role.value, role=role)


# --- payments ------------------------------------------------------------------------------


def may_see_order(order: PaymentOrder, account: Account) -> bool:
    """A payment order, like its receipt, belongs to whoever paid it (any of their
    logins): the other parties of the case see that the case is paid, not the order."""
    if order.payer_account_id == account.id:
        return True
    payer = db.session.get(Account, order.payer_account_id)
    return (payer is not None and account.person_id is not None
            and payer.person_id == account.person_id)
