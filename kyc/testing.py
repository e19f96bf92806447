"""Test helpers: bursts of frames that show an action to the real landmark model.

TEST-ONLY: nothing in production imports this module. The platform's API tests use
``burst(photo, actions)`` to get JPEG frames of a test photo in which the real detector and
landmark model see the requested actions, and ``still_burst`` for frames that show none.

How the actions are synthesised from one photo (all image warps driven by the 68 landmarks
the engine finds, checked in a closed loop with the engine itself):

* **turn**: the face is rotated as a cylinder about the vertical axis (a horizontal remap
  that moves the nose and inner features sideways while the jaw outline stays). The photo
  may also be mirrored so that its natural head pose helps: a photo turned to the
  citizen's right is mirrored for a "turn left" burst, and its un-warped pose is then the
  turned frame while a counter-warped copy is the frontal one.
* **blink**: the eye opening is squashed vertically toward the eye's axis (lids moved
  together, a dark slit left), located by the eye landmarks. Fully erasing the eye
  (inpainting skin and drawing a lid line) looks more like a closed eye to a person but
  the landmark model then falls back to an open-eye shape, so a narrow slit is used.
* **open mouth**: the lips are parted along the inner lip line, the gap filled with a dark
  mouth cavity, the chin moved down and the mouth narrowed a little (a rounder mouth is
  what the landmark model reads as wide open).

For each action several strengths are tried; among those the engine reads as the action
(also on a few jittered copies) the one with the least identity drift is kept (cached per
photo and set of actions; an action read only on some copies gets two frames). Every call
then jitters each frame (shift, small rotation and scale, brightness, JPEG quality) and
redraws it until the engine reads its action against the neutral frame and its identity
drift stays small; frames are kept apart from each other and from every frame made earlier
in this process (perceptual hashes clearly beyond the replay distance). It raises
``SynthesisError`` rather than return a burst that does not show the actions.

Limits, measured on the test photos (docs/kyc.md): wide-open eyes (lin-manuel-miranda.png)
do not read as closed however the slit is made; a photo turned far to one side cannot
also show a turn to the other side.
"""

from __future__ import annotations

import io
import math
import os
import struct
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from kyc.engine import FaceEngine, Landmarks, LocatedFace, face_distance, get_engine
from kyc.images import decode_image
from kyc.liveness import ACTIONS, FrameMeasures, actions_seen, measure
from kyc.replay import frame_hash, hash_distance
from kyc.settings import KycSettings

#: Size of the frames produced (a phone's portrait frame).
FRAME_SIZE = (480, 640)
_CANVAS_SCALE = 1.25  # the canvas is this much larger than a frame, room for jitter
_MAX_DRIFT = 0.35  # identity drift allowed for a synthesised frame (distance to the photo)


class SynthesisError(RuntimeError):
    """The requested actions could not be made visible to the engine from this photo."""


# --- public helpers ------------------------------------------------------------------------

def burst(photo: str | os.PathLike[str], actions: Sequence[str], *, seed: int | None = None,
          settings: KycSettings | None = None, engine: FaceEngine | None = None) -> list[bytes]:
    """JPEG frames of ``photo`` in which the engine sees every action of ``actions``.

    Frames: a neutral one, then one per action (two for an action the engine reads only on
    some jittered copies; a single action gets a second neutral frame), so 3-4 frames for
    the usual 2-action challenge. Raises ``SynthesisError`` if the photo cannot show them.
    """
    settings = settings or KycSettings()
    engine = engine or get_engine()
    wanted = tuple(actions)
    if any(a not in ACTIONS for a in wanted) or len(set(wanted)) != len(wanted):
        raise ValueError(f"actions must be distinct values of kyc.liveness.ACTIONS: {wanted}")
    plan = _plan(str(Path(photo).resolve()), wanted, settings, engine)
    rng = np.random.default_rng(seed)
    for _attempt in range(4):
        frames = _draw_burst(plan, wanted, rng, settings, engine)
        if frames is not None:
            return frames
    raise SynthesisError(f"could not make {list(wanted)} visible in {Path(photo).name}")


