"""People: register natural and legal persons, and bind a verified identity to an account.

The merge rule (docs/identity.md): a natural person *is* their resident ID number.
Each login channel has its own account (WeChat openid, phone number); when an account
verifies an identity, it is linked to the one Person whose ID-number hash matches —
created on the first verification, reused on every later one. So a citizen who
verifies through the mini-program and through an SMS link ends with one Person, and
sees the same cases from both. A name that differs from the one on record, or an
account already linked to another Person, is refused (IDENTITY_MISMATCH), never merged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import select

from app.kernel import audit, crypto, validators
from app.kernel.audit import ActorType
from app.kernel.db import db
from app.kernel.errors import IdentityMismatch, ValidationFailed
from app.kernel.timeutil import utcnow
from app.people.models import Person, PersonKind

ID_NUMBER_PURPOSE = "resident_id"


def id_number_hash(number: str) -> str:
    return crypto.lookup_hash(number, ID_NUMBER_PURPOSE)


def _validated(**checks: tuple) -> dict[str, str]:
    """Run validators per field; collect every failure into one ValidationFailed."""
    values, errors = {}, {}
    for field, (validator, raw) in checks.items():
        if raw is None:
            continue
        try:
            values[field] = validator(raw)
        except validators.InvalidValue as exc:
            errors[field] = [exc.message]
    if errors:
        raise ValidationFailed(errors)
    return values


def register_natural_person(name: str, id_number: str, phone: str | None = None) -> Person:
    """Find the person with this ID number, or create them; the caller commits."""
    values = _validated(
        name=(validators.person_name, name),
        id_number=(validators.resident_id_number, id_number),
        phone=(validators.mobile_phone, phone),
    )
    digest = id_number_hash(values["id_number"])
    person = db.session.scalar(select(Person).where(Person.id_number_hash == digest))
    if person is not None:
        if person.name != values["name"]:
            raise IdentityMismatch()
        return person
    person = Person(
        kind=PersonKind.NATURAL, name=values["name"], id_number=values["id_number"],
        id_number_hash=digest,
    )
    if "phone" in values:
        person.phone = values["phone"]
        person.phone_hash = crypto.lookup_hash(values["phone"], "phone")
    db.session.add(person)
    db.session.flush()
    return person


def register_legal_person(
    name: str, uscc: str, agent: Person | None = None, small_micro_enterprise: bool = False
) -> Person:
    values = _validated(uscc=(validators.unified_social_credit_code, uscc))
    if not (name or "").strip():
        raise ValidationFailed({"name": ["请填写单位名称"]})
    person = db.session.scalar(select(Person).where(Person.uscc == values["uscc"]))
    if person is None:
        person = Person(kind=PersonKind.LEGAL, name=name.strip(), uscc=values["uscc"])
        db.session.add(person)
    person.agent = agent
    person.small_micro_enterprise = small_micro_enterprise
    db.session.flush()
    return person


class BindableAccount(Protocol):
    """The login being bound (app.accounts.models.Account; accounts stand above people)."""

    id: int
    person_id: int | None
    identity_verified_at: datetime | None
    identity_verified_by: str | None
    phone: str | None
    phone_hash: str | None


def bind_verified_identity(
    account: BindableAccount, name: str, id_number: str, *, method: str, channel: str
) -> Person:
    """Link an account to the Person its verified identity names (the merge rule)."""
    person = register_natural_person(name, id_number)
    if account.person_id is not None and account.person_id != person.id:
        raise IdentityMismatch("该账号已绑定其他身份，不能再绑定新的身份")
    first_binding = account.person_id is None
    account.person_id = person.id
    account.identity_verified_at = utcnow()
    account.identity_verified_by = method
    if account.phone and not person.phone:
        person.phone = account.phone
        person.phone_hash = account.phone_hash
    audit.record(
        actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
        action="identity.bound" if first_binding else "identity.reverified",
        entity_type="account", entity_id=account.id,
        after={"person_id": person.id, "method": method},
    )
    db.session.commit()
    return person
