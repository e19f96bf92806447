"""Attacks on payment notifications that must fail (issue 5), end to end.

Each goes through the platform's notify endpoint and the real SDK code paths; the
notifications are the sandbox's, signed with the real keys, then forged (signed again with
a wrong key, or altered after signing) or signed again with the real key after a change
(what a leaked key, or a gateway's bug, would send). Each is refused with the answer that
makes the gateway retry (WeChat Pay's FAIL, Alipay's anything but "success") or, for a
duplicate, absorbed with the answer that stops it; and each changes nothing (the order,
the case, the ledger, the audit log), credits nothing twice, and leaves a PaymentEvent
with its outcome (a refusal also a warning in the log).
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, func, select, update

from app.accounts.models import Account
from app.cases.workflow import CaseStatus
from app.fees.checkout import gateways
from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.usecases.payments import decide_refund, query_open_orders, request_refund
from payments.models import LedgerEntry, PaymentEvent, PaymentOrder
from payments.service import allocations, unbalanced_transactions
from sandbox.alipay import generate_key_pair, load_private_key, rsa2_sign, sign_content
from sandbox.wechatpay import parse_xml, sign, to_xml
from tests.app.fees.test_payment_flow import (  # noqa: F401 - fixtures
    _assessed,
    _manual_delivery,
    _notify,
    app,
)
from tests.flow import Citizen, Reviewer, case_row

BOTH = pytest.mark.parametrize("gateway", ["wechat", "alipay"])
# What a payer who pays 1 fen would like the notification to say.
ONE_FEN = {"wechat": {"total_fee": "1", "cash_fee": "1"},
           "alipay": {"total_amount": "0.01", "receipt_amount": "0.01",
                      "buyer_pay_amount": "0.01", "invoice_amount": "0.01"}}
OTHER_IDS = {("wechat", "app"): {"appid": "wx0000000000000000"},
             ("wechat", "merchant"): {"mch_id": "1600000000"},
             ("alipay", "app"): {"app_id": "2021000000000000", "auth_app_id": "2021000000000000"},
             ("alipay", "merchant"): {"seller_id": "2088000000000000"}}


# --- a paid order, its notification, and forgeries of it ---------------------------------

@dataclass
class Paid:
    """A case whose order the payer has paid at the gateway; the platform has not been
    told (the sandbox's notification went to a closed port: the test posts ``body``)."""

    gateway: str
    number: str
    out_trade_no: str
    body: Any  # WeChat Pay: the XML bytes; Alipay: the form


def _open_order(buyer: Citizen, seller: Citizen, number: str, gateway: str) -> str:
    """WeChat Pay in the mini-program (the buyer), Alipay on mobile web (the seller)."""
    payer = buyer if gateway == "wechat" else seller
    order = payer.post(f"/api/cases/{number}/payments", {"gateway": gateway},
                       claim=True).get_json()
    if gateway == "alipay":
        requests.get(order["pay_url"], timeout=5)  # Alipay has the trade once it is opened
    return str(order["out_trade_no"])


def _pay(sandbox: Any, gateway: str, out_trade_no: str) -> Any:
    """The payer pays at the gateway: the notification it sends, as sent."""
    merchant = sandbox.state.wechatpay if gateway == "wechat" else sandbox.state.alipay
    merchant.pay(out_trade_no)
    return merchant.notification_for(out_trade_no)


@pytest.fixture
def paid(gateway: str, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
         sandbox: Any) -> Paid:
    number = _assessed(buyer, seller, reviewers)
    out_trade_no = _open_order(buyer, seller, number, gateway)
    return Paid(gateway, number, out_trade_no, _pay(sandbox, gateway, out_trade_no))


def _fields(paid: Paid) -> dict[str, str]:
    return parse_xml(paid.body) if paid.gateway == "wechat" else dict(paid.body)


def _altered(paid: Paid, **changes: str) -> Any:
    """The notification with ``changes`` made after signing (the signature kept)."""
    fields = {**_fields(paid), **changes}
    return to_xml(fields) if paid.gateway == "wechat" else fields


def _signed_again(paid: Paid, sandbox: Any, key: str | None = None, **changes: str) -> Any:
    """The notification with ``changes``, signed again with ``key``: by default the real
    one (WeChat Pay's API key, Alipay's private key, both the sandbox's)."""
    fields = {k: v for k, v in {**_fields(paid), **changes}.items() if k != "sign"}
    if paid.gateway == "wechat":
        fields["sign"] = sign(fields, key or sandbox.settings["WECHATPAY_API_KEY"],
                              fields.get("sign_type", "MD5"))
        return to_xml(fields)
    private = load_private_key(key or sandbox.settings["ALIPAY_SANDBOX_PRIVATE_KEY"])
    fields["sign"] = rsa2_sign(private, sign_content(fields, ("sign", "sign_type")))
    return fields


def _forger_key(gateway: str) -> str:
    return "forger-key-" + "x" * 21 if gateway == "wechat" else generate_key_pair()[0]


# --- what must (not) change ---------------------------------------------------------------

def _state(number: str) -> dict[str, Any]:
    """Everything a notification could change."""
    case = case_row(number)  # rolls back: what the requests committed
    orders = db.session.execute(select(
        PaymentOrder.out_trade_no, PaymentOrder.status, PaymentOrder.paid_at,
        PaymentOrder.transaction_id, PaymentOrder.refunded_fen, PaymentOrder.version)
        .order_by(PaymentOrder.id)).all()
    ledger = db.session.execute(select(func.count(), func.sum(LedgerEntry.debit_fen),
                                       func.sum(LedgerEntry.credit_fen))).one()
    audit = db.session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)).all()
    return {"case": case.status, "orders": [tuple(o) for o in orders], "ledger": tuple(ledger),
            "audit": list(audit)}


