"""Use cases for cases (办件): create a draft, list and read one's own, move its status."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm.exc import StaleDataError

from app.accounts.models import Account
from app.cases.models import BusinessType, Case, CaseApplicant, PropertyUnit
from app.cases.workflow import (
    CASE_STATES,
    FINAL_STATUSES,
    CaseStatus,
    allowed_targets,
    can_move,
)
from app.kernel import audit, validators
from app.kernel.audit import ActorType
from app.kernel.counters import next_value
from app.kernel.db import db
from app.kernel.errors import CaseStateConflict, Conflict, NotFound, ValidationFailed
from app.kernel.timeutil import local_date, utcnow
from app.people.models import Person

BUSINESS_TYPES_FILE = Path(__file__).with_name("business_types.json")


def load_business_types(path: Path = BUSINESS_TYPES_FILE, *, overwrite: bool = False) -> int:
    """Insert the business types from the data file; existing ones are kept unless overwrite."""
    count = 0
    for item in json.loads(path.read_text(encoding="utf-8")):
        row = db.session.get(BusinessType, item["code"])
        if row is not None and not overwrite:
            continue
        row = row or BusinessType(code=item["code"])
        row.name = item["name"]
        row.step_order = item["step_order"]
        row.certificate_kind = item["certificate_kind"]
        row.time_limit_working_days = item["time_limit_working_days"]
        row.definition = item["definition"]
        db.session.add(row)
        count += 1
    db.session.commit()
    return count


def list_business_types() -> list[BusinessType]:
    return list(db.session.scalars(
        select(BusinessType).where(BusinessType.is_active.is_(True)).order_by(BusinessType.code)
    ))


def get_business_type(code: str) -> BusinessType:
    row = db.session.get(BusinessType, code)
    if row is None or not row.is_active:
        raise ValidationFailed({"business_type": ["不支持的业务类型"]})
    return row


def get_or_create_unit(
    unit_number: str, location: str, area_m2: Decimal | None = None, use: str | None = None
) -> PropertyUnit:
    try:
        parts = validators.unit_number(unit_number)
    except validators.InvalidValue as exc:
        raise ValidationFailed({"unit_number": [exc.message]}) from None
    unit = db.session.scalar(select(PropertyUnit).where(PropertyUnit.unit_number == parts.value))
    if unit is None:
        unit = PropertyUnit(
            unit_number=parts.value, division_code=parts.division_code,
            cadastral_zone=parts.cadastral_zone, parcel_code=parts.parcel_code,
            fixture_code=parts.fixture_code, location=location, area_m2=area_m2, use=use,
        )
        db.session.add(unit)
        db.session.flush()
    return unit


def new_case_number(prefix: str) -> str:
    day = local_date().strftime("%Y%m%d")
    serial = next_value(f"case:{prefix}:{day}")
    return f"{prefix}{day}{serial:05d}"


def create_draft(
    account: Account,
    business_type_code: str,
    *,
    channel: str,
    prefix: str,
    unit_number: str | None = None,
    location: str | None = None,
) -> Case:
    business_type = get_business_type(business_type_code)
    unit = get_or_create_unit(unit_number, location or "") if unit_number else None
    case = Case(
        case_number=new_case_number(prefix), business_type=business_type, unit=unit,
        status=CaseStatus.DRAFT, created_by_account_id=account.id, created_channel=channel,
    )
    db.session.add(case)
    db.session.flush()
    audit.record(
        actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
        action="case.created", entity_type="case", entity_id=case.case_number,
        after={"status": case.status, "business_type": business_type.code},
    )
    db.session.commit()
    return case


def add_applicant(case: Case, person: Person, role: str, share: str | None = None) -> None:
    if role not in {r["code"] for r in case.business_type.roles}:
        raise ValidationFailed({"role": ["该业务不支持此申请人角色"]})
    case.applicants.append(CaseApplicant(person=person, role=role, share=share))
    db.session.flush()


def _visible_to(account: Account) -> Any:
    """Cases an account may see: its own drafts, and every case of its verified Person
    (as an applicant, or as the representative who acts for a legal person)."""
    if account.person_id is None:
        return Case.created_by_account_id == account.id
    same_person_accounts = select(Account.id).where(Account.person_id == account.person_id)
    is_applicant = exists().where(
        CaseApplicant.case_id == Case.id,
        or_(CaseApplicant.person_id == account.person_id,
            CaseApplicant.representative_id == account.person_id),
    )
    return or_(
        Case.created_by_account_id == account.id,
        Case.created_by_account_id.in_(same_person_accounts),
        is_applicant,
    )


@dataclass(frozen=True)
class Page:
    items: list[Case]
    total: int


def list_cases_for(account: Account, page: int, page_size: int) -> Page:
    condition = _visible_to(account)
    total = db.session.scalar(select(func.count()).select_from(Case).where(condition)) or 0
    items = db.session.scalars(
        select(Case).where(condition).order_by(Case.updated_at.desc(), Case.id.desc())
        .limit(page_size).offset((page - 1) * page_size)
    ).unique().all()
    return Page(list(items), total)


def find_case(case_number: str) -> Case | None:
    return db.session.scalar(select(Case).where(Case.case_number == case_number))


def get_case_for(account: Account, case_number: str) -> Case:
    """One case the account may see; anyone else's case is 'not found', not 'forbidden'."""
    case = db.session.scalar(
        select(Case).where(Case.case_number == case_number, _visible_to(account))
    )
    if case is None:
        raise NotFound("未找到该办件")
    return case


def transition(
    case: Case,
    target: CaseStatus,
    *,
    actor_type: ActorType | str,
    actor_id: object,
    channel: str,
    reason: str | None = None,
    commit: bool = True,
) -> Case:
    """Move a case along an allowed edge, with an audit record, in one transaction.

    ``commit=False`` leaves the commit to the caller, who adds more to the transaction.
    """
    current = case.status_enum
    rules = case.business_type.rules
    if not can_move(current, target, rules):
        raise CaseStateConflict(
            status=current.value, target=target.value,
            allowed=[s.value for s in allowed_targets(current, rules)],
        )
    CASE_STATES.move(case, target, rules)
    now = utcnow()
    if target == CaseStatus.SUBMITTED:
        case.submitted_at = now
    if target in FINAL_STATUSES:
        case.closed_at = now
    audit.record(
        actor_type=actor_type, actor_id=actor_id, channel=channel, action="case.transition",
        entity_type="case", entity_id=case.case_number,
        before={"status": current.value}, after={"status": target.value}, note=reason,
    )
    if not commit:
        db.session.flush()
        return case
    commit_case()
    return case


def commit_case() -> None:
    """Commit a change of a case; a concurrent change of the same case is a 409."""
    try:
        db.session.commit()
    except StaleDataError:
        # Someone else changed the case between our read and our write.
        db.session.rollback()
        raise Conflict("办件已被他人更新，请刷新后重试") from None
