"""Register entry (登簿) and archive look-up (查档).

Entering a right writes a new version of the unit's register; the previous version is
closed, never changed. Two clerks entering the same unit at once cannot both win:
(unit, version) is unique. Nothing here commits or moves the case to ``registered``:
the use case ``app.usecases.register_case`` does, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from app.cases.models import Case, PropertyUnit
from app.cases.workflow import CaseStatus, can_move
from app.kernel import audit
from app.kernel.audit import ActorType
from app.kernel.db import db
from app.kernel.errors import CaseStateConflict, Conflict, NotFound, ValidationFailed
from app.kernel.timeutil import utcnow
from app.register.models import Encumbrance, RegisterEntry, RegisterOwner

SOLE, JOINT, BY_SHARES = "单独所有", "共同共有", "按份共有"
JOINT_SHARE = "共同共有"


@dataclass(frozen=True)
class OwnerShare:
    person_id: int
    share: str  # "1/2", or "共同共有" for joint ownership


@dataclass(frozen=True)
class RightDetails:
    right_type: str
    right_nature: str
    use: str
    area_m2: Decimal
    term_start: date | None = None
    term_end: date | None = None
    notes: str | None = None


def _check_owners(owners: list[OwnerShare]) -> str:
    """Validate the owners' shares; return the kind of co-ownership they describe."""
    if not owners:
        raise ValidationFailed({"owners": ["至少需要一名权利人"]})
    if len({o.person_id for o in owners}) != len(owners):
        raise ValidationFailed({"owners": ["同一权利人不能重复登记"]})
    if all(o.share == JOINT_SHARE for o in owners):
        if len(owners) < 2:
            raise ValidationFailed({"owners": ["共同共有至少需要两名权利人"]})
        return JOINT
    try:
        total = sum((Fraction(o.share) for o in owners), Fraction(0))
        positive = all(Fraction(o.share) > 0 for o in owners)
    except (ValueError, ZeroDivisionError):
        raise ValidationFailed({"owners": ["份额格式不正确，例如 1/2"]}) from None
    if total != 1 or not positive:
        raise ValidationFailed({"owners": ["各权利人份额之和应为 1"]})
    return SOLE if len(owners) == 1 else BY_SHARES


def current_entry(unit_id: int) -> RegisterEntry | None:
    return db.session.scalar(
        select(RegisterEntry).where(RegisterEntry.unit_id == unit_id,
                                    RegisterEntry.superseded_at.is_(None)))


def enter_right(case: Case, details: RightDetails, owners: list[OwnerShare], *,
                staff_id: int, channel: str = "admin") -> RegisterEntry:
    """登簿: a new version of the unit's register from this case (no commit)."""
    if case.unit is None:
        raise ValidationFailed({"unit": ["办件未指定不动产单元"]})
    if not can_move(case.status_enum, CaseStatus.REGISTERED, case.business_type.rules):
        raise CaseStateConflict(status=case.status, target=CaseStatus.REGISTERED.value)
    if details.area_m2 <= 0:
        raise ValidationFailed({"area_m2": ["面积应大于 0"]})
    if details.term_start and details.term_end and details.term_end <= details.term_start:
        raise ValidationFailed({"term_end": ["使用期限的结束日期应晚于开始日期"]})
    co_ownership = _check_owners(owners)
    previous = current_entry(case.unit.id)
    now = utcnow()
    if previous is not None:
        previous.superseded_at = now
    entry = RegisterEntry(
        unit_id=case.unit.id, version=(previous.version + 1) if previous else 1,
        case_id=case.id, registration_kind=case.business_type_code,
        right_type=details.right_type, right_nature=details.right_nature, use=details.use,
        area_m2=details.area_m2, co_ownership=co_ownership, term_start=details.term_start,
        term_end=details.term_end, notes=details.notes, registered_at=now,
        registered_by=staff_id,
        owners=[RegisterOwner(person_id=o.person_id, share=o.share) for o in owners],
    )
    db.session.add(entry)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("该不动产单元正在被他人登簿，请刷新后重试") from None
    audit.record(actor_type=ActorType.STAFF, actor_id=staff_id, channel=channel,
                 action="register.entered", entity_type="register_entry", entity_id=entry.id,
                 after={"unit": case.unit.unit_number, "version": entry.version,
                        "case": case.case_number})
    return entry


