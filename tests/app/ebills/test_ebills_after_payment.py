"""E-bills after a real payment: a case paid through the WeChat Pay sandbox gets, from
the job, a fiscal e-bill for the registration fee and a tax payment certificate for the
deed tax, issued once by the sandbox's e-bill platform, listed with the receipts and
downloadable by the payer only. (The ``app`` fixture, with notifications posted by the
tests themselves, comes from test_payment_flow; ``client`` uses it.)"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
import requests
import segno
from flask import current_app
from pypdf import PdfReader
from sqlalchemy import select, text, update

from app.ebills.models import EBill
from app.integrations.ebills import make_ebill_issuer
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.services import storage
from app.usecases.ebills import issue_due, issue_for_order
from app.usecases.payments import send_approved_refunds
from payments.models import PaymentOrder
from tests import flow, helpers
from tests.app.ebills.test_amounts_and_pdf import qr_modules
from tests.app.fees.test_payment_flow import (  # noqa: F401 - fixtures
    _assessed,
    _manual_delivery,
    _paid_by_wechat,
    app,
)
from tests.flow import Citizen, Reviewer


@pytest.fixture(autouse=True)
def _own_shades(monkeypatch: Any) -> None:
    """Distinct scans for this test's case (see tests/app/fees/test_receipts.py)."""
    monkeypatch.setattr(flow, "_shade", iter(range(10, 250)))


def _bills() -> list[EBill]:
    db.session.rollback()
    return list(db.session.scalars(select(EBill).order_by(EBill.id)))


def _order(out_trade_no: str) -> PaymentOrder:
    db.session.rollback()
    order = db.session.scalar(select(PaymentOrder).where(
        PaymentOrder.out_trade_no == out_trade_no))
    assert order is not None
    return order


def _pdf_text(data: bytes) -> tuple[str, Any]:
    page = PdfReader(io.BytesIO(data)).pages[0]
    return page.extract_text(), page


