"""The payments core: idempotent orders, results applied once, a balanced ledger.

The gateway here is a recording test double of the interface: these tests are about the
core's rules (states, idempotency, the ledger), not a gateway's signatures — those are
tested with the real SDKs against the sandbox in tests/payments/ (the gateways) and tests/sandbox/.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from app.accounts.service import account_for_phone
from app.cases import service as cases
from app.fees.models import CaseFee
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.usecases.payments import open_order
from payments import service as payments
from payments.gateways.base import CreatedPayment, PaymentResult, TradeState
from payments.models import LedgerEntry, OrderItem, OrderStatus, PaymentEvent, PaymentOrder


class RecordingGateway:
    name = "wechat"
    app_id = "wx-app"
    merchant_id = "1900000001"

    def __init__(self) -> None:
        self.created: list[str] = []
        self.closed: list[str] = []

    def create_payment(self, *, out_trade_no: str, **kwargs: Any) -> CreatedPayment:
        assert db.session.scalar(select(PaymentOrder.id).where(
            PaymentOrder.out_trade_no == out_trade_no)) is not None  # committed first
        self.created.append(out_trade_no)
        return CreatedPayment(gateway_order_id="prepay-" + out_trade_no,
                              client_params={"package": "prepay_id=x"})

    def close(self, out_trade_no: str) -> None:
        self.closed.append(out_trade_no)


def _case_with_fees(amounts: list[tuple[str, int]]) -> tuple[int, int, list[payments.ItemIn]]:
    account = account_for_phone("+8613800000001", "system")
    case = cases.create_draft(account, "resale_transfer", channel="system", prefix="T")
    items = []
    for index, (department, amount) in enumerate(amounts):
        fee = CaseFee(case_id=case.id, item_code=f"item{index}", name=f"项目{index}",
                      department=department, amount_fen=amount, basis="测试")
        db.session.add(fee)
        db.session.flush()
        items.append(payments.ItemIn(fee.id, fee.item_code, fee.name, department, amount))
    db.session.commit()
    return case.id, account.id, items


def _open(gateway: RecordingGateway, case_id: int, account_id: int,
          items: list[payments.ItemIn]) -> PaymentOrder:
    return open_order(gateway=gateway, case_id=case_id, payer_account_id=account_id,
                      items=items, channel="miniprogram", description="税费",
                      payer_openid="o-1", notify_url="http://x/notify", return_url=None)


def _paid(order: PaymentOrder, **overrides: Any) -> PaymentResult:
    values: dict[str, Any] = {
        "out_trade_no": order.out_trade_no, "state": TradeState.PAID,
        "amount_fen": order.amount_fen, "transaction_id": "420000" + order.out_trade_no[-10:],
        "paid_at": utcnow(), "app_id": "wx-app", "merchant_id": "1900000001"}
    values.update(overrides)
    return PaymentResult(**values)


def test_the_same_request_twice_is_one_order_and_an_expired_one_is_replaced(app: Any) -> None:
    gateway = RecordingGateway()
    case_id, account_id, items = _case_with_fees([("registration", 8000), ("tax", 2150000)])
    first = _open(gateway, case_id, account_id, items)
    again = _open(gateway, case_id, account_id, items)
    assert first.id == again.id and gateway.created == [first.out_trade_no]
    assert first.status == OrderStatus.PAYING and first.amount_fen == 2158000
    first.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    renewed = _open(gateway, case_id, account_id, items)
    assert renewed.id != first.id and gateway.closed == [first.out_trade_no]
    assert db.session.get(PaymentOrder, first.id).status == OrderStatus.CLOSED


def test_an_order_closed_by_the_job_or_the_gateway_does_not_block_paying_again(
        app: Any) -> None:
    gateway = RecordingGateway()
    case_id, account_id, items = _case_with_fees([("registration", 8000)])
    first = _open(gateway, case_id, account_id, items)
    payments.close_expired(first, gateway)  # the order-query job closes an expired order
    db.session.commit()
    second = _open(gateway, case_id, account_id, items)
    assert second.id != first.id and second.status == OrderStatus.PAYING
    # The gateway says the order was closed (the payer cancelled): the same again.
    closed = _paid(second, state=TradeState.CLOSED, transaction_id=None, paid_at=None)
    assert payments.apply_result(gateway, closed, "query").outcome == "not_paid"
    db.session.commit()
    third = _open(gateway, case_id, account_id, items)
    assert third.id not in (first.id, second.id) and third.status == OrderStatus.PAYING
    assert gateway.created == [first.out_trade_no, second.out_trade_no, third.out_trade_no]


def test_a_result_that_does_not_match_the_order_changes_nothing(app: Any) -> None:
    gateway = RecordingGateway()
    order = _open(gateway, *_case_with_fees([("registration", 8000)]))
    for bad, reason in [({"amount_fen": 1}, "amount"), ({"app_id": "wx-other"}, "app id"),
                        ({"merchant_id": "1900000002"}, "merchant id")]:
        applied = payments.apply_result(gateway, _paid(order, **bad), "notification")
        assert applied.outcome == "mismatch" and not applied.newly_paid
        db.session.commit()
        event = db.session.scalars(select(PaymentEvent).order_by(PaymentEvent.id.desc())).first()
        assert event is not None and reason in (event.reason or "")
    assert db.session.get(PaymentOrder, order.id).status == OrderStatus.PAYING
    assert db.session.scalar(select(LedgerEntry.id)) is None
    unknown = payments.apply_result(gateway, _paid(order, out_trade_no="BDC0"), "notification")
    assert unknown.outcome == "unknown_order"


departments = st.sampled_from(["registration", "tax", "housing"])
amounts = st.integers(min_value=1, max_value=10**10)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(st.tuples(departments, amounts), min_size=1, max_size=6),
       repeats=st.integers(min_value=1, max_value=5))
def test_allocations_always_sum_to_the_amount_paid(
        app: Any, items: list[tuple[str, int]], repeats: int) -> None:
    for model in (LedgerEntry, PaymentEvent, OrderItem, PaymentOrder, CaseFee):
        db.session.execute(delete(model))
    db.session.commit()
    gateway = RecordingGateway()
    order = _open(gateway, *_case_with_fees(items))
    outcomes = []
    for _ in range(repeats):  # the gateway resends: applied once, then duplicates
        outcomes.append(payments.apply_result(gateway, _paid(order), "notification").outcome)
        db.session.commit()
    assert outcomes == ["applied"] + ["duplicate"] * (repeats - 1)
    allocated = payments.allocations(order.id)
    assert sum(allocated.values()) == order.amount_fen == sum(a for _, a in items)
    for department in {d for d, _ in items}:
        assert allocated[department] == sum(a for d, a in items if d == department)
    assert payments.unbalanced_transactions() == []


def test_amounts_beyond_32_bits_are_kept_exactly(app: Any) -> None:
    """A deed tax on a large property passes 21,474,836.47 yuan (2**31 fen)."""
    gateway = RecordingGateway()
    order = _open(gateway, *_case_with_fees([("tax", 3 * 10**10 + 7)]))
    db.session.expire_all()
    assert db.session.get(PaymentOrder, order.id).amount_fen == 30000000007