def _draw_burst(plan: _Plan, wanted: tuple[str, ...], rng: np.random.Generator,
                settings: KycSettings, engine: FaceEngine) -> list[bytes] | None:
    """Jitter the planned frames one by one, redrawing an action frame until the engine sees
    its action against the neutral frame (enough for the whole burst: adding frames never
    hides an action, see kyc.liveness.actions_in_measures)."""
    frames: list[bytes] = []
    hashes: list[str] = []
    seen_landmarks: list[Landmarks] = []
    for index, (role, image) in enumerate(plan.frames):
        for _try in range(32 if role in wanted else 8):
            frame = _jitter(image, rng)
            decoded = decode_image(frame, settings)
            value = frame_hash(decoded)
            if not _is_new(value, hashes, settings):
                continue
            found = engine.locate(decoded, settings)
            if len(found) != 1:
                continue
            landmarks = found[0].landmarks
            if seen_landmarks and role in wanted and role not in actions_seen(
                    [seen_landmarks[0], landmarks], settings):
                continue
            if face_distance(engine.encode(found[0], settings), plan.encoding) > _MAX_DRIFT:
                continue
            frames.append(frame)
            hashes.append(value)
            seen_landmarks.append(landmarks)
            break
        else:
            if role in wanted and any(r == role for r, _ in plan.frames[index + 1:]):
                continue  # a second frame of the same action follows
            return None
    if not set(wanted) <= actions_seen(seen_landmarks, settings):
        return None
    if len(frames) < settings.min_frames:
        return None
    _remember(hashes)
    return frames


def still_burst(photo: str | os.PathLike[str], count: int = 3, *, seed: int | None = None,
                settings: KycSettings | None = None,
                engine: FaceEngine | None = None) -> list[bytes]:
    """``count`` jittered JPEG frames of the untouched photo: a still photo, not a live face."""
    settings = settings or KycSettings()
    engine = engine or get_engine()
    canvas, _face = _canvas(str(Path(photo).resolve()), False, settings, engine)
    rng = np.random.default_rng(seed)
    frames: list[bytes] = []
    hashes: list[str] = []
    while len(frames) < count:
        frame = _jitter(canvas, rng)
        value = frame_hash(decode_image(frame, settings))
        if _is_new(value, hashes, settings):
            frames.append(frame)
            hashes.append(value)
    _remember(hashes)
    return frames


def photo_bytes(photo: str | os.PathLike[str]) -> bytes:
    return Path(photo).read_bytes()


