"""Type by content, file names as display text, image limits: no app, no database."""

from __future__ import annotations

import pytest

from app.materials import content
from app.materials.errors import (
    MaterialCorrupt,
    MaterialHeicUnsupported,
    MaterialImageTooLarge,
    MaterialTypeUnsupported,
)
from tests.app.materials import files


@pytest.mark.parametrize(("data", "expected"), [
    (files.jpeg(), "jpeg"), (files.png_with_alpha(), "png"), (files.pdf(), "pdf"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
])
def test_the_type_comes_from_the_first_bytes(data, expected):
    assert content.detect_type(data) == expected


def test_heic_is_refused_with_its_own_hint():
    with pytest.raises(MaterialHeicUnsupported):
        content.detect_type(files.HEIC)


@pytest.mark.parametrize("data", [files.ELF, files.ZIP, b"GIF89a....", b"<svg/>"])
def test_other_content_is_unsupported(data):
    with pytest.raises(MaterialTypeUnsupported):
        content.detect_type(data)


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\a\\身份证.jpg", "身份证.jpg"),
    (".bashrc", "bashrc"), ("", "file"), (None, "file"), ("a\x00b<>.pdf", "a_b__.pdf"),
])
def test_filenames_are_reduced_to_a_safe_display_name(raw, clean):
    assert content.sanitise_filename(raw) == clean


def test_a_long_filename_keeps_its_extension():
    name = content.sanitise_filename("x" * 300 + ".pdf")
    assert len(name) == 100 and name.endswith(".pdf")


def test_an_image_with_too_many_pixels_is_refused_before_decoding():
    with pytest.raises(MaterialImageTooLarge):
        content.reencode_image(files.jpeg(size=(300, 300)), "jpeg",
                               max_dimension=4000, max_pixels=10_000)


def test_a_truncated_image_is_corrupt():
    with pytest.raises(MaterialCorrupt):
        content.reencode_image(files.jpeg()[:40], "jpeg", max_dimension=4000,
                               max_pixels=10_000_000)
