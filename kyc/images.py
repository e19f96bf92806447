"""Decoding an uploaded frame safely: size limits first, then the header, then the pixels.

Order of the checks (each refusal is a ``FrameRejected`` with its own reason code):

1. the byte size (``IMAGE_TOO_LARGE``), before anything is parsed;
2. the header only (``Image.open`` reads no pixel data), restricted to JPEG, PNG and WebP
   (``IMAGE_UNREADABLE`` otherwise);
3. width x height from the header against ``max_frame_pixels`` and Pillow's own
   decompression-bomb limits (``IMAGE_TOO_MANY_PIXELS``), still before decoding;
4. the pixel data (``IMAGE_TRUNCATED`` when it stops early, ``IMAGE_UNREADABLE`` when it is
   corrupt);
5. EXIF orientation applied, alpha flattened on white, converted to 8-bit RGB.

Truncated files are refused because ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` is False;
importing face_recognition sets it to True for the whole process, which kyc.engine undoes.
"""

from __future__ import annotations

import io
import struct
import threading
import warnings

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from kyc import reasons
from kyc.settings import KycSettings

#: The formats a frame or a reference photo may have (Pillow format names).
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")

# warnings.catch_warnings() swaps process-wide state: serialise our own uses of it.
_open_lock = threading.Lock()


class FrameRejected(Exception):
    """An input image (or its face content) cannot be used; ``reason`` is a code of
    kyc.reasons and ``message_zh`` the message for the citizen."""

    def __init__(self, reason: str, message_zh: str | None = None, *, frame: int | None = None,
                 detail: str = "") -> None:
        self.reason = reason
        self.message_zh = message_zh or reasons.message_zh(reason)
        self.frame = frame
        self.detail = detail
        super().__init__(f"{reason}: {detail or self.message_zh}")

    def for_frame(self, index: int) -> FrameRejected:
        return FrameRejected(self.reason, self.message_zh, frame=index, detail=self.detail)


def decode_image(data: bytes, settings: KycSettings | None = None) -> Image.Image:
    """Decode ``data`` into an 8-bit RGB image with its EXIF orientation applied.

    Raises ``FrameRejected`` with ``IMAGE_TOO_LARGE``, ``IMAGE_UNREADABLE``,
    ``IMAGE_TOO_MANY_PIXELS`` or ``IMAGE_TRUNCATED``.
    """
    settings = settings or KycSettings()
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("decode_image expects bytes")
    size = len(data)
    if size > settings.max_frame_bytes:
        raise FrameRejected(reasons.IMAGE_TOO_LARGE,
                            detail=f"{size} bytes > {settings.max_frame_bytes}")
    if size == 0:
        raise FrameRejected(reasons.IMAGE_UNREADABLE, detail="empty")
    data = bytes(data)
    if _webp_cut_short(data):  # libwebp only says "could not create decoder object"
        raise FrameRejected(reasons.IMAGE_TRUNCATED, detail="WebP shorter than its RIFF size")
    image = _open_header(data)
    width, height = image.size
    if width < 1 or height < 1:
        raise FrameRejected(reasons.IMAGE_UNREADABLE, detail=f"size {width}x{height}")
    if width * height > settings.max_frame_pixels:
        raise FrameRejected(reasons.IMAGE_TOO_MANY_PIXELS,
                            detail=f"{width}x{height} > {settings.max_frame_pixels} pixels")
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise FrameRejected(reasons.IMAGE_TOO_MANY_PIXELS, detail=str(exc)) from None
    except OSError as exc:
        reason = (reasons.IMAGE_TRUNCATED if "truncated" in str(exc).lower()
                  else reasons.IMAGE_UNREADABLE)
        raise FrameRejected(reason, detail=str(exc)) from None
    except Exception as exc:  # a corrupt file can make a decoder raise almost anything
        raise FrameRejected(reasons.IMAGE_UNREADABLE,
                            detail=f"{type(exc).__name__}: {exc}") from None
    try:
        return _to_rgb(_apply_orientation(image))
    except Exception as exc:
        raise FrameRejected(reasons.IMAGE_UNREADABLE,
                            detail=f"{type(exc).__name__}: {exc}") from None


def truncated_images_refused() -> bool:
    """True while Pillow refuses truncated files (the state kyc needs)."""
    return not ImageFile.LOAD_TRUNCATED_IMAGES


def _open_header(data: bytes) -> Image.Image:
    """``Image.open`` (header only) with Pillow's bomb warning turned into a refusal.

    Pillow warns (``DecompressionBombWarning``) above ``Image.MAX_IMAGE_PIXELS`` and raises
    ``DecompressionBombError`` above twice that; the warning is recorded here rather than
    leaking to the caller (it would be an error under ``-W error``).
    """
    with _open_lock, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
        except Image.DecompressionBombError as exc:
            raise FrameRejected(reasons.IMAGE_TOO_MANY_PIXELS, detail=str(exc)) from None
        except UnidentifiedImageError:
            raise FrameRejected(reasons.IMAGE_UNREADABLE,
                                detail="not a JPEG, PNG or WebP image") from None
        except OSError as exc:
            reason = (reasons.IMAGE_TRUNCATED if "truncated" in str(exc).lower()
                      else reasons.IMAGE_UNREADABLE)
            raise FrameRejected(reason, detail=str(exc)) from None
        except Exception as exc:
            raise FrameRejected(reasons.IMAGE_UNREADABLE,
                                detail=f"{type(exc).__name__}: {exc}") from None
    for warning in caught:
        if issubclass(warning.category, Image.DecompressionBombWarning):
            raise FrameRejected(reasons.IMAGE_TOO_MANY_PIXELS, detail=str(warning.message))
    return image


def _webp_cut_short(data: bytes) -> bool:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return False
    (riff_size,) = struct.unpack("<I", data[4:8])
    return len(data) < riff_size + 8


def _apply_orientation(image: Image.Image) -> Image.Image:
    transposed = ImageOps.exif_transpose(image)
    return transposed if transposed is not None else image


def _to_rgb(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith("I;16") or mode == "I":
        # 16/32-bit greyscale: keep the top 8 bits rather than clipping at 255.
        pixels = np.asarray(image, dtype=np.uint32)
        shift = 8 if mode.startswith("I;16") or int(pixels.max(initial=0)) > 255 else 0
        grey = (pixels >> shift).clip(0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")