def reencode(frame: bytes, quality: int) -> bytes:
    """The same frame as JPEG at another quality (a replay that is not byte-identical)."""
    return _jpeg(decode_image(frame, KycSettings(max_frame_bytes=1 << 30)), quality)


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    """The first ``keep`` fraction of an encoded image (cut in the middle)."""
    return data[: max(1, int(len(data) * keep))]


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A PNG of a few dozen bytes whose header announces ``width`` x ``height`` pixels.

    Its pixel data is a single compressed row: decoding it would fail, but a safe decoder
    refuses it from the header alone (and never allocates width x height pixels).
    """
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


# --- planning (cached per photo and actions) -----------------------------------------------

class _Candidate:
    """A synthesised canvas with its measures; its identity drift and its measures under a
    few jitters (what burst() will really produce) are computed on demand."""

    def __init__(self, image: Image.Image, measures: FrameMeasures, mildness: float,
                 drift: Callable[[], float], robust: Callable[[Image.Image], list[FrameMeasures]]
                 ) -> None:
        self.image = image
        self.measures = measures
        self.mildness = mildness  # how strong the warp is (0 for the photo itself)
        self._drift_fn = drift
        self._robust_fn = robust
        self._drift: float | None = None
        self._robust: list[FrameMeasures] | None = None

    @property
    def drift(self) -> float:
        if self._drift is None:
            self._drift = self._drift_fn()
        return self._drift

    @property
    def robust(self) -> list[FrameMeasures]:
        """The measures of the canvas and of jittered frames cut from it (a frame where the
        face was lost is missing, which counts against the candidate)."""
        if self._robust is None:
            self._robust = [self.measures] + self._robust_fn(self.image)
        return self._robust


@lru_cache(maxsize=64)
def _canvas(path: str, mirror: bool, settings: KycSettings,
            engine: FaceEngine) -> tuple[Image.Image, LocatedFace]:
    """The photo framed as a phone would (the face about 40 % of the width), with room
    around it for jitter, and its one face."""
    limits = replace(settings, max_frame_bytes=1 << 30, max_frame_pixels=1 << 28)
    image = decode_image(Path(path).read_bytes(), limits)
    if mirror:
        image = ImageOps.mirror(image)
    found = engine.locate(image, limits)
    if not found:
        raise SynthesisError(f"no face in {Path(path).name}")
    top, right, bottom, left = max(found, key=lambda f: f.box[1] - f.box[3]).box
    width = (right - left) * 2.4 * _CANVAS_SCALE
    height = width * FRAME_SIZE[1] / FRAME_SIZE[0]
    cx, cy = (left + right) / 2, (top + bottom) / 2
    box = (cx - width / 2, cy - height * 0.45, cx + width / 2, cy + height * 0.55)
    size = (round(FRAME_SIZE[0] * _CANVAS_SCALE), round(FRAME_SIZE[1] * _CANVAS_SCALE))
    canvas = image.transform(size, Image.Transform.EXTENT, box, Image.Resampling.BICUBIC)
    located = engine.locate(canvas, settings)
    if len(located) != 1:
        raise SynthesisError(f"{len(located)} faces in the framed {Path(path).name}")
    return canvas, located[0]


_plans: dict[tuple[str, tuple[str, ...], KycSettings], _Plan] = {}
_plans_lock = threading.Lock()


@dataclass(frozen=True, eq=False)
class _Plan:
    frames: list[tuple[str, Image.Image]]  # (role, canvas): "neutral" or an action
    encoding: np.ndarray  # of the (possibly mirrored) photo, to bound each frame's drift


def _plan(path: str, actions: tuple[str, ...], settings: KycSettings,
          engine: FaceEngine) -> _Plan:
    key = (path, actions, settings)
    with _plans_lock:
        if key not in _plans:
            _plans[key] = _make_plan(path, actions, settings, engine)
        return _plans[key]


Evaluate = Callable[[Image.Image, float], "_Candidate | None"]
_ROBUST_JITTERS = 3
_MAX_GROUPS_CHECKED = 8


def _make_plan(path: str, actions: tuple[str, ...], settings: KycSettings,
               engine: FaceEngine) -> _Plan:
    _, located = _canvas(path, False, settings, engine)
    base_yaw = measure(located.landmarks, settings).yaw
    left, right = "turn_left" in actions, "turn_right" in actions
    mirror = (left and not right and base_yaw < 0) or (right and not left and base_yaw > 0)
    canvas, located = _canvas(path, mirror, settings, engine)
    base_encoding = engine.encode(located, settings)

    def robust(image: Image.Image) -> list[FrameMeasures]:
        rng = np.random.default_rng(20240601)
        out = []
        for _ in range(_ROBUST_JITTERS):
            found = engine.locate(decode_image(_jitter(image, rng), settings), settings)
            if len(found) == 1:
                out.append(measure(found[0].landmarks, settings))
        return out

    def evaluate(image: Image.Image, mildness: float) -> _Candidate | None:
        found = engine.locate(image, settings)
        if len(found) != 1:
            return None
        face = found[0]
        return _Candidate(image, measure(face.landmarks, settings), mildness,
                          lambda: face_distance(engine.encode(face, settings), base_encoding),
                          robust)

    base = _Candidate(canvas, measure(located.landmarks, settings), 0.0, lambda: 0.0, robust)
    neutral, turned = _plan_turns(canvas, located.landmarks, base, left, right, settings,
                                  evaluate)
    frames: dict[str, list[Image.Image]] = {k: [v.image] for k, v in turned.items()}
    # The eyes and the mouth are changed on the photo itself or, failing that, on the neutral
    # or a turned frame (a warped face is harder to read). Any frame may carry them: an
    # extra frame never hides another action (kyc.liveness.actions_in_measures).
    sources = [base] + [c for c in [neutral, *sorted(turned.values(), key=lambda c: c.mildness)]
                        if c is not base]
    for action, make in (("blink", _plan_blink), ("open_mouth", _plan_mouth)):
        if action not in actions:
            continue
        for index, source in enumerate(sources):
            landmarks = engine.locate(source.image, settings)[0].landmarks
            try:
                frames[action] = make(neutral, source, landmarks, settings, evaluate)
                break
            except SynthesisError:
                if index == len(sources) - 1:
                    raise
    plan = [("neutral", neutral.image)] + [(a, image) for a in actions for image in frames[a]]
    if len(plan) < max(3, settings.min_frames):
        plan.append(("neutral", neutral.image))
    return _Plan(plan[: settings.max_frames], base_encoding)


def _plan_turns(canvas: Image.Image, landmarks: Landmarks, base: _Candidate, left: bool,
                right: bool, settings: KycSettings, evaluate: Evaluate
                ) -> tuple[_Candidate, dict[str, _Candidate]]:
    if not (left or right):
        return base, {}
    sign = -1.0 if settings.frames_mirrored else 1.0  # image-space degrees per citizen degree
    candidates = [base]
    for degrees in range(-35, 40, 5):
        for radius in (0.9, 1.0, 1.1):
            if degrees:
                found = evaluate(_turn(canvas, landmarks, sign * degrees, radius), abs(degrees))
                if found is not None:
                    candidates.append(found)
    want, swing = settings.turn_yaw_degrees, settings.turn_yaw_delta
    ranked: list[tuple[float, list[_Candidate]]] = []
    for neutral in candidates:
        yaw = neutral.measures.yaw
        lefts: list[_Candidate | None] = [None]
        rights: list[_Candidate | None] = [None]
        if left:
            lefts = [c for c in candidates if c.measures.yaw >= max(want, yaw + swing) + 3]
        if right:
            rights = [c for c in candidates if c.measures.yaw <= min(-want, yaw - swing) - 3]
        for to_left in lefts:
            for to_right in rights:
                margins = [6.0]
                if to_left is not None:
                    margins.append(min(to_left.measures.yaw - want,
                                       to_left.measures.yaw - yaw - swing))
                if to_right is not None:
                    margins.append(min(-want - to_right.measures.yaw,
                                       yaw - swing - to_right.measures.yaw))
                group = [neutral] + [c for c in (to_left, to_right) if c is not None]
                ranked.append((min(margins) - 0.1 * sum(c.mildness for c in group), group))

    def accept(group: list[_Candidate]) -> bool:
        """Half the jittered frames of each turn still read as the turn."""
        yaw = group[0].measures.yaw
        rest = iter(group[1:])
        if left:
            yaws = [m.yaw for m in next(rest).robust]
            if sum(y >= max(want, yaw + swing) for y in yaws) * 2 < _ROBUST_JITTERS + 1:
                return False
        if right:
            yaws = [m.yaw for m in next(rest).robust]
            if sum(y <= min(-want, yaw - swing) for y in yaws) * 2 < _ROBUST_JITTERS + 1:
                return False
        return True

    good = []
    for _score, group in sorted(ranked, key=lambda item: -item[0])[:2 * _MAX_GROUPS_CHECKED]:
        if all(c.drift <= _MAX_DRIFT for c in group) and accept(group):
            good.append(group)
    if not good:
        raise SynthesisError("no head turn could be synthesised from this photo")
    group = min(good, key=lambda g: max(c.drift for c in g))
    chosen = {}
    rest = iter(group[1:])
    if left:
        chosen["turn_left"] = next(rest)
    if right:
        chosen["turn_right"] = next(rest)
    return group[0], chosen


def _plan_blink(neutral: _Candidate, source: _Candidate, landmarks: Landmarks,
                settings: KycSettings, evaluate: Evaluate) -> list[Image.Image]:
    def closed_enough(values: list[float]) -> list[bool]:
        open_ear = neutral.measures.ear
        limit = min(settings.blink_ear_closed, open_ear - settings.blink_ear_delta)
        return [v < limit for v in values]

    ranked = []
    for amount in (0.55, 0.62, 0.7, 0.78, 0.85):
        for height in (1.5, 2.0, 3.0):
            found = evaluate(_close_eyes(source.image, landmarks, amount, height), amount)
            if found is not None and all(closed_enough([found.measures.ear])):
                ranked.append((-found.measures.ear - 0.05 * amount, [found]))
    return _robust_choice(ranked, lambda c: closed_enough([m.ear for m in c.robust]), "blink")


def _plan_mouth(neutral: _Candidate, source: _Candidate, landmarks: Landmarks,
                settings: KycSettings, evaluate: Evaluate) -> list[Image.Image]:
    def wide_enough(values: list[float]) -> list[bool]:
        closed_mar = neutral.measures.mar
        limit = max(settings.mouth_mar_open, closed_mar + settings.mouth_mar_delta)
        return [v >= limit for v in values]

    ranked = []
    for pinch in (0.0, 0.15, 0.3):
        for amount in (0.3, 0.4, 0.5, 0.6):
            found = evaluate(_open_mouth(source.image, landmarks, amount, pinch), amount + pinch)
            if found is not None and all(wide_enough([found.measures.mar])):
                ranked.append((found.measures.mar - 0.1 * (amount + pinch), [found]))
    return _robust_choice(ranked, lambda c: wide_enough([m.mar for m in c.robust]), "open mouth")


def _robust_choice(ranked: list[tuple[float, list[_Candidate]]],
                   passes: Callable[[_Candidate], list[bool]], what: str) -> list[Image.Image]:
    """Among the best-ranked candidates, the one with the least identity drift that at least
    3 of 4 jittered frames still read as the action (one frame); failing that, two frames
    of the one that most often does (burst() needs only one of them to be read)."""
    scored = []
    for _score, group in sorted(ranked, key=lambda item: -item[0])[:_MAX_GROUPS_CHECKED]:
        candidate = group[0]
        if candidate.drift <= _MAX_DRIFT:
            scored.append((sum(passes(candidate)) / (_ROBUST_JITTERS + 1), candidate))
    reliable = [c for rate, c in scored if rate >= 0.75]
    if reliable:
        return [min(reliable, key=lambda c: c.drift).image]
    usable = [item for item in scored if item[0] > 0]
    if not usable:
        raise SynthesisError(f"no {what} could be synthesised from this photo")
    best = max(usable, key=lambda item: (item[0], -item[1].drift))[1]
    return [best.image, best.image]


# --- jitter and uniqueness -----------------------------------------------------------------

_history: list[str] = []
_history_lock = threading.Lock()


def _jitter(canvas: Image.Image, rng: np.random.Generator) -> bytes:
    """A frame cut from the canvas as a hand-held phone would take it: shifted, slightly
    rotated and scaled (one bicubic resampling), a little brighter or darker, at some JPEG
    quality."""
    width, height = canvas.size
    scale = rng.uniform(0.96, 1.04)  # canvas pixels per frame pixel
    angle = math.radians(rng.uniform(-2.5, 2.5))
    room_x = (width - FRAME_SIZE[0] * scale) / 2
    room_y = (height - FRAME_SIZE[1] * scale) / 2
    cx = width / 2 + rng.uniform(-0.85, 0.85) * room_x
    cy = height / 2 + rng.uniform(-0.85, 0.85) * room_y
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    # frame pixel (u, v) -> canvas (a u + b v + c, d u + e v + f), centred on (cx, cy)
    u0, v0 = FRAME_SIZE[0] / 2, FRAME_SIZE[1] / 2
    coefficients = (cos, -sin, cx - cos * u0 + sin * v0, sin, cos, cy - sin * u0 - cos * v0)
    frame = canvas.transform(FRAME_SIZE, Image.Transform.AFFINE, coefficients,
                             Image.Resampling.BICUBIC)
    frame = ImageEnhance.Brightness(frame).enhance(rng.uniform(0.95, 1.05))
    return _jpeg(frame, int(rng.integers(85, 95)))


def _is_new(value: str, burst_hashes: list[str], settings: KycSettings) -> bool:
    """Clearly farther than the replay distance from every frame of this burst and of every
    burst made earlier in this process (so no test trips over a replay it did not mean)."""
    limit = settings.replay_max_distance + 6
    with _history_lock:
        earlier = list(_history)
    return all(hash_distance(value, other) > limit for other in earlier + burst_hashes)


def _remember(hashes: list[str]) -> None:
    with _history_lock:
        _history.extend(hashes)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


# --- warps ---------------------------------------------------------------------------------

def _remap(pixels: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """Bilinear sample of ``pixels`` (H, W, C float) at the coordinates (sx, sy)."""
    h, w = pixels.shape[:2]
    sx = np.clip(sx, 0, w - 1.001)
    sy = np.clip(sy, 0, h - 1.001)
    x0 = np.floor(sx).astype(np.int64)
    y0 = np.floor(sy).astype(np.int64)
    fx = (sx - x0)[..., None]
    fy = (sy - y0)[..., None]
    top = pixels[y0, x0] * (1 - fx) + pixels[y0, x0 + 1] * fx
    bottom = pixels[y0 + 1, x0] * (1 - fx) + pixels[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _to_image(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _turn(image: Image.Image, landmarks: Landmarks, degrees: float, radius: float) -> Image.Image:
    """Rotate the face as a cylinder: positive degrees move the nose toward the image's right."""
    pixels = np.asarray(image, dtype=np.float32)
    h, w = pixels.shape[:2]
    chin = np.asarray(landmarks["chin"], dtype=np.float64)
    cx = (chin[0, 0] + chin[16, 0]) / 2
    half = (chin[16, 0] - chin[0, 0]) / 2
    r = half * radius
    brows = np.asarray(landmarks["left_eyebrow"] + landmarks["right_eyebrow"], dtype=np.float64)
    top = brows[:, 1].min() - 0.9 * half
    bottom = chin[:, 1].max() + 0.25 * half
    fade = 0.3 * half
    x0, x1 = int(max(0, cx - r)), int(min(w, cx + r + 1))
    y0, y1 = int(max(0, top - fade)), int(min(h, bottom + fade))
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    u = np.clip((xs - cx) / r, -1, 1)
    phi = np.clip(np.arcsin(u) - math.radians(degrees), -math.pi / 2, math.pi / 2)
    taper = (1 - _smoothstep((np.abs(u) - 0.75) / 0.25)) * _smoothstep((ys - top + fade) / fade) \
        * (1 - _smoothstep((ys - bottom) / fade))
    sx = xs + (np.sin(phi) - u) * r * taper
    out = pixels.copy()
    out[y0:y1, x0:x1] = _remap(pixels, sx, ys)
    return _to_image(out)


