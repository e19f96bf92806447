"""The citizen's e-receipts (电子缴费凭证): every payment order they paid, read-only.

A receipt is one document of a kind. Today there is one kind, ``payment_receipt``: an
online payment order that took the money (paid, refunding, refunded or partially
refunded), with its items, the refunds that succeeded and the gateway's transaction id
masked. Fiscal e-bills (财政电子票据, issue 6) will be a second kind in the same list:
each document says its ``kind``, its own ``number``, when it was issued and, for kinds
that have one, the URL of its file.

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
from app.db import db
from app.errors import NotFound
from app.review.models import Department
from payments.models import OrderStatus, PaymentOrder, Refund, RefundStatus

PAYMENT_RECEIPT = "payment_receipt"
KIND_LABELS = {PAYMENT_RECEIPT: "电子缴费凭证"}
GATEWAY_LABELS = {"wechat": "微信支付", "alipay": "支付宝"}
# Orders that took the money; created, paying and closed ones never did.
RECEIPT_STATUSES = (OrderStatus.PAID, OrderStatus.REFUNDING, OrderStatus.REFUNDED,
                    OrderStatus.PARTIALLY_REFUNDED)
VISIBLE_TAIL = 6
NOT_FOUND_MESSAGE = "未找到该缴费凭证"


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


def list_for(account: Account, page: int, page_size: int) -> Page:
    """The account's receipts, newest payment first."""
    base = _receipts_of(account)
    total = db.session.scalar(
        select(func.count()).select_from(base.with_only_columns(PaymentOrder.id).subquery())
    ) or 0
    rows = db.session.execute(
        base.options(selectinload(PaymentOrder.items))
        .order_by(PaymentOrder.paid_at.desc(), PaymentOrder.id.desc())
        .limit(page_size).offset((page - 1) * page_size)
    ).all()
    refunds = _succeeded_refunds([order.id for order, _ in rows])
    return Page([_view(order, case, refunds.get(order.id, [])) for order, case in rows], total)


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
