"""E-bills after payment: what to issue, retry and void (docs/ebills.md).

The steps and their transactions are the use case's (app/usecases/ebills.py
``issue_due``, run by the job on every pass); the helpers here only flush. No call to
the issuing platform or the file storage happens while a write is pending:

1. **Obligations.** A paid order (``paid`` or ``partially_refunded``) without any bill
   gets one bill row per kind of its items — ``fiscal`` for the administrative fees,
   ``tax`` for the deed tax, ``fund`` for the maintenance fund (:func:`kind_of`) — in
   one transaction, status ``issuing``. Nothing is asked of anyone before that row is
   committed, so a crash or a platform that is down loses nothing: the order stays
   "paid without bills" until its rows exist, and the rows stay until issued. Kinds
   whose items were all refunded before the job came are not billed.
2. **Issuing.** Each bill that is ``issuing``, or ``failed`` and due again, is claimed
   (a conditional update, so two workers never ask for the same bill at once) and sent
   to the issuing adapter with its own ``request_no``; the platform answers the same
   request number with the same bill, so a timeout after it issued cannot make a
   second one. The code, number and check code are committed at once; then the PDF is
   rendered and stored (encrypted, like every file). A failure at either step leaves
   the bill ``failed`` with the error, retried after 30 s, 1, 2, 5, 10, 30 minutes,
   then hourly — never given up.
3. **Voiding.** When an order's refunded amount changes, its issued bills are compared
   with it: a bill whose every item was refunded in full is voided (红冲) at the
   platform and marked ``voided``; the citizen's list shows it with a red-letter note.
   A partial refund leaves the bill as it is (see docs/ebills.md).

The unique (order, kind) constraint makes a second pass, or a second worker, harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select, update

from app.accounts.models import Account
from app.cases.models import Case
from app.ebills.models import EBILL_STATES, EBill, EBillKind, EBillStatus
from app.ebills.render import BillDocument, render_document
from app.fees.service import PAYER_ROLES
from app.integrations.ebills import (
    BillLine,
    BillRequest,
    EBillIssuer,
    IssuedBill,
    IssuerError,
)
from app.integrations.storage import StorageError
from app.kernel.db import db
from app.kernel.timeutil import as_utc, utcnow
from app.services import ebill_issuer, storage
from payments.models import OrderStatus, PaymentOrder

logger = logging.getLogger(__name__)

# Which bill an order item goes on: by item code first, then by the collecting department.
KIND_BY_ITEM = {"deed_tax": EBillKind.TAX, "maintenance_fund": EBillKind.FUND}
KIND_BY_DEPARTMENT = {"registration": EBillKind.FISCAL, "tax": EBillKind.TAX,
                      "housing": EBillKind.FUND}
KIND_ORDER = (EBillKind.FISCAL, EBillKind.TAX, EBillKind.FUND)
DEFAULT_ISSUERS = {"fiscal": "珠海市不动产登记中心", "tax": "国家税务总局珠海市税务局",
                   "fund": "珠海市住房和城乡建设局"}
# Orders whose bills are due; a fully refunded order is never billed.
BILLABLE = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)
PENDING = (EBillStatus.ISSUING, EBillStatus.FAILED)
RETRY_DELAYS = [timedelta(seconds=s) for s in (30, 60, 120, 300, 600, 1800, 3600)]
# How long a claimed bill is left to the worker that claimed it (then another may try).
CLAIM = timedelta(minutes=2)
VOID_REASON = "全额退款，红冲"


def kind_of(item_code: str, department: str) -> EBillKind:
    """The bill an item belongs on; an unknown administrative item is a fiscal bill."""
    return KIND_BY_ITEM.get(item_code) or KIND_BY_DEPARTMENT.get(department, EBillKind.FISCAL)


def issuer() -> EBillIssuer:
    """The app's issuing adapter (tests may put another in app.extensions)."""
    return ebill_issuer()


def issuer_name(kind: str) -> str:
    names = {**DEFAULT_ISSUERS, **(current_app.config.get("EBILL_ISSUERS") or {})}
    return str(names[kind])


def retry_delay(attempts: int) -> timedelta:
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


# --- obligations ----------------------------------------------------------------------