def _local_region(shape: tuple[int, ...], origin: np.ndarray, axis: np.ndarray,
                  along: tuple[float, float], across: tuple[float, float]):
    """Pixel grid of the box around a local frame (a along ``axis``, c across, c > 0 down)."""
    h, w = shape[:2]
    ax = axis / np.linalg.norm(axis)
    cr = np.array([-ax[1], ax[0]])
    corners = [origin + ax * a + cr * c for a in along for c in across]
    x0 = int(max(0, min(p[0] for p in corners)))
    x1 = int(min(w, max(p[0] for p in corners) + 2))
    y0 = int(max(0, min(p[1] for p in corners)))
    y1 = int(min(h, max(p[1] for p in corners) + 2))
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    dx, dy = xs - origin[0], ys - origin[1]
    return (slice(y0, y1), slice(x0, x1)), dx * ax[0] + dy * ax[1], dx * cr[0] + dy * cr[1], ax, cr


def _close_eyes(image: Image.Image, landmarks: Landmarks, amount: float,
                height: float) -> Image.Image:
    """Move the lids of both eyes toward the eye's axis, leaving a narrow dark slit."""
    pixels = np.asarray(image, dtype=np.float32)
    out = pixels.copy()
    for name in ("left_eye", "right_eye"):
        eye = np.asarray(landmarks[name], dtype=np.float64)
        origin = (eye[0] + eye[3]) / 2
        axis = eye[3] - eye[0]
        half_width = float(np.linalg.norm(axis)) / 2
        cr = np.array([-axis[1], axis[0]]) / np.linalg.norm(axis)
        opening = float(np.abs((eye - origin) @ cr).max())
        gap = max(opening, 0.08 * half_width) * 1.35 * amount
        reach = height * gap
        region, a, c, ax, crv = _local_region(pixels.shape, origin, axis,
                                              (-1.9 * half_width, 1.9 * half_width),
                                              (-reach, reach))
        profile = np.sqrt(np.clip(1 - (a / (1.25 * half_width)) ** 2, 0, 1))
        fade = 1 - _smoothstep((np.abs(a) - 1.25 * half_width) / (0.5 * half_width))
        g = gap * profile * fade
        sc = np.sign(c) * (g + np.abs(c) * (reach - g) / reach)
        sc = np.where(np.abs(c) < reach, sc, c)
        sx = origin[0] + a * ax[0] + sc * crv[0]
        sy = origin[1] + a * ax[1] + sc * crv[1]
        out[region] = _remap(pixels, sx, sy)
        pixels = out.copy()
    return _to_image(out)


