"""Citizen login from the mini-program: wx.login code → code2session (sandbox) → tokens."""

from sqlalchemy import select

from app.accounts.models import Account
from app.kernel.db import db
from tests.helpers import bearer, wechat_code, wechat_login


def test_a_new_wechat_user_gets_tokens_and_an_account_bound_to_the_openid(client):
    tokens = wechat_login(client, "alice")
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 900
    assert tokens["account"]["channels"] == ["wechat"]
    assert tokens["account"]["identity_verified"] is False
    account = db.session.get(Account, tokens["account"]["id"])
    assert account.wechat_openid.startswith("o") and account.wechat_unionid


def test_the_same_wechat_user_logging_in_again_reaches_the_same_account(client):
    first = wechat_login(client, "alice")
    second = wechat_login(client, "alice")
    other = wechat_login(client, "bob")
    assert first["account"]["id"] == second["account"]["id"]
    assert other["account"]["id"] != first["account"]["id"]


def test_the_wechat_session_key_never_leaves_the_server(client):
    response = client.post("/api/auth/wechat", json={"code": wechat_code("alice")})
    account = db.session.scalar(select(Account))
    assert account.wechat_session_key  # kept, encrypted, for later WeChat data decryption
    assert account.wechat_session_key not in response.get_data(as_text=True)
    me = client.get("/api/me", headers=bearer(response.get_json()))
    assert account.wechat_session_key not in me.get_data(as_text=True)
    assert "session_key" not in me.get_data(as_text=True)


def test_an_invalid_wechat_code_is_refused_in_chinese(client):
    response = client.post("/api/auth/wechat", json={"code": "invalid-code"})
    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == "WECHAT_LOGIN_FAILED"
    assert "微信登录失败" in body["message"]


def test_a_wechat_code_cannot_be_used_twice(client):
    code = wechat_code("alice")
    assert client.post("/api/auth/wechat", json={"code": code}).status_code == 200
    again = client.post("/api/auth/wechat", json={"code": code})
    assert again.status_code == 401
    assert again.get_json()["code"] == "WECHAT_LOGIN_FAILED"


def test_a_missing_code_is_a_field_error(client):
    response = client.post("/api/auth/wechat", json={})
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "VALIDATION_FAILED"
    assert body["details"]["fields"]["code"] == ["此项为必填项"]


def test_wechat_being_unreachable_is_a_503_not_a_500(make_app):
    app = make_app(WECHAT_API_BASE="http://127.0.0.1:9/")
    with app.app_context():
        response = app.test_client().post("/api/auth/wechat", json={"code": wechat_code("a")})
    assert response.status_code == 503
    assert response.get_json()["code"] == "WECHAT_UNAVAILABLE"
