"""The citizen's e-receipts (电子缴费凭证): every payment order they paid, read-only.

A receipt is one document of a kind; each says its ``kind``, its own ``number``, when
it was issued and, for kinds that have one, the URL of its file.

* ``payment_receipt``: an online payment order that took the money (paid, refunding,
  refunded or partially refunded), with its items, the refunds that succeeded and the
  gateway's transaction id masked. Shown, not downloaded.
* The e-bills of issue 6 (app/ebills/): ``fiscal_ebill`` (财政电子票据),
  ``tax_certificate`` (完税证明) and ``fund_receipt`` (专项维修资金收据), once issued,
  with their bill code, number and check code and a PDF at
  ``/api/me/receipts/ebills/<id>.pdf``. A voided (红冲) bill stays in the list with a
  red-letter note.

Both kinds are merged newest first (payment time for receipts, issue time for e-bills).

Whose receipts: orders paid by the account, or by another login of the same verified
person (a WeChat and an SMS login of one citizen see the same receipts). A co-applicant
who did not pay sees none; anyone else's order is "not found", never "forbidden".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app.accounts.models import Account
from app.cases.models import Case
from app.departments import Department
from app.ebills.models import EBill, EBillKind, EBillStatus
from app.ebills.service import read_pdf
from app.kernel.db import db
from app.kernel.errors import NotFound
from payments.models import OrderStatus, PaymentOrder, Refund, RefundStatus

PAYMENT_RECEIPT = "payment_receipt"
# The e-bill kinds as the list names them.
EBILL_KINDS = {EBillKind.FISCAL.value: "fiscal_ebill", EBillKind.TAX.value: "tax_certificate",
               EBillKind.FUND.value: "fund_receipt"}
KIND_LABELS = {PAYMENT_RECEIPT: "电子缴费凭证", "fiscal_ebill": "财政电子票据",
               "tax_certificate": "税收完税证明", "fund_receipt": "专项维修资金收据"}
# E-bills the citizen sees: issued ones, and those voided since.
LISTED_EBILLS = (EBillStatus.ISSUED, EBillStatus.VOIDED)
EBILL_PDF_URL = "/api/me/receipts/ebills/{id}.pdf"
VOID_NOTE = "该票据已红冲作废（对应款项已全额退还）"
GATEWAY_LABELS = {"wechat": "微信支付", "alipay": "支付宝"}
# Orders that took the money; created, paying and closed ones never did.
RECEIPT_STATUSES = (OrderStatus.PAID, OrderStatus.REFUNDING, OrderStatus.REFUNDED,
                    OrderStatus.PARTIALLY_REFUNDED)
VISIBLE_TAIL = 6
NOT_FOUND_MESSAGE = "未找到该缴费凭证"
EBILL_NOT_FOUND_MESSAGE = "未找到该电子票据"


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int


def mask_transaction_id(transaction_id: str | None) -> str | None:
    """Only the last six characters: enough to match a bank or WeChat statement.

    A short id (never seen from the real gateways) keeps at most half of itself.
    """
    if not transaction_id:
        return None
    shown = min(VISIBLE_TAIL, len(transaction_id) // 2)
    return "*" * (len(transaction_id) - shown) + transaction_id[len(transaction_id) - shown:]


def _payer_ids(account: Account) -> Any:
    """The account, and every other login of the same verified person."""
    if account.person_id is None:
        return select(Account.id).where(Account.id == account.id)
    return select(Account.id).where(
        (Account.id == account.id) | (Account.person_id == account.person_id))


def _receipts_of(account: Account) -> Select[PaymentOrder, Case]:
    return (select(PaymentOrder, Case).join(Case, Case.id == PaymentOrder.case_id)
            .where(PaymentOrder.payer_account_id.in_(_payer_ids(account)),
                   PaymentOrder.status.in_([s.value for s in RECEIPT_STATUSES])))


def _ebills_of(account: Account) -> Select[EBill, PaymentOrder, Case]:
    """Issued (or voided) e-bills of orders the account, or its person, paid."""
    return (select(EBill, PaymentOrder, Case)
            .join(PaymentOrder, PaymentOrder.id == EBill.order_id)
            .join(Case, Case.id == EBill.case_id)
            .where(PaymentOrder.payer_account_id.in_(_payer_ids(account)),
                   EBill.status.in_([s.value for s in LISTED_EBILLS])))


def _count(query: Any, column: Any) -> int:
    return db.session.scalar(
        select(func.count()).select_from(query.with_only_columns(column).subquery())) or 0


def list_for(account: Account, page: int, page_size: int) -> Page:
    """The account's receipts and e-bills, newest first.

    Two sorted sources merged: the first ``page × page_size`` of each is enough to cut
    the page (a citizen has a handful of documents; no union query needed).
    """
    receipts_q, ebills_q = _receipts_of(account), _ebills_of(account)
    total = _count(receipts_q, PaymentOrder.id) + _count(ebills_q, EBill.id)
    wanted = page * page_size
    orders = db.session.execute(
        receipts_q.options(selectinload(PaymentOrder.items))
        .order_by(PaymentOrder.paid_at.desc(), PaymentOrder.id.desc()).limit(wanted)
    ).all()
    bills = db.session.execute(
        ebills_q.order_by(EBill.issued_at.desc(), EBill.id.desc()).limit(wanted)).all()
    # Newest first; at the same instant an e-bill (issued after the payment) comes first.
    merged: list[tuple[Any, int, int, Any]] = [
        (order.paid_at, 0, order.id, (order, case)) for order, case in orders]
    merged += [(bill.issued_at, 1, bill.id, (bill, order, case)) for bill, order, case in bills]
    merged.sort(key=lambda entry: entry[:3], reverse=True)
    chosen = merged[(page - 1) * page_size:wanted]
    refunds = _succeeded_refunds([entry[3][0].id for entry in chosen if entry[1] == 0])
    items = [_view(entry[3][0], entry[3][1], refunds.get(entry[3][0].id, [])) if entry[1] == 0
             else _ebill_view(*entry[3]) for entry in chosen]
    return Page(items, total)


def get_for(account: Account, out_trade_no: str) -> dict[str, Any]:
    """One receipt of the account; anyone else's (or an unpaid order) is not found."""
    row = db.session.execute(
        _receipts_of(account).where(PaymentOrder.out_trade_no == out_trade_no)
        .options(selectinload(PaymentOrder.items))
    ).first()
    if row is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    order, case = row
    return _view(order, case, _succeeded_refunds([order.id]).get(order.id, []))


