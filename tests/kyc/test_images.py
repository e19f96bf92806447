import io
import warnings

import pytest
from PIL import Image, ImageFile

from kyc import reasons
from kyc.images import FrameRejected, decode_image
from kyc.settings import KycSettings
from kyc.testing import bomb_png, truncated
from tests.kyc.conftest import photo


def reason_of(data: bytes, settings: KycSettings | None = None) -> str:
    with pytest.raises(FrameRejected) as caught:
        decode_image(data, settings or KycSettings())
    assert caught.value.message_zh == reasons.MESSAGES_ZH[caught.value.reason]
    return caught.value.reason


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def test_an_rgba_png_decodes_to_rgb_with_the_alpha_flattened_on_white():
    image = decode_image(photo("32bit.png"))
    assert image.mode == "RGB" and image.size == (626, 1200)
    transparent = Image.new("RGBA", (20, 10), (255, 0, 0, 0))
    flat = decode_image(encode(transparent, "PNG"))
    assert flat.mode == "RGB" and flat.getpixel((5, 5)) == (255, 255, 255)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_jpeg_png_and_webp_are_accepted(fmt):
    source = Image.new("RGB", (64, 48), (10, 120, 200))
    assert decode_image(encode(source, fmt)).size == (64, 48)


def test_exif_orientation_is_applied():
    source = Image.new("RGB", (60, 40), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees clockwise
    assert decode_image(encode(source, "JPEG", exif=exif)).size == (40, 60)


def test_greyscale_and_palette_images_become_rgb():
    assert decode_image(encode(Image.new("L", (8, 8), 7), "PNG")).mode == "RGB"
    assert decode_image(encode(Image.new("P", (8, 8), 3), "PNG")).mode == "RGB"
    sixteen = Image.new("I;16", (8, 8), 65535)
    assert decode_image(encode(sixteen, "PNG")).getpixel((0, 0)) == (255, 255, 255)


@pytest.mark.parametrize("data", [b"not an image at all", b"%PDF-1.7\n" + b"0" * 200,
                                  b"\x00" * 1000, b"\xff\xd8\xff" + b"0" * 100])
def test_bytes_that_are_not_an_image_are_unreadable(data):
    assert reason_of(data) == reasons.IMAGE_UNREADABLE


def test_other_image_formats_are_refused():
    gif = encode(Image.new("RGB", (16, 16)), "GIF")
    bmp = encode(Image.new("RGB", (16, 16)), "BMP")
    assert reason_of(gif) == reasons.IMAGE_UNREADABLE
    assert reason_of(bmp) == reasons.IMAGE_UNREADABLE


def test_empty_bytes_are_unreadable():
    assert reason_of(b"") == reasons.IMAGE_UNREADABLE


def test_a_jpeg_truncated_in_the_middle_is_refused():
    assert reason_of(truncated(photo("obama.jpg"), 0.5)) == reasons.IMAGE_TRUNCATED


def test_a_truncated_png_and_webp_are_refused():
    image = Image.open(io.BytesIO(photo("obama2.jpg"))).convert("RGB")
    assert reason_of(truncated(encode(image, "PNG"), 0.5)) == reasons.IMAGE_TRUNCATED
    assert reason_of(truncated(encode(image, "WEBP"), 0.5)) == reasons.IMAGE_TRUNCATED


def test_truncated_jpegs_are_still_refused_after_the_engine_is_loaded(engine):
    """Importing face_recognition sets LOAD_TRUNCATED_IMAGES = True process-wide; kyc
    undoes it."""
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert reason_of(truncated(photo("obama.jpg"), 0.5)) == reasons.IMAGE_TRUNCATED
    assert reason_of(truncated(photo("biden.jpg"), 0.8)) == reasons.IMAGE_TRUNCATED


def test_an_upload_over_the_byte_limit_is_refused_before_parsing():
    too_big = b"\xff\xd8\xff" + b"\x00" * (4 * 1024 * 1024)
    assert reason_of(too_big) == reasons.IMAGE_TOO_LARGE
    assert reason_of(photo("obama.jpg"), KycSettings(max_frame_bytes=1000)) == (
        reasons.IMAGE_TOO_LARGE)


def test_a_50000_by_50000_png_bomb_is_refused_from_its_header(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb_png(50_000, 50_000))
    assert path.stat().st_size < 200  # tiny on disk: never allocated
    assert reason_of(path.read_bytes()) == reasons.IMAGE_TOO_MANY_PIXELS


def test_an_image_over_our_pixel_limit_but_under_pillows_is_refused():
    assert reason_of(bomb_png(6000, 5000)) == reasons.IMAGE_TOO_MANY_PIXELS  # 30 MP


def test_pillows_bomb_warning_becomes_a_refusal_and_does_not_leak():
    """10000 x 10000 is over Pillow's warning limit (~89 MP) but under its error limit;
    with our own limit raised, Pillow's warning is what refuses it."""
    lenient = KycSettings(max_frame_pixels=1 << 30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert reason_of(bomb_png(10_000, 10_000), lenient) == reasons.IMAGE_TOO_MANY_PIXELS
        assert reason_of(bomb_png(50_000, 50_000), lenient) == reasons.IMAGE_TOO_MANY_PIXELS


def test_frame_rejected_carries_the_frame_index():
    rejected = FrameRejected(reasons.NO_FACE).for_frame(2)
    assert rejected.frame == 2 and rejected.reason == "NO_FACE" and rejected.message_zh