def _open_mouth(image: Image.Image, landmarks: Landmarks, amount: float,
                pinch: float) -> Image.Image:
    """Part the lips along the inner lip line, fill a dark cavity, drop the chin a little."""
    pixels = np.asarray(image, dtype=np.float32)
    top, bottom = landmarks["top_lip"], landmarks["bottom_lip"]
    inner = np.asarray([top[11], top[10], top[9], top[8], top[7], bottom[10], bottom[9],
                        bottom[8]], dtype=np.float64)
    origin = inner.mean(axis=0)
    axis = inner[4] - inner[0]
    inner_half = np.linalg.norm(axis) / 2
    ax = axis / np.linalg.norm(axis)
    cr = np.array([-ax[1], ax[0]])
    outer = np.asarray(list(top[:7]) + list(bottom[:6]), dtype=np.float64)
    outer_half = np.abs((outer - origin) @ ax).max()
    nose = np.asarray(landmarks["nose_tip"], dtype=np.float64).mean(axis=0)
    chin = np.asarray(landmarks["chin"][8], dtype=np.float64)
    up = abs((nose - origin) @ cr) * 0.85
    down = abs((chin - origin) @ cr) * 1.5
    gap = amount * 2 * inner_half
    region, a0, c, ax, cr = _local_region(pixels.shape, origin, axis,
                                          (-1.6 * outer_half, 1.6 * outer_half), (-up, down))
    narrow = (1 - _smoothstep((np.abs(a0) - outer_half) / (0.9 * outer_half))) * np.where(
        c < 0, 1 - _smoothstep((-c - 0.5 * up) / (0.5 * up)),
        1 - _smoothstep((c - 0.4 * down) / (0.6 * down)))
    a = a0 * (1 + pinch * narrow)
    profile = np.sqrt(np.clip(1 - (a / (1.05 * inner_half)) ** 2, 0, 1))
    gd, gu = 0.75 * gap * profile, 0.25 * gap * profile
    below = c >= 0
    sc = np.where(below, (c - gd) * down / (down - gd + 1e-9), (c + gu) * up / (up - gu + 1e-9))
    sc = np.where((c > -gu) & (c < gd), 0.0, sc)
    sc = np.where((c > down) | (c < -up), c, sc)
    sx = origin[0] + a * ax[0] + sc * cr[0]
    sy = origin[1] + a * ax[1] + sc * cr[1]
    patch = _remap(pixels, sx, sy)
    inside = (c > -gu) & (c < gd) & (profile > 0)
    weight = np.where(inside, _smoothstep(np.minimum(c + gu, gd - c) / 1.5), 0.0)[..., None]
    cavity = np.array([50, 18, 22], dtype=np.float32)
    out = pixels.copy()
    out[region] = patch * (1 - weight) + cavity * weight
    return _to_image(out)
