"""Citizen login from an SMS link: phone + 6-digit one-time code."""

from datetime import timedelta

from sqlalchemy import select, text

from app.accounts.models import OtpChallenge
from app.kernel.db import db
from tests.helpers import bearer, last_sms_code, sms_login

PHONE = "13800000009"
E164 = "+8613800000009"


def ask(client, phone=PHONE):
    return client.post("/api/auth/sms/code", json={"phone": phone})


def login(client, code, phone=PHONE):
    return client.post("/api/auth/sms/login", json={"phone": phone, "code": code})


def test_a_login_code_arrives_by_sms_in_chinese_and_logs_the_citizen_in(client, sandbox):
    sent = ask(client)
    assert sent.status_code == 202
    assert sent.get_json() == {"expires_in": 300, "resend_after": 60}
    message = sandbox.state.latest_sms(E164)
    code = message["params"][0]
    assert len(code) == 6 and code.isdigit()
    assert code in message["text"] and "验证码" in message["text"]
    response = login(client, code)
    assert response.status_code == 200
    tokens = response.get_json()
    assert tokens["account"]["channels"] == ["sms"]
    me = client.get("/api/me", headers=bearer(tokens)).get_json()
    assert me["phone_masked"] == "138****0009"


def test_the_same_phone_always_reaches_the_same_account(client, sandbox):
    first = sms_login(client, sandbox)
    for challenge in db.session.scalars(select(OtpChallenge)):
        challenge.created_at -= timedelta(minutes=2)  # the minute between codes has passed
    db.session.commit()
    second = sms_login(client, sandbox)
    assert first["account"]["id"] == second["account"]["id"]


def test_codes_are_stored_only_as_keyed_hashes(client, sandbox):
    ask(client)
    code = last_sms_code(sandbox, E164)
    challenge = db.session.scalar(select(OtpChallenge))
    assert code not in challenge.code_hash
    raw_rows = db.session.execute(text("SELECT * FROM otp_challenges")).all()
    assert code not in repr(raw_rows)
    assert E164 not in repr(raw_rows) and PHONE not in repr(raw_rows)


def test_a_wrong_code_says_how_many_tries_are_left(client, sandbox):
    ask(client)
    code = last_sms_code(sandbox, E164)
    wrong = "000000" if code != "000000" else "111111"
    response = login(client, wrong)
    assert response.status_code == 401
    assert response.get_json()["code"] == "OTP_INVALID"
    assert response.get_json()["details"] == {"remaining_attempts": 4}


def test_five_wrong_codes_lock_the_code_even_for_the_right_one(client, sandbox):
    ask(client)
    code = last_sms_code(sandbox, E164)
    wrong = "000000" if code != "000000" else "111111"
    statuses = [login(client, wrong).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    locked = login(client, code)
    assert locked.status_code == 429
    assert locked.get_json()["code"] == "OTP_LOCKED"


def test_a_code_works_only_once(client, sandbox):
    ask(client)
    code = last_sms_code(sandbox, E164)
    assert login(client, code).status_code == 200
    assert login(client, code).status_code == 401


def test_an_expired_code_is_refused(make_app, sandbox):
    app = make_app(OTP_TTL_SECONDS=0)
    with app.app_context():
        client = app.test_client()
        ask(client)
        response = login(client, last_sms_code(sandbox, E164))
    assert response.status_code == 401
    assert response.get_json()["code"] == "OTP_INVALID"


def test_a_new_code_replaces_the_previous_one(make_app, sandbox):
    app = make_app(OTP_MIN_INTERVAL_SECONDS=0)
    with app.app_context():
        client = app.test_client()
        ask(client)
        old = last_sms_code(sandbox, E164)
        ask(client)
        new = last_sms_code(sandbox, E164)
        if old != new:
            assert login(client, old).status_code == 401
        assert login(client, new).status_code == 200


def test_only_one_code_a_minute_per_phone(client):
    assert ask(client).status_code == 202
    again = ask(client)
    assert again.status_code == 429
    body = again.get_json()
    assert body["code"] == "OTP_TOO_FREQUENT"
    assert 0 < body["details"]["retry_after"] <= 60
    assert ask(client, "13800000008").status_code == 202  # another phone is not affected


def test_at_most_ten_codes_a_day_per_phone(make_app):
    app = make_app(OTP_MIN_INTERVAL_SECONDS=0, RATELIMIT_OTP_REQUEST_PER_IP="100 per minute")
    with app.app_context():
        client = app.test_client()
        statuses = [ask(client).status_code for _ in range(11)]
        refused = ask(client).get_json()
    assert statuses == [202] * 10 + [429]
    assert refused["code"] == "OTP_DAILY_LIMIT"


def test_one_address_cannot_ask_for_codes_for_many_phones(make_app):
    app = make_app(RATELIMIT_OTP_REQUEST_PER_IP="3 per minute")
    with app.app_context():
        client = app.test_client()
        statuses = [ask(client, f"1380000001{i}").status_code for i in range(4)]
        refused = ask(client, "13800000020")
    assert statuses == [202, 202, 202, 429]
    assert refused.get_json()["code"] == "RATE_LIMITED"
    assert "Retry-After" in refused.headers


def test_code_guessing_from_one_address_is_rate_limited(make_app):
    app = make_app(RATELIMIT_OTP_VERIFY_PER_IP="3 per minute")
    with app.app_context():
        client = app.test_client()
        statuses = [login(client, "123456", f"1380000003{i}").status_code for i in range(4)]
    assert statuses[-1] == 429


def test_an_invalid_phone_number_is_a_field_error_in_chinese(client):
    response = ask(client, "12345")
    assert response.status_code == 422
    assert response.get_json()["details"]["fields"]["phone"] == ["手机号码格式不正确"] or (
        "手机号码" in response.get_json()["details"]["fields"]["phone"][0])


def test_a_code_that_is_not_six_digits_is_a_field_error(client):
    response = login(client, "12ab")
    assert response.status_code == 422
    assert "6位数字" in response.get_json()["details"]["fields"]["code"][0]


def test_an_sms_provider_failure_is_a_503_and_leaves_no_usable_code(client, sandbox):
    failing = "13900000000"  # the sandbox refuses to deliver to this number
    response = ask(client, failing)
    assert response.status_code == 503
    assert response.get_json()["code"] == "SMS_UNAVAILABLE"
    challenge = db.session.scalar(select(OtpChallenge))
    assert challenge.send_failed and challenge.superseded_at is not None


def test_behind_a_trusted_proxy_the_limit_follows_the_forwarded_address(make_app):
    app = make_app(PROXY_FIX_X_FOR=1, RATELIMIT_OTP_REQUEST_PER_IP="1 per minute")
    with app.app_context():
        client = app.test_client()

        def ask_from(ip, phone):
            return client.post("/api/auth/sms/code", json={"phone": phone},
                               headers={"X-Forwarded-For": ip}).status_code

        assert ask_from("203.0.113.1", "13800000041") == 202
        assert ask_from("203.0.113.1", "13800000042") == 429
        assert ask_from("203.0.113.2", "13800000043") == 202