def import_entry(unit: PropertyUnit, details: RightDetails, owners: list[OwnerShare], *,
                 source: str, actor_id: str = "import") -> RegisterEntry:
    """A right registered before the platform (migrated from the legacy register).

    Only for a unit with no register yet on the platform; afterwards every change goes
    through a case. ``registration_kind`` keeps the source ("legacy:<source>").
    """
    if current_entry(unit.id) is not None:
        raise Conflict("该不动产单元已有登记，不能重复导入")
    co_ownership = _check_owners(owners)
    entry = RegisterEntry(
        unit_id=unit.id, version=1, case_id=None, registration_kind=f"legacy:{source}"[:40],
        right_type=details.right_type, right_nature=details.right_nature, use=details.use,
        area_m2=details.area_m2, co_ownership=co_ownership, term_start=details.term_start,
        term_end=details.term_end, notes=details.notes, registered_at=utcnow(),
        owners=[RegisterOwner(person_id=o.person_id, share=o.share) for o in owners],
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(actor_type=ActorType.SYSTEM, actor_id=actor_id, channel="system",
                 action="register.imported", entity_type="register_entry", entity_id=entry.id,
                 after={"unit": unit.unit_number, "source": source})
    return entry


def register_encumbrance(case: Case, kind: str, *, holder_id: int | None,
                         amount_fen: int | None, description: str | None, staff_id: int,
                         channel: str = "admin") -> Encumbrance:
    """A mortgage (抵押权首次登记) or a seizure on a unit (no commit)."""
    if case.unit is None:
        raise ValidationFailed({"unit": ["办件未指定不动产单元"]})
    if kind not in {"mortgage", "seizure"}:
        raise ValidationFailed({"kind": ["不支持的权利限制类型"]})
    if amount_fen is not None and amount_fen <= 0:
        raise ValidationFailed({"amount_fen": ["金额应大于 0（单位：分）"]})
    if current_entry(case.unit.id) is None:
        raise Conflict("该不动产单元尚无登记的权利，不能设立抵押")
    encumbrance = Encumbrance(unit_id=case.unit.id, kind=kind, holder_id=holder_id,
                              amount_fen=amount_fen, description=description,
                              registered_case_id=case.id)
    db.session.add(encumbrance)
    db.session.flush()
    audit.record(actor_type=ActorType.STAFF, actor_id=staff_id, channel=channel,
                 action="register.encumbrance_registered", entity_type="encumbrance",
                 entity_id=encumbrance.id, after={"kind": kind, "case": case.case_number})
    return encumbrance


def discharge_encumbrance(case: Case, encumbrance_id: int, *, staff_id: int,
                          channel: str = "admin") -> Encumbrance:
    """A mortgage ends (抵押权注销登记; no commit)."""
    encumbrance = db.session.get(Encumbrance, encumbrance_id)
    if encumbrance is None or case.unit is None or encumbrance.unit_id != case.unit.id:
        raise NotFound("未找到该不动产单元上的这项权利限制")
    if encumbrance.discharged_at is not None:
        raise Conflict("该抵押已注销")
    encumbrance.discharged_at = utcnow()
    encumbrance.discharged_case_id = case.id
    audit.record(actor_type=ActorType.STAFF, actor_id=staff_id, channel=channel,
                 action="register.encumbrance_discharged", entity_type="encumbrance",
                 entity_id=encumbrance.id, after={"case": case.case_number})
    return encumbrance


# --- archive look-up (查档) -------------------------------------------------------------

def _owned_by(person_id: int) -> Any:
    return exists().where(RegisterOwner.entry_id == RegisterEntry.id,
                          RegisterOwner.person_id == person_id)


def units_of(person_id: int) -> list[RegisterEntry]:
    """The current register entries in which the person is an owner."""
    return list(db.session.scalars(
        select(RegisterEntry).where(RegisterEntry.superseded_at.is_(None), _owned_by(person_id))
        .order_by(RegisterEntry.registered_at.desc())))


def history_for_owner(unit_number: str, person_id: int) -> list[RegisterEntry]:
    """Every version of a unit's register, for a person who is or was one of its owners."""
    unit = db.session.scalar(select(PropertyUnit).where(PropertyUnit.unit_number == unit_number))
    if unit is None:
        raise NotFound("未找到该不动产单元")
    entries = list(db.session.scalars(
        select(RegisterEntry).where(RegisterEntry.unit_id == unit.id)
        .order_by(RegisterEntry.version)))
    if not any(o.person_id == person_id for e in entries for o in e.owners):
        raise NotFound("未找到该不动产单元")  # not an owner: no oracle
    return entries


def encumbrances_on(unit_id: int, *, current_only: bool = True) -> list[Encumbrance]:
    query = select(Encumbrance).where(Encumbrance.unit_id == unit_id)
    if current_only:
        query = query.where(Encumbrance.discharged_at.is_(None))
    return list(db.session.scalars(query.order_by(Encumbrance.registered_at)))


def owner_view(entry: RegisterEntry, person_id: int) -> dict[str, Any]:
    """A register version as an owner sees it: co-owners masked, current encumbrances."""
    unit = db.session.get(PropertyUnit, entry.unit_id)
    assert unit is not None
    current = entry.superseded_at is None
    return {
        **{k: getattr(entry, k) for k in (
            "version", "registration_kind", "right_type", "right_nature", "use", "area_m2",
            "co_ownership", "term_start", "term_end", "registered_at", "superseded_at")},
        "unit_number": unit.unit_number,
        "location": unit.location,
        "owners": [{"name_masked": o.person.name_masked, "share": o.share,
                    "is_me": o.person_id == person_id} for o in entry.owners],
        "encumbrances": [
            {"kind": e.kind, "holder": e.holder.name_masked if e.holder else None,
             "amount_fen": e.amount_fen, "registered_at": e.registered_at,
             "discharged_at": e.discharged_at}
            for e in encumbrances_on(entry.unit_id)
        ] if current else [],
    }
