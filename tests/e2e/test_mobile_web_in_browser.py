"""A citizen without the mini-program, on a phone-sized Chromium: from the payment notice
the sandbox recorded, open the short link, enter the code, pay at Alipay's (sandbox)
cashier, see the paid status, and later open the certificate; large-font mode; the
neutral page for expired, revoked and tampered links. Screenshots go to
test-results/screenshots/."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from werkzeug.serving import make_server

from app.cases.workflow import CaseStatus
from app.certificates.models import Certificate
from app.jobs import run_once
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.links import service as links
from app.links.models import ShortLink
from tests import flow_fixtures as application
from tests.app.fees.test_payment_flow import _assessed
from tests.app.links.support import ZHANG, case_of, last_code, someone
from tests.app.web.h5.conftest import FAST_OTP
from tests.flow import Citizen, Reviewer, case_row, flashes

pytestmark = pytest.mark.e2e

buyer, seller, reviewers = application.buyer, application.seller, application.reviewers
PHONE_VIEWPORT = {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
                  "has_touch": True, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
                  "device_scale_factor": 2}
LINK = re.compile(r"https?://[^\s]+(/s/[A-Za-z0-9_-]+)")


@pytest.fixture
def app(make_app: Any) -> Iterator[Any]:
    app = make_app(**FAST_OTP)
    with app.app_context():
        yield app


@pytest.fixture
def site(make_app: Any) -> Iterator[str]:
    """The platform on a free port; the gateways notify it there, links point at it."""
    served = make_app(**FAST_OTP)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    served.config.update(PAYMENT_NOTIFY_BASE_URL=url, PUBLIC_BASE_URL=url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(**PHONE_VIEWPORT)
    page = context.new_page()
    yield page
    context.close()


def _shot(page: Any, name: str) -> None:
    from tests.e2e.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"h5-{name}.png"), full_page=True)


def _link_from_sms(sandbox: Any, e164: str, words: str) -> str:
    texts = [m["text"] for m in sandbox.state.sms_messages(e164) if words in m["text"]]
    assert texts, [m["text"] for m in sandbox.state.sms_messages(e164)]
    found = LINK.search(texts[-1])
    assert found, texts[-1]
    return found.group(1)


def _enter_code(page: Any, sandbox: Any, e164: str) -> None:
    assert "138****0001" in page.get_by_test_id("link-phone").inner_text()
    page.get_by_test_id("send-code").click()
    page.get_by_test_id("code-input").fill(last_code(sandbox, e164))
    page.get_by_test_id("verify-code").click()


def test_from_the_sms_to_paid_and_the_certificate_on_a_phone(
        app: Any, client: Any, site: str, phone: Any, buyer: Citizen, seller: Citizen,
        reviewers: dict[str, Reviewer], sandbox: Any) -> None:
    zhang = someone(ZHANG)  # the buyer's SMS login: the phone on file
    e164 = "+86" + ZHANG[0]
    number = _assessed(buyer, seller, reviewers)
    run_once()  # the outbox: the payment notice goes out by SMS, with its link
    path = _link_from_sms(sandbox, e164, "已核定税费")

    page = phone
    page.goto(site + path)
    assert page.get_by_test_id("link-verify").is_visible()
    assert "张三" not in page.content()  # the link never says whose it is
    _shot(page, "1-link")
    _enter_code(page, sandbox, e164)
    page.wait_for_url(f"{site}/m/cases/{number}/pay")
    assert page.get_by_test_id("pay-total").inner_text() == "¥21,580.00"
    _shot(page, "2-pay")

    # Large-font mode: on, checked in the rendered page, on the next page too.
    normal = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    page.get_by_test_id("font-toggle").click()
    page.wait_for_load_state()
    assert "font-large" in (page.get_by_test_id("h5-body").get_attribute("class") or "")
    large = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert large >= 18 and large > normal
    button = page.get_by_test_id("pay-submit").bounding_box()
    assert button is not None and button["height"] >= 48
    _shot(page, "3-pay-large-font")

    # One step: Alipay's cashier (the sandbox's page), pay, back to the platform.
    page.get_by_test_id("pay-submit").click()
    page.wait_for_url(re.compile(re.escape(sandbox.url) + ".*"))
    _shot(page, "4-alipay-cashier")
    page.get_by_role("button", name=re.compile("支付")).first.click()
    page.wait_for_url(re.compile(re.escape(f"{site}/m/cases/{number}/paid") + ".*"))
    page.get_by_test_id("pay-status").filter(has_text="支付成功").wait_for(timeout=15000)
    assert "font-large" in (page.get_by_test_id("h5-body").get_attribute("class") or "")
    _shot(page, "5-paid")
    db.session.rollback()
    assert case_row(number).status == CaseStatus.PAID
    assert zhang.account_id is not None

    # 登簿 and the job: the certificate is there, behind the same fresh code.
    assert "登簿完成" in "".join(flashes(reviewers["registration"].act(number, "register")))
    run_once()
    certificate = db.session.scalar(select(Certificate).where(
        Certificate.case_id == case_row(number).id))
    assert certificate is not None
    page.goto(f"{site}/m/cases/{number}")
    _shot(page, "6-case-timeline")
    page.goto(f"{site}/m/certificates/{certificate.number}")
    image = page.locator("img[data-testid='certificate-image']")
    image.wait_for()
    assert page.evaluate("(img) => img.naturalWidth", image.element_handle()) > 300
    _shot(page, "7-certificate")


def test_expired_revoked_and_tampered_links_get_one_neutral_page(
        app: Any, site: str, phone: Any) -> None:
    zhang = someone(ZHANG)
    number = case_of(zhang)
    expired, expired_code = links.create_link("track_case", number, zhang.person_id)
    revoked, revoked_code = links.create_link("track_case", number, zhang.person_id)
    _fine, good_code = links.create_link("track_case", number, zhang.person_id)
    db.session.commit()
    db.session.execute(update(ShortLink).where(ShortLink.id == expired.id).values(
        expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    links.revoke(revoked.id, "staff:1")
    tampered = good_code[:-1] + ("A" if good_code[-1] != "A" else "B")

    bodies = []
    for code in (expired_code, revoked_code, tampered, "nonsense"):
        response = phone.goto(f"{site}/s/{code}")
        assert response is not None and response.status == 404
        bodies.append(phone.locator("main").inner_text())
    assert len(set(bodies)) == 1 and "链接无效或已过期" in bodies[0]
    _shot(phone, "8-neutral-link")
    response = phone.goto(f"{site}/s/{good_code}")  # the good one still opens
    assert response is not None and response.status == 200