def ebill_pdf_for(account: Account, ebill_id: int) -> tuple[EBill, bytes]:
    """An e-bill's PDF for the account that paid (or its person); anyone else's bill, a
    bill not issued yet and a bill that does not exist are all "not found"."""
    row = db.session.execute(_ebills_of(account).where(EBill.id == ebill_id)).first()
    if row is None or row[0].pdf_key is None:
        raise NotFound(EBILL_NOT_FOUND_MESSAGE)
    return row[0], read_pdf(row[0])


def ebill_ids_of_case(case_id: int) -> dict[str, int]:
    """A case's e-bills by their listed number (``票据代码-票据号码``) → id (whoever may
    see them: the caller lists only those :func:`list_for` gave)."""
    return {f"{code}-{number}": bill_id for bill_id, code, number in db.session.execute(
        select(EBill.id, EBill.bill_code, EBill.bill_number).where(EBill.case_id == case_id))}


def _succeeded_refunds(order_ids: list[int]) -> dict[int, list[Refund]]:
    found: dict[int, list[Refund]] = {}
    if not order_ids:
        return found
    for refund in db.session.scalars(
            select(Refund).where(Refund.order_id.in_(order_ids),
                                 Refund.status == RefundStatus.SUCCEEDED)
            .order_by(Refund.completed_at, Refund.id)):
        found.setdefault(refund.order_id, []).append(refund)
    return found


def _department_label(code: str) -> str:
    try:
        return Department(code).label
    except ValueError:
        return code


def _view(order: PaymentOrder, case: Case, refunds: list[Refund]) -> dict[str, Any]:
    return {
        "kind": PAYMENT_RECEIPT,
        "kind_label": KIND_LABELS[PAYMENT_RECEIPT],
        "number": order.out_trade_no,
        "issued_at": order.paid_at,
        "file_url": None,  # payment receipts are shown, not downloaded (e-bills will be)
        "case_number": case.case_number,
        "business_type": {"code": case.business_type.code, "name": case.business_type.name},
        "out_trade_no": order.out_trade_no,
        "gateway": order.gateway,
        "gateway_label": GATEWAY_LABELS.get(order.gateway, order.gateway),
        "transaction_id_masked": mask_transaction_id(order.transaction_id),
        "paid_at": order.paid_at,
        "amount_fen": order.amount_fen,
        "refunded_fen": order.refunded_fen,
        "status": order.status,
        "status_label": order.status_enum.label,
        "items": [{"name": item.name, "department": item.department,
                   "department_label": _department_label(item.department),
                   "amount_fen": item.amount_fen, "refunded_fen": item.refunded_fen}
                  for item in order.items],
        "refunds": [{"amount_fen": refund.amount_fen, "refunded_at": refund.completed_at}
                    for refund in refunds],
    }


def _ebill_view(bill: EBill, order: PaymentOrder, case: Case) -> dict[str, Any]:
    kind = EBILL_KINDS[bill.kind]
    voided = bill.status == EBillStatus.VOIDED
    return {
        "kind": kind,
        "kind_label": KIND_LABELS[kind],
        "number": f"{bill.bill_code}-{bill.bill_number}",
        "issued_at": bill.issued_at,
        "file_url": EBILL_PDF_URL.format(id=bill.id),
        "case_number": case.case_number,
        "business_type": {"code": case.business_type.code, "name": case.business_type.name},
        "out_trade_no": order.out_trade_no,
        "paid_at": order.paid_at,
        "amount_fen": bill.total_fen,
        "status": bill.status,
        "status_label": bill.status_enum.label,
        "items": [{"name": str(line["name"]), "amount_fen": int(line["amount_fen"])}
                  for line in bill.items],
        "bill_code": bill.bill_code,
        "bill_number": bill.bill_number,
        "check_code": bill.check_code,
        "issuer_name": bill.issuer_name,
        "verify_url": bill.verify_url,
        "voided_at": bill.voided_at,
        "note": VOID_NOTE if voided else None,
    }
