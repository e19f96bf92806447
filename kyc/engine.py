"""The face engine: face_recognition's dlib models, loaded once per process.

Pipeline for one image (the issue's performance advice, measured in docs/kyc.md):

1. downscale to ``detection_width`` and run the HOG detector there (cost grows with the
   pixel count, and a selfie face is large);
2. map each box back to the full-size image, crop the face with a margin and scale the
   crop so the face is about ``face_width`` pixels wide (never enlarged);
3. on that crop: the 68-point landmarks (liveness) and the 5-point landmarks plus the
   ResNet encoding (face_recognition's defaults: ``model="small"``, ``num_jitters=1``).

Importing face_recognition has two side effects undone here: its models package imports
``pkg_resources``, which warns (an error under ``-W error``; face_recognition then *exits
the process* with status 0 as if the models were missing) - that one warning is ignored;
and it sets ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True`` for the whole process, which
would accept truncated uploads everywhere - it is set back to False right after.

The engine serialises its dlib calls with a lock (the DNN keeps per-call state in the
network object); to use both cores run two processes, e.g. gunicorn workers, and call
``get_engine()`` at start-up (``--preload``) so the models (~150 MB a process) load once.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageFile

from kyc import reasons
from kyc.images import FrameRejected, decode_image
from kyc.settings import KycSettings

#: (top, right, bottom, left) in pixels of the image given, as face_recognition orders it.
Box = tuple[int, int, int, int]
#: face_recognition's 68-point landmark dict: chin, left_eyebrow, right_eyebrow,
#: nose_bridge, nose_tip, left_eye, right_eye, top_lip, bottom_lip (image coordinates;
#: "left_eye" is the eye on the image's left, i.e. the person's right eye).
Landmarks = dict[str, list[tuple[float, float]]]

_LANDMARK_SLICES = {
    "chin": list(range(0, 17)),
    "left_eyebrow": list(range(17, 22)),
    "right_eyebrow": list(range(22, 27)),
    "nose_bridge": list(range(27, 31)),
    "nose_tip": list(range(31, 36)),
    "left_eye": list(range(36, 42)),
    "right_eye": list(range(42, 48)),
    # The same (odd) orders as face_recognition.api.face_landmarks.
    "top_lip": [48, 49, 50, 51, 52, 53, 54, 64, 63, 62, 61, 60],
    "bottom_lip": [54, 55, 56, 57, 58, 59, 48, 60, 67, 66, 65, 64],
}

_PKG_RESOURCES_WARNING = r"pkg_resources is deprecated as an API"


@dataclass(frozen=True, eq=False)
class LocatedFace:
    """A detected face with its landmarks; ``encode`` turns it into an encoding."""

    box: Box
    landmarks: Landmarks
    # The scaled crop and the face rectangle in it, kept for the encoder.
    _crop: np.ndarray = field(repr=False)
    _rect: Any = field(repr=False)


@dataclass(frozen=True, eq=False)
class Face:
    box: Box
    landmarks: Landmarks
    encoding: np.ndarray


def face_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two encodings (face_recognition.face_distance)."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


class FaceEngine:
    """face_recognition's models and the pipeline above. Use ``get_engine()``."""

    def __init__(self, settings: KycSettings | None = None) -> None:
        self.settings = settings or KycSettings()
        api = _import_face_recognition()
        import dlib

        self._dlib = dlib
        self._detector = api.face_detector
        self._pose68 = api.pose_predictor_68_point
        self._pose5 = api.pose_predictor_5_point
        self._encoder = api.face_encoder
        self._lock = threading.Lock()

    # -- detection and landmarks ------------------------------------------------------------

    def locate(self, image: Image.Image, settings: KycSettings | None = None, *,
               upsample: int | None = None) -> list[LocatedFace]:
        """Every face in ``image`` (RGB) with its box and 68 landmarks, in image pixels."""
        settings = settings or self.settings
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        scale = min(1.0, settings.detection_width / rgb.width)
        small = rgb if scale >= 1.0 else rgb.resize(
            (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))),
            Image.Resampling.BILINEAR, reducing_gap=2.0)
        passes = settings.detection_upsample if upsample is None else upsample
        small_pixels = np.asarray(small)
        with self._lock:
            rects = list(self._detector(small_pixels, passes))
        located = []
        for rect in rects:
            left = max(0.0, rect.left() / scale)
            top = max(0.0, rect.top() / scale)
            right = min(float(rgb.width), (rect.right() + 1) / scale)
            bottom = min(float(rgb.height), (rect.bottom() + 1) / scale)
            if right - left < 2 or bottom - top < 2:
                continue
            located.append(self._landmarks(rgb, (left, top, right, bottom), settings))
        return located

    def _landmarks(self, rgb: Image.Image, box: tuple[float, float, float, float],
                   settings: KycSettings) -> LocatedFace:
        left, top, right, bottom = box
        width = right - left
        margin = 0.5 * width
        crop_box = (max(0, int(left - margin)), max(0, int(top - margin)),
                    min(rgb.width, int(right + margin) + 1),
                    min(rgb.height, int(bottom + margin) + 1))
        crop = rgb.crop(crop_box)
        k = min(1.0, settings.face_width / width)
        if k < 1.0:
            crop = crop.resize((max(1, round(crop.width * k)), max(1, round(crop.height * k))),
                               Image.Resampling.BILINEAR, reducing_gap=2.0)
        pixels = np.ascontiguousarray(np.asarray(crop))
        x0, y0 = crop_box[0], crop_box[1]
        rect = self._dlib.rectangle(round((left - x0) * k), round((top - y0) * k),
                                    round((right - x0) * k) - 1, round((bottom - y0) * k) - 1)
        with self._lock:
            shape = self._pose68(pixels, rect)
        points = [(round(x0 + p.x / k, 2), round(y0 + p.y / k, 2)) for p in shape.parts()]
        landmarks = {name: [points[i] for i in idx] for name, idx in _LANDMARK_SLICES.items()}
        return LocatedFace(box=(round(top), round(right), round(bottom), round(left)),
                           landmarks=landmarks, _crop=pixels, _rect=rect)

    # -- encodings --------------------------------------------------------------------------

    def encode(self, face: LocatedFace, settings: KycSettings | None = None) -> np.ndarray:
        """The 128-d encoding of a located face."""
        settings = settings or self.settings
        with self._lock:
            shape = self._pose5(face._crop, face._rect)
            descriptor = self._encoder.compute_face_descriptor(face._crop, shape,
                                                               settings.encoding_jitters)
        return np.array(descriptor, dtype=np.float64)

    def faces(self, image: Image.Image, settings: KycSettings | None = None) -> list[Face]:
        """Every face in ``image``: box, 68 landmarks and encoding."""
        return [Face(f.box, f.landmarks, self.encode(f, settings))
                for f in self.locate(image, settings)]


