"""Paper certificates: which cases get one, gathering a case's documents, the courier,
the window (docs/deliveries.md).

A natural person chooses an electronic certificate (free) or a paper one, by mail or
collected at the window (the 10-yuan 工本费 item); a legal person always gets the
electronic one. The electronic certificate is issued either way: the paper one is its
print. When the certificate is issued, :func:`prepare` writes a delivery in the same
transaction. The job runner then runs ``app.usecases.deliveries.move_deliveries``, which
uses the steps here (none of them commits, none of them calls the courier: the use case
calls the courier with no write pending and records the answer in a short transaction):

1. **Gathering.** A waiting delivery leaves when every document of the case is ready:
   the certificate, and the e-bills of every paid order (printed and enclosed), so the
   documents of one case go together. It waits at most ``DELIVERY_WAIT_FOR_BILLS_MINUTES``
   for the bills; after that it leaves with what there is (the bills stay downloadable).
2. **Booking.** Mail: the courier is asked for a waybill with the delivery number as its
   order id, so asking twice books one parcel. Window: the parcel is ``ready``. The owner
   is told (SMS / subscribe message) with the tracking number or the window.
3. **Tracking.** A shipped parcel's route is asked every ``DELIVERY_TRACK_INTERVAL_SECONDS``;
   signed for (opCode 80) → ``delivered``; returned (99) → ``returned``, to be collected
   at the window with the same pickup code.

A courier that is down is asked again with back-off; nothing is lost or sent twice.
Every change is audited.
"""

from __future__ import annotations

import io
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import segno
from flask import current_app
from sqlalchemy import select

from app.accounts.models import Account
from app.cases.application import HOLDER_ROLES
from app.cases.models import Case
from app.certificates.content import KIND_TITLES
from app.certificates.models import Certificate
from app.deliveries.models import (
    AT_WINDOW,
    DELIVERY_STATES,
    Delivery,
    DeliveryMethod,
    DeliveryStatus,
)
from app.ebills.models import EBill, EBillKind, EBillStatus
from app.integrations.courier import (
    OP_DELIVERED,
    OP_RETURNED,
    Contact,
    CourierError,
    Parcel,
    RouteEvent,
)
from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.crypto import lookup_hash
from app.kernel.db import db
from app.kernel.errors import Conflict, NotFound
from app.kernel.timeutil import as_utc, format_local, utcnow
from app.kernel.validators import InvalidValue, mask_name, mask_phone, mobile_phone
from payments.models import OrderStatus, PaymentOrder

logger = logging.getLogger(__name__)

# The form's choice (section certificate_delivery, field form) → how the paper travels.
PAPER_CHOICES = {"paper": DeliveryMethod.MAIL, "paper_window": DeliveryMethod.WINDOW}
PICKUP_CODE_PURPOSE = "deliveries.pickup_code"
QR_PREFIX = "BDC-PICKUP:"  # what the window's scanner types before the code
RETRY_DELAYS = [timedelta(seconds=s) for s in (30, 60, 120, 300, 600, 1800, 3600)]
BILLED_ORDERS = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)


def paper_method(case: Case) -> DeliveryMethod | None:
    """How this case's paper certificate travels, or None (electronic only).

    A legal person's certificate is electronic whatever the form says (the form refuses
    the choice, and submission checks it again; this is the last line)."""
    choice = (case.form_data.get("certificate_delivery") or {}).get("form")
    method = PAPER_CHOICES.get(str(choice))
    holder_role = HOLDER_ROLES.get(case.business_type_code)
    holders = [a for a in case.applicants if a.role == holder_role]
    if method is None or not holders or any(a.person.is_legal for a in holders):
        return None
    return method


def _recipient(case: Case) -> tuple[str, str]:
    """The first holder receives it; the phone given with the choice, else theirs on
    file, else their account's, else the case creator's."""
    holder = next(a for a in case.applicants
                  if a.role == HOLDER_ROLES.get(case.business_type_code))
    try:
        phone: str | None = mobile_phone(
            (case.form_data.get("certificate_delivery") or {}).get("phone") or "")
    except InvalidValue:
        phone = holder.person.phone
    if not phone:
        account = db.session.scalar(select(Account).where(
            Account.person_id == holder.person_id, Account.phone.is_not(None)))
        phone = account.phone if account is not None else None
    if not phone:
        creator = db.session.get(Account, case.created_by_account_id)
        phone = creator.phone if creator is not None else None
    return holder.person.name, phone or ""


