"""The mobile web pages after assessment: pay through Alipay's wap cashier, the paid
page, e-bills, the certificate (image, signed PDF, who viewed) and reporting an error.

The citizens, reviewers and case steps are the application tests' own
(tests/flow.py, tests/flow_fixtures.py); the phone's browser (``phone``) is a Flask
test client on its own app (see conftest),
and Alipay's cashier is the sandbox's real page, driven over HTTP like a phone would.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.accounts.models import Account
from app.cases.workflow import CaseStatus
from app.certificates import corrections
from app.certificates.models import Certificate, CertificateAccess
from app.ebills.models import EBill
from app.jobs import run_once
from app.kernel import crypto
from app.kernel.db import db
from app.links import service as links
from app.people.models import Person
from app.usecases.correct_certificate import answer_correction
from app.web.h5 import pay as h5_pay
from app.web.h5 import session as h5_session
from payments.models import PaymentOrder
from tests import flow_fixtures as application
from tests.app.certificates.test_certificates import _registered
from tests.app.fees.test_payment_flow import _assessed, _manual_delivery  # noqa: F401
from tests.app.links.support import (
    ZHANG,
    case_of,
    csrf_of,
    follow_link,
    last_code,
    log_in_h5,
    someone,
    text,
)
from tests.app.web.h5.conftest import FAST_OTP
from tests.flow import Citizen, Reviewer, case_row

# The application tests' citizens (张三 buys from 李四) and reviewers, as fixtures here.
buyer, seller, reviewers = application.buyer, application.seller, application.reviewers

# The sandbox's notifications go to a closed port: the test delivers them itself, so it
# decides when the platform hears of a payment.
NOTIFY_BASE = "http://127.0.0.1:9"


@pytest.fixture
def app(make_app: Any, tmp_path: Any) -> Iterator[Flask]:
    instance = tmp_path / "instance"
    instance.mkdir()
    app = make_app(**FAST_OTP, INSTANCE_DIR=str(instance), PAYMENT_NOTIFY_BASE_URL=NOTIFY_BASE)
    with app.app_context():
        yield app


@pytest.fixture
def site(make_app: Any, app: Flask) -> Flask:
    return make_app(**FAST_OTP, INSTANCE_DIR=app.config["INSTANCE_DIR"],  # type: ignore[no-any-return]
                    PAYMENT_NOTIFY_BASE_URL=NOTIFY_BASE)


@pytest.fixture
def phone(site: Flask) -> FlaskClient:
    """The phone's browser (apart from the API clients of the citizens)."""
    return site.test_client()


def _path(number: str, tail: str = "") -> str:
    return f"/m/cases/{quote(number, safe='')}{tail}"


def _cert_path(number: str, tail: str = "") -> str:
    return f"/m/certificates/{quote(number, safe='')}{tail}"


def _stale_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    """An hour later: the code of the login is no longer fresh."""
    monkeypatch.setattr(h5_session, "_now", lambda: time.time() + 3600)


def _fresh_code(phone: FlaskClient, sandbox: Any, e164: str, next_path: str) -> TestResponse:
    """The code step: a code to the account's phone, entered, back to ``next_path``."""
    page = phone.get(f"/m/verify?next={quote(next_path)}")
    html = text(page)
    assert page.status_code == 200 and 'data-testid="fresh-code"' in html
    assert "138****0001" in html and e164[3:] not in html
    assert phone.post("/m/verify/code", data={"csrf_token": csrf_of(html)}).status_code == 302
    page = phone.get("/m/verify")
    return phone.post("/m/verify", data={"csrf_token": csrf_of(text(page)),
                                         "code": last_code(sandbox, e164)})


def _asks_for_a_code(response: TestResponse, next_path: str) -> bool:
    """Sent to the code step, to come back to ``next_path``."""
    target = urlsplit(response.location or "")
    return (response.status_code == 302 and target.path == "/m/verify"
            and parse_qs(target.query).get("next") == [next_path])


def _orders(number: str) -> list[PaymentOrder]:
    db.session.rollback()
    case = case_row(number)
    return list(db.session.scalars(select(PaymentOrder).where(PaymentOrder.case_id == case.id)))