def _events() -> list[tuple[str, str | None]]:
    db.session.rollback()
    rows = db.session.execute(select(PaymentEvent.outcome, PaymentEvent.out_trade_no)
                              .order_by(PaymentEvent.id)).all()
    return [(outcome, out_trade_no) for outcome, out_trade_no in rows]


def _ack(gateway: str, accepted: bool) -> bytes:
    return gateways()[gateway].ack(accepted).body


def _refused(client: Any, caplog: pytest.LogCaptureFixture, paid: Paid, body: Any,
             event: tuple[str, str | None]) -> None:
    """``body`` posted to the notify endpoint is refused (the gateway will retry), changes
    nothing, is recorded as ``event`` (outcome, out_trade_no) and logged as a warning."""
    before, events = _state(paid.number), _events()
    caplog.clear()
    answer = _notify(client, paid.gateway, body)
    assert answer.status_code == 200
    assert answer.data == _ack(paid.gateway, False) != _ack(paid.gateway, True)
    assert _state(paid.number) == before
    assert _events() == [*events, event]
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.startswith(f"payment notification from {paid.gateway} refused: {event[0]} (")


def _absorbed(client: Any, paid: Paid, body: Any) -> None:
    """``body`` is a payment the platform has: acknowledged (WeChat Pay and Alipay stop
    resending), nothing changed, recorded as a duplicate."""
    before, events = _state(paid.number), _events()
    answer = _notify(client, paid.gateway, body)
    assert answer.status_code == 200 and answer.data == _ack(paid.gateway, True)
    assert _state(paid.number) == before
    assert _events() == [*events, ("duplicate", paid.out_trade_no)]


def _applies(client: Any, paid: Paid) -> None:
    """The genuine notification, after the attack: the case is paid, once."""
    answer = _notify(client, paid.gateway, paid.body)
    assert answer.data == _ack(paid.gateway, True)
    assert case_row(paid.number).status == CaseStatus.PAID
    assert _events()[-1] == ("applied", paid.out_trade_no)
    _credited_once(paid)


def _credited_once(paid: Paid) -> None:
    order = db.session.scalar(select(PaymentOrder).where(
        PaymentOrder.out_trade_no == paid.out_trade_no))
    assert order is not None and order.status == "paid"
    assert sum(allocations(order.id).values()) == order.amount_fen
    entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    assert entries == 1 + len(order.items) and unbalanced_transactions() == []
    audited = db.session.scalars(select(AuditRecord.action).where(
        AuditRecord.action.like("payment.%"))).all()
    assert audited == ["payment.paid"]


# --- the attacks --------------------------------------------------------------------------

@BOTH
def test_a_forged_signature_is_refused(client: Any, sandbox: Any, paid: Paid,
                                       caplog: pytest.LogCaptureFixture) -> None:
    assert _signed_again(paid, sandbox) == paid.body  # with the real key: the genuine one
    forged = _signed_again(paid, sandbox, key=_forger_key(paid.gateway))
    assert forged != paid.body
    _refused(client, caplog, paid, forged, ("rejected", None))
    _refused(client, caplog, paid, _altered(paid, sign=""), ("rejected", None))
    _applies(client, paid)


@BOTH
@pytest.mark.parametrize("signed_again", [False, True],
                         ids=["altered-after-signing", "signed-again-with-the-real-key"])
def test_a_tampered_amount_is_refused(client: Any, sandbox: Any, paid: Paid,
                                      signed_again: bool,
                                      caplog: pytest.LogCaptureFixture) -> None:
    one_fen = ONE_FEN[paid.gateway]
    if signed_again:  # the signature holds; the amount is not the order's
        tampered = _signed_again(paid, sandbox, **one_fen)
        _refused(client, caplog, paid, tampered, ("mismatch", paid.out_trade_no))
    else:  # the signature fails
        _refused(client, caplog, paid, _altered(paid, **one_fen), ("rejected", None))
    _applies(client, paid)


@BOTH
@pytest.mark.parametrize("whose", ["app", "merchant"])
def test_a_notification_for_another_app_or_merchant_is_refused(
        client: Any, sandbox: Any, paid: Paid, whose: str,
        caplog: pytest.LogCaptureFixture) -> None:
    other = _signed_again(paid, sandbox, **OTHER_IDS[paid.gateway, whose])
    _refused(client, caplog, paid, other, ("mismatch", paid.out_trade_no))
    _applies(client, paid)