def _payer_name(order: PaymentOrder, case: Case) -> str:
    """Who paid: the payer-role applicants (buyers, mortgagee …) the paying account acts
    for, else the paying account's person, else every payer-role applicant."""
    account = db.session.get(Account, order.payer_account_id)
    person_id = account.person_id if account is not None else None
    role = PAYER_ROLES.get(case.business_type_code)
    payers = [a for a in case.applicants if a.role == role]
    mine = [a for a in payers if person_id is not None and a.confirmer_id == person_id]
    if mine:
        return "、".join(dict.fromkeys(a.person.name for a in mine))
    if account is not None and account.person is not None:
        return account.person.name
    return "、".join(dict.fromkeys(a.person.name for a in payers)) or "—"


def write_obligations(order: PaymentOrder) -> None:
    """Write the order's missing bills, status ``issuing`` (flushes: a second worker that
    wrote them first makes the caller's commit fail on the unique (order, kind))."""
    existing = {bill.kind for bill in db.session.scalars(
        select(EBill).where(EBill.order_id == order.id))}
    if order.status_enum not in BILLABLE:
        return
    grouped: dict[EBillKind, list] = {}
    for item in order.items:
        grouped.setdefault(kind_of(item.item_code, item.department), []).append(item)
    missing = [kind for kind in KIND_ORDER if kind in grouped and kind.value not in existing
               and any(i.refunded_fen < i.amount_fen for i in grouped[kind])]
    if not missing:
        return
    case = db.session.get(Case, order.case_id)
    assert case is not None
    payer = _payer_name(order, case)
    for kind in missing:
        items = grouped[kind]
        db.session.add(EBill(
            case_id=order.case_id, order_id=order.id, kind=kind.value,
            status=EBillStatus.ISSUING, request_no=f"{order.out_trade_no}-{kind.value}",
            payer_name=payer, issuer_name=issuer_name(kind.value),
            items=[{"order_item_id": i.id, "name": i.name, "amount_fen": i.amount_fen}
                   for i in items],
            total_fen=sum(i.amount_fen for i in items), next_attempt_at=utcnow(),
            refunds_seen_fen=order.refunded_fen))
    db.session.flush()


def bills_of(order: PaymentOrder) -> list[EBill]:
    """The order's bills, fiscal, tax, fund (read again from the database)."""
    return _in_kind_order(db.session.scalars(
        select(EBill).where(EBill.order_id == order.id).execution_options(
            populate_existing=True)))


def _in_kind_order(bills: Iterable[EBill]) -> list[EBill]:
    rank = {kind.value: n for n, kind in enumerate(KIND_ORDER)}
    return sorted(bills, key=lambda bill: rank.get(bill.kind, 99))


def unbilled_orders(limit: int) -> list[PaymentOrder]:
    """Paid orders that have no bill yet."""
    return list(db.session.scalars(
        select(PaymentOrder).where(
            PaymentOrder.status.in_([s.value for s in BILLABLE]),
            ~exists(select(EBill.id).where(EBill.order_id == PaymentOrder.id)))
        .order_by(PaymentOrder.id).limit(limit)))


def due_bills(now: datetime, limit: int) -> list[int]:
    """Bills to issue now: not asked yet, or failed and due again."""
    return list(db.session.scalars(
        select(EBill.id).where(EBill.status.in_([s.value for s in PENDING]),
                               EBill.next_attempt_at <= now)
        .order_by(EBill.next_attempt_at, EBill.id).limit(limit)))


def is_due(bill: EBill, now: datetime) -> bool:
    return bill.status_enum in PENDING and as_utc(bill.next_attempt_at) <= now


# --- issuing --------------------------------------------------------------------------


def claim(bill_id: int, now: datetime) -> bool:
    """Take a due bill for this worker (the caller commits at once); False when it is not
    due or taken. The status is unchanged: only the next attempt moves away."""
    claimed = db.session.execute(
        update(EBill).where(EBill.id == bill_id, EBill.status.in_([s.value for s in PENDING]),
                            EBill.next_attempt_at <= now)
        .values(attempts=EBill.attempts + 1, next_attempt_at=now + CLAIM)
        .execution_options(synchronize_session=False))
    return bool(getattr(claimed, "rowcount", 0))