def _new_pickup_code() -> tuple[str, str]:
    while True:
        code = f"{secrets.randbelow(10**8):08d}"
        digest = lookup_hash(code, PICKUP_CODE_PURPOSE)
        if db.session.scalar(select(Delivery.id).where(
                Delivery.pickup_code_hash == digest)) is None:
            return code, digest


def _document(certificate: Certificate) -> dict[str, Any]:
    return {"kind": "certificate", "title": KIND_TITLES[certificate.kind],
            "number": certificate.number}


def prepare(case: Case, certificate: Certificate) -> Delivery | None:
    """In the issuing transaction (no commit): the delivery of a paper certificate."""
    method = paper_method(case)
    if method is None:
        return None
    existing = db.session.scalar(select(Delivery).where(
        Delivery.case_id == case.id, Delivery.reissue_no == certificate.reissue_no))
    if existing is not None:
        return existing
    name, phone = _recipient(case)
    code, digest = _new_pickup_code()
    address = (case.form_data.get("certificate_delivery") or {}).get("address")
    delivery = Delivery(
        number=f"{case.case_number}-{certificate.reissue_no}", case_id=case.id,
        reissue_no=certificate.reissue_no, method=method, recipient_name=name,
        recipient_phone=phone, address=address if method == DeliveryMethod.MAIL else None,
        pickup_code=code, pickup_code_hash=digest, documents=[_document(certificate)],
        next_attempt_at=utcnow())
    db.session.add(delivery)
    audit.record(actor_type=ActorType.SYSTEM, actor_id="deliveries", channel=Channel.SYSTEM,
                 action="delivery.created", entity_type="delivery", entity_id=delivery.number,
                 after={"case": case.case_number, "method": method.value,
                        "certificate": certificate.number})
    return delivery


# --- the job ----------------------------------------------------------------------------------

def _bills(case_id: int) -> tuple[list[EBill], bool]:
    """The case's issued e-bills, and whether any is still to come."""
    bills = list(db.session.scalars(select(EBill).where(EBill.case_id == case_id)
                                    .order_by(EBill.id)))
    billed_orders = {b.order_id for b in bills}
    paid_orders = set(db.session.scalars(select(PaymentOrder.id).where(
        PaymentOrder.case_id == case_id, PaymentOrder.status.in_(BILLED_ORDERS))))
    pending = bool(paid_orders - billed_orders) or any(
        b.status_enum in (EBillStatus.ISSUING, EBillStatus.FAILED) for b in bills)
    return [b for b in bills if b.status_enum == EBillStatus.ISSUED], pending


@dataclass(frozen=True)
class Notice:
    """What the owners are told about a delivery (the use case puts it in the outbox)."""

    template: str
    variables: dict[str, Any]
    key: str


def _notice(delivery: Delivery, template: str, **variables: Any) -> Notice:
    case = db.session.get(Case, delivery.case_id)
    assert case is not None
    return Notice(template, {"case_number": case.case_number, **variables},
                  f"{template}:{delivery.number}")


def _audit(delivery: Delivery, action: str, actor: str, **after: Any) -> None:
    audit.record(actor_type=ActorType.SYSTEM if actor in ("deliveries", "courier")
                 else ActorType.STAFF, actor_id=actor,
                 channel=Channel.SYSTEM if actor in ("deliveries", "courier") else Channel.ADMIN,
                 action=action, entity_type="delivery", entity_id=delivery.number,
                 after={"status": delivery.status, **after})


def due(now: datetime, limit: int = 50) -> list[int]:
    """Waiting deliveries to send off and shipped ones to follow, whose time has come."""
    return list(db.session.scalars(select(Delivery.id).where(
        Delivery.status.in_((DeliveryStatus.WAITING, DeliveryStatus.SHIPPED)),
        Delivery.next_attempt_at <= now).order_by(Delivery.next_attempt_at).limit(limit)))


def gathered(delivery: Delivery, now: datetime) -> list[dict[str, Any]] | None:
    """Every document of the case, or None while the bills are still worth waiting for."""
    issued, pending = _bills(delivery.case_id)
    waited = now - as_utc(delivery.created_at)
    wait = timedelta(minutes=int(current_app.config["DELIVERY_WAIT_FOR_BILLS_MINUTES"]))
    if pending and waited < wait:
        return None
    certificates = [d for d in delivery.documents if d["kind"] == "certificate"]
    return certificates + [
        {"kind": "ebill", "title": EBillKind(b.kind).label,
         "number": f"{b.bill_code}-{b.bill_number}"} for b in issued]


