"""One liveness challenge: a burst of frames against a reference encoding.

``verify_burst`` checks, in this order, and stops at the first refusal:

1. the number of frames is within ``min_frames``..``max_frames``   -> ``FRAME_COUNT``
2. every frame decodes (kyc.images)         -> ``IMAGE_TOO_LARGE``, ``IMAGE_UNREADABLE``,
                                               ``IMAGE_TOO_MANY_PIXELS``, ``IMAGE_TRUNCATED``
3. exactly one face in every frame          -> ``NO_FACE``, ``MULTIPLE_FACES``
4. every frame matches the reference        -> ``FACE_MISMATCH``
5. every requested action is visible        -> ``ACTION_NOT_DETECTED`` (``missing_actions``)
6. no frame was seen before                 -> ``FRAME_REPLAYED``

The frames stay in memory: nothing is written anywhere. The decision carries what the
platform records (distances, faces per frame, actions seen, timings) and the frames'
perceptual hashes, which the platform stores to refuse them next time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from kyc import reasons
from kyc.engine import FaceEngine, LocatedFace, face_distance, get_engine
from kyc.images import FrameRejected, decode_image
from kyc.liveness import ACTION_NAMES_ZH, actions_in_measures, measure, unknown_actions
from kyc.replay import frame_hash, is_replay
from kyc.settings import KycSettings

PASSED_MESSAGE_ZH = "人脸核验通过"


@dataclass(frozen=True)
class Decision:
    passed: bool
    #: A code of kyc.reasons, None on a pass.
    reason: str | None
    #: For the citizen.
    message_zh: str
    #: Distance of each frame's face to the reference (only frames that got that far).
    distances: tuple[float, ...] = ()
    faces_per_frame: tuple[int, ...] = ()
    actions_seen: frozenset[str] = frozenset()
    #: Perceptual hashes of the frames that decoded, in order (kyc.replay).
    frame_hashes: tuple[str, ...] = ()
    #: decode, hash, detect, encode, liveness, total (milliseconds of this call).
    timings_ms: dict[str, float] = field(default_factory=dict)
    #: The requested actions that were not seen (ACTION_NOT_DETECTED).
    missing_actions: tuple[str, ...] = ()
    #: Index of the frame that caused the refusal, when one did.
    frame: int | None = None
    #: Per frame: eye/mouth aspect ratios and yaw (kyc.liveness), for the record.
    measures: tuple[dict[str, float], ...] = ()
    threshold: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed, "reason": self.reason, "message_zh": self.message_zh,
            "distances": [round(d, 4) for d in self.distances],
            "faces_per_frame": list(self.faces_per_frame),
            "actions_seen": sorted(self.actions_seen), "frame_hashes": list(self.frame_hashes),
            "timings_ms": dict(self.timings_ms), "missing_actions": list(self.missing_actions),
            "frame": self.frame, "measures": list(self.measures), "threshold": self.threshold,
        }


class _Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.ms: dict[str, float] = {"decode": 0.0, "hash": 0.0, "detect": 0.0, "encode": 0.0,
                                     "liveness": 0.0}

    def add(self, key: str, since: float) -> float:
        now = time.perf_counter()
        self.ms[key] += (now - since) * 1000.0
        return now

    def done(self) -> dict[str, float]:
        out = {k: round(v, 1) for k, v in self.ms.items()}
        out["total"] = round((time.perf_counter() - self.start) * 1000.0, 1)
        return out


def verify_burst(frames: Sequence[bytes], reference: np.ndarray, actions: Sequence[str],
                 seen_hashes: Iterable[str], settings: KycSettings | None = None,
                 engine: FaceEngine | None = None) -> Decision:
    """Check a burst of encoded frames (JPEG/PNG/WebP bytes) against ``reference``.

    ``actions`` are the challenge's actions (kyc.liveness.ACTIONS); ``seen_hashes`` the
    frame hashes stored for this person before. Returns a ``Decision``; raises
    ``ValueError`` only for a programming error (no or unknown actions, a reference that
    is not a 128-d encoding).
    """
    settings = settings or KycSettings()
    actions = list(actions)
    if not actions or unknown_actions(actions):
        raise ValueError(f"actions must be some of kyc.liveness.ACTIONS, got {actions!r}")
    reference = np.asarray(reference, dtype=np.float64)
    if reference.shape != (128,):
        raise ValueError("reference must be a 128-d face encoding")
    timer = _Timer()
    frames = list(frames)
    base: dict[str, Any] = {"threshold": settings.match_threshold}

    def refuse(reason: str, *, message: str | None = None, **values: Any) -> Decision:
        return Decision(passed=False, reason=reason,
                        message_zh=message or reasons.message_zh(reason),
                        timings_ms=timer.done(), **{**base, **values})

    # 1. frame count
    if not settings.min_frames <= len(frames) <= settings.max_frames:
        return refuse(reasons.FRAME_COUNT)

    # 2. decode (and hash) every frame
    images: list[Image.Image] = []
    hashes: list[str] = []
    for index, data in enumerate(frames):
        started = time.perf_counter()
        try:
            image = decode_image(data, settings)
        except FrameRejected as rejected:
            timer.add("decode", started)
            return refuse(rejected.reason, message=rejected.message_zh, frame=index,
                          frame_hashes=tuple(hashes))
        started = timer.add("decode", started)
        hashes.append(frame_hash(image))
        timer.add("hash", started)
        images.append(image)
    base["frame_hashes"] = tuple(hashes)

    # 3. exactly one face per frame
    engine = engine or get_engine()
    located: list[list[LocatedFace]] = []
    for image in images:
        started = time.perf_counter()
        located.append(engine.locate(image, settings))
        timer.add("detect", started)
    counts = tuple(len(found) for found in located)
    base["faces_per_frame"] = counts
    for index, count in enumerate(counts):
        if count != 1:
            return refuse(reasons.NO_FACE if count == 0 else reasons.MULTIPLE_FACES, frame=index)
    faces = [found[0] for found in located]

    # 4. every frame matches the reference
    distances = []
    for face in faces:
        started = time.perf_counter()
        distances.append(round(face_distance(engine.encode(face, settings), reference), 4))
        timer.add("encode", started)
    base["distances"] = tuple(distances)
    for index, distance in enumerate(distances):
        if distance > settings.match_threshold:
            return refuse(reasons.FACE_MISMATCH, frame=index)

    # 5. the requested actions
    started = time.perf_counter()
    measures = [measure(face.landmarks, settings) for face in faces]
    seen = actions_in_measures(measures, settings)
    timer.add("liveness", started)
    base["actions_seen"] = frozenset(seen)
    base["measures"] = tuple(m.as_dict() for m in measures)
    missing = tuple(a for a in actions if a not in seen)
    if missing:
        names = "、".join(ACTION_NAMES_ZH[a] for a in missing)
        return refuse(reasons.ACTION_NOT_DETECTED, missing_actions=missing,
                      message=f"未检测到指定动作（{names}），请按提示完成动作后重新拍摄")

    # 6. no frame seen before
    seen_before = list(seen_hashes)
    for index, value in enumerate(hashes):
        if is_replay(value, seen_before, settings):
            return refuse(reasons.FRAME_REPLAYED, frame=index)

    return Decision(passed=True, reason=None, message_zh=PASSED_MESSAGE_ZH,
                    timings_ms=timer.done(), **base)

