"""Access tokens expire, refresh tokens rotate, logout and token reuse revoke."""

from tests.helpers import bearer, wechat_login


def test_an_access_token_opens_the_profile(client):
    tokens = wechat_login(client)
    response = client.get("/api/me", headers=bearer(tokens))
    assert response.status_code == 200
    assert response.get_json()["id"] == tokens["account"]["id"]


def test_no_token_means_401_in_chinese(client):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.get_json() == {"code": "UNAUTHENTICATED", "message": "请先登录", "details": {}}


def test_a_tampered_token_is_invalid(client):
    tokens = wechat_login(client)
    token = tokens["access_token"]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.get("/api/me", headers={"Authorization": f"Bearer {tampered}"})
    assert response.status_code == 401
    assert response.get_json()["code"] == "TOKEN_INVALID"


def test_an_expired_access_token_asks_for_a_refresh(make_app):
    app = make_app(ACCESS_TOKEN_TTL_SECONDS=-1)
    with app.app_context():
        client = app.test_client()
        tokens = wechat_login(client)
        response = client.get("/api/me", headers=bearer(tokens))
    assert response.status_code == 401
    assert response.get_json()["code"] == "TOKEN_EXPIRED"


def test_refresh_rotates_the_refresh_token(client):
    tokens = wechat_login(client)
    refreshed = client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    new = refreshed.get_json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert client.get("/api/me", headers=bearer(new)).status_code == 200
    second = client.post("/api/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert second.status_code == 200


def test_reusing_a_spent_refresh_token_revokes_the_whole_login(client):
    tokens = wechat_login(client)
    spent = {"refresh_token": tokens["refresh_token"]}
    new = client.post("/api/auth/refresh", json=spent).get_json()
    stolen = client.post("/api/auth/refresh", json=spent)
    assert stolen.status_code == 401
    assert stolen.get_json()["code"] == "REFRESH_TOKEN_INVALID"
    # The legitimate holder's newer tokens die with it.
    newer = client.post("/api/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert newer.status_code == 401
    assert client.get("/api/me", headers=bearer(new)).status_code == 401


def test_an_unknown_refresh_token_is_refused(client):
    response = client.post("/api/auth/refresh", json={"refresh_token": "nope"})
    assert response.status_code == 401


def test_an_expired_login_cannot_be_refreshed(make_app):
    app = make_app(REFRESH_TOKEN_TTL_SECONDS=-1)
    with app.app_context():
        client = app.test_client()
        tokens = wechat_login(client)
        response = client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 401


def test_logout_revokes_access_and_refresh_tokens_at_once(client):
    tokens = wechat_login(client)
    assert client.post("/api/auth/logout", headers=bearer(tokens)).status_code == 204
    assert client.get("/api/me", headers=bearer(tokens)).status_code == 401
    refused = client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refused.status_code == 401


def test_logout_of_one_device_leaves_the_other_logged_in(client):
    phone = wechat_login(client, "alice")
    tablet = wechat_login(client, "alice")
    client.post("/api/auth/logout", headers=bearer(phone))
    assert client.get("/api/me", headers=bearer(tablet)).status_code == 200
