"""Online appointments (预约) at the registration centre's service halls."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.schemas import StrictSchema, UtcDateTime
from api.security import BEARER, citizen_required, current_citizen
from app.appointments import service

blp = Blueprint("appointments", __name__, url_prefix="/api", description="预约办理")


class HallSchema(StrictSchema):
    code = fields.String()
    name = fields.String()
    address = fields.String()


class SlotSchema(StrictSchema):
    id = fields.Integer()
    starts_at = UtcDateTime()
    ends_at = UtcDateTime()
    capacity = fields.Integer()
    available = fields.Function(lambda slot: slot.capacity - slot.booked)


class SlotQuerySchema(StrictSchema):
    date = fields.Date(required=True)


class BookingRequestSchema(StrictSchema):
    slot_id = fields.Integer(required=True, validate=validate.Range(min=1))


class BookingSchema(StrictSchema):
    id = fields.Integer()
    status = fields.String()
    hall = fields.Function(lambda b: b.slot.hall.name)
    starts_at = fields.Function(lambda b: UtcDateTime()._serialize(b.slot.starts_at, None, b))
    created_at = UtcDateTime()


@blp.route("/halls", methods=["GET"])
@blp.response(200, HallSchema(many=True))
def halls() -> Any:
    """服务大厅"""
    return service.list_halls()


@blp.route("/halls/<code>/slots", methods=["GET"])
@blp.arguments(SlotQuerySchema, location="query")
@blp.response(200, SlotSchema(many=True))
def slots(query: dict[str, date], code: str) -> Any:
    """某日可预约时段及余量"""
    return service.open_slots(code, query["date"])


@blp.route("/bookings", methods=["GET"])
@citizen_required
@blp.response(200, BookingSchema(many=True))
@blp.doc(security=BEARER)
def my_bookings() -> Any:
    """我的预约"""
    return service.my_bookings(current_citizen().account)


@blp.route("/bookings", methods=["POST"])
@citizen_required
@blp.arguments(BookingRequestSchema)
@blp.response(201, BookingSchema)
@blp.alt_response(409, description="已约满、已预约或时段已过")
@blp.doc(security=BEARER)
def book(body: dict[str, Any]) -> Any:
    """预约时段"""
    identity = current_citizen()
    return service.book(identity.account, body["slot_id"], identity.channel)


@blp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@citizen_required
@blp.response(200, BookingSchema)
@blp.doc(security=BEARER)
def cancel(booking_id: int) -> Any:
    """取消预约"""
    identity = current_citizen()
    return service.cancel(identity.account, booking_id, identity.channel)
