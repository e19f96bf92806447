"""Amounts in Chinese capitals and the e-bill PDF itself (no database)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
import segno
from pypdf import PdfReader

from app.ebills.render import BillDocument, amount_in_words, qr_png, render_document
from app.ebills.service import kind_of


@pytest.mark.parametrize(("fen", "words"), [
    (5, "伍分"),  # 0.05 yuan
    (8000, "捌拾元整"),
    (2158000, "贰万壹仟伍佰捌拾元整"),
    (10000010, "壹拾万元零壹角"),  # 100000.10 yuan
    (0, "零元整"),
    (50, "伍角"),
    (105, "壹元零伍分"),
    (1000, "壹拾元整"),
    (140950, "壹仟肆佰零玖元伍角"),
    (600714, "陆仟零柒元壹角肆分"),
    (2008000, "贰万零捌拾元整"),
    (10700053, "壹拾万柒仟元零伍角叁分"),
    (1000100000, "壹仟万壹仟元整"),
    (1000010000, "壹仟万零壹佰元整"),
    (10000000100, "壹亿零壹元整"),
    (2157998, "贰万壹仟伍佰柒拾玖元玖角捌分"),
])
def test_amounts_in_chinese_capitals(fen: int, words: str) -> None:
    assert amount_in_words(fen) == words


@pytest.mark.parametrize("bad", [-1, 1.5, True, "100"])
def test_an_amount_is_a_non_negative_integer_of_fen(bad: object) -> None:
    with pytest.raises(ValueError):
        amount_in_words(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("item_code", "department", "kind"), [
    ("registration_fee_housing", "registration", "fiscal"),
    ("registration_fee_non_housing", "registration", "fiscal"),
    ("paper_certificate", "registration", "fiscal"),
    ("deed_tax", "tax", "tax"),
    ("maintenance_fund", "housing", "fund"),
    ("some_new_fee", "registration", "fiscal"),
    ("some_new_tax", "tax", "tax"),
])
def test_each_item_goes_on_the_bill_of_its_kind(item_code: str, department: str,
                                                kind: str) -> None:
    assert kind_of(item_code, department) == kind


def _document(**overrides: object) -> BillDocument:
    values: dict[str, object] = dict(
        kind="fiscal", bill_code="44062601", bill_number="0000000042", check_code="3FA9C1",
        issued_at=datetime(2026, 11, 24, 17, 30, tzinfo=UTC), payer_name="王𠮷",
        items=[("不动产登记费（住宅）", 8000), ("纸质证书工本费", 1000)], total_fen=9000,
        issuer_name="珠海市不动产登记中心",
        verify_url="http://127.0.0.1:8001/ebills/verify?code=44062601&number=0000000042"
                   "&check=3FA9C1",
        case_number="ZH2026112400001", reference="BDC202611240000000000042")
    values.update(overrides)
    return BillDocument(**values)  # type: ignore[arg-type]


def qr_modules(image: object, size: int) -> list[list[int]]:
    """The modules of a QR image made by :func:`qr_png` (8 px a module, 4 modules of
    quiet zone), read back from the centre of each module."""
    gray = image.convert("L")  # type: ignore[attr-defined]
    scale = gray.width // (size + 8)
    return [[1 if gray.getpixel(((x + 4) * scale + scale // 2,
                                 (y + 4) * scale + scale // 2)) < 128 else 0
             for x in range(size)] for y in range(size)]


def test_the_pdf_has_the_identifiers_amounts_issuer_and_a_qr_of_the_check_page() -> None:
    doc = _document()
    pdf = render_document(doc)
    assert pdf == render_document(doc)  # the same document, the same bytes
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in ("广东省非税收入电子票据", "44062601", "0000000042", "3FA9C1",
                     "2026-11-25",  # 17:30 UTC is the next day in Beijing
                     "交款人", "不动产登记费（住宅）", "80.00", "纸质证书工本费", "10.00",
                     "玖拾元整", "¥90.00", "珠海市不动产登记中心", "ZH2026112400001",
                     "BDC202611240000000000042"):
        assert expected in text, expected
    # 𠮷 is outside the font: written as its code point, with a note, never dropped.
    assert "王[U+20BB7]" in text and "U+20BB7" in text.split("注")[-1]
    # The QR code is the check page's URL, module for module.
    [image] = reader.pages[0].images
    expected = segno.make(doc.verify_url, error="m", micro=False)
    assert qr_modules(image.image, len(expected.matrix)) == [list(row) for row in expected.matrix]
    assert qr_png(doc.verify_url) == qr_png(doc.verify_url)


@pytest.mark.parametrize(("kind", "title", "payer_label"), [
    ("tax", "中华人民共和国税收完税证明", "纳税人名称"),
    ("fund", "住宅专项维修资金缴存收据", "缴存人"),
])
def test_each_kind_has_its_own_title_and_labels(kind: str, title: str, payer_label: str) -> None:
    text = PdfReader(io.BytesIO(render_document(_document(kind=kind, payer_name="张三"))))\
        .pages[0].extract_text()
    assert title in text and f"{payer_label}：张三" in text and "U+" not in text
