"""Liveness geometry on synthetic landmark dicts, then on real frames with the real engine."""

import math

import pytest

from kyc.engine import _LANDMARK_SLICES
from kyc.images import decode_image
from kyc.liveness import (
    ACTION_PROMPTS,
    ACTIONS,
    actions_seen,
    eye_aspect_ratio,
    measure,
    mouth_aspect_ratio,
    yaw_degrees,
)
from kyc.settings import KycSettings
from kyc.testing import burst, still_burst
from tests.kyc.conftest import FACES


def landmarks(ear=0.3, mar=0.0, nose=0.0, roll=0.0, scale=1.0, shift=(300.0, 200.0)):
    """A 68-point face: jaw from (-100, 0) to (100, 0) through the chin at (0, 120), eyes
    30 px wide, an inner mouth 50 px wide, the nose tip at x = ``nose``."""
    points = [(-100 * math.cos(math.pi * i / 16), 120 * math.sin(math.pi * i / 16))
              for i in range(17)]
    points += [(-70 + 10 * i, -50) for i in range(5)] + [(30 + 10 * i, -50) for i in range(5)]
    points += [(nose * k / 3, -30 + 17 * k) for k in range(4)]
    points += [(-20 + 10 * i, 30) for i in range(5)]
    h = ear * 15  # EAR = (2h + 2h) / (2 * 30)
    for cx in (-40, 40):
        points += [(cx - 15, -20), (cx - 5, -20 - h), (cx + 5, -20 - h), (cx + 15, -20),
                   (cx + 5, -20 + h), (cx - 5, -20 + h)]
    points += [(-30, 60), (-20, 55), (-10, 53), (0, 54), (10, 53), (20, 55), (30, 60),
               (20, 70), (10, 72), (0, 73), (-10, 72), (-20, 70)]
    m = mar * 25  # MAR = (3 * 2m) / (3 * 50)
    points += [(-25, 60), (-12, 60 - m), (0, 60 - m), (12, 60 - m), (25, 60), (12, 60 + m),
               (0, 60 + m), (-12, 60 + m)]
    assert len(points) == 68
    c, s = math.cos(math.radians(roll)), math.sin(math.radians(roll))
    placed = [(shift[0] + scale * (x * c - y * s), shift[1] + scale * (x * s + y * c))
              for x, y in points]
    return {name: [placed[i] for i in idx] for name, idx in _LANDMARK_SLICES.items()}


def test_the_actions_and_their_chinese_prompts():
    assert ACTIONS == ("blink", "turn_left", "turn_right", "open_mouth")
    assert ACTION_PROMPTS == {"blink": "请缓慢眨眼", "turn_left": "请向左转头",
                              "turn_right": "请向右转头", "open_mouth": "请张嘴"}


def test_eye_aspect_ratio():
    assert eye_aspect_ratio(landmarks(ear=0.3)["left_eye"]) == pytest.approx(0.3)
    assert eye_aspect_ratio(landmarks(ear=0.05)["right_eye"]) == pytest.approx(0.05)
    assert eye_aspect_ratio([(0, 0)] * 6) == 0.0


def test_mouth_aspect_ratio():
    assert mouth_aspect_ratio(landmarks(mar=0.0)) == pytest.approx(0.0)
    assert mouth_aspect_ratio(landmarks(mar=0.7)) == pytest.approx(0.7)


def test_yaw_sign_convention_positive_is_the_citizens_left():
    # Nose toward the image's right = the citizen turned to their own left (not mirrored).
    assert yaw_degrees(landmarks(nose=50)) == pytest.approx(30.0, abs=0.01)
    assert yaw_degrees(landmarks(nose=-50)) == pytest.approx(-30.0, abs=0.01)
    assert yaw_degrees(landmarks(nose=50), mirrored=True) == pytest.approx(-30.0, abs=0.01)
    assert yaw_degrees(landmarks(nose=0)) == pytest.approx(0.0, abs=0.01)


@pytest.mark.parametrize("roll", [-25, -10, 10, 25])
def test_measures_ignore_head_tilt_scale_and_position(roll):
    tilted = measure(landmarks(ear=0.25, mar=0.3, nose=34.2, roll=roll, scale=2.5,
                               shift=(900, 40)))
    assert tilted.ear == pytest.approx(0.25)
    assert tilted.mar == pytest.approx(0.3)
    assert tilted.yaw == pytest.approx(20.0, abs=0.1)


def seen(*frames, **settings):
    return actions_seen(frames, KycSettings(**settings))


def test_a_blink_needs_closed_eyes_in_one_frame_and_open_eyes_in_another():
    assert seen(landmarks(ear=0.3), landmarks(ear=0.08), landmarks(ear=0.3)) == {"blink"}
    assert seen(landmarks(ear=0.08), landmarks(ear=0.09), landmarks(ear=0.08)) == set()
    assert seen(landmarks(ear=0.3), landmarks(ear=0.28), landmarks(ear=0.31)) == set()
    # narrow eyes that close: below the threshold and a clear drop
    assert seen(landmarks(ear=0.21), landmarks(ear=0.12)) == {"blink"}
    # a squint that stays just under the threshold is not a blink
    assert seen(landmarks(ear=0.21), landmarks(ear=0.19)) == set()


def test_an_open_mouth_needs_a_change():
    assert seen(landmarks(mar=0.05), landmarks(mar=0.7)) == {"open_mouth"}
    assert seen(landmarks(mar=0.7), landmarks(mar=0.68)) == set()  # speaking on a photo
    assert seen(landmarks(mar=0.3), landmarks(mar=0.45)) == set()


def test_turns_need_the_angle_and_a_change():
    left = landmarks(nose=50)  # 30 degrees to the citizen's left
    right = landmarks(nose=-50)
    front = landmarks(nose=0)
    assert seen(front, left) == {"turn_left"}
    assert seen(front, right) == {"turn_right"}
    assert seen(front, left, right) == {"turn_left", "turn_right"}
    assert seen(left, left, left) == set()  # a photo of someone turned aside
    assert seen(landmarks(nose=40), landmarks(nose=50)) == set()  # 23.6 -> 30: too little
    assert seen(front, landmarks(nose=30)) == set()  # 17.5 degrees: not far enough


def test_mirrored_frames_swap_left_and_right():
    front, nose_right = landmarks(nose=0), landmarks(nose=50)
    assert seen(front, nose_right) == {"turn_left"}
    assert seen(front, nose_right, frames_mirrored=True) == {"turn_right"}


def test_one_frame_shows_no_action():
    assert seen(landmarks(ear=0.05, mar=0.9, nose=60)) == set()


# --- the real engine on synthesised bursts ---------------------------------------------------

def engine_seen(engine, frames):
    located = [engine.locate(decode_image(frame)) for frame in frames]
    assert all(len(found) == 1 for found in located)
    return actions_seen([found[0].landmarks for found in located])


@pytest.mark.parametrize("action", ACTIONS)
def test_each_synthesised_action_is_seen_by_the_real_engine(engine, action):
    frames = burst(FACES / "obama.jpg", [action], seed=7)
    assert 3 <= len(frames) <= 4
    assert len(set(frames)) == len(frames)
    assert action in engine_seen(engine, frames)


@pytest.mark.parametrize("name", ["obama.jpg", "obama2.jpg", "biden.jpg",
                                  "lin-manuel-miranda.png"])
def test_still_frames_of_a_photo_show_no_action(engine, name):
    assert engine_seen(engine, still_burst(FACES / name, 4, seed=3)) == set()
