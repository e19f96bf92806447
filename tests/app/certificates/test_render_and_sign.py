"""Rendering (PNG, PDF), signing and verifying a certificate — pure functions, no app."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pypdf
import pytest
import segno
from PIL import Image, ImageChops
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from app.certificates import render, signing, verify
from app.certificates.content import CertificateContent, Holder, sample_content
from app.kernel.devkeys import generate_dev_keys
from app.kernel.settings import DEFAULTS

FONT = str(DEFAULTS["CJK_FONT_PATH"])
PROJECT_ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(not Path(FONT).is_file(), reason=f"font {FONT} not installed")


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    return generate_dev_keys()


@pytest.fixture(scope="module")
def content() -> CertificateContent:
    return sample_content()


@pytest.fixture(scope="module")
def qr_text(keys: dict[str, str], content: CertificateContent) -> str:
    payload = signing.make_payload(content.number, content.content_hash(), content.issue_date,
                                   keys["CERT_PAYLOAD_KEY"])
    return f"https://bdc.example.gov.cn/v/{payload}"


@pytest.fixture(scope="module")
def png(content: CertificateContent, qr_text: str) -> bytes:
    return render.render_png(content, qr_text, font_path=FONT)


@pytest.fixture(scope="module")
def pdf(content: CertificateContent, qr_text: str) -> bytes:
    return render.render_pdf(content, qr_text, font_path=FONT)


@pytest.fixture(scope="module")
def signed(pdf: bytes, keys: dict[str, str]) -> bytes:
    return signing.sign_pdf(pdf, signing_cert_pem=keys["CERT_SIGNING_CERT"],
                            signing_key_pem=keys["CERT_SIGNING_KEY"],
                            ca_cert_pem=keys["CERT_CA_CERT"])


def registered(content: CertificateContent, status: str = "valid",
               reason: str = "") -> Callable[[str], tuple[str, str, str] | None]:
    """A register that knows exactly ``content``."""
    def status_of(number: str) -> tuple[str, str, str] | None:
        if number != content.number:
            return None
        return status, content.content_hash(), reason
    return status_of


def check(pdf_bytes: bytes, keys: dict[str, str], content: CertificateContent,
          **kwargs: Any) -> verify.Verdict:
    return verify.verify_pdf(pdf_bytes, ca_cert_pem=keys["CERT_CA_CERT"],
                             status_of=kwargs.pop("status_of", registered(content)))


# --- PNG ------------------------------------------------------------------------------


def test_png_is_a_landscape_image_of_the_expected_size(png: bytes) -> None:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (1600, 1131) == render.PNG_SIZE
    assert abs(image.width / image.height - 297 / 210) < 0.01


def test_png_has_a_red_seal(png: bytes) -> None:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    cx, cy = round(render._px(render._SEAL_CX)), round(render._px(render._SEAL_CY))
    radius = round(render._px(render._SEAL_RADIUS)) + 6
    region = image.crop((cx - radius, cy - radius, cx + radius, cy + radius))
    red = sum(1 for r, g, b in region.get_flattened_data() if r > 170 and g < 90 and b < 90)
    assert red > 1500
    # …and nowhere near the QR code (bottom left).
    qr_region = image.crop((0, 780, 400, 1131))
    assert not any(r > 170 and g < 90 and b < 90 for r, g, b in qr_region.get_flattened_data())


def test_png_qr_code_holds_the_qr_text(png: bytes, qr_text: str) -> None:
    """No QR decoder is installed: compare the drawn modules with segno's matrix."""
    image = Image.open(io.BytesIO(png)).convert("L")
    matrix = segno.make(qr_text, error="m", micro=False).matrix
    left, top, module = render.png_qr_geometry(len(matrix))
    assert module >= 3  # sharp enough to scan from a screen
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            x, y = left + c * module + module // 2, top + r * module + module // 2
            value = image.getpixel((x, y))
            assert isinstance(value, int)
            assert (value < 80) == bool(dark), (r, c, value)
    # The quiet zone is white.
    for k in range(len(matrix)):
        assert image.getpixel((left - 2 * module, top + k * module)) == 255
        assert image.getpixel((left + k * module, top + (len(matrix) + 1) * module)) == 255


def test_png_is_deterministic(content: CertificateContent, qr_text: str, png: bytes) -> None:
    assert render.render_png(content, qr_text, font_path=FONT) == png
    other = render.render_png(sample_content(location="珠海市香洲区海滨南路 90 号"), qr_text,
                              font_path=FONT)
    assert other != png


