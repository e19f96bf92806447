"""The combined application form PDF, read back with pypdf (no database)."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from fontTools.ttLib import TTCollection
from pypdf import PdfReader

from app.cases import pdf
from app.cases.pdf import (
    ApplicantLine,
    ApplicationDocument,
    FieldLine,
    MaterialLine,
    SectionBlock,
    render_application_pdf,
)

SUBMITTED = datetime(2026, 3, 9, 16, 30, 5, tzinfo=UTC)  # 10 March 00:30 in Shanghai
DECLARATION = "本人承诺所提交的申请材料真实、合法、有效，如有虚假，愿承担相应法律责任。"


def applicant(name: str = "张三", **changes: object) -> ApplicantLine:
    line = ApplicantLine(role_label="权利人", kind_label="自然人", name=name,
                         id_number="440402199001010018", share="50%",
                         confirmed_at=datetime(2026, 3, 9, 2, 0, tzinfo=UTC))
    return replace(line, **changes)  # type: ignore[arg-type]


def document(**changes: object) -> ApplicationDocument:
    doc = ApplicationDocument(
        case_number="ZH2026031000001",
        business_type_name="二手房转移登记",
        authority_name="珠海市不动产登记中心",
        submitted_at=SUBMITTED,
        unit_number="440402001001GB00001F00010001",
        location="广东省珠海市香洲区凤凰路 1 号 1 栋 101 房",
        applicants=[
            applicant("张三"),
            applicant("李四", role_label="义务人", share=None, confirmed_at=None),
        ],
        sections=[
            SectionBlock("不动产情况", [FieldLine("用途", "住宅"),
                                       FieldLine("建筑面积", "89.50 平方米")]),
            SectionBlock("交易情况", [FieldLine("成交价格", "1,250,000.00 元")]),
        ],
        materials=[
            MaterialLine("身份证明", "权利人", 2, ["0123456789abcdef" * 4, "fedcba9876543210" * 4]),
            MaterialLine("房屋买卖合同", "权利人", 1, ["a1b2c3d4e5f6" + "0" * 52]),
        ],
        declaration=DECLARATION,
    )
    return replace(doc, **changes)  # type: ignore[arg-type]


def read(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in read(data).pages)


@pytest.fixture(scope="module")
def rendered() -> bytes:
    return render_application_pdf(document())


def test_the_form_is_an_a4_pdf_with_extractable_chinese_text(rendered: bytes) -> None:
    assert rendered.startswith(b"%PDF-")
    reader = read(rendered)
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    text = text_of(rendered)
    for expected in ["不动产登记申请表（一窗受理）", "珠海市不动产登记中心", "ZH2026031000001",
                     "二手房转移登记", "440402001001GB00001F00010001", "凤凰路 1 号",
                     "张三", "李四", "440402199001010018", "50%", "未确认",
                     "住宅", "89.50 平方米", "交易情况", "1,250,000.00 元",
                     "身份证明", "房屋买卖合同", DECLARATION, "第 1 页 / 共 1 页"]:
        assert expected in text, expected


def test_times_are_shown_in_shanghai_time(rendered: bytes) -> None:
    text = text_of(rendered)
    assert "2026-03-10 00:30（北京时间）" in text  # submitted
    assert "2026-03-09 10:00" in text  # 张三 confirmed at 02:00 UTC


def test_materials_show_file_counts_and_the_first_12_hex_of_each_checksum(
        rendered: bytes) -> None:
    text = text_of(rendered)
    assert "0123456789ab" in text and "fedcba987654" in text and "a1b2c3d4e5f6" in text
    assert "0123456789abc" not in text
    assert re.search(r"身份证明\s*权利人\s*2", text)


def test_the_font_is_embedded(rendered: bytes) -> None:
    fonts = read(rendered).pages[0]["/Resources"]["/Font"]
    embedded = []
    for ref in fonts.values():
        font = ref.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor
        embedded.append(str(font["/BaseFont"]))
    assert any("WenQuanYiMicroHei" in name for name in embedded)


def test_the_same_document_renders_to_identical_bytes(rendered: bytes) -> None:
    assert render_application_pdf(document()) == rendered
    later = render_application_pdf(document(submitted_at=datetime(2026, 3, 11, tzinfo=UTC)))
    assert later != rendered


def test_metadata_carries_the_title_the_authority_and_the_submission_time(
        rendered: bytes) -> None:
    metadata = read(rendered).metadata
    assert metadata is not None
    assert metadata.title == "不动产登记申请表（一窗受理） ZH2026031000001"
    assert metadata.author == "珠海市不动产登记中心"
    assert metadata.creation_date == SUBMITTED.replace(microsecond=0)


def _font_has(character: str) -> bool:
    collection = TTCollection(pdf.DEBIAN_FONT_PATH)
    try:
        return ord(character) in collection.fonts[0].getBestCmap()
    finally:
        collection.close()


def test_a_rare_character_outside_the_font_is_written_as_its_code_point(
        caplog: pytest.LogCaptureFixture) -> None:
    # wqy-microhei covers the BMP only: 𠮷 (U+20BB7, CJK Extension B) has no glyph.
    # fpdf2 would silently drop it ("王"); the form writes "王[U+20BB7]" and explains.
    assert not _font_has("𠮷")
    with caplog.at_level(logging.WARNING):
        data = render_application_pdf(document(applicants=[applicant("王𠮷")]))
    text = text_of(data)
    assert "王[U+20BB7]" in text
    assert "本表涉及：U+20BB7" in text
    assert not [r for r in caplog.records if "missing the following glyphs" in r.getMessage()]


def test_a_form_without_rare_characters_has_no_code_point_note(rendered: bytes) -> None:
    assert "Unicode 码位" not in text_of(rendered)


def test_forty_applicants_paginate_with_headings_and_page_numbers() -> None:
    applicants = [applicant(f"申请人{n:02d}", id_number=f"4404021990010100{n:02d}")
                  for n in range(40)]
    data = render_application_pdf(document(applicants=applicants))
    reader = read(data)
    pages = len(reader.pages)
    assert pages >= 2
    texts = [page.extract_text() for page in reader.pages]
    for number, text in enumerate(texts, start=1):
        assert f"第 {number} 页 / 共 {pages} 页" in text
    everything = "\n".join(texts)
    assert all(f"申请人{n:02d}" in everything for n in range(40))
    assert all(f"4404021990010100{n:02d}" in everything for n in range(40))
    assert "证件号码" in texts[1]  # the heading row repeats on the next page
    assert "ZH2026031000001" in texts[1]  # and the page header names the case


def test_long_values_wrap_and_very_long_ones_continue_over_pages() -> None:
    token = "X" * 900  # one unbroken "word": must wrap inside its cell
    remark = "这是一段很长的备注。" * 500
    doc = document(
        location="广东省珠海市香洲区" * 30,
        sections=[SectionBlock("其他", [FieldLine("编码", token), FieldLine("备注", remark)])],
        materials=[MaterialLine("材料" * 60, "权利人", 30, ["ab" * 32] * 30)],
        declaration=DECLARATION * 40,
    )
    data = render_application_pdf(doc)
    reader = read(data)
    assert len(reader.pages) >= 3
    text = "\n".join(page.extract_text() for page in reader.pages)
    lines = text.splitlines()
    assert max(len(line) for line in lines) < 120  # nothing runs off the page
    assert text.count("X") == len(token)
    assert len([line for line in lines if "X" in line]) > 5
    assert text.count("（续）") >= 1
    flat = re.sub(r"\s+", "", text)
    assert flat.count("这是一段很长的备注。") == 500


def test_a_form_with_nothing_to_list_still_renders() -> None:
    data = render_application_pdf(document(applicants=[], sections=[], materials=[],
                                           declaration=""))
    assert "申请材料" in text_of(data)


def test_the_font_path_comes_from_the_settings(tmp_path: Path) -> None:
    app = Flask("pdf-test")
    app.config["CJK_FONT_PATH"] = str(tmp_path / "nope.ttc")
    with app.app_context(), pytest.raises(RuntimeError, match="fonts-wqy-microhei"):
        render_application_pdf(document())

    (tmp_path / "font.ttc").symlink_to(pdf.DEBIAN_FONT_PATH)
    app.config["CJK_FONT_PATH"] = str(tmp_path / "font.ttc")
    with app.app_context():
        assert render_application_pdf(document()).startswith(b"%PDF-")


def test_a_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.setattr(pdf, "DEBIAN_FONT_PATH", str(tmp_path / "wqy-microhei.ttc"))
    with pytest.raises(RuntimeError) as error:
        render_application_pdf(document())
    assert "fonts-wqy-microhei" in str(error.value)
    assert "apt-get install" in str(error.value)