def _make_due() -> None:
    db.session.execute(update(EBill).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_a_paid_case_gets_a_fiscal_e_bill_and_a_tax_certificate_issued_once(
        client: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    number, order = _paid_by_wechat(client, buyer, seller, reviewers, sandbox)
    assert buyer.get("/api/me/receipts").get_json()[0]["kind"] == "payment_receipt"

    assert issue_due() == 2
    fiscal, tax = _bills()
    assert (fiscal.kind, fiscal.status, fiscal.total_fen) == ("fiscal", "issued", 8000)
    assert (tax.kind, tax.status, tax.total_fen) == ("tax", "issued", 2150000)
    assert [i["name"] for i in fiscal.items] == ["不动产登记费（住宅）"]
    assert fiscal.payer_name == tax.payer_name == "张三"  # the buyer paid
    assert (fiscal.issuer_name, tax.issuer_name) == ("珠海市不动产登记中心",
                                                      "国家税务总局珠海市税务局")
    assert fiscal.bill_code[2:4] == "06" and tax.bill_code[2:4] == "12"
    # Issued once: another pass, and the order's own entry point, ask for nothing more.
    assert issue_due() == 0
    assert [b.id for b in issue_for_order(_order(order["out_trade_no"]))] == [fiscal.id, tax.id]
    assert len(sandbox.state.ebills.bills()) == 2
    # The payer's name is encrypted at rest; the PDF is stored encrypted too.
    raw = db.session.execute(text("SELECT payer_name FROM ebills")).scalars().all()
    assert all("张三" not in value for value in raw)
    sealed = storage().inner.get(fiscal.pdf_key)  # type: ignore[attr-defined]
    assert sealed.startswith(b"BDCF") and b"%PDF" not in sealed

    # Listed with the receipt, newest first: both e-bills, then the payment.
    listed = buyer.get("/api/me/receipts")
    assert json.loads(listed.headers["X-Pagination"])["total"] == 3
    entries = listed.get_json()
    assert [e["kind"] for e in entries] == ["tax_certificate", "fiscal_ebill", "payment_receipt"]
    tax_entry = entries[0]
    assert tax_entry["kind_label"] == "税收完税证明"
    assert tax_entry["number"] == f"{tax.bill_code}-{tax.bill_number}"
    assert tax_entry["file_url"] == f"/api/me/receipts/ebills/{tax.id}.pdf"
    assert tax_entry["issued_at"].endswith("Z") and tax_entry["case_number"] == number
    assert tax_entry["out_trade_no"] == order["out_trade_no"]
    assert tax_entry["amount_fen"] == 2150000 and tax_entry["items"] == [
        {"name": "契税", "amount_fen": 2150000}]
    assert (tax_entry["status"], tax_entry["status_label"], tax_entry["note"]) == (
        "issued", "已开具", None)
    assert tax_entry["check_code"] == tax.check_code
    assert tax_entry["verify_url"] == tax.verify_url
    assert tax_entry["business_type"] == {"code": "resale_transfer", "name": "存量房转移登记"}
    # Pages cut across both kinds.
    second = buyer.get("/api/me/receipts?page=2&page_size=1").get_json()
    assert [e["kind"] for e in second] == ["fiscal_ebill"]
    third = buyer.get("/api/me/receipts?page=3&page_size=2").get_json()
    assert third == []

    # Each PDF carries the bill's code, number, check code, amounts and a QR of its check page.
    for bill, entry, total, words in ((fiscal, entries[1], "80.00", "捌拾元整"),
                                      (tax, entries[0], "21,500.00", "贰万壹仟伍佰元整")):
        answer = buyer.get(entry["file_url"])
        assert answer.status_code == 200 and answer.mimetype == "application/pdf"
        assert answer.headers["Cache-Control"] == "private, no-store"
        assert f"ebill-{bill.bill_code}-{bill.bill_number}.pdf" in \
            answer.headers["Content-Disposition"]
        content, page = _pdf_text(answer.data)
        for expected in (bill.bill_code, bill.bill_number, bill.check_code, total, words,
                         "张三", number, order["out_trade_no"], bill.issuer_name):
            assert expected in content, expected
        [image] = page.images
        qr = segno.make(bill.verify_url, error="m", micro=False)
        assert qr_modules(image.image, len(qr.matrix)) == [list(row) for row in qr.matrix]
        check = requests.get(bill.verify_url, timeout=5)
        assert check.status_code == 200 and "票据真实有效" in check.text
        assert bill.bill_number in check.text
    assert "中华人民共和国税收完税证明" in _pdf_text(buyer.get(entries[0]["file_url"]).data)[0]
    assert "广东省非税收入电子票据" in _pdf_text(buyer.get(entries[1]["file_url"]).data)[0]

    # Anyone else: not found, the same answer as a bill that does not exist.
    refused = seller.get(entries[0]["file_url"])
    assert refused.status_code == 404
    assert refused.get_json() == {"code": "NOT_FOUND", "message": "未找到该电子票据",
                                  "details": {}}
    assert buyer.get("/api/me/receipts/ebills/99999.pdf").get_json() == refused.get_json()
    assert seller.get("/api/me/receipts").get_json() == []
    assert client.get(entries[0]["file_url"]).status_code == 401


def test_a_platform_that_is_down_leaves_the_bills_pending_and_a_later_pass_issues_them(
        client: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    _paid_by_wechat(client, buyer, seller, reviewers, sandbox)
    sandbox.state.ebills.set_outage("down")

    assert issue_due() == 0
    bills = _bills()
    assert [(b.kind, b.status, b.attempts) for b in bills] == [("fiscal", "failed", 1),
                                                               ("tax", "failed", 1)]
    assert all("SERVICE_UNAVAILABLE" in (b.last_error or "") for b in bills)
    assert all(b.next_attempt_at > utcnow() + timedelta(seconds=20) for b in bills)
    assert bills[0].bill_number is None and bills[0].pdf_key is None
    # Not listed until issued; not asked again before the back-off is over.
    assert [e["kind"] for e in buyer.get("/api/me/receipts").get_json()] == ["payment_receipt"]
    assert issue_due() == 0 and [b.attempts for b in _bills()] == [1, 1]

    # Still down at the second attempt: a longer wait.
    _make_due()
    assert issue_due() == 0
    bills = _bills()
    assert [b.attempts for b in bills] == [2, 2]
    assert all(b.next_attempt_at > utcnow() + timedelta(seconds=50) for b in bills)

    # An unreachable platform (a closed port) is the same: pending, nothing lost.
    sandbox.state.ebills.set_outage("up")
    flask_app: Any = current_app
    flask_app.extensions["bdc.ebill_issuer"] = make_ebill_issuer(
        {**flask_app.config, "EBILL_BASE_URL": helpers.unreachable_url()})
    _make_due()
    assert issue_due() == 0
    assert all(b.status == "failed" and "UNAVAILABLE" in (b.last_error or "") for b in _bills())

    flask_app.extensions["bdc.ebill_issuer"] = make_ebill_issuer(flask_app.config)
    _make_due()
    assert issue_due() == 2
    assert [(b.status, b.attempts, b.last_error) for b in _bills()] == [
        ("issued", 4, None), ("issued", 4, None)]
    assert len(sandbox.state.ebills.bills()) == 2
    assert [e["kind"] for e in buyer.get("/api/me/receipts").get_json()] == [
        "tax_certificate", "fiscal_ebill", "payment_receipt"]


def test_a_bill_whose_items_are_all_refunded_is_voided(
        client: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    from app.usecases.payments import decide_refund, request_refund
    from tests.app.staff.factories import make_staff, make_supervisor

    number, order = _paid_by_wechat(client, buyer, seller, reviewers, sandbox)
    assert issue_due() == 2
    row = _order(order["out_trade_no"])
    tax_item = next(i for i in row.items if i.item_code == "deed_tax")
    desk = make_staff(username="sun.fuwu", display_name="孙服务").id
    supervisor = make_supervisor().id

    # Part of the tax refunded: the certificate stands.
    refund = request_refund(number, row.out_trade_no, [(tax_item.id, 100000)], "契税核定调整",
                            desk)
    decide_refund(refund.id, supervisor, True)
    issue_due()
    assert [b.status for b in _bills()] == ["issued", "issued"]
    assert _bills()[1].refunds_seen_fen == 100000

    # The rest refunded: the certificate is voided (红冲), the fee's bill stands.
    refund = request_refund(number, row.out_trade_no, [(tax_item.id, 2050000)], "撤回申请",
                            desk)
    decide_refund(refund.id, supervisor, True)
    issue_due()
    fiscal, tax = _bills()
    assert (fiscal.status, tax.status) == ("issued", "voided") and tax.voided_at is not None
    [voided] = [b for b in sandbox.state.ebills.bills() if b["kind"] == "tax"]
    assert voided["status"] == "VOIDED"
    check = requests.get(tax.verify_url, timeout=5)
    assert "该票据已红冲" in check.text
    issue_due()  # nothing more to do
    assert [b.status for b in _bills()] == ["issued", "voided"]

    entries = buyer.get("/api/me/receipts").get_json()
    tax_entry = next(e for e in entries if e["kind"] == "tax_certificate")
    assert (tax_entry["status"], tax_entry["status_label"]) == ("voided", "已红冲")
    assert tax_entry["note"] == "该票据已红冲作废（对应款项已全额退还）"
    assert tax_entry["voided_at"].endswith("Z")
    assert buyer.get(tax_entry["file_url"]).status_code == 200  # the original stays readable


def test_a_refunded_double_payment_gets_no_bill(
        client: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    from tests.app.fees.test_receipts import _open, _pay_alipay, _pay_wechat

    number = _assessed(buyer, seller, reviewers)
    first = _open(buyer, number, "wechat")
    second = _open(buyer, number, "alipay")
    _pay_wechat(client, first, sandbox)
    _pay_alipay(client, second, sandbox)  # paid second: refunded in full automatically
    assert _order(second["out_trade_no"]).status == "refunding"  # never billed from here
    send_approved_refunds()  # the job sends the refund approved when it was settled
    assert _order(second["out_trade_no"]).status == "refunded"

    assert issue_due() == 2
    assert {b.order_id for b in _bills()} == {_order(first["out_trade_no"]).id}
    assert issue_for_order(_order(second["out_trade_no"])) == []
