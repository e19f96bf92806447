"""Signed short links: unguessable codes kept only as keyed hashes, one neutral answer for
every bad link, the one-time code to the phone on file, the landing pages, the limits."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select
from sqlalchemy import text as sql

from app.accounts.models import Account, AuthSession
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.links import service as links
from app.links.models import ShortLink
from tests.app.links.support import (
    LI,
    ZHANG,
    audit_rows,
    case_of,
    certificate_for,
    csrf_of,
    follow_link,
    last_code,
    log_in_h5,
    open_link,
    request_link_code,
    someone,
    text,
    verify_link,
)

NEUTRAL = "链接无效或已过期"


def _link(purpose: str = "track_case", **kwargs: Any) -> tuple[ShortLink, str, Any]:
    owner = someone(**kwargs)
    number = case_of(owner)
    target = certificate_for(number) if purpose == "view_certificate" else number
    link, code = links.create_link(purpose, target, owner.person_id)
    db.session.commit()
    return link, code, owner


def _row(link_id: int) -> ShortLink:
    db.session.rollback()
    link = db.session.get(ShortLink, link_id)
    assert link is not None
    return link


# --- the service ----------------------------------------------------------------------


def test_a_code_is_128_random_bits_and_only_its_keyed_hash_is_stored(app):
    link, code, _ = _link()
    assert len(code) == 22 and links.CODE_PATTERN.fullmatch(code)
    assert link.code_hash == links.code_hash(code) != code
    stored = json.dumps([list(r) for r in db.session.execute(sql("SELECT * FROM short_links"))],
                        default=str)
    assert code not in stored
    assert links.link_url(code) == f"http://127.0.0.1:8000/s/{code}"
    assert links.resolve(code).id == link.id
    created = audit_rows("link.created")
    assert [r.entity_id for r in created] == [str(link.id)]
    assert created[0].after["purpose"] == "track_case"
    assert link.expires_at - link.created_at == timedelta(days=7)


def test_the_public_base_url_and_lifetime_come_from_the_settings(app, make_app):
    other = make_app(PUBLIC_BASE_URL="https://bdc.example.cn/", SHORT_LINK_TTL_DAYS=3)
    with other.app_context():
        link, code, _ = _link()
        assert links.link_url(code) == f"https://bdc.example.cn/s/{code}"
        assert link.expires_at - link.created_at == timedelta(days=3)
        short, _code = links.create_link("pay_case", link.target, link.person_id,
                                         ttl=timedelta(hours=1))
        assert short.expires_at - short.created_at == timedelta(hours=1)


def test_codes_differ_every_time(app):
    owner = someone()
    number = case_of(owner)
    codes = {links.create_link("track_case", number, owner.person_id)[1] for _ in range(20)}
    assert len(codes) == 20


def test_unknown_expired_revoked_and_malformed_codes_resolve_to_nothing(app):
    link, code, _ = _link()
    tampered = code[:5] + ("A" if code[5] != "A" else "B") + code[6:]
    for bad in (tampered, "A" * 22, "", "short", code + "x", code[:-1] + "%", "../" + code):
        assert links.resolve(bad) is None, bad
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert links.resolve(code) is None
    other, other_code, _ = _link(who=LI)
    assert links.revoke(other.id, "staff:7") is True
    assert links.resolve(other_code) is None
    assert links.revoke(other.id, "staff:7") is False  # once
    revoked = audit_rows("link.revoked")
    assert [(r.actor_type, r.actor_id, r.entity_id) for r in revoked] == [
        ("staff", "7", str(other.id))]
    assert _row(other.id).revoked_by == "staff:7"


def test_bad_purposes_targets_and_people_are_refused(app):
    owner = someone()
    number = case_of(owner)
    with pytest.raises(ValueError):
        links.create_link("delete_case", number, owner.person_id)
    with pytest.raises(ValueError):
        links.create_link("track_case", "ZH2099010100001", owner.person_id)
    with pytest.raises(ValueError):
        links.create_link("view_certificate", number, owner.person_id)  # not a certificate
    with pytest.raises(ValueError):
        links.create_link("track_case", number, 99999)
    with pytest.raises(ValueError):
        links.create_link("track_case", number, owner.person_id, ttl=timedelta(0))


def test_a_person_without_a_phone_on_file_gets_no_link(app):
    from app.people import service as people

    wechat = Account(wechat_openid="o-nophone")
    db.session.add(wechat)
    db.session.flush()
    person = people.bind_verified_identity(wechat, "王五", "440402198505050058",
                                           method="test", channel="miniprogram")
    db.session.commit()
    number = case_of(someone())
    with pytest.raises(ValueError, match="no phone"):
        links.create_link("track_case", number, person.id)


def test_the_account_phone_is_used_when_the_person_has_none(app):
    owner = someone()
    owner.account.person.phone = None
    db.session.commit()
    link, _code = links.create_link("track_case", case_of(owner), owner.person_id)
    assert links.phone_on_file(link) == owner.e164


# --- opening a link -----------------------------------------------------------------------


def test_open_send_the_code_to_the_phone_on_file_verify_and_land_on_the_case(
        app, client, sandbox):
    link, code, owner = _link()
    page = open_link(client, code)
    assert page.status_code == 200
    html = text(page)
    assert "验证码将发送至 <strong>138****0001</strong>" in html
    assert "张三" not in html and link.target not in html  # nothing before the code
    assert 'data-testid="send-code"' in html and 'data-testid="verify-code"' in html

    sent = request_link_code(client, code)
    assert sent.status_code == 302 and sent.location.endswith(f"/s/{code}")
    assert "验证码已发送至 138****0001" in text(client.get(sent.location))
    messages = sandbox.state.sms_messages()
    assert [m["phone"] for m in messages] == [owner.e164]

    landed = verify_link(client, code, last_code(sandbox, owner.e164))
    assert landed.status_code == 302
    assert landed.location == f"/m/cases/{link.target}"
    detail = client.get(landed.location)
    assert detail.status_code == 200
    assert link.target in text(detail) and 'data-testid="timeline-entry"' in text(detail)

    row = _row(link.id)
    assert row.open_count == 1 and row.last_opened_at is not None
    actions = [r.action for r in audit_rows("link.")]
    assert actions == ["link.created", "link.opened", "link.opened", "link.code_sent",
                       "link.opened", "link.opened", "link.verified"]
    for record in audit_rows("link."):
        assert record.action == "link.created" or record.channel == "mobile_web"
        dumped = json.dumps([record.after, record.note], ensure_ascii=False)
        assert "1380000" not in dumped and "张三" not in dumped and code not in dumped


def test_each_purpose_lands_on_its_page(app, site, sandbox):
    owner = someone()
    number = case_of(owner)
    certificate = certificate_for(number)
    expected = {"track_case": f"/m/cases/{number}", "pay_case": f"/m/cases/{number}/pay",
                "view_certificate": "/m/certificates/" + quote(certificate, safe="")}
    for purpose, target in (("track_case", number), ("pay_case", number),
                            ("view_certificate", certificate)):
        _link_row, code = links.create_link(purpose, target, owner.person_id)
        db.session.commit()
        fresh = site.test_client()
        landed = follow_link(fresh, sandbox, code, owner.e164)
        assert landed.status_code == 302, text(landed)
        assert landed.location == expected[purpose]


def test_every_bad_link_gets_the_same_neutral_page(app, client):
    link, code, _ = _link()
    expired, expired_code, _ = _link(who=LI)
    expired.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    revoked, revoked_code = links.create_link("track_case", link.target, link.person_id)
    db.session.commit()
    links.revoke(revoked.id, "system")
    tampered = code[:10] + ("x" if code[10] != "x" else "y") + code[11:]
    bodies = {}
    for name, bad in (("expired", expired_code), ("revoked", revoked_code),
                      ("tampered", tampered), ("unknown", "Q" * 22), ("malformed", "abc")):
        response = open_link(client, bad)
        assert response.status_code == 404, name
        bodies[name] = text(response)
        assert NEUTRAL in bodies[name]
        assert bad not in bodies[name]
        # Sending or verifying a code through a bad link is the same page too.
        posted = client.post(f"/s/{bad}/code", data={"csrf_token": "x"})
        assert posted.status_code in (400, 404)
    assert len(set(bodies.values())) == 1, "the page must not say which"
    assert [r.after["reason"] for r in audit_rows("link.refused")] == [
        "expired", "revoked"]


def test_posts_through_a_bad_link_say_nothing_either(app, client):
    link, code, _ = _link()
    page = text(open_link(client, code))
    token = csrf_of(page)
    neutral = text(open_link(client, "Z" * 22))
    for path in ("/s/{}/code", "/s/{}/verify"):
        response = client.post(path.format("Z" * 22), data={"csrf_token": token,
                                                            "code": "123456"})
        assert response.status_code == 404 and text(response) == neutral


def test_a_link_for_another_persons_phone_does_not_say_whose_it_is(app, client, sandbox):
    zhang = someone(ZHANG)
    li = someone(LI)
    log_in_h5(client, sandbox, zhang.phone)  # 张三 is logged in on this phone
    link, code = links.create_link("track_case", case_of(li), li.person_id)
    db.session.commit()
    page = open_link(client, code)
    html = text(page)
    assert page.status_code == 200  # not his link: the code is still asked
    assert "138****0002" in html
    for leak in ("李四", "李*", "4404", link.target, "13800000002"):
        assert leak not in html, leak
    request_link_code(client, code)
    # A code that is not the one sent to 李四's phone does not open 李四's link.
    sent_to_li = last_code(sandbox, li.e164)
    wrong = verify_link(client, code, "000000" if sent_to_li != "000000" else "111111")
    assert wrong.status_code == 302 and wrong.location.endswith(f"/s/{code}")
    assert "验证码错误" in text(client.get(wrong.location))
    assert [r.after["reason"] for r in audit_rows("link.code_rejected")] == ["OTP_INVALID"]


def test_a_fresh_session_of_the_person_opens_the_link_without_a_new_code(app, client, sandbox):
    link, code, owner = _link()
    log_in_h5(client, sandbox, owner.phone)
    sent_before = len(sandbox.state.sms_messages())
    landed = open_link(client, code)
    assert landed.status_code == 302 and landed.location == f"/m/cases/{link.target}"
    assert len(sandbox.state.sms_messages()) == sent_before
    assert _row(link.id).open_count == 1
    assert [r.action for r in audit_rows("link.session")] == ["link.session_reused"]

    # Ten minutes after the last code, the link asks for a new one.
    with client.session_transaction("/m/") as session:
        session["h5_verified_at"] -= 11 * 60
    page = open_link(client, code)
    assert page.status_code == 200 and "138****0001" in text(page)
    # A new code on this browser replaces its login: the old server session ends.
    db.session.rollback()
    [old] = db.session.scalars(select(AuthSession)).all()
    assert follow_link(client, sandbox, code, owner.e164).status_code == 302
    db.session.rollback()
    logins = db.session.scalars(select(AuthSession).order_by(AuthSession.created_at)).all()
    assert [(s.id == old.id, s.revoked_reason) for s in logins] == [
        (True, "replaced"), (False, None)]


def test_after_the_code_a_wechat_user_is_offered_the_mini_program(app, client, sandbox):
    link, code, owner = _link(openid="o-zhangsan")
    page = text(open_link(client, code))
    assert "在微信小程序中打开" not in page
    request_link_code(client, code)
    assert sandbox.state.url_links() == []  # nothing generated before the code is verified
    landed = verify_link(client, code, last_code(sandbox, owner.e164))
    detail = text(client.get(landed.location))
    [generated] = sandbox.state.url_links()
    assert generated["path"] == "pages/case-detail/index"
    assert generated["query"] == f"case_number={link.target}"
    assert 'data-testid="open-miniprogram"' in detail
    assert generated["url_link"] in detail


def test_without_wechat_there_is_no_mini_program_offer(app, client, sandbox):
    link, code, owner = _link()
    landed = follow_link(client, sandbox, code, owner.e164)
    assert "在微信小程序中打开" not in text(client.get(landed.location))
    assert sandbox.state.url_links() == []


def test_wrong_codes_lock_and_a_revoked_link_stops_at_once(app, client, sandbox):
    link, code, owner = _link()
    request_link_code(client, code)
    right = last_code(sandbox, owner.e164)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        verify_link(client, code, wrong)
    page = text(client.get(f"/s/{code}"))
    assert "错误次数过多" in page
    refused = verify_link(client, code, right)  # locked: even the right code is refused now
    assert refused.location.endswith(f"/s/{code}")
    links.revoke(link.id, "staff:1")
    assert open_link(client, code).status_code == 404
    assert _row(link.id).open_count == 0


def test_a_revoked_link_no_longer_opens_its_page_for_the_session(app, client, sandbox):
    """The grant a link gave lasts only while the link is usable."""
    from app.accounts.service import account_for_phone

    owner = someone()
    number = case_of(owner)
    # The phone on file belongs to a person whose SMS account is not linked yet: the
    # link's grant is what lets the session see the case.
    stranger_phone = "+8613900000077"
    owner.account.person.phone = stranger_phone
    db.session.commit()
    link, code = links.create_link("track_case", number, owner.person_id)
    db.session.commit()
    landed = follow_link(client, sandbox, code, stranger_phone)
    assert client.get(landed.location).status_code == 200
    account = account_for_phone(stranger_phone, "mobile_web")
    assert account.person_id is None  # the code proves the phone, not an identity
    assert number in text(client.get("/m/"))  # shown as a link opened in this session
    links.revoke(link.id, "system")
    assert client.get(landed.location).status_code == 404


# --- limits -----------------------------------------------------------------------------


def test_opening_links_is_limited_per_address(app, make_app):
    client = make_app(RATELIMIT_SHORT_LINK_OPEN_PER_IP="3 per minute").test_client()
    _link_row, code, _ = _link()
    for _ in range(3):
        assert client.get(f"/s/{code}").status_code == 200
    limited = client.get("/s/" + "Q" * 22)
    assert limited.status_code == 429
    assert "操作过于频繁" in text(limited) and "<html" in text(limited)
    assert limited.headers.get("Retry-After")


def test_code_requests_are_limited_per_link(app, make_app, sandbox):
    web = make_app(RATELIMIT_H5_CODE_PER_LINK="2 per hour", OTP_MIN_INTERVAL_SECONDS=0)
    _link_row, code, owner = _link()
    for n in range(2):  # even from fresh browsers
        assert request_link_code(web.test_client(), code).status_code == 302, n
    limited = request_link_code(web.test_client(), code)
    assert limited.status_code == 429 and "操作过于频繁" in text(limited)
    assert len(sandbox.state.sms_messages(owner.e164)) == 2


def test_code_requests_are_limited_per_address(app, make_app, sandbox):
    client = make_app(RATELIMIT_H5_CODE_PER_IP="2 per minute",
                      OTP_MIN_INTERVAL_SECONDS=0).test_client()
    codes = [_link(who=who)[1] for who in (ZHANG, LI)]
    for code in codes:
        assert request_link_code(client, code).status_code == 302
    assert request_link_code(client, codes[0]).status_code == 429


def test_one_code_a_minute_per_phone_is_a_friendly_message(app, make_app, sandbox):
    client = make_app(OTP_MIN_INTERVAL_SECONDS=60).test_client()
    _link_row, code, owner = _link()
    assert request_link_code(client, code).status_code == 302
    again = request_link_code(client, code)
    assert again.status_code == 302
    assert "秒后再重新获取" in text(client.get(again.location))
    assert len(sandbox.state.sms_messages(owner.e164)) == 1


def test_an_sms_provider_failure_is_a_message_not_an_error(app, site, client, sandbox):
    from app.integrations.sms import SmsError

    class Down:
        def send(self, *args: Any) -> None:
            raise SmsError("unavailable", "down")

    _link_row, code, _ = _link()
    site.extensions["bdc.sms"] = Down()
    sent = request_link_code(client, code)
    assert sent.status_code == 302
    assert "短信发送失败" in text(client.get(sent.location))


def test_no_personal_data_in_the_link_table(app):
    _link()
    row = db.session.execute(select(ShortLink)).scalar_one()
    assert not any("1380000" in str(getattr(row, column.key))
                   for column in ShortLink.__table__.columns)
