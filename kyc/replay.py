"""Perceptual hashes of frames, so a recorded burst cannot be submitted again.

A frame's hash is ImageHash's DCT hash (``phash``) with 16x16 = 256 bits, as 64 hex
characters. Re-encoding a frame (another JPEG quality, PNG, a resize) moves it by 0-2 bits;
a natural head movement of a few percent of the frame moves it by tens of bits. A frame
whose hash is within ``replay_max_distance`` bits of a hash already seen for the person is
a replay. Hashes of another length (another hash size) are not comparable and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable

import imagehash
from PIL import Image

from kyc.settings import KycSettings

HASH_SIZE = 16
HASH_HEX_LENGTH = HASH_SIZE * HASH_SIZE // 4


def frame_hash(image: Image.Image) -> str:
    """The perceptual hash of an image as a hex string (64 characters).

    phash looks at 64x64 grey pixels only; a large frame is first shrunk cheaply (integer
    box reduction) so hashing stays at a few milliseconds whatever the frame size.
    """
    grey = image.convert("L")
    factor = min(grey.width, grey.height) // 256
    if factor >= 2:
        grey = grey.reduce(factor)
    return str(imagehash.phash(grey, hash_size=HASH_SIZE))


def hash_distance(a: str, b: str) -> int:
    """Hamming distance in bits between two hex hashes of the same length."""
    if len(a) != len(b):
        raise ValueError("hashes of different lengths")
    return (int(a, 16) ^ int(b, 16)).bit_count()


def closest_seen(frame: str, seen_hashes: Iterable[str]) -> int | None:
    """The smallest distance to a comparable seen hash, or None if there is none."""
    best: int | None = None
    for seen in seen_hashes:
        if not isinstance(seen, str) or len(seen) != len(frame):
            continue
        try:
            distance = hash_distance(frame, seen)
        except ValueError:  # not hex
            continue
        if best is None or distance < best:
            best = distance
    return best


def is_replay(frame: str, seen_hashes: Iterable[str], settings: KycSettings | None = None) -> bool:
    """True if ``frame`` is within ``replay_max_distance`` bits of a hash seen before."""
    settings = settings or KycSettings()
    closest = closest_seen(frame, seen_hashes)
    return closest is not None and closest <= settings.replay_max_distance
