"""Real-name check, consent, liveness challenge and face match through the API (local provider)."""

import base64
import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from app.identity.models import ConsentRecord, FaceVerification, FrameHash
from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.kernel.timeutil import local_date
from tests.api.kyc.conftest import ZHANG_ID, burst_b64, ready_for_challenge
from tests.helpers import bearer, wechat_login


def challenge(client, headers):
    response = client.post("/api/kyc/challenges", headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def verify(client, headers, nonce, frames):
    return client.post(f"/api/kyc/challenges/{nonce}/verify", json={"frames": frames},
                       headers=headers)


def test_a_citizen_verifies_their_face_and_gets_a_claim_that_submitting_requires(
        client, citizen, fixed_actions):
    headers = citizen["headers"]
    ready_for_challenge(client, headers)
    issued = challenge(client, headers)
    assert issued["actions"] == fixed_actions
    assert issued["prompts"][0] and issued["expires_in"] == 60
    response = verify(client, headers, issued["nonce"], burst_b64("obama2.jpg", fixed_actions))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["passed"] is True and body["claim_expires_in"] == 1800
    me = client.get("/api/me", headers=headers).get_json()
    assert me["identity_verified"] and me["person"]["id_number_masked"] == "4404**********0018"
    record = db.session.scalar(select(FaceVerification))
    assert record.passed and record.provider == "local" and record.reason is None
    assert record.consent_version == client.get("/api/kyc/consent").get_json()["version"]
    assert record.distances and max(record.distances) < 0.6
    assert record.timings_ms["total"] > 0

    case = client.post("/api/cases", json={"business_type": "change"}, headers=headers)
    number = case.get_json()["case_number"]
    refused = client.post(f"/api/cases/{number}/submit", headers=headers)
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "IDENTITY_CLAIM_REQUIRED"
    submitted = client.post(f"/api/cases/{number}/submit",
                            headers={**headers, "X-Identity-Claim": body["claim"]})
    # The claim is accepted; the empty draft is then refused for what it lacks.
    assert submitted.status_code == 422
    assert submitted.get_json()["code"] == "CASE_INCOMPLETE"


def test_a_claim_does_not_work_for_another_account(client, citizen, fixed_actions):
    ready_for_challenge(client, citizen["headers"])
    issued = challenge(client, citizen["headers"])
    claim = verify(client, citizen["headers"], issued["nonce"],
                   burst_b64("obama2.jpg", fixed_actions)).get_json()["claim"]
    other = bearer(wechat_login(client, "someone"))
    number = client.post("/api/cases", json={"business_type": "change"},
                         headers=other).get_json()["case_number"]
    response = client.post(f"/api/cases/{number}/submit",
                           headers={**other, "X-Identity-Claim": claim})
    assert response.status_code == 403


def test_an_expired_claim_asks_for_a_new_verification(make_app, sandbox, fixed_actions):
    from tests.helpers import sms_login

    app = make_app(KYC_CLAIM_TTL_SECONDS=-1)
    with app.app_context():
        client = app.test_client()
        headers = bearer(sms_login(client, sandbox, "13800000001"))
        ready_for_challenge(client, headers)
        issued = challenge(client, headers)
        claim = verify(client, headers, issued["nonce"],
                       burst_b64("obama2.jpg", fixed_actions)).get_json()["claim"]
        number = client.post("/api/cases", json={"business_type": "change"},
                             headers=headers).get_json()["case_number"]
        response = client.post(f"/api/cases/{number}/submit",
                               headers={**headers, "X-Identity-Claim": claim})
    assert response.get_json()["code"] == "IDENTITY_CLAIM_EXPIRED"


def test_another_persons_face_is_refused_and_counted(client, citizen, fixed_actions):
    headers = citizen["headers"]
    ready_for_challenge(client, headers)
    issued = challenge(client, headers)
    # Matching comes before the actions: still frames of another person are enough.
    response = verify(client, headers, issued["nonce"], stills("biden2.jpg"))
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "KYC_FACE_MISMATCH"
    assert body["details"]["attempts_left"] == 4
    record = db.session.scalar(select(FaceVerification))
    assert not record.passed and record.reason == "FACE_MISMATCH"
    assert client.get("/api/me", headers=headers).get_json()["identity_verified"] is False


def test_a_still_photo_is_not_a_live_person(client, citizen, fixed_actions):
    headers = citizen["headers"]
    ready_for_challenge(client, headers)
    issued = challenge(client, headers)
    response = verify(client, headers, issued["nonce"], stills("obama2.jpg"))
    assert response.status_code == 422
    assert response.get_json()["code"] == "KYC_ACTION_NOT_DETECTED"


def stills(photo):
    """Three re-encodings of one photo: distinct bytes, no movement at all."""
    return [base64.b64encode(_jpeg(photo, quality)).decode() for quality in (90, 85, 80)]


def _jpeg(photo, quality):
    from tests.api.kyc.conftest import FACES

    out = io.BytesIO()
    Image.open(FACES / photo).convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def test_two_faces_in_the_frame_are_refused(client, citizen, fixed_actions):
    headers = citizen["headers"]
    ready_for_challenge(client, headers)
    issued = challenge(client, headers)
    response = verify(client, headers, issued["nonce"], stills("two_people.jpg"))
    assert response.get_json()["code"] == "KYC_MULTIPLE_FACES"


def test_bytes_that_are_not_an_image_are_refused_without_a_500(client, citizen, fixed_actions):
    headers = citizen["headers"]
    ready_for_challenge(client, headers)
    issued = challenge(client, headers)
    frames = [base64.b64encode(b"not an image at all").decode()] * 3
    response = verify(client, headers, issued["nonce"], frames)
    assert response.status_code == 422
    assert response.get_json()["code"] == "KYC_IMAGE_UNREADABLE"
    assert response.get_json()["details"]["attempts_left"] == 5  # not counted
    assert db.session.query(FaceVerification).count() == 0
    assert db.session.query(FrameHash).count() == 0
    again = challenge(client, headers)
    bad_base64 = verify(client, headers, again["nonce"], ["***"] * 3)
    assert bad_base64.get_json()["code"] == "KYC_IMAGE_UNREADABLE"


def test_an_oversized_upload_is_a_413(client, citizen, fixed_actions):
    ready_for_challenge(client, citizen["headers"])
    issued = challenge(client, citizen["headers"])
    huge = "A" * (30 * 1024 * 1024)
    response = verify(client, citizen["headers"], issued["nonce"], [huge])
    assert response.status_code == 413


def test_a_nonce_works_once(client, citizen, fixed_actions):
    headers = citizen["headers"]
    ready_for_challenge(client, headers)
    issued = challenge(client, headers)
    frames = burst_b64("obama2.jpg", fixed_actions)
    assert verify(client, headers, issued["nonce"], frames).status_code == 200
    again = verify(client, headers, issued["nonce"], frames)
    assert again.status_code == 409
    assert again.get_json()["code"] == "KYC_CHALLENGE_USED"


def test_an_expired_challenge_is_refused(make_app, sandbox, fixed_actions):
    from tests.helpers import sms_login

    app = make_app(KYC_CHALLENGE_TTL_SECONDS=0)
    with app.app_context():
        client = app.test_client()
        headers = bearer(sms_login(client, sandbox, "13800000001"))
        ready_for_challenge(client, headers)
        issued = challenge(client, headers)
        response = verify(client, headers, issued["nonce"], burst_b64("obama2.jpg", fixed_actions))
    assert response.get_json()["code"] == "KYC_CHALLENGE_EXPIRED"


def test_frames_for_another_accounts_challenge_are_refused(client, citizen, fixed_actions):
    ready_for_challenge(client, citizen["headers"])
    issued = challenge(client, citizen["headers"])
    other = bearer(wechat_login(client, "intruder"))
    response = verify(client, other, issued["nonce"], burst_b64("obama2.jpg", fixed_actions))
    assert response.status_code == 409
    assert response.get_json()["code"] == "KYC_CHALLENGE_INVALID"


def test_a_recorded_burst_cannot_be_replayed(client, citizen, fixed_actions):
    headers = citizen["headers"]
    ready_for_challenge(client, headers)
    frames = burst_b64("obama2.jpg", fixed_actions)
    assert verify(client, headers, challenge(client, headers)["nonce"], frames).status_code == 200
    replay = verify(client, headers, challenge(client, headers)["nonce"], frames)
    assert replay.status_code == 422
    assert replay.get_json()["code"] == "KYC_FRAME_REPLAYED"
    assert db.session.query(FrameHash).count() >= len(frames)


def test_frames_are_not_kept_after_the_decision(client, citizen, fixed_actions, app):
    from pathlib import Path

    ready_for_challenge(client, citizen["headers"])
    issued = challenge(client, citizen["headers"])
    verify(client, citizen["headers"], issued["nonce"], burst_b64("obama2.jpg", fixed_actions))
    frames_dir = Path(app.instance_path) / "kyc-frames"
    assert not frames_dir.exists() or not any(frames_dir.iterdir())


def test_five_failures_lock_face_verification_until_a_helpdesk_unlock(
        client, citizen, fixed_actions):
    from app.identity import service

    headers = citizen["headers"]
    ready_for_challenge(client, headers)
    impostor = stills("biden2.jpg")
    codes = []
    for _ in range(5):
        nonce = challenge(client, headers)["nonce"]
        codes.append(verify(client, headers, nonce, impostor).get_json()["code"])
    assert codes[-1] == "KYC_LOCKED"
    locked = client.post("/api/kyc/challenges", headers=headers)
    assert locked.status_code == 429
    assert locked.get_json()["code"] == "KYC_LOCKED"
    status = client.get("/api/kyc/status", headers=headers).get_json()
    assert status["attempts_left"] == 0 and status["locked_until"]

    from app.staff.models import StaffRole
    from app.staff.service import create_staff

    staff = create_staff("sun.help", "孙服务", [StaffRole.HELPDESK]).user
    service.unlock(staff.id, ZHANG_ID, "市民来电，已核实为本人操作失误")
    assert client.post("/api/kyc/challenges", headers=headers).status_code == 201
    record = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "kyc.unlocked"))
    assert record.actor_type == "staff" and record.actor_id == str(staff.id)


