"""verify_burst: each check in its order with its own reason code, on real frames."""

import io

import numpy as np
import pytest
from PIL import Image

from kyc import reasons
from kyc.testing import bomb_png, burst, reencode, still_burst, truncated
from kyc.verify import Decision, verify_burst
from tests.kyc.conftest import FACES, photo

ACTIONS = ["blink", "turn_left"]


@pytest.fixture(scope="module")
def live_burst():
    """A different photo of the reference person (obama2 against obama.jpg) showing the
    challenge the platform's tests use."""
    return burst(FACES / "obama2.jpg", ACTIONS, seed=5)


def verify(frames, references, actions=ACTIONS, seen=(), reference="obama.jpg", **kwargs):
    return verify_burst(frames, references[reference], actions, list(seen), **kwargs)


def jpeg(name, quality=90):
    out = io.BytesIO()
    Image.open(FACES / name).convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def test_a_live_burst_of_the_right_person_passes(live_burst, references, settings, engine):
    decision = verify(live_burst, references, settings=settings, engine=engine)
    assert isinstance(decision, Decision)
    assert decision.passed and decision.reason is None and decision.message_zh == "人脸核验通过"
    assert len(decision.distances) == len(live_burst)
    assert max(decision.distances) <= settings.match_threshold
    assert decision.faces_per_frame == (1,) * len(live_burst)
    assert set(ACTIONS) <= decision.actions_seen
    assert len(decision.frame_hashes) == len(live_burst)
    assert all(len(h) == 64 for h in decision.frame_hashes)
    assert set(decision.timings_ms) >= {"decode", "detect", "encode", "total"}
    assert decision.timings_ms["total"] >= decision.timings_ms["encode"] > 0
    assert decision.as_dict()["passed"] is True


def test_too_few_or_too_many_frames(live_burst, references):
    assert verify(live_burst[:2], references).reason == reasons.FRAME_COUNT
    assert verify(live_burst * 3, references).reason == reasons.FRAME_COUNT
    assert verify([], references).reason == reasons.FRAME_COUNT
    assert verify(live_burst[:2], references).message_zh == reasons.MESSAGES_ZH["FRAME_COUNT"]


@pytest.mark.parametrize(("bad", "reason"), [
    (b"not an image", reasons.IMAGE_UNREADABLE),
    ("truncated", reasons.IMAGE_TRUNCATED),
    (bomb_png(50_000, 50_000), reasons.IMAGE_TOO_MANY_PIXELS),
    (b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024), reasons.IMAGE_TOO_LARGE),
])
def test_a_frame_that_does_not_decode_stops_the_check(live_burst, references, bad, reason):
    if bad == "truncated":
        bad = truncated(live_burst[0], 0.5)
    frames = [live_burst[0], bad, live_burst[2]]
    decision = verify(frames, references)
    assert not decision.passed and decision.reason == reason and decision.frame == 1
    assert decision.faces_per_frame == () and decision.distances == ()
    assert len(decision.frame_hashes) == 1  # the frames decoded before it


def test_frames_without_a_face(references):
    blank = io.BytesIO()
    Image.new("RGB", (640, 480), (128, 128, 128)).save(blank, "JPEG")
    decision = verify([jpeg("obama.jpg"), blank.getvalue(), jpeg("obama.jpg", 80)], references)
    assert decision.reason == reasons.NO_FACE and decision.frame == 1
    assert decision.faces_per_frame == (1, 0, 1)


def test_two_people_in_the_frame_are_refused(references):
    frames = [jpeg("two_people.jpg", q) for q in (90, 85, 80)]
    decision = verify(frames, references)
    assert decision.reason == reasons.MULTIPLE_FACES
    assert decision.faces_per_frame == (2, 2, 2)
    assert decision.message_zh == "画面中有多张人脸，请确保只有本人入镜"


def test_another_persons_face_is_a_mismatch(references):
    frames = still_burst(FACES / "biden2.jpg", 3, seed=2)
    decision = verify(frames, references)
    assert decision.reason == reasons.FACE_MISMATCH
    assert min(decision.distances) > 0.5 and len(decision.distances) == len(frames)


def test_a_still_photo_is_not_a_live_person(references):
    decision = verify(still_burst(FACES / "obama2.jpg", 3, seed=9), references)
    assert decision.reason == reasons.ACTION_NOT_DETECTED
    assert decision.missing_actions == ("blink", "turn_left")
    assert "眨眼" in decision.message_zh and "向左转头" in decision.message_zh
    assert len(decision.measures) == 3


def test_only_the_missing_action_is_named(live_burst, references):
    decision = verify(live_burst, references, actions=["blink", "open_mouth"])
    assert decision.reason == reasons.ACTION_NOT_DETECTED
    assert decision.missing_actions == ("open_mouth",)


def test_a_recorded_burst_is_refused_as_a_replay(live_burst, references):
    first = verify(live_burst, references)
    assert first.passed
    again = verify(live_burst, references, seen=first.frame_hashes)
    assert again.reason == reasons.FRAME_REPLAYED and again.frame == 0
    re_encoded = [reencode(frame, 70) for frame in live_burst]
    assert verify(re_encoded, references, seen=first.frame_hashes).reason == (
        reasons.FRAME_REPLAYED)


def test_a_fresh_burst_is_not_a_replay_of_an_earlier_one(live_burst, references):
    first = verify(live_burst, references)
    fresh = burst(FACES / "obama2.jpg", ACTIONS)
    assert verify(fresh, references, seen=first.frame_hashes).passed


def test_the_face_check_comes_before_the_liveness_and_replay_checks(references):
    impostor = still_burst(FACES / "biden2.jpg", 3, seed=4)
    first = verify(impostor, references)
    again = verify(impostor, references, seen=first.frame_hashes)
    assert again.reason == reasons.FACE_MISMATCH


def test_programming_errors_raise(live_burst, references):
    with pytest.raises(ValueError):
        verify(live_burst, references, actions=["smile"])
    with pytest.raises(ValueError):
        verify(live_burst, references, actions=[])
    with pytest.raises(ValueError):
        verify_burst(live_burst, np.zeros(3), ACTIONS, [])


def test_a_reference_photo_frame_of_a_half_face_gets_a_decision_not_a_crash(references):
    frames = [photo("obama_partial_face.jpg")] * 3
    decision = verify(frames, references)
    assert decision.reason == reasons.ACTION_NOT_DETECTED  # it matches; it is not live
    assert decision.faces_per_frame == (1, 1, 1)
