"""The combined application form (一窗受理申请表) as an archival PDF.

``render_application_pdf`` turns an :class:`ApplicationDocument` (plain values, no
database) into A4 pages with fpdf2 and the CJK font the project installs, Debian's
``fonts-wqy-microhei`` (a TrueType collection; face 0 is "WenQuanYi Micro Hei").

* Every value wraps inside its cell (character by character, as Chinese text does);
  rows taller than a page are split into continuation rows, tables repeat their
  heading row after a page break, and every page says "第 n 页 / 共 N 页".
* The same document always gives the same bytes: the creation date is
  ``submitted_at`` and the file identifier is derived from the content.
* wqy-microhei covers the Basic Multilingual Plane only: a rare character outside it
  (王𠮷, U+20BB7) has no glyph. fpdf2 would silently drop it, and an archived name
  would lose a character; instead such a character is written as its code point,
  "王[U+20BB7]", and a note at the end of the form explains the notation.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app, has_app_context
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, WrapMode, XPos, YPos
from fpdf.fonts import FontFace, TTFFont
from fpdf.util import Padding

from app.kernel.timeutil import as_utc, format_local

DEBIAN_FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
DEBIAN_FONT_PACKAGE = "fonts-wqy-microhei"
TITLE = "不动产登记申请表（一窗受理）"
CREATOR = "不动产登记自助服务平台"

_FONT = "cjk"
_MARGIN = 15.0  # mm
_CONTENT_WIDTH = 210.0 - 2 * _MARGIN
_BODY_SIZE = 9.5
_LINE_HEIGHT = 5.0  # mm, for 9.5 pt text
_PADDING = 1.5  # mm, inside table cells
_MAX_ROW_LINES = 30  # taller rows continue in the next row (a page holds about 45 lines)
_HEADING_STYLE = FontFace(emphasis="", fill_color=(232, 232, 232))
_LABEL_STYLE = FontFace(emphasis="", fill_color=(246, 246, 246))
_EMPTY = "—"


@dataclass(frozen=True)
class ApplicantLine:
    role_label: str  # 权利人, 义务人, 代理人…
    kind_label: str  # 自然人, 法人或其他组织
    name: str
    id_number: str
    share: str | None  # "50%", "共同共有"; None: not applicable
    confirmed_at: datetime | None  # None: not confirmed yet


@dataclass(frozen=True)
class FieldLine:
    label: str
    value: str


@dataclass(frozen=True)
class SectionBlock:
    title: str
    fields: list[FieldLine] = field(default_factory=list)


@dataclass(frozen=True)
class MaterialLine:
    name: str
    role_label: str
    files: int
    sha256: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ApplicationDocument:
    case_number: str
    business_type_name: str
    authority_name: str
    submitted_at: datetime
    unit_number: str
    location: str
    applicants: list[ApplicantLine]
    sections: list[SectionBlock]
    materials: list[MaterialLine]
    declaration: str


# --- the font --------------------------------------------------------------------------


def font_location() -> tuple[Path, int]:
    """The CJK font file (``CJK_FONT_PATH``, else Debian's) and its face in a collection."""
    path, index = "", 0
    if has_app_context():
        path = current_app.config.get("CJK_FONT_PATH") or ""
        index = int(current_app.config.get("CJK_FONT_INDEX") or 0)
    font = Path(path or DEBIAN_FONT_PATH)
    if not font.is_file():
        raise RuntimeError(
            f"找不到生成申请表所需的中文字体：{font}。请安装 Debian 软件包 "
            f"{DEBIAN_FONT_PACKAGE}（apt-get install {DEBIAN_FONT_PACKAGE}），"
            "或用 CJK_FONT_PATH 指定字体文件。"
        )
    return font, index


def printable(text: str, cmap: Collection[int], unprintable: set[str]) -> str:
    """Text the font can show: other characters become "[U+XXXXX]" and are added to
    ``unprintable`` (for a note at the end). Line ends are normalised, tabs are spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if all(ord(ch) in cmap or ch == "\n" for ch in text):
        return text
    out = []
    for ch in text:
        if ch == "\n" or ord(ch) in cmap:
            out.append(ch)
        else:
            unprintable.add(ch)
            out.append(f"[U+{ord(ch):04X}]")
    return "".join(out)


# --- the document ----------------------------------------------------------------------


class _FormPdf(FPDF):
    def __init__(self, doc: ApplicationDocument, font: Path, index: int):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.doc = doc
        self.set_margins(_MARGIN, _MARGIN + 3, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_MARGIN + 5)
        self.add_font(_FONT, "", str(font), collection_font_number=index)
        self.set_font(_FONT, size=_BODY_SIZE)
        font_face = self.fonts[_FONT]
        assert isinstance(font_face, TTFFont)
        self.cmap = set(font_face.cmap)
        self.unprintable: set[str] = set()
        self.alias_nb_pages("{nb}")
        submitted = as_utc(doc.submitted_at)
        self.set_creation_date(submitted)
        self.set_title(f"{TITLE} {doc.case_number}")
        self.set_author(doc.authority_name)
        self.set_subject(doc.business_type_name)
        self.set_creator(CREATOR)
        self.set_lang("zh-CN")

    def printable(self, text: str) -> str:
        return printable(text, self.cmap, self.unprintable)

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font(_FONT, size=8)
        self.set_text_color(110)
        self.set_xy(_MARGIN, 8)
        self.cell(_CONTENT_WIDTH, 5, self.printable(f"{TITLE}　受理编号：{self.doc.case_number}"),
                  align="R")
        self.set_text_color(0)
        self.set_font(_FONT, size=_BODY_SIZE)
        self.set_xy(_MARGIN, _MARGIN + 3)

    def footer(self) -> None:
        self.set_font(_FONT, size=8)
        self.set_text_color(110)
        self.set_y(-_MARGIN)
        self.cell(_CONTENT_WIDTH, 5, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")
        self.set_text_color(0)
        self.set_font(_FONT, size=_BODY_SIZE)

    # --- building blocks ---------------------------------------------------------------

    def heading(self, text: str) -> None:
        if self.will_page_break(_LINE_HEIGHT * 4):  # keep a heading with its first rows
            self.add_page()
        self.ln(3)
        self.set_font(_FONT, size=11.5)
        self.multi_cell(0, 7, self.printable(text), wrapmode=WrapMode.CHAR, align="L",
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(_FONT, size=_BODY_SIZE)
        self.ln(1)

    def paragraph(self, text: str, size: float = _BODY_SIZE) -> None:
        self.set_font(_FONT, size=size)
        self.multi_cell(0, _LINE_HEIGHT * size / _BODY_SIZE, self.printable(text) or _EMPTY,
                        wrapmode=WrapMode.CHAR, align="L",
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(_FONT, size=_BODY_SIZE)

    def _lines(self, text: str, width: float) -> list[str]:
        lines = self.multi_cell(
            width, _LINE_HEIGHT, text, dry_run=True, output=MethodReturnValue.LINES,
            wrapmode=WrapMode.CHAR, padding=Padding.new(_PADDING), align="L",
        )
        return [str(line) for line in lines] or [""]  # type: ignore[union-attr]

    def _split_row(self, cells: Sequence[str], widths: Sequence[float]) -> list[list[str]]:
        """One row, or several if it would be taller than _MAX_ROW_LINES lines."""
        wrapped = [self._lines(text, width) for text, width in zip(cells, widths, strict=True)]
        tallest = max(len(lines) for lines in wrapped)
        if tallest <= _MAX_ROW_LINES:
            return [list(cells)]
        parts = [["\n".join(lines[start:start + _MAX_ROW_LINES]) for lines in wrapped]
                 for start in range(0, tallest, _MAX_ROW_LINES)]
        for part in parts[1:]:
            part[0] = part[0] or "（续）"
        return parts

    def table_of(self, widths: Sequence[float], rows: Sequence[Sequence[str]],
                 headings: Sequence[str] | None = None, label_column: bool = False) -> None:
        texts = [[self.printable(str(text)) or _EMPTY for text in row] for row in rows]
        with self.table(
            width=sum(widths), col_widths=tuple(widths), align="LEFT", text_align="LEFT",
            wrapmode=WrapMode.CHAR, line_height=_LINE_HEIGHT, padding=_PADDING,
            first_row_as_headings=headings is not None, headings_style=_HEADING_STYLE,
            repeat_headings=1, v_align="TOP",
        ) as table:
            if headings is not None:
                heading_row = table.row()
                for text in headings:
                    heading_row.cell(self.printable(text))
            for cells in texts:
                for part in self._split_row(cells, widths):
                    row = table.row()
                    for n, text in enumerate(part):
                        style = _LABEL_STYLE if label_column and n == 0 else None
                        row.cell(text, style=style)


def _share(value: str | None) -> str:
    return value if value else _EMPTY


def _confirmed(value: datetime | None) -> str:
    return format_local(value) if value else "未确认"


def _checksums(values: list[str]) -> str:
    return "  ".join(value[:12] for value in values) or _EMPTY


def _build(pdf: _FormPdf, doc: ApplicationDocument) -> None:
    pdf.add_page()
    pdf.set_font(_FONT, size=16)
    pdf.multi_cell(0, 9, pdf.printable(TITLE), align="C", wrapmode=WrapMode.CHAR,
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.paragraph(f"登记机构：{doc.authority_name}")
    pdf.paragraph(f"受理编号：{doc.case_number}")
    pdf.ln(1)

    pdf.heading("一、基本信息")
    pdf.table_of((40, _CONTENT_WIDTH - 40), [
        ("业务类型", doc.business_type_name),
        ("受理编号", doc.case_number),
        ("提交时间", f"{format_local(doc.submitted_at)}（北京时间）"),
        ("不动产单元号", doc.unit_number),
        ("坐落", doc.location),
    ], label_column=True)

    pdf.heading("二、申请人")
    applicants = [
        (a.role_label, a.kind_label, a.name, a.id_number, _share(a.share),
         _confirmed(a.confirmed_at))
        for a in doc.applicants
    ] or [(_EMPTY,) * 6]
    pdf.table_of((22, 24, 36, 42, 20, 36), applicants,
                 headings=("角色", "类别", "姓名/名称", "证件号码", "份额", "确认时间"))

    number = 3
    for section in doc.sections:
        pdf.heading(f"{_chinese_number(number)}、{section.title}")
        number += 1
        fields = [(f.label, f.value) for f in section.fields] or [("（无）", _EMPTY)]
        pdf.table_of((50, _CONTENT_WIDTH - 50), fields, label_column=True)

    pdf.heading(f"{_chinese_number(number)}、申请材料")
    number += 1
    materials = [
        (m.name, m.role_label, str(m.files), _checksums(m.sha256)) for m in doc.materials
    ] or [(_EMPTY,) * 4]
    pdf.table_of((62, 28, 16, _CONTENT_WIDTH - 106), materials,
                 headings=("材料名称", "提交角色", "文件数", "SHA-256 校验值（前 12 位）"))

    pdf.heading(f"{_chinese_number(number)}、申请人声明")
    pdf.paragraph(doc.declaration)

    if pdf.unprintable:
        listed = "、".join(f"U+{ord(ch):04X}" for ch in sorted(pdf.unprintable))
        pdf.ln(4)
        pdf.paragraph(
            "注：方括号中的“U+”编码表示本表字体无法显示的字符（Unicode 码位），"
            f"本表涉及：{listed}。相关信息以申请人提交的身份证明等原件为准。",
            size=8.5,
        )


_DIGITS = "零一二三四五六七八九"


def _chinese_number(n: int) -> str:
    """1–99 in Chinese numerals, for section headings (三、四、…十一)."""
    if not 0 < n < 100:
        return str(n)
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def render_application_pdf(doc: ApplicationDocument) -> bytes:
    """The application form as PDF bytes; the same document gives the same bytes."""
    font, index = font_location()
    pdf = _FormPdf(doc, font, index)
    _build(pdf, doc)
    return bytes(pdf.output())