def test_a_challenge_needs_the_real_name_check_and_the_consent_first(client, citizen):
    headers = citizen["headers"]
    first = client.post("/api/kyc/challenges", headers=headers)
    assert first.get_json()["code"] == "REALNAME_REQUIRED"
    client.post("/api/kyc/realname", json={"name": "张三", "id_number": ZHANG_ID}, headers=headers)
    second = client.post("/api/kyc/challenges", headers=headers)
    assert second.get_json()["code"] == "CONSENT_REQUIRED"


def test_declining_consent_is_recorded_and_leads_to_a_counter_appointment(client, citizen):
    headers = citizen["headers"]
    version = client.get("/api/kyc/consent").get_json()["version"]
    declined = client.post("/api/kyc/consent", json={"version": version, "accepted": False},
                           headers=headers)
    assert declined.status_code == 201 and declined.get_json()["accepted"] is False
    assert db.session.scalar(select(ConsentRecord)).version == version
    assert client.post("/api/kyc/challenges", headers=headers).get_json()["code"] == (
        "REALNAME_REQUIRED")
    tomorrow = (local_date() + timedelta(days=1)).isoformat()
    booked = client.post("/api/kyc/appointments",
                         json={"preferred_date": tomorrow, "note": "上午"}, headers=headers)
    assert booked.status_code == 201
    assert booked.get_json()["status"] == "requested"
    today = client.post("/api/kyc/appointments",
                        json={"preferred_date": local_date().isoformat()}, headers=headers)
    assert today.status_code == 422