def wait_for_bills(delivery: Delivery, now: datetime) -> None:
    delivery.next_attempt_at = now + timedelta(seconds=30)


def mark_ready(delivery: Delivery, documents: list[dict[str, Any]]) -> Notice:
    """A window delivery: the documents wait at the window."""
    delivery.documents = documents
    DELIVERY_STATES.move(delivery, DeliveryStatus.READY)
    _audit(delivery, "delivery.ready", "deliveries", documents=len(documents))
    return _notice(delivery, "certificate_at_window",
                   status_label="待领取", hint="请携带身份证件并出示取件码")


def parcel_for(delivery: Delivery, documents: list[dict[str, Any]]) -> Parcel:
    """What the courier is asked to carry; the delivery number is the order id, so asking
    twice books one parcel."""
    sender = current_app.config["DELIVERY_SENDER"]
    return Parcel(
        order_id=delivery.number,
        sender=Contact(sender["name"], sender["phone"], sender["address"], sender["name"]),
        recipient=Contact(delivery.recipient_name, delivery.recipient_phone,
                          delivery.address or ""),
        contents=[f"{d['title']} {d['number']}" for d in documents],
        sign_code=delivery.pickup_code)


def mark_failed(delivery: Delivery, exc: CourierError, now: datetime) -> None:
    """The courier did not answer: asked again later, with back-off."""
    delivery.attempts += 1
    delivery.last_error = f"{exc.code}: {exc.message}"[:200]
    delivery.next_attempt_at = now + RETRY_DELAYS[min(delivery.attempts, len(RETRY_DELAYS)) - 1]
    logger.warning("delivery %s: courier failed (%s), attempt %d", delivery.number, exc.code,
                   delivery.attempts)


def mark_shipped(delivery: Delivery, documents: list[dict[str, Any]], courier_name: str,
                 waybill: str, now: datetime) -> Notice:
    delivery.documents = documents
    delivery.courier = courier_name
    delivery.tracking_number = waybill
    DELIVERY_STATES.move(delivery, DeliveryStatus.SHIPPED)
    delivery.shipped_at = now
    delivery.attempts, delivery.last_error = 0, None
    delivery.next_attempt_at = now + _track_interval()
    _audit(delivery, "delivery.shipped", "deliveries", tracking_number=waybill,
           documents=len(documents))
    return _notice(delivery, "certificate_shipped",
                   tracking_number=waybill, hint="签收时请出示签收码")


def _track_interval() -> timedelta:
    return timedelta(seconds=int(current_app.config["DELIVERY_TRACK_INTERVAL_SECONDS"]))


def record_routes(delivery: Delivery, routes: list[RouteEvent],
                  now: datetime) -> tuple[bool, Notice | None]:
    """The courier's route as last asked: signed for (opCode 80) → delivered; returned
    (99) → returned, to be collected at the window. Whether the status moved, and what
    the owners are told."""
    delivery.attempts, delivery.last_error = 0, None
    delivery.events = [{"at": e.at.isoformat(), "op_code": e.op_code, "place": e.place,
                        "remark": e.remark} for e in routes]
    delivery.next_attempt_at = now + _track_interval()
    final = next((e for e in reversed(routes) if e.op_code in (OP_DELIVERED, OP_RETURNED)), None)
    if final is None:
        return False, None
    if final.op_code == OP_DELIVERED:
        DELIVERY_STATES.move(delivery, DeliveryStatus.DELIVERED)
        delivery.finished_at = as_utc(final.at)
        delivery.handed_over_by = "courier"
        _audit(delivery, "delivery.delivered", "courier", at=final.at.isoformat())
        return True, None
    DELIVERY_STATES.move(delivery, DeliveryStatus.RETURNED)
    _audit(delivery, "delivery.returned", "courier", at=final.at.isoformat())
    return True, _notice(delivery, "certificate_at_window",
                         status_label="已退回", hint="快件已退回，请到窗口领取")


# --- the window ------------------------------------------------------------------------------

def find_by_code(code: str) -> Delivery:
    """The delivery this pickup code opens at the window (404 for anything else)."""
    code = "".join(code.split()).removeprefix(QR_PREFIX)
    delivery = db.session.scalar(select(Delivery).where(
        Delivery.pickup_code_hash == lookup_hash(code, PICKUP_CODE_PURPOSE))) if (
        code.isdigit() and len(code) == 8) else None
    if delivery is None:
        raise NotFound("取件码无效，请核对后重新输入")
    return delivery


