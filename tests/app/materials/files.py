"""Test files made on the spot: images with EXIF and GPS, PDFs, things that are not allowed."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(width: int = 60, height: int = 40, orientation: int = 6) -> bytes:
    """A landscape JPEG whose EXIF says 'rotate 90°' and carries a GPS position."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    for x in range(width // 2):  # left half green, to see where it ends up
        for y in range(height):
            image.putpixel((x, y), (30, 200, 30))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "TestCam"  # Make
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (22.0, 16.0, 30.0)
    gps[3] = "E"
    gps[4] = (113.0, 34.0, 12.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def jpeg(color: tuple[int, int, int] = (10, 20, 30), size: tuple[int, int] = (50, 50)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def png_with_alpha() -> bytes:
    image = Image.new("RGBA", (40, 30), (0, 0, 255, 0))
    image.putpixel((0, 0), (255, 0, 0, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def pdf(text: str = "hello") -> bytes:
    body = (
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        f"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n% {text}\n"
        "trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return body.encode()


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 100
ZIP = b"PK\x03\x04" + b"\x00" * 100
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
