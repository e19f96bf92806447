"""Files as content: type by magic bytes, images re-encoded without metadata, PDFs checked.

Pure functions (no database, no storage), tested without the app.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from app.materials.errors import (
    MaterialCorrupt,
    MaterialHeicUnsupported,
    MaterialImageTooLarge,
    MaterialTypeUnsupported,
)

CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "pdf": "pdf"}
_TYPE_BY_EXTENSION = {"jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "png": "png",
                      "webp": "webp", "pdf": "pdf"}
_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}

THUMBNAIL_SIZE = 320


def detect_type(data: bytes) -> str:
    """jpeg | png | webp | pdf from the first bytes; anything else is refused."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        raise MaterialHeicUnsupported()
    raise MaterialTypeUnsupported()


def type_from_name(filename: str) -> str | None:
    """The type a file's name claims, if its extension is one we know."""
    _, dot, extension = filename.rpartition(".")
    return _TYPE_BY_EXTENSION.get(extension.lower()) if dot else None


_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*;]')


def sanitise_filename(filename: str | None, max_length: int = 100) -> str:
    """A display name only (never a path): no directories, controls or shell specials."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if len(name) > max_length:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: max_length - len(extension) - 1] + "." + extension
        else:
            name = name[:max_length]
    return name or "file"


def download_name(original: str, detected_type: str) -> str:
    """The original name with the extension of what the file really is."""
    stem, dot, _ = original.rpartition(".")
    return f"{stem if dot and stem else original}.{EXTENSIONS[detected_type]}"


@dataclass(frozen=True)
class Processed:
    data: bytes
    thumbnail: bytes | None
    width: int | None = None
    height: int | None = None
    page_count: int | None = None


def process(data: bytes, detected_type: str, *, max_dimension: int, max_pixels: int) -> Processed:
    if detected_type == "pdf":
        return check_pdf(data)
    return reencode_image(data, detected_type, max_dimension=max_dimension,
                          max_pixels=max_pixels)


def check_pdf(data: bytes) -> Processed:
    """A PDF is stored as received once its header and end-of-file marker are there."""
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        raise MaterialCorrupt()
    return Processed(data=data, thumbnail=None)


def reencode_image(
    data: bytes, detected_type: str, *, max_dimension: int, max_pixels: int
) -> Processed:
    """Decode and re-encode: EXIF (GPS included) and other metadata dropped, upright, bounded.

    Re-encoding also throws away anything appended after the image data.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[detected_type]]) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise MaterialImageTooLarge()
                image.load()
                upright = ImageOps.exif_transpose(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise MaterialImageTooLarge() from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise MaterialCorrupt() from None

    keeps_alpha = detected_type in {"png", "webp"} and _has_alpha(upright)
    clean = upright.convert("RGBA" if keeps_alpha else "RGB")
    clean.thumbnail((max_dimension, max_dimension), Image.Resampling.LANCZOS)

    out = io.BytesIO()
    if detected_type == "jpeg":
        clean.save(out, "JPEG", quality=90, optimize=True)
    elif detected_type == "png":
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "WEBP", quality=90)
    return Processed(
        data=out.getvalue(), thumbnail=make_thumbnail(clean),
        width=clean.width, height=clean.height,
    )


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA"} or (
        image.mode == "P" and "transparency" in image.info
    )


def make_thumbnail(image: Image.Image) -> bytes:
    """A small JPEG; transparent areas become white."""
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    if thumb.mode == "RGBA":
        background = Image.new("RGB", thumb.size, (255, 255, 255))
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    out = io.BytesIO()
    thumb.convert("RGB").save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()