_engine: FaceEngine | None = None
_engine_lock = threading.Lock()


def get_engine() -> FaceEngine:
    """The process-wide engine, loaded on first use (thread-safe)."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = FaceEngine()
    return _engine


def _import_face_recognition() -> Any:
    """Import face_recognition.api without its two process-wide side effects."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_PKG_RESOURCES_WARNING,
                                    category=UserWarning)
            import face_recognition.api as api
    except SystemExit as exc:  # face_recognition calls quit() when its models won't import
        raise RuntimeError(
            "face_recognition could not import face_recognition_models "
            "(is setuptools<81 installed for pkg_resources?)") from exc
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    return api


def reference_encoding(image_bytes: bytes, settings: KycSettings | None = None,
                       engine: FaceEngine | None = None) -> np.ndarray:
    """The encoding of the one face of a reference photo (e.g. the registry's ID photo).

    Raises ``FrameRejected``: the image reasons of kyc.images, ``NO_FACE`` or
    ``MULTIPLE_FACES``. A photo with no face at the fast setting is searched once more with
    one upsampling pass (small faces), as this is done once per verification.
    """
    settings = settings or KycSettings()
    engine = engine or get_engine()
    image = decode_image(image_bytes, settings)
    found = engine.locate(image, settings)
    if not found and settings.detection_upsample < 1:
        found = engine.locate(image, settings, upsample=1)
    if not found:
        raise FrameRejected(reasons.NO_FACE)
    if len(found) > 1:
        raise FrameRejected(reasons.MULTIPLE_FACES, detail=f"{len(found)} faces")
    return engine.encode(found[0], settings)