def test_watermark_covers_the_whole_image(png: bytes) -> None:
    marked = render.watermark_png(png, "仅供查看 张** 2026-11-24 10:20", font_path=FONT)
    before = Image.open(io.BytesIO(png)).convert("RGB")
    after = Image.open(io.BytesIO(marked)).convert("RGB")
    assert after.size == before.size
    diff = ImageChops.difference(before, after).convert("L").point(lambda v: 255 if v > 8 else 0)
    width, height = diff.size
    total = sum(1 for v in diff.get_flattened_data() if v)
    assert total > 0.04 * width * height
    for i in range(4):  # changed in every cell of a 4 × 4 grid
        for j in range(4):
            cell = diff.crop((i * width // 4, j * height // 4, (i + 1) * width // 4,
                              (j + 1) * height // 4))
            assert cell.getbbox() is not None, (i, j)
    # Semi-transparent: the certificate still shows through (the seal stays red).
    cx, cy = round(render._px(render._SEAL_CX)), round(render._px(render._SEAL_CY))
    seal = after.crop((cx - 90, cy - 90, cx + 90, cy + 90))
    assert sum(1 for r, g, b in seal.get_flattened_data() if r > 150 and g < 100 and b < 100) > 500


def test_a_character_outside_the_font_is_written_as_its_code_point(keys: dict[str, str],
                                                                   qr_text: str) -> None:
    rare = sample_content(holders=(Holder("王𠮷", "440402199001010018"),),
                          co_ownership="单独所有")
    assert 0x20BB7 not in render.font_cmap(FONT)
    png = render.render_png(rare, qr_text, font_path=FONT)
    assert Image.open(io.BytesIO(png)).size == render.PNG_SIZE
    pdf = render.render_pdf(rare, qr_text, font_path=FONT)
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "王[U+20BB7]" in text
    assert "U+20BB7" in text.split("王[U+20BB7]", 1)[1]  # the note under the table
    # The embedded content keeps the real character.
    assert "王𠮷" in _attachment(pdf).decode("utf-8")


def test_long_values_wrap_and_shrink_inside_the_page(qr_text: str) -> None:
    crowded = sample_content(
        holders=tuple(Holder(f"共有人{i}", "1", "1/40") for i in range(40)),
        location="珠海市香洲区海滨南路" * 30, notes="附记内容，" * 200)
    png = render.render_png(crowded, qr_text, font_path=FONT)
    assert Image.open(io.BytesIO(png)).size == render.PNG_SIZE
    text = pypdf.PdfReader(io.BytesIO(render.render_pdf(crowded, qr_text, font_path=FONT))
                           ).pages[0].extract_text()
    assert "以不动产登记簿记载为准" in text


def test_wrapping_never_exceeds_the_width() -> None:
    """Measured with the PDF's font metrics (the PNG's are Pillow's, the same algorithm)."""
    pdf = render.FPDF()
    pdf.add_font(render._PDF_FONT, "", FONT)
    canvas = render._PdfCanvas(pdf)
    text = ("权利人：王𠮷（1/2）、440402003001GB00012F00010203，王𠮷，" * 5 + "X" * 300
            + "（面积 89.50）" * 20)
    printable = render.Printable(render.font_cmap(FONT))(text)
    try:
        for width in (20.0, 31.3, 55.5, 74.1, 200.0):
            lines = render.wrap(canvas, printable, 3.5, width)
            assert all(canvas.measure(line, 3.5) <= width + 1e-6 for line in lines)
            assert "".join(lines).replace(" ", "") == printable.replace(" ", "")
            assert not any("[U+20BB7]" not in line and "U+20BB7" in line for line in lines)
            if width > 60:  # narrower, "…0203，" does not fit a line: the comma starts one
                assert not any(line.startswith(("，", "）")) or line.endswith("（")
                               for line in lines)
    finally:
        pdf.add_page()
        pdf.output()  # closes the font file


def test_a_proof_renders(qr_text: str) -> None:
    proof = sample_content(kind="proof", matter="抵押权",
                           holders=(Holder("中国建设银行股份有限公司珠海市分行", "91440400"),),
                           obligors=(Holder("张三", "440402199001010018"),),
                           other="担保债权数额：人民币 1,200,000.00 元")
    text = pypdf.PdfReader(io.BytesIO(render.render_pdf(proof, qr_text, font_path=FONT))
                           ).pages[0].extract_text()
    for label in ("证明权利或事项", "义务人", "抵押权", "张三", "1,200,000.00"):
        assert label in text
    assert Image.open(io.BytesIO(render.render_png(proof, qr_text, font_path=FONT))).size \
        == render.PNG_SIZE


# --- PDF ------------------------------------------------------------------------------


def _attachment(pdf_bytes: bytes) -> bytes:
    attachments = pypdf.PdfReader(io.BytesIO(pdf_bytes)).attachments
    assert list(attachments) == [render.EMBEDDED_JSON_NAME]
    return attachments[render.EMBEDDED_JSON_NAME][0]


def test_pdf_embeds_the_canonical_json(pdf: bytes, content: CertificateContent) -> None:
    assert _attachment(pdf) == content.canonical_json()
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (297,
                                                                                           210)
    text = reader.pages[0].extract_text()
    for expected in (content.number, "坐落", "权利其他状况", "附记", "扫码核验",
                     content.authority, "2026年11月24日"):
        assert expected in text


def test_pdf_is_deterministic(content: CertificateContent, qr_text: str, pdf: bytes) -> None:
    assert render.render_pdf(content, qr_text, font_path=FONT) == pdf
    assert b"D:20261124000000+08'00'" in pdf


# --- signature and verification -------------------------------------------------------


def test_signed_pdf_verifies(signed: bytes, keys: dict[str, str],
                             content: CertificateContent) -> None:
    verdict = check(signed, keys, content)
    assert verdict.ok, verdict.reason
    assert verdict.number == content.number
    assert verdict.details["content_hash"] == content.content_hash()
    assert verdict.details["coverage"] == "ENTIRE_FILE"
    assert "珠海市不动产登记中心" in verdict.details["signer"]
    assert _attachment(signed) == content.canonical_json()


def test_one_changed_byte_breaks_the_signature(signed: bytes, keys: dict[str, str],
                                               content: CertificateContent) -> None:
    at = signed.index(b'"number":"') + len(b'"number":"')
    at = signed.index(b"0000001", at) + 6  # the last digit of the number in certificate.json
    tampered = signed[:at] + b"2" + signed[at + 1:]
    assert len(tampered) == len(signed) and tampered != signed
    verdict = check(tampered, keys, content)
    assert not verdict.ok
    assert verdict.reason.startswith("签名无效")
    assert "digest" in verdict.reason


def test_an_incremental_update_after_signing_is_refused(signed: bytes, keys: dict[str, str],
                                                        content: CertificateContent) -> None:
    """Swap the embedded content for another in an appended revision."""
    forged = sample_content(holders=(Holder("赵六", "440402199001010018"),),
                            co_ownership="单独所有")
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    ef = names[1].get_object()["/EF"]
    stream = generic.StreamObject({generic.NameObject("/Type"):
                                   generic.NameObject("/EmbeddedFile")},
                                  stream_data=forged.canonical_json())
    ef[generic.NameObject("/F")] = writer.add_object(stream)
    writer.update_container(ef)
    out = io.BytesIO()
    writer.write(out)
    appended = out.getvalue()
    assert appended.startswith(signed) and len(appended) > len(signed)
    assert _attachment(appended) == forged.canonical_json()

    verdict = check(appended, keys, content, status_of=registered(forged))
    assert not verdict.ok
    assert "签名后文件被追加修改" in verdict.reason
    assert "entire file" in verdict.reason


def test_a_revoked_certificate_fails(signed: bytes, keys: dict[str, str],
                                     content: CertificateContent) -> None:
    verdict = check(signed, keys, content,
                    status_of=registered(content, "revoked", "因换发新证作废"))
    assert not verdict.ok
    assert verdict.reason.startswith("已作废：因换发新证作废")


def test_a_hash_different_from_the_register_fails(signed: bytes, keys: dict[str, str],
                                                  content: CertificateContent) -> None:
    verdict = check(signed, keys, content,
                    status_of=lambda number: ("valid", "0" * 64, ""))
    assert not verdict.ok
    assert verdict.reason.startswith("内容摘要与登记记录不符")


def test_unknown_numbers_and_statuses_fail(signed: bytes, keys: dict[str, str],
                                           content: CertificateContent) -> None:
    assert "没有此证书" in check(signed, keys, content, status_of=lambda n: None).reason
    issuing = check(signed, keys, content, status_of=registered(content, "issuing"))
    assert not issuing.ok and "生成中" in issuing.reason

    def broken(number: str) -> tuple[str, str, str]:
        raise ConnectionError("register down")

    down = check(signed, keys, content, status_of=broken)
    assert not down.ok and "无法查询证书状态" in down.reason


def test_a_different_ca_is_not_trusted(signed: bytes, content: CertificateContent) -> None:
    other = generate_dev_keys()
    verdict = verify.verify_pdf(signed, ca_cert_pem=other["CERT_CA_CERT"],
                                status_of=registered(content))
    assert not verdict.ok
    assert verdict.reason.startswith("签名不可信")


def test_an_unsigned_or_broken_file_fails(pdf: bytes, keys: dict[str, str],
                                          content: CertificateContent) -> None:
    assert check(pdf, keys, content).reason.startswith("未签名")
    assert not check(b"not a pdf", keys, content).ok


# --- QR payload -----------------------------------------------------------------------


def test_payload_round_trip(keys: dict[str, str], content: CertificateContent) -> None:
    payload = signing.make_payload(content.number, content.content_hash(),
                                   content.issue_date, keys["CERT_PAYLOAD_KEY"])
    assert payload.startswith("BDC1.") and len(payload) < 250
    assert all(ch.isalnum() or ch in "-_." for ch in payload)
    public = signing.payload_public_key_pem(keys["CERT_PAYLOAD_KEY"])
    assert "PRIVATE" not in public
    facts = signing.read_payload(payload, public)
    assert facts.number == content.number
    assert facts.issue_date == date(2026, 11, 24)
    assert facts.matches(content.content_hash())
    assert content.content_hash().startswith(facts.content_hash)
    assert segno.make(payload, error="m", micro=False).version <= 12


def test_tampered_or_foreign_payloads_are_refused(keys: dict[str, str],
                                                  content: CertificateContent) -> None:
    payload = signing.make_payload(content.number, content.content_hash(),
                                   content.issue_date, keys["CERT_PAYLOAD_KEY"])
    public = signing.payload_public_key_pem(keys["CERT_PAYLOAD_KEY"])
    for i in range(5, len(payload)):  # every single flipped character
        if payload[i] == ".":
            continue
        flipped = payload[:i] + ("B" if payload[i] == "A" else "A") + payload[i + 1:]
        with pytest.raises(signing.PayloadInvalid):
            signing.read_payload(flipped, public)
    other = generate_dev_keys()["CERT_PAYLOAD_KEY"]
    foreign = signing.make_payload(content.number, content.content_hash(), content.issue_date,
                                   other)
    with pytest.raises(signing.PayloadInvalid, match="signature"):
        signing.read_payload(foreign, public)
    for junk in ("", "BDC1", "BDC2.e30.AAAA", "BDC1.e30=.AAAA", "x" * 5000, payload + ".x"):
        with pytest.raises(signing.PayloadInvalid):
            signing.read_payload(junk, public)


# --- the command ----------------------------------------------------------------------


def test_command_prints_one_line(tmp_path: Path, signed: bytes, keys: dict[str, str],
                                 content: CertificateContent,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.pdf"
    good.write_bytes(signed)
    assert verify.main([str(good)], ca_cert_pem=keys["CERT_CA_CERT"],
                       status_of=registered(content)) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("有效 VALID " + content.number)

    assert verify.main([str(good)], ca_cert_pem=keys["CERT_CA_CERT"],
                       status_of=registered(content, "revoked", "已换发")) == 1
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "已作废" in out

    assert verify.main([str(tmp_path / "missing.pdf")], ca_cert_pem=keys["CERT_CA_CERT"],
                       status_of=registered(content)) == 1
    assert capsys.readouterr().out.count("\n") == 1


def test_command_end_to_end(tmp_path: Path, content: CertificateContent, pdf: bytes) -> None:
    """``python -m app.certificates.verify`` with its own settings (a fresh instance dir):
    the signature checks out against the configured CA; the register is not reachable
    here, so the verdict is "invalid" for want of a status, in one line."""
    env = {**os.environ, "INSTANCE_DIR": str(tmp_path), "APP_ENV": "development",
           "PYTHONPATH": str(PROJECT_ROOT)}
    for key in ("CERT_CA_CERT", "CERT_SIGNING_CERT", "CERT_SIGNING_KEY", "DATABASE_URL"):
        env.pop(key, None)
    from app.kernel.settings import load_settings

    settings = load_settings(environ=env)  # creates tmp_path/dev-secrets.json
    path = tmp_path / "certificate.pdf"
    path.write_bytes(signing.sign_pdf(pdf, signing_cert_pem=settings["CERT_SIGNING_CERT"],
                                      signing_key_pem=settings["CERT_SIGNING_KEY"],
                                      ca_cert_pem=settings["CERT_CA_CERT"]))
    command = [sys.executable, "-m", "app.certificates.verify", str(path)]
    result = subprocess.run(command, env=env,  # noqa: S603 (our interpreter, our module)
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.stdout.count("\n") == 1, result.stdout + result.stderr
    assert result.returncode == 1
    assert result.stdout.startswith("无效 INVALID " + content.number)
    # The signature passed (no database here: status unknown or not found).
    assert "签名与内容有效" in result.stdout or "没有此证书" in result.stdout
