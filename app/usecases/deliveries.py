"""A paper certificate's way to its owner: the job that sends deliveries off and follows
them, and the hand-over at the window (docs/deliveries.md).

The courier (SF Express) is never called while a transaction has writes pending: the
job reads the delivery, books the parcel or asks for its route, then records the answer
with its audit record and the owners' notice in one short transaction. Asking twice is
safe: the delivery number is the courier's order id, so a retry after a crash between
the booking and the commit books the same parcel again. Each delivery is committed on
its own; a version conflict (another worker moved it meanwhile) is left to that worker.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.cases.models import Case
from app.deliveries import service as deliveries
from app.deliveries.models import Delivery, DeliveryMethod, DeliveryStatus
from app.integrations.courier import CourierError
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.notifications import service as notifications
from app.review.service import case_accounts
from app.services import courier


def move_deliveries(limit: int = 50) -> int:
    """The job: send off gathered deliveries, follow shipped ones. Returns how many
    changed status."""
    now = utcnow()
    changed = 0
    for delivery_id in deliveries.due(now, limit):
        delivery = db.session.get(Delivery, delivery_id)
        if delivery is None:
            continue
        try:
            moved = (_send_off(delivery, now) if delivery.status_enum == DeliveryStatus.WAITING
                     else _track(delivery, now))
            db.session.commit()
            changed += int(moved)
        except (StaleDataError, IntegrityError):
            db.session.rollback()
    return changed


def hand_over_at_window(code: str, staff_id: int) -> Delivery:
    """The clerk hands the documents over at the window (after checking the ID card)."""
    delivery = deliveries.hand_over(code, staff_id)
    db.session.commit()
    return delivery


def _tell(delivery: Delivery, notice: deliveries.Notice | None) -> None:
    if notice is None:
        return
    case = db.session.get(Case, delivery.case_id)
    assert case is not None
    notifications.enqueue(case_accounts(case), notice.template, notice.variables, notice.key)


def _no_writes_pending() -> None:
    session = db.session
    assert not (session.new or session.dirty or session.deleted), \
        "the courier is called with no write pending"


def _send_off(delivery: Delivery, now: datetime) -> bool:
    documents = deliveries.gathered(delivery, now)
    if documents is None:
        deliveries.wait_for_bills(delivery, now)
        return False
    if delivery.method_enum == DeliveryMethod.WINDOW:
        _tell(delivery, deliveries.mark_ready(delivery, documents))
        return True
    parcel = deliveries.parcel_for(delivery, documents)
    _no_writes_pending()
    try:
        gateway = courier()
        waybill = gateway.create_order(parcel)
    except CourierError as exc:
        deliveries.mark_failed(delivery, exc, now)
        return False
    _tell(delivery, deliveries.mark_shipped(delivery, documents, gateway.name, waybill, now))
    return True


def _track(delivery: Delivery, now: datetime) -> bool:
    assert delivery.tracking_number is not None
    _no_writes_pending()
    try:
        routes = courier().routes(delivery.tracking_number)
    except CourierError as exc:
        deliveries.mark_failed(delivery, exc, now)
        return False
    moved, notice = deliveries.record_routes(delivery, routes, now)
    _tell(delivery, notice)
    return moved
