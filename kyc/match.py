"""Compare the faces of two photos: ``python -m kyc.match IMAGE_A IMAGE_B``.

For the helpdesk (troubleshooting a refused verification) and for evaluating the
threshold. Prints ONE JSON line::

    {"faces_a": 1, "faces_b": 1, "distance": 0.3461, "same_person": true,
     "threshold": 0.5, "ms": 412.3}

* ``distance`` and ``same_person`` are null unless both photos show exactly one face
  (zero or several faces is still a decision: exit status 0);
* ``threshold`` is ``KYC_MATCH_THRESHOLD`` from the environment (default in
  kyc/settings.py) unless ``--threshold`` is given; the other ``KYC_*`` limits are read
  from the environment too (e.g. ``KYC_MAX_FRAME_BYTES`` for a large scan);
* ``ms`` is the time of the comparison itself (decode, detect, encode both photos), not the
  one-off model loading.

Exit status 0 on a decision, 2 when a file cannot be read or is not a usable image (the
reason is printed on stderr, in Chinese, with its code).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NoReturn

import click

from kyc.engine import FaceEngine, face_distance, get_engine
from kyc.images import FrameRejected, decode_image
from kyc.settings import KycSettings


@dataclass(frozen=True)
class MatchResult:
    faces_a: int
    faces_b: int
    distance: float | None
    same_person: bool | None
    threshold: float
    ms: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def match_images(data_a: bytes, data_b: bytes, settings: KycSettings | None = None,
                 engine: FaceEngine | None = None) -> MatchResult:
    """Compare two encoded photos; raises ``FrameRejected`` (``frame`` 0 or 1) if one is
    not a usable image."""
    settings = settings or KycSettings()
    engine = engine or get_engine()
    started = time.perf_counter()
    encodings = []
    counts = []
    for index, data in enumerate((data_a, data_b)):
        try:
            image = decode_image(data, settings)
        except FrameRejected as rejected:
            raise rejected.for_frame(index) from None
        found = engine.locate(image, settings)
        if not found and settings.detection_upsample < 1:
            found = engine.locate(image, settings, upsample=1)
        counts.append(len(found))
        encodings.append(engine.encode(found[0], settings) if len(found) == 1 else None)
    distance = same = None
    first, second = encodings
    if first is not None and second is not None:
        distance = round(face_distance(first, second), 4)
        same = distance <= settings.match_threshold
    ms = round((time.perf_counter() - started) * 1000.0, 1)
    return MatchResult(counts[0], counts[1], distance, same, settings.match_threshold, ms)


@click.command(help="比较两张照片中的人脸，输出一行 JSON（用于服务台排查和阈值评估）。")
@click.argument("image_a", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("image_b", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--threshold", type=float, default=None,
              help="匹配阈值（默认取环境变量 KYC_MATCH_THRESHOLD 或库的默认值）。")
def main(image_a: Path, image_b: Path, threshold: float | None) -> None:
    try:
        settings = KycSettings.from_mapping(os.environ)
        if threshold is not None:
            settings = KycSettings(**{**asdict(settings), "match_threshold": threshold})
    except ValueError as exc:
        _fail(f"设置无效：{exc}")
    contents = []
    for label, path in (("A", image_a), ("B", image_b)):
        try:
            contents.append(path.read_bytes())
        except OSError as exc:
            _fail(f"无法读取图片 {label}（{path}）：{exc.strerror or exc}")
    engine = get_engine()
    try:
        result = match_images(contents[0], contents[1], settings, engine)
    except FrameRejected as rejected:
        label, path = (("A", image_a), ("B", image_b))[rejected.frame or 0]
        _fail(f"无法使用图片 {label}（{path}）：{rejected.message_zh} "
              f"[{rejected.reason}: {rejected.detail}]")
    click.echo(result.to_json())


def _fail(message: str) -> NoReturn:
    click.echo(f"kyc.match: {message}", err=True)
    sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
