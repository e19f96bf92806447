"""The mobile web pages: login by one-time code, the citizen cookie, my cases and a case's
progress, large-font mode, friendly errors."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from app.accounts.models import AuthSession
from app.cases.models import Case
from app.cases.workflow import CaseStatus
from app.fees.models import CaseFee
from app.kernel.db import db
from tests.app.links.support import (
    LI,
    ZHANG,
    case_of,
    csrf_of,
    last_code,
    log_in_h5,
    someone,
    text,
)


def _cookies(response: Any) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def _body_class(html: str) -> str:
    match = re.search(r'<body id="h5-body"[^>]*class="([^"]+)"', html)
    assert match
    return match.group(1)


# --- login ----------------------------------------------------------------------------


def test_my_cases_needs_a_login_and_comes_back_after_it(app, client, sandbox):
    owner = someone()
    number = case_of(owner)
    first = client.get("/m/")
    assert first.status_code == 302 and first.location == "/m/login?next=/m/"
    page = client.get("/m/login?next=/m/")
    html = text(page)
    assert page.status_code == 200 and 'data-testid="phone-input"' in html
    sent = client.post("/m/login", data={"csrf_token": csrf_of(html), "phone": "138 0000 0001"})
    assert sent.status_code == 302
    assert [m["phone"] for m in sandbox.state.sms_messages()] == [owner.e164]
    step_two = text(client.get("/m/login"))
    assert "验证码已发送至 <strong>138****0001</strong>" in step_two
    assert "13800000001" not in step_two
    done = client.post("/m/login/verify", data={"csrf_token": csrf_of(step_two),
                                                "code": last_code(sandbox, owner.e164)})
    assert done.status_code == 302 and done.location == "/m/"
    home = text(client.get("/m/"))
    assert number in home and "存量房转移登记" in home
    assert 'data-testid="case-item"' in home and "草稿" in home


def test_the_citizen_cookie_is_its_own_signed_httponly_lax_cookie(app, client, sandbox):
    owner = someone()
    page = client.get("/m/login")
    cookies = _cookies(page)
    assert "bdc_h5" in cookies and "bdc_staff" not in cookies
    assert "HttpOnly" in cookies["bdc_h5"] and "SameSite=Lax" in cookies["bdc_h5"]
    assert "Secure" not in cookies["bdc_h5"]  # development; production sets it
    done = log_in_h5(client, sandbox, owner.phone)
    assert "bdc_staff" not in _cookies(done)
    # A login session on the server, on the mobile web channel.
    db.session.rollback()
    login = db.session.scalar(select(AuthSession).where(AuthSession.account_id == owner.account_id))
    assert login is not None and login.channel == "mobile_web"


def test_a_staff_cookie_does_not_open_the_citizen_pages(app, client, sandbox):
    from flask.sessions import SecureCookieSessionInterface

    owner = someone()
    log_in_h5(client, sandbox, owner.phone)
    h5_cookie = client.get_cookie("bdc_h5")
    assert h5_cookie is not None
    data = client.application.session_interface.citizen.get_signing_serializer(
        client.application).loads(h5_cookie.value)
    # The same content signed as a staff session (another salt) is refused.
    forged = SecureCookieSessionInterface().get_signing_serializer(client.application).dumps(data)
    other = client.application.test_client()
    other.set_cookie("bdc_h5", forged)
    assert other.get("/m/").status_code == 302


def test_secure_cookies_in_production(app, make_app):
    from app.web.h5.session import CitizenCookieInterface

    site = make_app(APP_ENV="test")
    site.config["SESSION_COOKIE_SECURE"] = True
    response = site.test_client().get("/m/login")
    assert "Secure" in _cookies(response)["bdc_h5"]
    assert isinstance(site.session_interface.citizen, CitizenCookieInterface)


def test_a_bad_phone_and_a_wrong_code_are_explained(app, client, sandbox):
    owner = someone()
    page = text(client.get("/m/login"))
    bad = client.post("/m/login", data={"csrf_token": csrf_of(page), "phone": "12345"})
    assert bad.status_code == 422 and "手机号码" in text(bad)
    page = text(client.get("/m/login"))
    client.post("/m/login", data={"csrf_token": csrf_of(page), "phone": owner.phone})
    right = last_code(sandbox, owner.e164)
    page = text(client.get("/m/login"))
    wrong = client.post("/m/login/verify", data={
        "csrf_token": csrf_of(page), "code": "000000" if right != "000000" else "111111"})
    assert wrong.status_code == 302
    assert "验证码错误，还可尝试4次" in text(client.get("/m/login"))
    assert client.get("/m/").status_code == 302  # still not logged in


def test_a_form_without_its_csrf_token_is_a_friendly_page(app, client):
    response = client.post("/m/login", data={"phone": "13800000001"})
    assert response.status_code == 400
    assert "页面已过期" in text(response) and "<html" in text(response)


def test_next_never_leaves_the_citizen_pages(app, client, sandbox):
    owner = someone()
    done = log_in_h5(client, sandbox, owner.phone, next_path="https://evil.example/m/")
    assert done.location == "/m/"
    font = client.get("/m/font?size=large&next=//evil.example/m/")
    assert font.location == "/m/"


def test_logout_ends_the_server_session(app, client, sandbox):
    owner = someone()
    log_in_h5(client, sandbox, owner.phone)
    cookie = client.get_cookie("bdc_h5").value
    home = text(client.get("/m/"))
    out = client.post("/m/logout", data={"csrf_token": csrf_of(home)})
    assert out.status_code == 302
    assert client.get("/m/").status_code == 302
    # The old cookie, replayed, no longer works: the login session is revoked.
    replay = client.application.test_client()
    replay.set_cookie("bdc_h5", cookie)
    assert replay.get("/m/").status_code == 302


def test_login_code_requests_are_rate_limited_with_a_friendly_page(app, make_app):
    client = make_app(RATELIMIT_H5_CODE_PER_IP="1 per minute",
                      OTP_MIN_INTERVAL_SECONDS=0).test_client()
    page = text(client.get("/m/login"))
    assert client.post("/m/login", data={"csrf_token": csrf_of(page),
                                         "phone": "13800000001"}).status_code == 302
    page = text(client.get("/m/login?change=1"))
    limited = client.post("/m/login", data={"csrf_token": csrf_of(page),
                                            "phone": "13800000001"})
    assert limited.status_code == 429
    assert "操作过于频繁" in text(limited) and 'data-testid="error-page"' in text(limited)


# --- cases ----------------------------------------------------------------------------


def test_case_detail_shows_the_timeline_and_the_fees(app, client, sandbox):
    owner = someone()
    number = case_of(owner)
    case = db.session.scalar(select(Case).where(Case.case_number == number))
    case.status = CaseStatus.FEES_ASSESSED
    db.session.add_all([
        CaseFee(case_id=case.id, item_code="registration_fee", name="不动产登记费",
                department="registration", amount_fen=8000, basis="住宅 80 元/件"),
        CaseFee(case_id=case.id, item_code="deed_tax", name="契税", department="tax",
                amount_fen=2150000, basis="2,150,000.00 × 1%"),
    ])
    db.session.commit()
    log_in_h5(client, sandbox, owner.phone)
    page = client.get(f"/m/cases/{number}")
    html = text(page)
    assert page.status_code == 200
    assert 'data-testid="timeline-entry"' in html and "创建申请" in html
    assert "不动产登记费" in html and "¥80.00" in html and "¥21,580.00" in html
    assert 'data-action="pay"' in html and f'href="/m/cases/{number}/pay"' in html
    assert "待缴费" in html


def test_a_session_cannot_open_another_persons_case(app, client, sandbox):
    zhang = someone(ZHANG)
    li = someone(LI)
    theirs = case_of(li)
    log_in_h5(client, sandbox, zhang.phone)
    response = client.get(f"/m/cases/{theirs}")
    assert response.status_code == 404
    html = text(response)
    assert "未找到该办件" in html and theirs not in html.replace(f"/m/cases/{theirs}", "")
    assert theirs not in text(client.get("/m/"))
    unknown = client.get("/m/cases/ZH2099010100001")
    assert unknown.status_code == 404 and "未找到该办件" in text(unknown)


def test_an_unverified_phone_sees_only_its_own_drafts(app, client, sandbox):
    someone(ZHANG)
    log_in_h5(client, sandbox, "13900000066")
    home = text(client.get("/m/"))
    assert 'data-testid="no-cases"' in home and "完成实名认证" in home


# --- large font, headers -------------------------------------------------------------------


def test_large_font_is_a_cookie_switched_by_a_plain_link_on_every_page(app, client, sandbox):
    page = text(client.get("/m/login"))
    assert _body_class(page) == "h5 font-normal"
    assert 'id="font-toggle"' in page and "大字模式" in page
    switched = client.get("/m/font?size=large&next=/m/login")
    assert switched.status_code == 302 and switched.location == "/m/login"
    assert "bdc_h5_font=large" in _cookies(switched)["bdc_h5_font"]
    page = text(client.get("/m/login"))
    assert _body_class(page) == "h5 font-large"
    assert '<html lang="zh-CN" class="font-large">' in page and "标准字号" in page
    # Also on the short-link pages and the error pages.
    assert _body_class(text(client.get("/s/" + "Q" * 22))) == "h5 font-large"
    back = client.get("/m/font?size=normal&next=/m/login")
    assert back.location == "/m/login"
    assert _body_class(text(client.get("/m/login"))) == "h5 font-normal"


def test_the_stylesheet_has_the_sizes_the_issue_asks_for(app, client):
    response = client.get("/m/static/h5.css")
    css = text(response)
    response.close()
    assert "html { font-size: 16px;" in css
    assert "html.font-large { font-size: 20px; }" in css
    assert css.count("min-height: 48px") >= 3


def test_citizen_pages_are_not_cached_and_send_no_referrer(app, client):
    response = client.get("/m/login")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_an_unexpected_error_is_a_friendly_page(app, site, client, sandbox, monkeypatch):
    owner = someone()
    log_in_h5(client, sandbox, owner.phone)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("app.web.h5.views.list_cases_for", broken)
    response = client.get("/m/")
    assert response.status_code == 500
    assert "系统繁忙" in text(response) and "boom" not in text(response)


def test_the_staff_pages_keep_their_own_cookie(app, client):
    staff = client.get("/admin/login")
    assert staff.status_code == 200
    cookies = _cookies(staff)
    assert "bdc_staff" in cookies and "bdc_h5" not in cookies
    assert "bdc_h5" in _cookies(client.get("/m/login"))
