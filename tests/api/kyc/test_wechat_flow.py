"""The wechat provider: verify_id from WeChat, the citizen at wx.requestFacialVerify, the
result trusted only from WeChat's queryverifyinfo (the sandbox emulates both ends)."""

from sqlalchemy import select

from app.identity.models import FaceVerification
from app.kernel.db import db
from tests.api.kyc.conftest import ready_for_challenge
from tests.helpers import bearer, sms_login, wechat_login


def start(client, headers):
    response = client.post("/api/kyc/wechat/verify-id", headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def result(client, headers, verify_id):
    return client.post("/api/kyc/wechat/result", json={"verify_id": verify_id},
                       headers=headers)


def test_a_wechat_face_check_that_wechat_confirms_gives_a_claim(client, sandbox):
    headers = bearer(wechat_login(client, "zhangsan"))
    ready_for_challenge(client, headers)
    session = start(client, headers)
    assert session["expires_in"] > 0
    sandbox.state.complete_face(session["verify_id"], 10000)
    response = result(client, headers, session["verify_id"])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["passed"] is True
    assert client.get("/api/me", headers=headers).get_json()["identity_verified"] is True
    record = db.session.scalar(select(FaceVerification))
    assert record.provider == "wechat" and record.passed
    assert record.details == {"verify_ret": 10000}


def test_a_cancelled_wechat_face_check_is_a_refusal_with_attempts_left(client, sandbox):
    headers = bearer(wechat_login(client, "zhangsan"))
    ready_for_challenge(client, headers)
    session = start(client, headers)
    sandbox.state.complete_face(session["verify_id"], 90002)
    response = result(client, headers, session["verify_id"])
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "KYC_WECHAT_FAILED" and body["details"]["attempts_left"] == 4


def test_the_result_cannot_be_claimed_twice(client, sandbox):
    headers = bearer(wechat_login(client, "zhangsan"))
    ready_for_challenge(client, headers)
    session = start(client, headers)
    sandbox.state.complete_face(session["verify_id"], 10000)
    assert result(client, headers, session["verify_id"]).status_code == 200
    assert result(client, headers, session["verify_id"]).get_json()["code"] == (
        "KYC_CHALLENGE_USED")


def test_another_account_cannot_use_someone_elses_verify_id(client, sandbox):
    headers = bearer(wechat_login(client, "zhangsan"))
    ready_for_challenge(client, headers)
    session = start(client, headers)
    sandbox.state.complete_face(session["verify_id"], 10000)
    other = bearer(wechat_login(client, "mallory"))
    assert result(client, other, session["verify_id"]).get_json()["code"] == (
        "KYC_CHALLENGE_INVALID")


def test_an_sms_account_is_told_to_use_the_mini_program(client, sandbox):
    headers = bearer(sms_login(client, sandbox, "13800000001"))
    ready_for_challenge(client, headers)
    response = client.post("/api/kyc/wechat/verify-id", headers=headers)
    assert response.status_code == 409
    assert response.get_json()["code"] == "WECHAT_ACCOUNT_REQUIRED"


def test_asking_before_the_citizen_finished_is_pending_and_can_be_asked_again(client, sandbox):
    headers = bearer(wechat_login(client, "zhangsan"))
    ready_for_challenge(client, headers)
    session = start(client, headers)
    early = result(client, headers, session["verify_id"])
    assert early.status_code == 409
    assert early.get_json()["code"] == "KYC_WECHAT_PENDING"
    sandbox.state.complete_face(session["verify_id"], 10000)
    assert result(client, headers, session["verify_id"]).status_code == 200
