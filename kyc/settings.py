"""Settings of the face-verification library: plain values, read from the platform's config.

Every field has a documented default; ``KycSettings.from_mapping`` reads the same names in
upper case with a ``KYC_`` prefix (``match_threshold`` <- ``KYC_MATCH_THRESHOLD``), so the
platform can pass its Flask config (or ``os.environ``) as it is. Unknown keys are ignored.
See docs/kyc.md for the evidence behind each number.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

PREFIX = "KYC_"


@dataclass(frozen=True)
class KycSettings:
    # --- face match ------------------------------------------------------------------------
    #: Largest Euclidean distance between two 128-d face_recognition encodings that still
    #: counts as the same person. face_recognition's conventional 0.6 is loose for identity
    #: verification; on the test photos genuine pairs measure at most ~0.42 and impostors
    #: at least ~0.69 (docs/kyc.md). Calibrate on the registration centre's own data.
    match_threshold: float = 0.5
    # --- input limits ----------------------------------------------------------------------
    #: Largest accepted upload per frame, in bytes (checked before anything is parsed).
    max_frame_bytes: int = 4 * 1024 * 1024
    #: Largest accepted width x height, read from the image header before any pixel data
    #: is decoded (a decompression bomb is refused without allocating it).
    max_frame_pixels: int = 25_000_000
    # --- detection and encoding ------------------------------------------------------------
    #: Frames wider than this are downscaled before face detection (HOG detector).
    detection_width: int = 480
    #: dlib's upsampling passes during detection. 0 finds faces of about 80 px and more in
    #: the downscaled frame (a selfie face is far bigger) and is ~4x faster than 1.
    detection_upsample: int = 0
    #: The detected face is cropped from the full-size frame and scaled to about this width
    #: (never enlarged) before landmarks and the encoding are computed.
    face_width: int = 256
    #: face_recognition's num_jitters for the encoding (1 = no re-sampling).
    encoding_jitters: int = 1
    # --- liveness (landmark geometry; see kyc/liveness.py) ---------------------------------
    #: A frame whose mean eye aspect ratio is below this shows closed eyes.
    blink_ear_closed: float = 0.20
    #: ... and a blink also needs another frame whose EAR is at least this much higher.
    blink_ear_delta: float = 0.07
    #: A frame whose mouth aspect ratio (inner lips) is at least this shows an open mouth.
    mouth_mar_open: float = 0.50
    #: ... and another frame must have a MAR at least this much lower (mouth closed again).
    mouth_mar_delta: float = 0.25
    #: Estimated yaw, in degrees, beyond which a head turn counts (citizen's left positive).
    turn_yaw_degrees: float = 20.0
    #: ... and another frame must be turned at least this many degrees less that way.
    turn_yaw_delta: float = 15.0
    #: True when the client uploads mirrored frames (a front-camera preview as the citizen
    #: sees it); the yaw sign is then flipped. The mini-program uploads camera frames as the
    #: sensor takes them (not mirrored), which is the default.
    frames_mirrored: bool = False
    # --- replay ----------------------------------------------------------------------------
    #: Largest Hamming distance (of 256 bits) between perceptual hashes that counts as the
    #: same frame seen before. Re-encoding a frame as JPEG moves its hash by 0-2 bits.
    replay_max_distance: int = 8
    # --- burst -----------------------------------------------------------------------------
    min_frames: int = 3
    max_frames: int = 6

    def __post_init__(self) -> None:
        problems = []
        if not 0 < self.match_threshold < 2:
            problems.append("match_threshold must be in (0, 2)")
        for name in ("max_frame_bytes", "max_frame_pixels", "detection_width", "face_width",
                     "encoding_jitters"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be positive")
        if not 0 <= self.detection_upsample <= 2:
            problems.append("detection_upsample must be 0, 1 or 2")
        if not 1 <= self.min_frames <= self.max_frames:
            problems.append("need 1 <= min_frames <= max_frames")
        if not 0 <= self.replay_max_distance < 256:
            problems.append("replay_max_distance must be in [0, 256)")
        if not 0 < self.turn_yaw_degrees < 90:
            problems.append("turn_yaw_degrees must be in (0, 90)")
        if problems:
            raise ValueError("invalid KYC settings: " + "; ".join(problems))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> KycSettings:
        """Read ``KYC_<FIELD>`` keys (e.g. ``KYC_MATCH_THRESHOLD``); missing keys keep defaults.

        Values may be of the field's type or strings (environment variables): ``"0.45"``,
        ``"6"``, ``"true"``/``"false"``. A value that cannot be read raises ``ValueError``.
        """
        values: dict[str, Any] = {}
        for field in fields(cls):
            key = PREFIX + field.name.upper()
            if key in mapping and mapping[key] is not None:
                values[field.name] = _coerce(key, mapping[key], field.type)
        return cls(**values)

    def as_mapping(self) -> dict[str, Any]:
        """The settings as ``KYC_*`` keys (the inverse of ``from_mapping``)."""
        return {PREFIX + k.upper(): v for k, v in dataclasses.asdict(self).items()}


def _coerce(key: str, value: Any, type_name: Any) -> Any:
    kind = str(type_name)
    try:
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(text)
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key}: cannot read {value!r} as {kind}") from None
    raise AssertionError(f"unexpected settings field type {kind}")  # pragma: no cover