@BOTH
def test_a_notification_for_an_order_the_platform_never_made_is_refused(
        client: Any, sandbox: Any, buyer: Citizen, paid: Paid,
        caplog: pytest.LogCaptureFixture) -> None:
    """A genuine notification of the same merchant for an order opened elsewhere."""
    foreign = "ELSEWHERE" + secrets.token_hex(8)
    account = db.session.get(Account, buyer.account_id)
    assert account is not None
    created = gateways()[paid.gateway].create_payment(
        out_trade_no=foreign, amount_fen=8000, description="别处的订单",
        expires_at=utcnow() + timedelta(minutes=30), payer_openid=account.wechat_openid,
        notify_url="http://127.0.0.1:9/elsewhere", return_url=None)
    if created.pay_url:
        requests.get(created.pay_url, timeout=5)
    body = _pay(sandbox, paid.gateway, foreign)
    _refused(client, caplog, paid, body, ("unknown_order", foreign))


@BOTH
def test_an_old_notification_replayed_after_a_refund_changes_nothing(
        client: Any, paid: Paid) -> None:
    from tests.app.staff.factories import make_staff, make_supervisor

    _applies(client, paid)
    row = db.session.scalar(select(PaymentOrder))
    assert row is not None
    item = row.items[0]
    helpdesk = make_staff(username="sun.fuwu", display_name="孙服务")
    refund = request_refund(paid.number, row.out_trade_no, [(item.id, item.amount_fen)],
                            "多缴退还", helpdesk.id)
    decide_refund(refund.id, make_supervisor().id, True)
    assert _state(paid.number)["orders"][0][1] == "partially_refunded"
    _absorbed(client, paid, paid.body)  # the gateway resends the old payment notice
    assert sum(allocations(row.id).values()) == row.amount_fen - item.amount_fen


@BOTH
def test_the_order_row_is_committed_before_the_gateway_hears_of_it(
        monkeypatch: pytest.MonkeyPatch, gateway: str, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer]) -> None:
    """So a notification can never come for an order the platform does not have yet: the
    gateway's create_payment looks, on a connection of its own, for the order's row."""
    number = _assessed(buyer, seller, reviewers)
    chosen = gateways()[gateway]
    create_payment = chosen.create_payment
    elsewhere = create_engine(db.engine.url.render_as_string(hide_password=False))
    seen: list[str | None] = []

    def observed(**kwargs: Any) -> Any:
        with elsewhere.connect() as other:
            seen.append(other.execute(select(PaymentOrder.status).where(
                PaymentOrder.out_trade_no == kwargs["out_trade_no"])).scalar())
        return create_payment(**kwargs)

    monkeypatch.setattr(chosen, "create_payment", observed)
    try:
        out_trade_no = _open_order(buyer, seller, number, gateway)
    finally:
        elsewhere.dispose()
    assert seen == ["created"]
    db.session.rollback()
    assert db.session.scalar(select(PaymentOrder.status).where(
        PaymentOrder.out_trade_no == out_trade_no)) == "paying"


@BOTH
def test_a_notification_before_the_order_exists_is_refused_then_applies_when_resent(
        client: Any, paid: Paid, caplog: pytest.LogCaptureFixture) -> None:
    """Refused with the answer that makes the gateway send it again, applied once when
    it does. (The platform's row is hidden for a moment under another number: its
    commit comes before the gateway is called, see the test above.)"""

    def renumber(old: str, new: str) -> None:
        db.session.execute(update(PaymentOrder).where(PaymentOrder.out_trade_no == old)
                           .values(out_trade_no=new))
        db.session.commit()

    hidden = "HIDDEN" + secrets.token_hex(8)
    renumber(paid.out_trade_no, hidden)
    _refused(client, caplog, paid, paid.body, ("unknown_order", paid.out_trade_no))
    renumber(hidden, paid.out_trade_no)
    _applies(client, paid)
    _absorbed(client, paid, paid.body)


@BOTH
def test_a_notification_racing_an_order_query_credits_once(client: Any, paid: Paid) -> None:
    flask_app = client.application
    db.session.execute(update(PaymentOrder).values(created_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    answers: list[Any] = []

    def run(action: Any) -> None:
        with flask_app.test_request_context():
            barrier.wait()
            try:
                action()
            except BaseException as error:  # shown below, never swallowed
                errors.append(error)
            finally:
                db.session.remove()

    def notify() -> None:
        answers.append(_notify(flask_app.test_client(), paid.gateway, paid.body))

    threads = [threading.Thread(target=run, args=(a,)) for a in (notify, query_open_orders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert [a.data for a in answers] == [_ack(paid.gateway, True)]
    assert sorted(outcome for outcome, _ in _events()) == ["applied", "duplicate"]
    assert case_row(paid.number).status == CaseStatus.PAID
    _credited_once(paid)