def request_for(bill: EBill, order: PaymentOrder) -> BillRequest:
    return BillRequest(
        request_no=bill.request_no, kind=bill.kind, payer_name=bill.payer_name,
        items=[BillLine(str(i["name"]), int(i["amount_fen"])) for i in bill.items],
        total_fen=bill.total_fen, issuer_name=bill.issuer_name,
        paid_at=as_utc(order.paid_at or bill.created_at), reference=order.out_trade_no)


def record_issued(bill: EBill, issued: IssuedBill) -> None:
    """The platform's code, number and check code (flushes)."""
    bill.bill_code, bill.bill_number = issued.bill_code, issued.bill_number
    bill.check_code, bill.verify_url = issued.check_code, issued.verify_url
    bill.issued_at = issued.issued_at
    db.session.flush()


def pdf_key_for(bill: EBill) -> str:
    return f"ebills/{bill.bill_code}/{bill.bill_number}.pdf"


def record_stored(bill: EBill, key: str) -> None:
    """The PDF is stored: the bill is issued (flushes)."""
    bill.pdf_key = key
    EBILL_STATES.move(bill, EBillStatus.ISSUED)
    bill.last_error = None
    db.session.flush()


def record_failure(bill: EBill, exc: Exception) -> timedelta:
    """A failed attempt: retried after the back-off returned (flushes)."""
    delay = retry_delay(bill.attempts)
    if bill.status_enum != EBillStatus.FAILED:
        EBILL_STATES.move(bill, EBillStatus.FAILED)
    bill.last_error = f"{type(exc).__name__}: {exc}"[:200]
    bill.next_attempt_at = utcnow() + delay
    db.session.flush()
    return delay


def expected_failure(exc: Exception) -> bool:
    return isinstance(exc, IssuerError | StorageError)


# --- refunds: red-letter bills --------------------------------------------------------


def refunds_to_compare(limit: int) -> list[tuple[EBill, PaymentOrder]]:
    """Issued bills whose order's refunds changed since the bill was last compared."""
    rows = db.session.execute(
        select(EBill, PaymentOrder).join(PaymentOrder, PaymentOrder.id == EBill.order_id)
        .where(EBill.status == EBillStatus.ISSUED,
               PaymentOrder.refunded_fen != EBill.refunds_seen_fen)
        .order_by(EBill.id).limit(limit)).all()
    return [(bill, order) for bill, order in rows]


def refunded_in_full(bill: EBill, order: PaymentOrder) -> bool:
    """Every item of the bill was refunded in full (a partial refund keeps the bill)."""
    by_id = {item.id: item for item in order.items}
    return all((item := by_id.get(int(line["order_item_id"]))) is not None
               and item.refunded_fen >= item.amount_fen for line in bill.items)


def record_voided(bill: EBill) -> None:
    EBILL_STATES.move(bill, EBillStatus.VOIDED)
    bill.voided_at = utcnow()
    db.session.flush()


def record_refunds_seen(bill: EBill, order: PaymentOrder) -> None:
    bill.refunds_seen_fen = order.refunded_fen
    db.session.flush()


# --- the document ---------------------------------------------------------------------


def document_of(bill: EBill) -> BillDocument:
    if bill.bill_code is None or bill.bill_number is None or bill.check_code is None \
            or bill.issued_at is None or bill.verify_url is None:
        raise ValueError("the bill has not been issued")
    case = db.session.get(Case, bill.case_id)
    order = db.session.get(PaymentOrder, bill.order_id)
    assert case is not None and order is not None
    return BillDocument(
        kind=bill.kind, bill_code=bill.bill_code, bill_number=bill.bill_number,
        check_code=bill.check_code, issued_at=bill.issued_at, payer_name=bill.payer_name,
        items=[(str(i["name"]), int(i["amount_fen"])) for i in bill.items],
        total_fen=bill.total_fen, issuer_name=bill.issuer_name, verify_url=bill.verify_url,
        case_number=case.case_number, reference=order.out_trade_no)


def render_pdf(bill: EBill) -> bytes:
    """The issued bill as a PDF (fpdf2 + the CJK font; see app/ebills/render.py)."""
    return render_document(document_of(bill))


def read_pdf(bill: EBill) -> bytes:
    """The stored PDF of an issued (or voided) bill."""
    if bill.pdf_key is None:
        raise ValueError("the bill has no PDF yet")
    return storage().get(bill.pdf_key)
