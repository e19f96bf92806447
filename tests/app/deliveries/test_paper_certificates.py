"""Paper certificates: the choice and its fee, the documents of one case in one parcel,
the courier's waybill and route, the sign-off code, window pickup, and legal persons
who always get the electronic certificate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app.cases.workflow import CaseStatus
from app.deliveries import service as deliveries
from app.deliveries.models import Delivery
from app.jobs import run_once
from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.staff.models import StaffRole
from app.usecases.deliveries import hand_over_at_window
from tests.app.fees.test_payment_flow import (  # noqa: F401 - fixtures
    _manual_delivery,
    _paid_by_wechat,
    app,
)
from tests.app.staff.factories import csrf_token, log_in, make_staff
from tests.flow import Citizen, Reviewer, case_row, fill_resale, flashes

MAIL = {"form": "paper", "address": "广东省珠海市香洲区海滨南路 8 号 1203 房",
        "phone": "13800000001"}
WINDOW = {"form": "paper_window"}
LEGAL_BUYER = {"role": "buyer", "kind": "legal", "name": "示范银行股份有限公司珠海分行",
               "id_number": "91440400MA4U67890W", "representative_name": "赵六",
               "representative_id_number": "440402199208080044"}


def _issued(client: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
            sandbox: Any, delivery: dict[str, Any]) -> str:
    number, _order = _paid_by_wechat(client, buyer, seller, reviewers, sandbox,
                                     delivery=delivery)
    assert "登簿完成，已写入登记簿" in flashes(reviewers["registration"].act(number, "register"))
    run_once()  # certificate, e-bills, the delivery leaves
    assert case_row(number).status == CaseStatus.CERTIFICATE_ISSUED
    return number


def _parcel(sandbox: Any) -> dict[str, Any]:
    [parcel] = sandbox.state.courier.parcels()
    return parcel


def _track_now() -> None:
    db.session.execute(update(Delivery).values(next_attempt_at=utcnow()))
    db.session.commit()
    run_once()


def test_a_mailed_certificate_travels_with_the_bills_and_is_signed_for_with_the_code(
        client: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
        sandbox: Any) -> None:
    number = _issued(client, buyer, seller, reviewers, sandbox, MAIL)
    items = buyer.get(f"/api/cases/{number}/fees").get_json()["items"]
    fees = {item["item"] for item in items}
    assert "paper_certificate" in fees  # the 10-yuan 工本费

    # One parcel: the certificate and every e-bill of the case, booked with SF.
    parcel = _parcel(sandbox)
    [listed] = buyer.get(f"/api/cases/{number}/deliveries").get_json()
    assert listed["status"] == "shipped" and listed["courier"] == "顺丰速运"
    assert listed["tracking_number"] == parcel["waybill_no"]
    assert parcel["order_id"] == listed["number"] and parcel["recipient"] == "张*"
    titles = [d["title"] for d in listed["documents"]]
    assert titles[0] == "不动产权证书" and "财政电子票据" in titles and "税收完税证明" in titles
    assert len(parcel["contents"]) == len(listed["documents"])
    assert listed["address_masked"] == "广东省****" or listed["address_masked"].endswith("****")
    assert "海滨南路" not in str(listed)  # the address is masked in the answer
    code = listed["pickup_code"]
    assert code and len(code) == 8 and code.isdigit()
    # The seller is on the case but is not the holder: no code for them.
    [seen_by_seller] = seller.get(f"/api/cases/{number}/deliveries").get_json()
    assert seen_by_seller["pickup_code"] is None
    qr = buyer.client.get(f"/api/cases/{number}/deliveries/{listed['number']}/pickup-qr",
                          headers=buyer.headers)
    assert qr.status_code == 200 and qr.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert seller.client.get(f"/api/cases/{number}/deliveries/{listed['number']}/pickup-qr",
                             headers=seller.headers).status_code == 404
    # The owner is told the waybill number by SMS.
    texts = [m["text"] for m in sandbox.state.sms_messages()]
    assert any(parcel["waybill_no"] in t and "签收码" in t for t in texts), texts

    # The courier moves it; the platform follows the route.
    courier = sandbox.state.courier
    courier.advance(parcel["waybill_no"], "pickup")
    courier.advance(parcel["waybill_no"], "dispatch")
    with pytest.raises(ValueError, match="签收码不正确"):
        courier.advance(parcel["waybill_no"], "deliver", "00000000" if code != "00000000"
                        else "11111111")
    _track_now()
    [moving] = buyer.get(f"/api/cases/{number}/deliveries").get_json()
    assert moving["status"] == "shipped"
    assert [e["remark"] for e in moving["events"]][0] == "快件交给快递员，正在派送途中"
    courier.advance(parcel["waybill_no"], "deliver", code)
    _track_now()
    [done] = buyer.get(f"/api/cases/{number}/deliveries").get_json()
    assert done["status"] == "delivered" and done["status_label"] == "已签收"
    assert done["pickup_code"] is None  # used: no longer shown
    actions = db.session.scalars(select(AuditRecord.action).where(
        AuditRecord.entity_type == "delivery").order_by(AuditRecord.id)).all()
    assert actions == ["delivery.created", "delivery.shipped", "delivery.delivered"]


def test_window_pickup_hands_over_once_against_the_code(
        client: Any, make_app: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    number = _issued(client, buyer, seller, reviewers, sandbox, WINDOW)
    assert sandbox.state.courier.parcels() == []  # nothing to mail
    [listed] = buyer.get(f"/api/cases/{number}/deliveries").get_json()
    assert (listed["method"], listed["status"]) == ("window", "ready")
    code = listed["pickup_code"]

    clerk = make_app().test_client()
    log_in(clerk, make_staff(username="zhou.chuangkou", display_name="周窗口",
                             roles=(StaffRole.HELPDESK,)))
    wrong = "12345678" if code != "12345678" else "87654321"
    page = clerk.get(f"/admin/deliveries?code={wrong}", follow_redirects=True)
    assert "取件码无效" in page.get_data(as_text=True)
    found = clerk.get(f"/admin/deliveries?code=BDC-PICKUP:{code}").get_data(as_text=True)
    assert number in found and "确认交付" in found and "张*" in found and "张三" not in found
    token = csrf_token(clerk, "/admin/deliveries")
    handed = clerk.post("/admin/deliveries/hand-over", data={"csrf_token": token, "code": code},
                        follow_redirects=True).get_data(as_text=True)
    assert "已交付" in handed and "不动产权证书" in handed
    again = clerk.post("/admin/deliveries/hand-over", data={"csrf_token": token, "code": code},
                       follow_redirects=True).get_data(as_text=True)
    assert "不能在窗口领取" in again
    [collected] = buyer.get(f"/api/cases/{number}/deliveries").get_json()
    assert collected["status"] == "collected" and collected["pickup_code"] is None
    record = db.session.scalar(select(AuditRecord).where(
        AuditRecord.action == "delivery.collected"))
    assert record is not None and record.channel == "admin"


def test_a_courier_outage_is_retried_and_books_one_parcel(
        client: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
        sandbox: Any) -> None:
    sandbox.state.courier.set_outage("down")
    number = _issued(client, buyer, seller, reviewers, sandbox, MAIL)
    delivery = db.session.scalar(select(Delivery))
    assert delivery.status == "waiting" and delivery.attempts == 1
    assert delivery.last_error and delivery.next_attempt_at > utcnow()
    run_once()  # not due yet: the courier is not asked again at once
    db.session.refresh(delivery)
    assert delivery.attempts == 1
    sandbox.state.courier.set_outage("up")
    _track_now()
    _track_now()  # a second pass, even a second booking, gives the same single parcel
    assert len(sandbox.state.courier.parcels()) == 1
    [listed] = buyer.get(f"/api/cases/{number}/deliveries").get_json()
    assert listed["status"] == "shipped"


def test_the_parcel_waits_for_the_bills_but_not_for_ever(
        client: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    sandbox.state.ebills.set_outage("down")
    number = _issued(client, buyer, seller, reviewers, sandbox, MAIL)
    assert sandbox.state.courier.parcels() == []  # waiting for the bills
    wait = client.application.config["DELIVERY_WAIT_FOR_BILLS_MINUTES"]
    db.session.execute(update(Delivery).values(
        created_at=utcnow() - timedelta(minutes=wait + 1)))
    db.session.commit()
    _track_now()
    [listed] = buyer.get(f"/api/cases/{number}/deliveries").get_json()
    assert listed["status"] == "shipped"
    assert [d["kind"] for d in listed["documents"]] == ["certificate"]


def test_a_returned_parcel_is_collected_at_the_window(
        client: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
        sandbox: Any) -> None:
    number = _issued(client, buyer, seller, reviewers, sandbox, MAIL)
    sandbox.state.courier.advance(_parcel(sandbox)["waybill_no"], "return")
    _track_now()
    [listed] = buyer.get(f"/api/cases/{number}/deliveries").get_json()
    assert listed["status"] == "returned" and listed["pickup_code"]
    assert hand_over_at_window(listed["pickup_code"], staff_id=1).status == "collected"


def test_legal_person_holders_always_get_the_electronic_certificate(
        client: Any, buyer: Citizen, seller: Citizen) -> None:
    from tests.flow import legacy_owner

    legacy_owner("440402003001GB00012F00010203", seller.person_id)
    number = fill_resale(buyer, seller)
    added = buyer.post(f"/api/cases/{number}/applicants", {**LEGAL_BUYER, "share": "1/2"})
    assert added.status_code == 201, added.get_json()
    refused = buyer.put(f"/api/cases/{number}/form/certificate_delivery", WINDOW)
    assert refused.status_code == 422
    assert refused.get_json()["details"]["fields"] == {"form": ["权利人为单位的，只发放电子证书"]}


def test_paper_chosen_before_a_legal_holder_joined_blocks_submission(
        client: Any, buyer: Citizen, seller: Citizen) -> None:
    from tests.flow import legacy_owner

    legacy_owner("440402003001GB00012F00010203", seller.person_id)
    number = fill_resale(buyer, seller, MAIL)
    # A legal person joins the holders after the choice (the form allows that order).
    added = buyer.post(f"/api/cases/{number}/applicants", {**LEGAL_BUYER, "share": "1/2"})
    assert added.status_code == 201, added.get_json()
    submitted = buyer.post(f"/api/cases/{number}/submit", claim=True)
    assert submitted.status_code == 422, submitted.get_json()
    problems = [p["problem"] for p in submitted.get_json()["details"]["roles"]]
    assert "权利人为单位的，只发放电子证书，请将证书领取方式改为电子证书" in problems
    assert deliveries.paper_method(case_row(number)) is None  # and never mailed