def hand_over(code: str, staff_id: int) -> Delivery:
    """The clerk hands the documents over at the window, after checking the ID card
    (no commit)."""
    delivery = find_by_code(code)
    if delivery.status_enum not in AT_WINDOW:
        raise Conflict(f"该证书当前状态为“{delivery.status_enum.label}”，不能在窗口领取",
                       status=delivery.status)
    DELIVERY_STATES.move(delivery, DeliveryStatus.COLLECTED)
    delivery.finished_at = utcnow()
    delivery.handed_over_by = f"staff:{staff_id}"
    _audit(delivery, "delivery.collected", f"staff:{staff_id}")
    return delivery


def at_window(limit: int = 200) -> list[Delivery]:
    return list(db.session.scalars(select(Delivery).where(
        Delivery.status.in_(AT_WINDOW)).order_by(Delivery.id).limit(limit)))


def recent(limit: int = 100) -> list[Delivery]:
    return list(db.session.scalars(select(Delivery).order_by(Delivery.id.desc()).limit(limit)))


# --- the owner's view -----------------------------------------------------------------------

def case_numbers(deliveries: list[Delivery]) -> dict[int, str]:
    """The case number of each delivery's case, by case id."""
    ids = {d.case_id for d in deliveries}
    return {case_id: number for case_id, number in db.session.execute(
        select(Case.id, Case.case_number).where(Case.id.in_(ids)))} if ids else {}


def of_case(case: Case) -> list[Delivery]:
    return list(db.session.scalars(select(Delivery).where(Delivery.case_id == case.id)
                                   .order_by(Delivery.reissue_no)))


def is_holder(case: Case, account: Account) -> bool:
    """Whether ``account`` is one of the case's right holders (who may see the code)."""
    role = HOLDER_ROLES.get(case.business_type_code)
    return account.person_id is not None and any(
        a.person_id == account.person_id and a.role == role for a in case.applicants)


def views_for(case: Case, account: Account) -> list[dict[str, Any]]:
    """The case's deliveries as ``account`` (an applicant of the case) sees them."""
    with_code = is_holder(case, account)
    return [view(d, with_code=with_code) for d in of_case(case)]


def pickup_qr_for(case: Case, account: Account, number: str) -> bytes:
    """The QR of a delivery's pickup code, for a holder while the code can be used."""
    delivery = next((d for d in of_case(case) if d.number == number), None)
    if delivery is None or not is_holder(case, account) or \
            view(delivery, with_code=True)["pickup_code"] is None:
        raise NotFound("未找到可用的取件码")
    return pickup_qr_png(delivery)


def view(delivery: Delivery, *, with_code: bool) -> dict[str, Any]:
    """What the owner sees; the pickup code only to the holders, never in a list."""
    return {
        "number": delivery.number, "method": delivery.method,
        "method_label": delivery.method_enum.label, "status": delivery.status,
        "status_label": delivery.status_enum.label,
        "recipient_masked": mask_name(delivery.recipient_name),
        "phone_masked": mask_phone(delivery.recipient_phone) if delivery.recipient_phone else "",
        "address_masked": _mask_address(delivery.address),
        "documents": [dict(d) for d in delivery.documents],
        "courier": delivery.courier, "tracking_number": delivery.tracking_number,
        "events": [{**e, "at_local": format_local(datetime.fromisoformat(e["at"]))}
                   for e in reversed(delivery.events or [])],
        "shipped_at": delivery.shipped_at, "finished_at": delivery.finished_at,
        "pickup_code": delivery.pickup_code if with_code and delivery.status_enum in (
            DeliveryStatus.WAITING, DeliveryStatus.SHIPPED, *AT_WINDOW) else None,
    }


def _mask_address(address: str | None) -> str | None:
    """The district is enough to recognise one's own address: 广东省珠海市香洲区****."""
    if not address:
        return None
    for marker in ("区", "县", "市"):
        at = address.find(marker)
        if 0 <= at < len(address) - 1:
            return address[:at + 1] + "****"
    return address[:6] + "****"


def pickup_qr_png(delivery: Delivery) -> bytes:
    out = io.BytesIO()
    segno.make(f"{QR_PREFIX}{delivery.pickup_code}", error="m").save(
        out, kind="png", scale=8, border=2)
    return out.getvalue()
