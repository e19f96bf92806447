"""Action checks from the 68 facial landmarks of each frame of a burst.

Measures, per frame (face_recognition's landmark dict, image coordinates):

* **EAR**, eye aspect ratio (Soukupová and Čech, 2016): for each eye's six points
  p1..p6, ``(|p2-p6| + |p3-p5|) / (2 |p1-p4|)``, averaged over both eyes. Open eyes
  measure about 0.2-0.4, closed eyes below 0.2.
* **MAR**, mouth aspect ratio on the inner lip contour (points 60-67): the mean of the
  three vertical gaps ``|61-67|, |62-66|, |63-65|`` over the corner distance ``|60-64|``.
  A closed mouth measures about 0-0.1, a smile with teeth about 0.2, speech about 0.4, a
  wide-open mouth 0.5 and more.
* **yaw**, the head turn in degrees, estimated with a cylinder model: along the line
  through both eye centres (so a tilted head does not count as a turn), the nose tip (point
  30) lies at ``r = (2 n - j0 - j16) / (j16 - j0)`` between the jaw's outermost points 0
  and 16, and ``yaw = asin(r)``. It is an estimate (the nose stands out of the cylinder, so
  it reads somewhat more than the true angle), not a calibrated head pose.

Sign convention: **positive yaw = the citizen turns to their own left.** In a frame as the
camera takes it (not mirrored) the citizen's left side is on the image's right, so turning
left moves the nose toward the image's right. A client that uploads mirrored frames (the
front-camera preview) must say so with ``KycSettings.frames_mirrored``, which flips the sign.

An action is seen across a burst only as a **change** between frames, never from one frame
alone, so a still photo shows none (someone photographed mid-sentence or turned aside does
not pass "open mouth" or "turn"):

* ``blink``: some frame has EAR < ``blink_ear_closed`` and another one an EAR at least
  ``blink_ear_delta`` higher;
* ``open_mouth``: some frame has MAR >= ``mouth_mar_open`` and another one a MAR at least
  ``mouth_mar_delta`` lower;
* ``turn_left`` / ``turn_right``: some frame has yaw >= ``turn_yaw_degrees`` toward that
  side and another one is turned at least ``turn_yaw_delta`` degrees less toward it.

These are action checks against a cooperative but possibly lazy attacker, not a certified
presentation-attack detection (see docs/kyc.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kyc.settings import KycSettings

ACTIONS = ("blink", "turn_left", "turn_right", "open_mouth")

#: What the camera page shows for each action.
ACTION_PROMPTS = {
    "blink": "请缓慢眨眼",
    "turn_left": "请向左转头",
    "turn_right": "请向右转头",
    "open_mouth": "请张嘴",
}

#: Short names, e.g. to say which action was not seen.
ACTION_NAMES_ZH = {
    "blink": "眨眼",
    "turn_left": "向左转头",
    "turn_right": "向右转头",
    "open_mouth": "张嘴",
}

Point = tuple[float, float]
LandmarkDict = Mapping[str, Sequence[Point]]


@dataclass(frozen=True)
class FrameMeasures:
    ear: float
    mar: float
    yaw: float  # degrees, positive = the citizen's left (after the mirror setting)

    def as_dict(self) -> dict[str, float]:
        return {"ear": round(self.ear, 4), "mar": round(self.mar, 4), "yaw": round(self.yaw, 2)}


def _dist(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def eye_aspect_ratio(eye: Sequence[Point]) -> float:
    """EAR of one eye given its six landmarks in dlib order (corner, 2 upper, corner, 2 lower)."""
    if len(eye) != 6:
        raise ValueError("an eye has six landmarks")
    p1, p2, p3, p4, p5, p6 = eye
    width = _dist(p1, p4)
    if width <= 0:
        return 0.0
    return (_dist(p2, p6) + _dist(p3, p5)) / (2.0 * width)


def mean_eye_aspect_ratio(landmarks: LandmarkDict) -> float:
    return (eye_aspect_ratio(landmarks["left_eye"]) + eye_aspect_ratio(landmarks["right_eye"])) / 2


def _inner_lips(landmarks: LandmarkDict) -> dict[int, Point]:
    top, bottom = landmarks["top_lip"], landmarks["bottom_lip"]
    # face_recognition: top_lip[7:12] = points 64, 63, 62, 61, 60;
    # bottom_lip[7:12] = points 60, 67, 66, 65, 64.
    return {64: top[7], 63: top[8], 62: top[9], 61: top[10], 60: top[11],
            67: bottom[8], 66: bottom[9], 65: bottom[10]}


def mouth_aspect_ratio(landmarks: LandmarkDict) -> float:
    p = _inner_lips(landmarks)
    width = _dist(p[60], p[64])
    if width <= 0:
        return 0.0
    return (_dist(p[61], p[67]) + _dist(p[62], p[66]) + _dist(p[63], p[65])) / (3.0 * width)


def _centre(points: Sequence[Point]) -> Point:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def image_yaw_degrees(landmarks: LandmarkDict) -> float:
    """Yaw toward the image's right (the nose moves right in the picture), in degrees."""
    a = _centre(landmarks["left_eye"])
    b = _centre(landmarks["right_eye"])
    length = _dist(a, b)
    if length <= 0:
        return 0.0
    ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length

    def along(p: Point) -> float:
        return p[0] * ux + p[1] * uy

    chin = landmarks["chin"]
    j0, j16 = along(chin[0]), along(chin[16])
    nose = along(landmarks["nose_bridge"][3])
    span = j16 - j0
    if span <= 0:
        return 0.0
    r = (2.0 * nose - j0 - j16) / span
    return math.degrees(math.asin(max(-1.0, min(1.0, r))))


def yaw_degrees(landmarks: LandmarkDict, mirrored: bool = False) -> float:
    """Head turn in degrees, positive toward the citizen's own left (module docstring)."""
    toward_image_right = image_yaw_degrees(landmarks)
    return -toward_image_right if mirrored else toward_image_right


def measure(landmarks: LandmarkDict, settings: KycSettings | None = None) -> FrameMeasures:
    settings = settings or KycSettings()
    return FrameMeasures(ear=mean_eye_aspect_ratio(landmarks),
                         mar=mouth_aspect_ratio(landmarks),
                         yaw=yaw_degrees(landmarks, settings.frames_mirrored))


def actions_in_measures(measures: Sequence[FrameMeasures], settings: KycSettings) -> set[str]:
    seen: set[str] = set()
    if len(measures) < 2:
        return seen
    ears = [m.ear for m in measures]
    mars = [m.mar for m in measures]
    yaws = [m.yaw for m in measures]
    if min(ears) < settings.blink_ear_closed and max(ears) - min(ears) >= settings.blink_ear_delta:
        seen.add("blink")
    if max(mars) >= settings.mouth_mar_open and max(mars) - min(mars) >= settings.mouth_mar_delta:
        seen.add("open_mouth")
    swing = max(yaws) - min(yaws)
    if swing >= settings.turn_yaw_delta:
        if max(yaws) >= settings.turn_yaw_degrees:
            seen.add("turn_left")
        if min(yaws) <= -settings.turn_yaw_degrees:
            seen.add("turn_right")
    return seen


def actions_seen(landmarks_per_frame: Iterable[LandmarkDict],
                 settings: KycSettings | None = None) -> set[str]:
    """The actions visible across a burst: one landmark dict (the one face) per frame."""
    settings = settings or KycSettings()
    return actions_in_measures([measure(lm, settings) for lm in landmarks_per_frame], settings)


def unknown_actions(actions: Iterable[str]) -> list[str]:
    return [a for a in actions if a not in ACTIONS]
