"""Settling a payment is one transaction: the order paid, the ledger, the case paid, the
audit records, the citizen's notice and (for a double payment) the refund's approval
are committed together or not at all; the gateway is asked for a refund only by the job
after that commit.

The gateways are recording test doubles of the interface (the real SDKs against the
sandbox are tested in tests/payments/)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select, update

from app.accounts.service import account_for_phone
from app.cases import service as cases
from app.cases.models import Case
from app.cases.workflow import CaseStatus
from app.fees.checkout import payable
from app.fees.models import CaseFee
from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.notifications.models import OutboxMessage
from app.usecases.payments import open_order, send_approved_refunds, settle
from payments import service as payments
from payments.gateways.base import CreatedPayment, PaymentResult, RefundResult, TradeState
from payments.models import LedgerEntry, OrderStatus, PaymentOrder, Refund, RefundStatus


class RecordingGateway:
    app_id = None
    merchant_id = None

    def __init__(self, name: str) -> None:
        self.name = name
        self.refunds: list[str] = []

    def create_payment(self, *, out_trade_no: str, **kwargs: Any) -> CreatedPayment:
        return CreatedPayment(gateway_order_id="g-" + out_trade_no, client_params={})

    def close(self, out_trade_no: str) -> None:
        pass

    def refund(self, *, out_trade_no: str, out_refund_no: str, refund_fen: int,
               **kwargs: Any) -> RefundResult:
        self.refunds.append(out_refund_no)
        return RefundResult(out_refund_no=out_refund_no, out_trade_no=out_trade_no,
                            amount_fen=refund_fen, state="success", refund_id="r-1")


@pytest.fixture
def gateways(app: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, RecordingGateway]:
    doubles = {"wechat": RecordingGateway("wechat"), "alipay": RecordingGateway("alipay")}
    monkeypatch.setitem(app.extensions, "bdc.gateways", doubles)
    return doubles


@pytest.fixture
def commits() -> Iterator[list[int]]:
    """The number of commits of the session while the test runs."""
    counted: list[int] = []
    session = db.session()

    def count(_session: Any) -> None:
        counted.append(1)

    event.listen(session, "after_commit", count)
    yield counted
    event.remove(session, "after_commit", count)


def _case_to_pay() -> tuple[Case, int, list[payments.ItemIn]]:
    account = account_for_phone("+8613800000001", "system")
    case = cases.create_draft(account, "resale_transfer", channel="system", prefix="T")
    fee = CaseFee(case_id=case.id, item_code="deed_tax", name="契税", department="tax",
                  amount_fen=2150000, basis="测试")
    db.session.add(fee)
    db.session.flush()
    # Straight to "fees assessed": this test is about paying, not about the review.
    db.session.execute(update(Case).where(Case.id == case.id)
                       .values(status=CaseStatus.FEES_ASSESSED))
    db.session.commit()
    db.session.refresh(case)
    assert payable(case)
    items = [payments.ItemIn(fee.id, fee.item_code, fee.name, fee.department, fee.amount_fen)]
    return case, account.id, items


def _order(gateway: RecordingGateway, case: Case, account_id: int,
           items: list[payments.ItemIn]) -> PaymentOrder:
    return open_order(gateway=gateway, case_id=case.id, payer_account_id=account_id,
                      items=items, channel="miniprogram", description="税费",
                      payer_openid=None, notify_url="http://x/notify", return_url=None)


def _paid(order: PaymentOrder) -> PaymentResult:
    return PaymentResult(out_trade_no=order.out_trade_no, state=TradeState.PAID,
                         amount_fen=order.amount_fen,
                         transaction_id="T" + order.out_trade_no[-12:], paid_at=utcnow(),
                         app_id=None, merchant_id=None)


def _what_settling_wrote(case: Case, order: PaymentOrder) -> dict[str, Any]:
    db.session.expire_all()
    return {
        "order": db.session.get(PaymentOrder, order.id).status,
        "case": db.session.get(Case, case.id).status,
        "ledger": len(db.session.scalars(select(LedgerEntry).where(
            LedgerEntry.order_id == order.id)).all()),
        "audit": db.session.scalars(select(AuditRecord.action).where(
            AuditRecord.entity_id == case.case_number,
            AuditRecord.action.in_(["payment.paid", "case.transition"]))).all(),
        "outbox": db.session.scalars(select(OutboxMessage.template).where(
            OutboxMessage.template == "payment_received")).all(),
    }


def test_settling_a_payment_commits_once_with_its_audit_record_and_notice(
        app: Any, gateways: dict[str, RecordingGateway], commits: list[int]) -> None:
    case, account_id, items = _case_to_pay()
    order = _order(gateways["wechat"], case, account_id, items)
    commits.clear()

    applied = settle(gateways["wechat"], _paid(order), "notification")

    assert applied.outcome == "applied" and len(commits) == 1
    wrote = _what_settling_wrote(case, order)
    assert (wrote["order"], wrote["case"], wrote["ledger"]) == ("paid", "paid", 2)
    assert sorted(wrote["audit"]) == ["case.transition", "payment.paid"]
    assert wrote["outbox"] == ["payment_received"]


def test_a_settlement_whose_commit_fails_leaves_nothing_behind(
        app: Any, gateways: dict[str, RecordingGateway]) -> None:
    case, account_id, items = _case_to_pay()
    order = _order(gateways["wechat"], case, account_id, items)
    before = _what_settling_wrote(case, order)
    session = db.session()

    def refuse(_session: Any) -> None:
        raise RuntimeError("the database went away")

    event.listen(session, "before_commit", refuse)
    try:
        with pytest.raises(RuntimeError):
            settle(gateways["wechat"], _paid(order), "notification")
    finally:
        event.remove(session, "before_commit", refuse)
    db.session.rollback()

    # Neither the status change, nor its audit record, nor the notice remains.
    assert _what_settling_wrote(case, order) == before
    assert before["order"] == "paying" and before["audit"] == [] and before["outbox"] == []


def test_a_double_payment_is_approved_for_refund_in_settle_and_sent_only_by_the_job(
        app: Any, gateways: dict[str, RecordingGateway], commits: list[int]) -> None:
    case, account_id, items = _case_to_pay()
    first = _order(gateways["wechat"], case, account_id, items)
    second = _order(gateways["alipay"], case, account_id, items)
    settle(gateways["wechat"], _paid(first), "notification")
    commits.clear()

    applied = settle(gateways["alipay"], _paid(second), "notification")

    assert applied.newly_paid and len(commits) == 1  # one transaction, no gateway call
    assert gateways["alipay"].refunds == []
    refund = db.session.scalar(select(Refund).where(Refund.order_id == second.id))
    assert refund is not None
    assert (refund.status, refund.requested_by, refund.amount_fen) == (
        RefundStatus.APPROVED, "system", second.amount_fen)
    assert db.session.get(PaymentOrder, second.id).status == OrderStatus.REFUNDING
    assert db.session.get(Case, case.id).status == CaseStatus.PAID

    assert send_approved_refunds() == 1  # the job
    assert gateways["alipay"].refunds == [refund.out_refund_no]
    db.session.expire_all()
    assert db.session.get(Refund, refund.id).status == RefundStatus.SUCCEEDED
    assert db.session.get(PaymentOrder, second.id).status == OrderStatus.REFUNDED
    assert send_approved_refunds() == 0  # sent once
    assert gateways["alipay"].refunds == [refund.out_refund_no]
    assert payments.unbalanced_transactions() == []