def test_an_outdated_consent_version_is_refused(client, citizen):
    response = client.post("/api/kyc/consent", json={"version": "2019-v0", "accepted": True},
                           headers=citizen["headers"])
    assert response.status_code == 409
    assert response.get_json()["code"] == "CONSENT_VERSION_OUTDATED"


def test_the_consent_text_states_purpose_method_and_retention(client):
    text = client.get("/api/kyc/consent").get_json()
    assert text["version"] and "单独同意" in text["title"]
    assert text["purpose"] and text["method"] and "删除" in text["retention"]


def test_a_truncated_jpeg_is_refused_and_nothing_is_stored(client, citizen, fixed_actions):
    ready_for_challenge(client, citizen["headers"])
    issued = challenge(client, citizen["headers"])
    whole = _jpeg("obama2.jpg", 90)
    frames = [base64.b64encode(whole[: len(whole) // 2]).decode()] * 3
    response = verify(client, citizen["headers"], issued["nonce"], frames)
    assert response.status_code == 422
    assert response.get_json()["code"] == "KYC_IMAGE_TRUNCATED"
    assert db.session.query(FaceVerification).count() == 0


def test_too_few_frames_are_refused(client, citizen, fixed_actions):
    ready_for_challenge(client, citizen["headers"])
    issued = challenge(client, citizen["headers"])
    response = verify(client, citizen["headers"], issued["nonce"], stills("obama2.jpg")[:1])
    assert response.get_json()["code"] == "KYC_FRAME_COUNT"


def test_a_decompression_bomb_is_refused_before_decoding(client, citizen, fixed_actions):
    from kyc.testing import bomb_png

    ready_for_challenge(client, citizen["headers"])
    issued = challenge(client, citizen["headers"])
    frames = [base64.b64encode(bomb_png()).decode()] * 3
    response = verify(client, citizen["headers"], issued["nonce"], frames)
    assert response.status_code == 422
    assert response.get_json()["code"] == "KYC_IMAGE_TOO_MANY_PIXELS"
