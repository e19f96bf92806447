"""The real-name check against the population registry (sandbox)."""

from tests.api.kyc.conftest import ZHANG_ID


def realname(client, headers, name, id_number):
    return client.post("/api/kyc/realname", json={"name": name, "id_number": id_number},
                       headers=headers)


def test_a_matching_name_and_id_number_pass(client, citizen):
    response = realname(client, citizen["headers"], "张三", ZHANG_ID)
    assert response.status_code == 200
    assert response.get_json() == {"status": "matched"}


def test_a_name_that_does_not_match_the_registry_is_refused(client, citizen):
    response = realname(client, citizen["headers"], "张四", ZHANG_ID)
    assert response.status_code == 409
    assert response.get_json()["code"] == "REALNAME_MISMATCH"


def test_an_unknown_id_number_is_refused(client, citizen):
    response = realname(client, citizen["headers"], "张三", "11010519491231002X")
    assert response.get_json()["code"] == "REALNAME_NOT_FOUND"


def test_an_invalid_id_number_never_reaches_the_registry(client, citizen, sandbox):
    response = realname(client, citizen["headers"], "张三", "440402198801010019")
    assert response.status_code == 422
    assert "校验位" in response.get_json()["details"]["fields"]["id_number"][0]


def test_a_registry_that_is_down_is_a_503(make_app, sandbox):
    from tests.helpers import bearer, sms_login

    app = make_app(REGISTRY_BASE_URL="http://127.0.0.1:9/")
    with app.app_context():
        client = app.test_client()
        headers = bearer(sms_login(client, sandbox, "13800000001"))
        response = realname(client, headers, "张三", ZHANG_ID)
    assert response.status_code == 503
    assert response.get_json()["code"] == "REGISTRY_UNAVAILABLE"


def test_one_address_is_rate_limited_on_verification_endpoints(make_app, sandbox):
    from tests.helpers import bearer, sms_login

    app = make_app(RATELIMIT_KYC_PER_IP="2 per minute")
    with app.app_context():
        client = app.test_client()
        headers = bearer(sms_login(client, sandbox, "13800000001"))
        statuses = [realname(client, headers, "张三", ZHANG_ID).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
