"""WeChat face verification 2.0 through the wechatpy client against the sandbox."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

import pytest
import requests

from app.integrations.wechat import (
    FaceVerifyExpired,
    FaceVerifyMismatch,
    FaceVerifyNotFinished,
    WeChatError,
    WechatpyApi,
    face_cert_hash,
    make_wechat_api,
)
from sandbox.testing import RunningSandbox, platform_settings_for, start_sandbox
from sandbox.wechat_face import FaceControlError, cert_hash

NAME, ID_NUMBER = "张三", "440402198801010018"
OTHER_ID_NUMBER = "440402199003150029"


def new_out_seq_no() -> str:
    return "kyc-" + secrets.token_hex(8)


class Citizen:
    """One face verification as the platform runs it: start, the phone, then the query."""

    def __init__(self, wechat: WechatpyApi, login: str = "zhangsan"):
        self.wechat = wechat
        self.openid = wechat.code_to_session(f"{login}.{secrets.token_hex(4)}").openid
        self.out_seq_no = new_out_seq_no()
        self.verify_id = ""

    def start(self, name: str = NAME, id_number: str = ID_NUMBER) -> Citizen:
        session = self.wechat.get_face_verify_id(self.out_seq_no, self.openid, name, id_number)
        self.verify_id = session.verify_id
        return self

    def result(self, **changes: str) -> int:
        params: dict[str, Any] = {
            "verify_id": self.verify_id,
            "out_seq_no": self.out_seq_no,
            "openid": self.openid,
            "name": NAME,
            "id_number": ID_NUMBER,
        }
        params.update(changes)
        return self.wechat.query_face_verify(**params)


@pytest.fixture
def citizen(wechat: WechatpyApi) -> Citizen:
    return Citizen(wechat)


def token_for(running: RunningSandbox) -> str:
    answer = requests.get(
        running.url + "/cgi-bin/token",
        params={
            "grant_type": "client_credential",
            "appid": running.settings["WECHAT_APPID"],
            "secret": running.settings["WECHAT_SECRET"],
        },
        timeout=5,
    ).json()
    return str(answer["access_token"])


def post_face(running: RunningSandbox, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(
        f"{running.url}/cityservice/face/identify/{endpoint}",
        params={"access_token": token_for(running)},
        json=body,
        timeout=5,
    )
    result: dict[str, Any] = answer.json()
    return result


# --- the flow -------------------------------------------------------------------------


def test_a_citizen_who_passes_at_the_camera_is_reported_with_10000(
    citizen: Citizen, sandbox: RunningSandbox
) -> None:
    session = citizen.wechat.get_face_verify_id(citizen.out_seq_no, citizen.openid, NAME, ID_NUMBER)
    citizen.verify_id = session.verify_id
    assert session.expires_in == 3600

    sandbox.state.complete_face(session.verify_id, 10000)

    assert citizen.result() == 10000


def test_a_failed_or_cancelled_verification_is_reported_with_its_code(
    citizen: Citizen, sandbox: RunningSandbox
) -> None:
    citizen.start()

    sandbox.state.complete_face(citizen.verify_id, 90002)  # user cancelled

    assert citizen.result() == 90002


def test_the_citizen_at_the_camera_can_be_played_over_http(
    citizen: Citizen, sandbox: RunningSandbox
) -> None:
    citizen.start()

    answer = requests.post(
        f"{sandbox.url}/_sandbox/wechat/face/{citizen.verify_id}",
        json={"verify_ret": 90017},
        timeout=5,
    )

    assert answer.status_code == 200
    assert answer.json()["status"] == "failed"
    assert citizen.result() == 90017


def test_a_query_before_the_citizen_has_finished_says_not_finished(citizen: Citizen) -> None:
    citizen.start()

    with pytest.raises(FaceVerifyNotFinished) as caught:
        citizen.result()
    assert caught.value.errcode == 84003


def test_the_result_can_be_asked_again(citizen: Citizen, sandbox: RunningSandbox) -> None:
    citizen.start()
    sandbox.state.complete_face(citizen.verify_id, 10000)

    assert citizen.result() == citizen.result() == 10000


def test_both_calls_reuse_one_access_token(citizen: Citizen, sandbox: RunningSandbox) -> None:
    citizen.start()
    sandbox.state.complete_face(citizen.verify_id)
    citizen.result()

    assert sandbox.state.wechat.tokens_issued == 1


# --- WeChat compares the query with getverifyid's -------------------------------------


def test_another_id_number_does_not_match_the_verification(
    citizen: Citizen, sandbox: RunningSandbox
) -> None:
    citizen.start()
    sandbox.state.complete_face(citizen.verify_id, 10000)

    with pytest.raises(FaceVerifyMismatch) as caught:
        citizen.result(id_number=OTHER_ID_NUMBER)
    assert caught.value.errcode == 84004


def test_another_name_does_not_match_the_verification(
    citizen: Citizen, sandbox: RunningSandbox
) -> None:
    citizen.start()
    sandbox.state.complete_face(citizen.verify_id, 10000)

    with pytest.raises(FaceVerifyMismatch) as caught:
        citizen.result(name="李四")
    assert caught.value.errcode == 84004


def test_another_wechat_user_cannot_read_the_result(
    citizen: Citizen, wechat: WechatpyApi, sandbox: RunningSandbox
) -> None:
    citizen.start()
    sandbox.state.complete_face(citizen.verify_id, 10000)
    someone_else = wechat.code_to_session("lisi").openid

    with pytest.raises(FaceVerifyMismatch) as caught:
        citizen.result(openid=someone_else)
    assert caught.value.errcode == 84005


def test_another_out_seq_no_does_not_match_the_verification(
    citizen: Citizen, sandbox: RunningSandbox
) -> None:
    citizen.start()
    sandbox.state.complete_face(citizen.verify_id, 10000)

    with pytest.raises(FaceVerifyMismatch) as caught:
        citizen.result(out_seq_no=new_out_seq_no())
    assert caught.value.errcode == 84006


def test_a_verify_id_wechat_never_issued_is_unknown(citizen: Citizen) -> None:
    citizen.verify_id = "not-a-verify-id"

    with pytest.raises(FaceVerifyExpired) as caught:
        citizen.result()
    assert caught.value.errcode == 84001


def test_reset_forgets_the_sessions(citizen: Citizen, sandbox: RunningSandbox) -> None:
    citizen.start()
    sandbox.reset()

    assert sandbox.state.face_sessions() == []
    with pytest.raises(FaceVerifyExpired):
        citizen.result()


def test_a_verify_id_expires_after_expires_in(sandbox: RunningSandbox) -> None:
    now = [time.time()]
    with start_sandbox(sandbox.settings, clock=lambda: now[0]) as timed:
        wechat = make_wechat_api(platform_settings_for(timed))
        assert isinstance(wechat, WechatpyApi)
        citizen = Citizen(wechat).start()
        now[0] += 3599
        with pytest.raises(FaceVerifyNotFinished):
            citizen.result()

        now[0] += 1
        with pytest.raises(FaceVerifyExpired) as caught:
            citizen.result()
        with pytest.raises(FaceControlError) as too_late:
            timed.state.complete_face(citizen.verify_id, 10000)
        [session] = timed.state.face_sessions()
        wechat.close()
    assert caught.value.errcode == 84002
    assert too_late.value.status == 409
    assert session["status"] == "expired"


def test_a_result_must_be_asked_for_before_the_verify_id_expires(sandbox: RunningSandbox) -> None:
    now = [time.time()]
    with start_sandbox(sandbox.settings, clock=lambda: now[0]) as timed:
        wechat = make_wechat_api(platform_settings_for(timed))
        assert isinstance(wechat, WechatpyApi)
        citizen = Citizen(wechat).start()
        timed.state.complete_face(citizen.verify_id, 10000)
        now[0] += 3600
        with pytest.raises(FaceVerifyExpired):
            citizen.result()
        wechat.close()


# --- cert_hash ------------------------------------------------------------------------


def test_the_cert_hash_reproduces_wechats_documented_example() -> None:
    documented = "3c241f7ff324977aeb91f173bb2a7b06569e6fd784d5573db34a636d8671108b"

    assert face_cert_hash("张三", "310101199801011234") == documented
    assert cert_hash("IDENTITY_CARD", "张三", "310101199801011234") == documented


def test_the_sandbox_keeps_the_cert_hash_and_masked_identity_only(
    citizen: Citizen, sandbox: RunningSandbox
) -> None:
    citizen.start()

    [session] = sandbox.state.face_sessions()

    assert (session["cert_name"], session["cert_no"]) == ("张*", "4404**********0018")
    assert session["cert_hash"] == face_cert_hash(NAME, ID_NUMBER)
    assert session["status"] == "waiting" and session["verify_ret"] is None
    assert ID_NUMBER not in repr(sandbox.state.face.__dict__)
    assert NAME not in repr(sandbox.state.face.__dict__)


# --- getverifyid's checks -------------------------------------------------------------


def test_an_out_seq_no_can_be_used_only_once(citizen: Citizen, wechat: WechatpyApi) -> None:
    citizen.start()

    with pytest.raises(WeChatError) as caught:
        wechat.get_face_verify_id(citizen.out_seq_no, citizen.openid, NAME, ID_NUMBER)
    assert caught.value.errcode == 84007


@pytest.mark.parametrize("out_seq_no", ["abcd", "a" * 33, "kyc 0001", "kyc/0001", "流水号00001"])
def test_the_client_refuses_an_out_seq_no_wechat_would_refuse(
    wechat: WechatpyApi, out_seq_no: str
) -> None:
    with pytest.raises(ValueError, match="out_seq_no"):
        wechat.get_face_verify_id(out_seq_no, "o" * 28, NAME, ID_NUMBER)


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"out_seq_no": "abc"}, 84008),
        ({"out_seq_no": "kyc-00001"}, 84009),
        ({"out_seq_no": "kyc-00001", "cert_info": {"cert_type": "PASSPORT"}}, 84009),
        (
            {
                "out_seq_no": "kyc-00001",
                "cert_info": {"cert_type": "IDENTITY_CARD", "cert_name": NAME, "cert_no": "12"},
            },
            84009,
        ),
        (
            {
                "out_seq_no": "kyc-00001",
                "cert_info": {
                    "cert_type": "IDENTITY_CARD",
                    "cert_name": NAME,
                    "cert_no": ID_NUMBER,
                },
            },
            40003,
        ),
    ],
)
def test_getverifyid_refuses_what_wechat_would_refuse(
    sandbox: RunningSandbox, body: dict[str, Any], errcode: int
) -> None:
    assert post_face(sandbox, "getverifyid", body)["errcode"] == errcode


def test_the_face_endpoints_need_an_access_token(sandbox: RunningSandbox) -> None:
    for endpoint in ("getverifyid", "queryverifyinfo"):
        answer = requests.post(
            f"{sandbox.url}/cityservice/face/identify/{endpoint}", json={}, timeout=5
        ).json()
        assert answer["errcode"] == 41001


# --- the stand-in camera ----------------------------------------------------------------


def test_a_session_can_be_finished_only_once(citizen: Citizen, sandbox: RunningSandbox) -> None:
    citizen.start()
    sandbox.state.complete_face(citizen.verify_id, 90002)

    with pytest.raises(FaceControlError) as caught:
        sandbox.state.complete_face(citizen.verify_id, 10000)
    assert caught.value.status == 409
    assert citizen.result() == 90002


@pytest.mark.parametrize("verify_ret", [0, 12345, 90000, 90200, "10000", True, None])
def test_the_camera_plays_only_results_a_phone_can_produce(
    citizen: Citizen, sandbox: RunningSandbox, verify_ret: object
) -> None:
    citizen.start()

    answer = requests.post(
        f"{sandbox.url}/_sandbox/wechat/face/{citizen.verify_id}",
        json={"verify_ret": verify_ret},
        timeout=5,
    )

    assert answer.status_code == 400
    assert sandbox.state.face_sessions()[0]["status"] == "waiting"


def test_the_camera_needs_a_known_verify_id(sandbox: RunningSandbox) -> None:
    answer = requests.post(
        f"{sandbox.url}/_sandbox/wechat/face/unknown", json={"verify_ret": 10000}, timeout=5
    )

    assert answer.status_code == 404


def test_face_verification_logs_no_name_or_id_number(
    citizen: Citizen, sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    citizen.start()
    sandbox.state.complete_face(citizen.verify_id, 10000)
    citizen.result()
    with pytest.raises(FaceVerifyMismatch):
        citizen.result(id_number=OTHER_ID_NUMBER)

    assert ID_NUMBER not in caplog.text and OTHER_ID_NUMBER not in caplog.text
    assert NAME not in caplog.text
