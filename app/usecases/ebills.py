"""E-bills after payment: the job's pass (docs/ebills.md, app/ebills/service.py).

1. **Obligations.** A paid order without any bill gets one bill row per kind of its
   items, status ``issuing``, in one transaction. Nothing is asked of anyone before
   that row is committed, so a crash or a platform that is down loses nothing.
2. **Issuing.** Each due bill is claimed (a conditional update, committed, so two
   workers never ask for the same bill at once); then, with no write pending, the
   platform is asked with the bill's own ``request_no`` (the same number gets the same
   bill); the code, number and check code are committed at once; then the PDF is
   rendered and stored, and the bill is committed ``issued``. A failure at either step
   is committed as ``failed`` with its back-off.
3. **Voiding.** Issued bills whose order's refunds changed are compared with it; the
   platform voids (红冲) those refunded in full, then the bill is committed ``voided``.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from app.ebills import service as ebills
from app.ebills.models import EBill
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.services import storage
from payments.models import PaymentOrder

logger = logging.getLogger(__name__)


def _write_obligations(order: PaymentOrder) -> None:
    """One transaction: the order's missing bill rows (another worker's first: nothing)."""
    try:
        ebills.write_obligations(order)
        db.session.commit()
    except IntegrityError:  # another worker wrote them first
        db.session.rollback()


def attempt(bill_id: int) -> bool:
    """One try at a due bill: True when it ends issued. Each step is its own short
    transaction, and the platform and the storage are called with nothing pending."""
    if not ebills.claim(bill_id, utcnow()):
        db.session.rollback()
        return False
    db.session.commit()
    bill = db.session.get(EBill, bill_id, populate_existing=True)
    assert bill is not None
    order = db.session.get(PaymentOrder, bill.order_id)
    assert order is not None
    try:
        if bill.bill_number is None:
            issued = ebills.issuer().issue(ebills.request_for(bill, order))
            ebills.record_issued(bill, issued)
            db.session.commit()  # the platform's number is never lost, whatever follows
        if bill.pdf_key is None:
            key = ebills.pdf_key_for(bill)
            storage().put(key, ebills.render_pdf(bill), "application/pdf")
        else:
            key = bill.pdf_key
        ebills.record_stored(bill, key)
        db.session.commit()
        return True
    except Exception as exc:  # one bill's trouble must not stop the others
        db.session.rollback()
        bill = db.session.get(EBill, bill_id, populate_existing=True)
        assert bill is not None
        delay = ebills.record_failure(bill, exc)
        db.session.commit()
        log = logger.warning if ebills.expected_failure(exc) else logger.exception
        log("e-bill %s (attempt %s) failed, retry in %s: %s", bill.request_no, bill.attempts,
            delay, bill.last_error)
        return False


def issue_for_order(order: PaymentOrder) -> list[EBill]:
    """Write the order's missing bills and try those that are due (idempotent: an issued
    bill is never asked for again; a failed one waits for its next attempt). Returns
    the order's bills, fiscal, tax, fund."""
    _write_obligations(order)
    now = utcnow()
    for bill in ebills.bills_of(order):
        if ebills.is_due(bill, now):
            attempt(bill.id)
    return ebills.bills_of(order)


def issue_due(limit: int = 50) -> int:
    """The job: bills for paid orders that have none, retries that are due, voids after
    full refunds. Returns the number of bills issued in this pass."""
    for order in ebills.unbilled_orders(limit):
        _write_obligations(order)
    issued = 0
    for bill_id in ebills.due_bills(utcnow(), limit):
        issued += attempt(bill_id)
    void_refunded(limit)
    return issued


def void_refunded(limit: int = 50) -> int:
    """Void issued bills whose every item was refunded in full (one transaction each); a
    platform that is down leaves the bill issued and the next pass tries again."""
    voided = 0
    for bill, order in ebills.refunds_to_compare(limit):
        if ebills.refunded_in_full(bill, order):
            try:
                ebills.issuer().void(str(bill.bill_code), str(bill.bill_number),
                                     ebills.VOID_REASON)
            except Exception as exc:
                db.session.rollback()
                logger.warning("e-bill %s %s: void failed, retried next pass: %s",
                               bill.bill_code, bill.bill_number, exc)
                continue
            ebills.record_voided(bill)
            voided += 1
        ebills.record_refunds_seen(bill, order)
        db.session.commit()
    return voided