def _at_the_cashier(pay_url: str, sandbox: Any) -> str:
    """Open Alipay's cashier page and press 支付 as the phone would; where the cashier
    sends the browser back to (the return URL with Alipay's signed parameters)."""
    with requests.Session() as handset:
        cashier = handset.get(pay_url, timeout=5)
        assert cashier.status_code == 200 and "支付宝" in cashier.text
        action = re.search(r'<form method="post" action="([^"]+/pay)"', cashier.text)
        assert action, cashier.text
        paid = handset.post(sandbox.url + action.group(1), timeout=5, allow_redirects=False)
    assert paid.status_code == 303
    return str(paid.headers["Location"])


def _notify(phone: FlaskClient, sandbox: Any, out_trade_no: str) -> None:
    form = dict(sandbox.state.alipay.notification_for(out_trade_no))
    assert phone.post("/api/payments/notify/alipay", data=form).data == b"success"


# --- paying -----------------------------------------------------------------------------------


def test_pay_through_alipay_wap_then_the_bills(
        app: Flask, site: Flask, phone: FlaskClient, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only Alipay's notification settles here (the paid page's own query: the next test).
    monkeypatch.setattr(h5_pay, "QUERY_AFTER_SECONDS", 3600)
    number = _assessed(buyer, seller, reviewers)
    zhang = someone(ZHANG)  # 张三's SMS login: the same person as the buyer's WeChat one
    log_in_h5(phone, sandbox, zhang.phone)

    # The case page leads to the payment page.
    case_page = text(phone.get(_path(number)))
    assert f'href="{_path(number, "/pay")}"' in case_page and 'data-action="pay"' in case_page
    assert 'data-testid="bills-link"' not in case_page

    # Every item by department, amounts in yuan, the total, one button.
    page = text(phone.get(_path(number, "/pay")))
    assert 'data-state="due"' in page
    assert 'data-department="registration"' in page and 'data-department="tax"' in page
    assert "¥80.00" in page and "¥21,500.00" in page
    assert re.search(r'id="pay-total"[^>]*>¥21,580\.00<', page)
    assert "一次缴清" in page and 'data-testid="gateway-' not in page  # Alipay alone
    assert "微信支付" not in page  # WeChat Pay H5 is not configured

    # An hour after the login: paying asks for a fresh code first, and makes no order.
    _stale_codes(monkeypatch)
    page = text(phone.get(_path(number, "/pay")))
    assert 'data-testid="pay-needs-code"' in page
    asked = phone.post(_path(number, "/pay"), data={"csrf_token": csrf_of(page),
                                                      "gateway": "alipay"})
    assert _asks_for_a_code(asked, _path(number, "/pay"))
    assert _orders(number) == []
    back = _fresh_code(phone, sandbox, zhang.e164, _path(number, "/pay"))
    assert back.status_code == 302 and back.location == _path(number, "/pay")

    # Pressed twice (a double tap, a resubmitted form): one order, the same cashier.
    page = text(phone.get(_path(number, "/pay")))
    assert 'data-testid="pay-needs-code"' not in page
    first = phone.post(_path(number, "/pay"), data={"csrf_token": csrf_of(page),
                                                      "gateway": "alipay"})
    second = phone.post(_path(number, "/pay"), data={"csrf_token": csrf_of(page),
                                                       "gateway": "alipay"})
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    assert first.location.startswith(sandbox.url + "/gateway.do?")
    [order] = _orders(number)
    assert (order.gateway, order.channel, order.amount_fen) == ("alipay", "mobile_web", 2158000)
    assert order.payer_account_id == zhang.account_id

    # Before paying: the paid page waits, refreshing itself.
    waiting = text(phone.get(_path(number, "/paid")))
    assert 'data-state="pending"' in waiting and "正在确认…" in waiting
    assert f'<meta http-equiv="refresh" content="2; url={_path(number, "/paid")}">' in waiting
    assert 'data-testid="paid-refresh"' in waiting

    # Alipay's cashier (the sandbox's page) takes the money and sends the phone back.
    returned = _at_the_cashier(first.location, sandbox)
    assert returned.startswith(site.config["PUBLIC_BASE_URL"] + _path(number, "/paid") + "?")
    assert "trade_no=" in returned and "sign=" in returned
    back_path = urlsplit(returned)
    # Alipay's word on the way back counts for nothing: still confirming.
    page = text(phone.get(f"{back_path.path}?{back_path.query}&trade_status=TRADE_SUCCESS"))
    assert 'data-state="pending"' in page and "支付成功" not in page
    assert case_row(number).status == CaseStatus.FEES_ASSESSED

    # Alipay's verified notification settles it; the page then says so.
    _notify(phone, sandbox, order.out_trade_no)
    assert case_row(number).status == CaseStatus.PAID
    done = text(phone.get(_path(number, "/paid")))
    assert 'data-state="paid"' in done and "支付成功" in done and "http-equiv" not in done
    assert "¥21,580.00" in done
    # Nothing more to pay: the button is gone, another submit makes no order.
    page = text(phone.get(_path(number, "/pay")))
    assert 'data-state="paid"' in page and 'id="pay-submit"' not in page
    again = phone.post(_path(number, "/pay"), data={"csrf_token": csrf_of(page),
                                                      "gateway": "alipay"})
    assert again.status_code == 302 and len(_orders(number)) == 1

    # The e-bills: issuing pending, then listed with their PDF once the job issued them.
    assert 'data-testid="no-bills"' in text(phone.get(_path(number, "/bills")))
    run_once()
    case_page = text(phone.get(_path(number)))
    assert 'data-action="pay"' not in case_page and 'data-testid="bills-link"' in case_page
    page = text(phone.get(_path(number, "/bills")))
    kinds = re.findall(r'data-testid="ebill" data-kind="([a-z_]+)" data-status="([a-z]+)"', page)
    assert sorted(kinds) == [("fiscal_ebill", "issued"), ("tax_certificate", "issued")]
    assert "财政电子票据" in page and "税收完税证明" in page and "¥80.00" in page
    hrefs = re.findall(r'href="([^"]+\.pdf)"[^>]*data-testid="ebill-pdf"', page)
    assert len(hrefs) == 2
    bill = db.session.scalar(select(EBill).where(EBill.kind == "tax"))
    assert bill is not None and bill.bill_number in page
    pdf = phone.get(_path(number, f"/bills/{bill.id}.pdf"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Cache-Control"] == "no-store"
    # The very file the API gives the same person in the mini-program.
    api = buyer.get(f"/api/me/receipts/ebills/{bill.id}.pdf")
    assert api.status_code == 200 and api.data == pdf.data
    # Unknown, or through another case's page: the same 404.
    assert phone.get(_path(number, "/bills/999999.pdf")).status_code == 404
    other = case_of(zhang)
    assert phone.get(_path(other, f"/bills/{bill.id}.pdf")).status_code == 404
    # The seller did not pay: no bills for them, and not their PDF.
    seller_browser = site.test_client()
    log_in_h5(seller_browser, sandbox, "13800000002")
    assert 'data-testid="ebill"' not in text(seller_browser.get(_path(number, "/bills")))
    assert seller_browser.get(_path(number, f"/bills/{bill.id}.pdf")).status_code == 404
    # Voided (红冲) bills stay listed with their note.
    bill.status = "voided"
    db.session.commit()
    page = text(phone.get(_path(number, "/bills")))
    assert "已红冲" in page and "该票据已红冲作废" in page


def test_a_lost_notification_is_found_by_the_paid_page_through_a_pay_link(
        app: Flask, phone: FlaskClient, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # 21,499.98 + 80 = 21,579.98 yuan: ending in 98 fen, the sandbox never notifies.
    number = _assessed(buyer, seller, reviewers, deed_tax="21499.98")
    _link, code = links.create_link("pay_case", number, seller.person_id)
    db.session.commit()
    landed = follow_link(phone, sandbox, code, "+8613800000002")
    assert landed.status_code == 302 and landed.location == _path(number, "/pay")
    page = text(phone.get(landed.location))
    assert 'data-testid="pay-needs-code"' not in page  # the link's code is fresh
    started = phone.post(_path(number, "/pay"), data={"csrf_token": csrf_of(page),
                                                        "gateway": "alipay"})
    assert started.status_code == 303
    [order] = _orders(number)
    assert order.amount_fen == 2157998 and order.channel == "mobile_web"
    _at_the_cashier(started.location, sandbox)
    assert 'data-state="pending"' in text(phone.get(_path(number, "/paid")))
    # A few seconds on, the page asks Alipay itself (the verified answer settles it).
    monkeypatch.setattr(h5_pay, "QUERY_AFTER_SECONDS", 0)
    page = text(phone.get(_path(number, "/paid")))
    assert 'data-state="paid"' in page and "支付成功" in page
    assert case_row(number).status == CaseStatus.PAID


def test_bad_input_on_the_payment_pages_is_a_friendly_page(
        app: Flask, phone: FlaskClient, sandbox: Any) -> None:
    owner = someone()
    number = case_of(owner)
    log_in_h5(phone, sandbox, owner.phone)
    page = text(phone.get(_path(number, "/pay")))
    assert 'data-state="none"' in page and "费税尚未核定" in page and "pay-submit" not in page
    # No CSRF token, an unknown gateway, a draft case: friendly answers, no order.
    no_token = phone.post(_path(number, "/pay"), data={"gateway": "alipay"})
    assert no_token.status_code == 400 and 'data-testid="error-page"' in text(no_token)
    wrong = phone.post(_path(number, "/pay"), data={"csrf_token": csrf_of(page),
                                                      "gateway": "wechat"})
    assert wrong.status_code == 400 and "支付方式" in text(wrong)
    nothing = phone.post(_path(number, "/pay"), data={"csrf_token": csrf_of(page),
                                                        "gateway": "alipay"})
    assert nothing.status_code == 302 and _orders(number) == []
    # Unknown or someone else's case, unknown bill, no order yet.
    for path in ("/m/cases/ZH2099010100001/pay", "/m/cases/%00%ff/paid",
                 "/m/cases/" + "9" * 300 + "/bills", _path(number, "/bills/1.pdf"),
                 _path(number, "/bills/x.pdf")):
        answer = phone.get(path)
        assert answer.status_code == 404, path
        assert 'data-testid="error-page"' in text(answer)
    assert phone.get(_path(number, "/paid")).location == _path(number, "/pay")
    assert phone.get(_path(number, "/bills")).status_code == 200
    # Not logged in: to the login page, and back.
    stranger = phone.application.test_client()
    assert stranger.get(_path(number, "/pay")).location.startswith("/m/login?next=")


# --- the certificate ------------------------------------------------------------------------


def _issued(client: Any, buyer: Citizen, seller: Citizen, reviewers: dict[str, Reviewer],
            sandbox: Any) -> tuple[str, str]:
    number = _registered(client, buyer, seller, reviewers, sandbox)
    run_once()
    assert case_row(number).status == CaseStatus.CERTIFICATE_ISSUED
    certificate = db.session.scalar(select(Certificate).where(
        Certificate.case_id == case_row(number).id))
    assert certificate is not None
    return number, certificate.number


def _accesses(cert_no: str) -> list[tuple[str, str]]:
    db.session.rollback()
    certificate = db.session.scalar(select(Certificate).where(Certificate.number == cert_no))
    assert certificate is not None
    return [(a.action, a.channel) for a in db.session.scalars(
        select(CertificateAccess).where(CertificateAccess.certificate_id == certificate.id)
        .order_by(CertificateAccess.id))]


def test_the_certificate_needs_its_holder_and_a_fresh_code(
        app: Flask, client: FlaskClient, site: Flask, phone: FlaskClient, buyer: Citizen,
        seller: Citizen, reviewers: dict[str, Reviewer], sandbox: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    number, cert_no = _issued(client, buyer, seller, reviewers, sandbox)

    # 张三's phone was taken at the counter; no account of that phone is his yet. The SMS
    # link's code opens his certificate for this phone (a grant), nothing more.
    person = db.session.get(Person, buyer.person_id)
    assert person is not None
    person.phone = "+8613800000001"
    person.phone_hash = crypto.lookup_hash(person.phone, "phone")
    _link, code = links.create_link("view_certificate", cert_no, buyer.person_id)
    db.session.commit()
    landed = follow_link(phone, sandbox, code, "+8613800000001")
    assert landed.status_code == 302 and landed.location == _cert_path(cert_no)
    page = text(phone.get(landed.location))
    assert 'data-testid="certificate"' in page and cert_no in page
    assert 'data-testid="certificate-image"' in page and 'data-testid="certificate-pdf"' in page
    assert 'data-testid="report-error"' not in page  # reporting needs his own account
    image = phone.get(_cert_path(cert_no, "/image"))
    assert image.status_code == 200 and image.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.headers["Cache-Control"] == "no-store"
    assert phone.get(_cert_path(cert_no, "/correction")).status_code == 403
    assert _accesses(cert_no) == [("view_image", "mobile_web")]
    # The grant is for that certificate, not for the case or anything else.
    assert phone.get(_path(number)).status_code == 404

    # His own login (the phone's account now bound to him), an hour after the code.
    zhang = someone(ZHANG)
    other = site.test_client()
    log_in_h5(other, sandbox, zhang.phone)
    case_page = text(other.get(_path(number)))
    assert f'href="{_cert_path(cert_no)}"' in case_page
    assert 'data-action="view_certificate"' in case_page
    _stale_codes(monkeypatch)
    refused = other.get(_cert_path(cert_no))
    assert _asks_for_a_code(refused, _cert_path(cert_no))
    assert other.get(_cert_path(cert_no, "/image")).status_code == 403
    assert _asks_for_a_code(other.get(_cert_path(cert_no, "/pdf")), _cert_path(cert_no))
    assert _accesses(cert_no) == [("view_image", "mobile_web")]  # nothing was shown

    back = _fresh_code(other, sandbox, zhang.e164, _cert_path(cert_no))
    assert back.status_code == 302 and back.location == _cert_path(cert_no)
    page = text(other.get(back.location))
    assert 'data-testid="certificate-image"' in page and 'data-testid="report-error"' in page
    assert other.get(_cert_path(cert_no, "/image")).status_code == 200
    pdf = other.get(_cert_path(cert_no, "/pdf"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Cache-Control"] == "no-store"
    api_pdf = buyer.client.get(f"/api/certificates/{quote(cert_no)}/pdf",
                               headers=buyer.claim_headers)
    assert api_pdf.data == pdf.data  # the signed PDF itself

    # Every look is recorded on the mobile web channel and shown to the owner.
    assert _accesses(cert_no) == [("view_image", "mobile_web"), ("view_image", "mobile_web"),
                                  ("download_pdf", "mobile_web"), ("download_pdf", "miniprogram")]
    seen = buyer.get(f"/api/certificates/{quote(cert_no)}/accesses").get_json()
    assert [a["action"] for a in seen] == ["download_pdf", "download_pdf", "view_image",
                                           "view_image"]
    page = text(other.get(_cert_path(cert_no)))
    assert page.count('data-testid="access-entry"') == 4 and "下载证书PDF" in page

    # Not the seller's certificate; an unknown number: the same 404.
    seller_browser = site.test_client()
    log_in_h5(seller_browser, sandbox, "13800000002")
    unknown = _cert_path("粤(2099)珠海市不动产权第9999999号")
    for path in (_cert_path(cert_no), _cert_path(cert_no, "/image"), _cert_path(cert_no, "/pdf"),
                 _cert_path(cert_no, "/correction"), unknown):
        answer = seller_browser.get(path)
        assert answer.status_code == 404, path
        assert "未找到该证书" in text(answer)


def test_an_error_is_reported_once_and_the_answer_shown(
        app: Flask, client: FlaskClient, phone: FlaskClient, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    _number, cert_no = _issued(client, buyer, seller, reviewers, sandbox)
    zhang = someone(ZHANG)
    log_in_h5(phone, sandbox, zhang.phone)
    page = text(phone.get(_cert_path(cert_no, "/correction")))
    assert 'data-testid="correction-item"' in page and "坐落" in page
    # Bad input: the service's own messages, nothing recorded.
    bad = phone.post(_cert_path(cert_no, "/correction"),
                       data={"csrf_token": csrf_of(page), "item": "门牌", "description": "错"})
    assert bad.status_code == 422
    assert "请选择有误的记载事项" in text(bad) and "4 至 500 字" in text(bad)
    no_token = phone.post(_cert_path(cert_no, "/correction"),
                            data={"item": "坐落", "description": "门牌号应为1203房"})
    assert no_token.status_code == 400

    sent = phone.post(_cert_path(cert_no, "/correction"), data={
        "csrf_token": csrf_of(page), "item": "坐落",
        "description": "门牌号应为1203房，证书写成1230房"})
    assert sent.status_code == 302
    page = text(phone.get(sent.location))
    assert "已提交" in page and 'data-testid="correction-pending"' in page
    assert 'data-status="open"' in page and "correction-form" not in page
    # One open report per certificate: the second is a friendly message, not a second row.
    again = phone.post(_cert_path(cert_no, "/correction"), data={
        "csrf_token": csrf_of(page), "item": "面积", "description": "面积应为89.60平方米"})
    assert again.status_code == 409 and "已有处理中的更正申请" in text(again)
    db.session.rollback()
    account = db.session.get(Account, zhang.account_id)
    assert account is not None
    [report] = corrections.requests_of(account, cert_no)
    assert report.item == "坐落"

    answer_correction(report.id, reviewers["registration"].account.id, "no_error",
                      "经核对登记簿，证书记载无误")
    page = text(phone.get(_cert_path(cert_no, "/correction")))
    assert 'data-testid="correction-answer"' in page and "经核对登记簿，证书记载无误" in page
    assert 'id="correction-form"' in page  # answered: a new report may be made
