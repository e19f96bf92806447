"""Archive look-up (查档): a verified owner reads the register entries of their own units."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from api.schemas import StrictSchema, UtcDateTime
from api.security import (
    BEARER_AND_CLAIM,
    citizen_required,
    current_citizen,
    identity_claim_required,
)
from app.kernel.errors import IdentityClaimRequired
from app.register import service

blp = Blueprint("register", __name__, url_prefix="/api/register", description="不动产登记簿查询")


class OwnerSchema(StrictSchema):
    name_masked = fields.String()
    share = fields.String()
    is_me = fields.Boolean()


class EncumbranceSchema(StrictSchema):
    kind = fields.String(metadata={"example": "mortgage"})
    holder = fields.String(allow_none=True)
    amount_fen = fields.Integer(allow_none=True)
    registered_at = UtcDateTime()
    discharged_at = UtcDateTime(allow_none=True)


class EntrySchema(StrictSchema):
    unit_number = fields.String()
    location = fields.String()
    version = fields.Integer()
    registration_kind = fields.String()
    right_type = fields.String()
    right_nature = fields.String()
    use = fields.String()
    area_m2 = fields.Decimal(as_string=True)
    co_ownership = fields.String()
    term_start = fields.Date(allow_none=True)
    term_end = fields.Date(allow_none=True)
    registered_at = UtcDateTime()
    superseded_at = UtcDateTime(allow_none=True)
    owners = fields.List(fields.Nested(OwnerSchema))
    encumbrances = fields.List(fields.Nested(EncumbranceSchema))


def _person_id() -> int:
    account = current_citizen().account
    if account.person_id is None:
        raise IdentityClaimRequired()
    return account.person_id


@blp.route("/units", methods=["GET"])
@citizen_required
@identity_claim_required
@blp.response(200, EntrySchema(many=True))
@blp.doc(security=BEARER_AND_CLAIM)
def my_units() -> Any:
    """我名下的不动产（现势登记信息）"""
    person_id = _person_id()
    return [service.owner_view(entry, person_id) for entry in service.units_of(person_id)]


@blp.route("/units/<unit_number>", methods=["GET"])
@citizen_required
@identity_claim_required
@blp.response(200, EntrySchema(many=True))
@blp.alt_response(404, description="不动产单元不存在或本人不是其权利人")
@blp.doc(security=BEARER_AND_CLAIM)
def unit_history(unit_number: str) -> Any:
    """某一不动产单元的登记历史（仅本人现在或曾经是权利人时）"""
    person_id = _person_id()
    return [service.owner_view(entry, person_id)
            for entry in service.history_for_owner(unit_number, person_id)]
