"""The citizen's e-receipts (电子缴费凭证): GET /api/me/receipts after real sandbox payments."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.cases.workflow import CaseStatus
from app.ebills.receipts import mask_transaction_id
from app.kernel.db import db
from app.usecases.payments import send_approved_refunds
from payments.models import PaymentOrder
from tests import flow
from tests.flow import Citizen, Reviewer, case_row, fill_resale, legacy_owner


@pytest.fixture
def app(make_app: Any, tmp_path: Any) -> Any:
    instance = tmp_path / "instance"
    instance.mkdir()
    # Notifications are taken from the sandbox and posted by the test itself.
    app = make_app(INSTANCE_DIR=str(instance), PAYMENT_NOTIFY_BASE_URL="http://127.0.0.1:9")
    with app.app_context():
        yield app


@pytest.fixture(autouse=True)
def _own_shades(monkeypatch: Any) -> None:
    """flow.scan() draws distinct images from one iterator shared by the whole session
    (240 in all); duplicates are refused only within a case, so each test here draws
    from its own and leaves the shared one to the other files."""
    monkeypatch.setattr(flow, "_shade", iter(range(10, 250)))


@pytest.fixture(autouse=True)
def _manual_delivery(sandbox: Any) -> Any:
    sandbox.state.wechatpay.set_auto_delivery(False)
    yield
    sandbox.state.wechatpay.set_auto_delivery(True)


def _assessed(buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer]) -> str:
    legacy_owner("440402003001GB00012F00010203", seller.person_id)
    number = fill_resale(buyer, seller)
    assert buyer.post(f"/api/cases/{number}/submit", claim=True).get_json()["status"] == "accepted"
    reviewers["tax"].act(number, "claim")
    reviewers["tax"].act(number, "approve", {"deed_tax": ""})
    reviewers["housing"].approve(number)
    reviewers["registration"].approve(number)
    assert case_row(number).status == CaseStatus.FEES_ASSESSED
    return number


def _open(payer: Citizen, number: str, gateway: str) -> dict[str, Any]:
    created = payer.post(f"/api/cases/{number}/payments", {"gateway": gateway}, claim=True)
    assert created.status_code == 201, created.get_json()
    return dict(created.get_json())


def _pay_wechat(client: Any, order: dict[str, Any], sandbox: Any) -> None:
    sandbox.state.wechatpay.pay(order["out_trade_no"])
    body = sandbox.state.wechatpay.notification_for(order["out_trade_no"])
    answer = client.post("/api/payments/notify/wechat", data=body, content_type="text/xml")
    assert b"SUCCESS" in answer.data


def _pay_alipay(client: Any, order: dict[str, Any], sandbox: Any) -> None:
    requests.get(order["pay_url"], timeout=5)
    sandbox.state.alipay.pay(order["out_trade_no"])
    form = dict(sandbox.state.alipay.notification_for(order["out_trade_no"]))
    assert client.post("/api/payments/notify/alipay", data=form).data == b"success"


def _order_row(out_trade_no: str) -> PaymentOrder:
    db.session.rollback()
    row = db.session.scalar(select(PaymentOrder).where(PaymentOrder.out_trade_no == out_trade_no))
    assert row is not None
    return row


def test_the_payer_sees_exactly_their_receipt_with_the_transaction_id_masked(
        app: Any, client: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    number = _assessed(buyer, seller, reviewers)
    # An order still waiting for the payer is no receipt.
    order = _open(buyer, number, "wechat")
    assert buyer.get("/api/me/receipts").get_json() == []
    assert buyer.get(f"/api/me/receipts/{order['out_trade_no']}").status_code == 404

    _pay_wechat(client, order, sandbox)
    row = _order_row(order["out_trade_no"])
    assert row.transaction_id and len(row.transaction_id) > 6

    answer = buyer.get("/api/me/receipts")
    assert answer.status_code == 200
    assert json.loads(answer.headers["X-Pagination"])["total"] == 1
    [receipt] = answer.get_json()
    masked = receipt.pop("transaction_id_masked")
    assert masked.endswith(row.transaction_id[-6:])
    assert set(masked[:-6]) == {"*"} and row.transaction_id not in json.dumps(receipt)
    paid_at = receipt.pop("paid_at")
    assert paid_at.endswith("Z") and receipt.pop("issued_at") == paid_at
    assert receipt == {
        "kind": "payment_receipt", "kind_label": "电子缴费凭证",
        "number": order["out_trade_no"], "file_url": None,
        "case_number": number,
        "business_type": {"code": "resale_transfer", "name": "存量房转移登记"},
        "out_trade_no": order["out_trade_no"], "gateway": "wechat", "gateway_label": "微信支付",
        "amount_fen": 2158000, "refunded_fen": 0, "status": "paid", "status_label": "已支付",
        "items": [
            {"name": "不动产登记费（住宅）", "department": "registration",
             "department_label": "不动产登记中心", "amount_fen": 8000, "refunded_fen": 0},
            {"name": "契税", "department": "tax", "department_label": "税务局",
             "amount_fen": 2150000, "refunded_fen": 0},
        ],
        "refunds": [],
    }
    one = buyer.get(f"/api/me/receipts/{order['out_trade_no']}")
    assert one.status_code == 200 and one.get_json() == answer.get_json()[0]

    # The seller (a co-applicant who did not pay) sees no receipt and cannot open this one.
    assert seller.get("/api/me/receipts").get_json() == []
    refused = seller.get(f"/api/me/receipts/{order['out_trade_no']}")
    assert refused.status_code == 404
    assert refused.get_json() == {"code": "NOT_FOUND", "message": "未找到该缴费凭证",
                                  "details": {}}
    # An order number that does not exist gets the same answer: no oracle.
    unknown = buyer.get("/api/me/receipts/BDC202601010000000000000")
    assert unknown.status_code == 404 and unknown.get_json() == refused.get_json()


def test_a_partly_refunded_order_shows_what_was_refunded_and_when(
        app: Any, client: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    from app.usecases.payments import decide_refund, request_refund
    from tests.app.staff.factories import make_staff, make_supervisor

    number = _assessed(buyer, seller, reviewers)
    order = _open(buyer, number, "wechat")
    _pay_wechat(client, order, sandbox)
    row = _order_row(order["out_trade_no"])
    tax = next(i for i in row.items if i.department == "tax")
    refund = request_refund(number, row.out_trade_no, [(tax.id, 100000)], "契税核定调整",
                            make_staff(username="sun.fuwu", display_name="孙服务").id)
    # Requested but not approved: nothing refunded yet.
    receipt = buyer.get(f"/api/me/receipts/{order['out_trade_no']}").get_json()
    assert receipt["refunded_fen"] == 0 and receipt["refunds"] == []
    decide_refund(refund.id, make_supervisor().id, True)

    receipt = buyer.get(f"/api/me/receipts/{order['out_trade_no']}").get_json()
    assert receipt["status"] == "partially_refunded" and receipt["status_label"] == "部分退款"
    assert receipt["amount_fen"] == 2158000 and receipt["refunded_fen"] == 100000
    assert {i["department"]: i["refunded_fen"] for i in receipt["items"]} == {
        "registration": 0, "tax": 100000}
    [refunded] = receipt["refunds"]
    assert refunded["amount_fen"] == 100000 and refunded["refunded_at"].endswith("Z")
    assert buyer.get("/api/me/receipts").get_json() == [receipt]


def test_a_double_payment_lists_both_orders_newest_first_and_each_payer_only_their_own(
        app: Any, client: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    number = _assessed(buyer, seller, reviewers)
    first = _open(buyer, number, "wechat")
    second = _open(buyer, number, "alipay")
    _pay_wechat(client, first, sandbox)
    _pay_alipay(client, second, sandbox)  # paid second: refunded automatically
    send_approved_refunds()  # the job sends the refund approved when it was settled

    receipts = buyer.get("/api/me/receipts").get_json()
    assert [r["out_trade_no"] for r in receipts] == [second["out_trade_no"],
                                                     first["out_trade_no"]]
    assert receipts[0]["gateway_label"] == "支付宝" and receipts[0]["status"] == "refunded"
    assert receipts[0]["refunded_fen"] == receipts[0]["amount_fen"] == 2158000
    assert [r["amount_fen"] for r in receipts[0]["refunds"]] == [2158000]
    assert receipts[1]["status_label"] == "已支付"
    assert seller.get("/api/me/receipts").get_json() == []

    # Pages: one receipt a page, the total in X-Pagination.
    page = buyer.get("/api/me/receipts?page=2&page_size=1")
    assert [r["out_trade_no"] for r in page.get_json()] == [first["out_trade_no"]]
    assert json.loads(page.headers["X-Pagination"])["total"] == 2


def test_receipts_need_a_login(client: Any) -> None:
    answer = client.get("/api/me/receipts")
    assert answer.status_code == 401 and answer.get_json()["code"] == "UNAUTHENTICATED"


def test_the_transaction_id_keeps_only_its_last_six_characters() -> None:
    assert mask_transaction_id("4200001234202611240123456789") == "*" * 22 + "456789"
    assert mask_transaction_id("ABCDEFGH") == "****EFGH"
    assert mask_transaction_id(None) is None and mask_transaction_id("") is None
