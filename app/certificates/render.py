"""A certificate as a picture (PNG, Pillow) and as a document (PDF, fpdf2).

Both come from one layout (:func:`_draw`), written in millimetres on an A4 landscape
page and drawn through a small canvas interface: :class:`_PngCanvas` (1600 × 1131 px)
and :class:`_PdfCanvas` (vector text, selectable). The layout measures text with the
canvas that draws it, so a value wraps inside its cell in both, never overflows.

* The page: a double crimson border with corner ornaments, the title and the number at
  the top, a ruled table of the register's facts, a 附记 box, and at the bottom the QR
  code (扫码核验, bottom left), the registration authority, the issue date and a red
  round seal over them (bottom right).
* The table's font shrinks (4.4 mm down to 2.6 mm) until the rows fit the page; text
  that would still not fit is cut with "……" and a note that the register prevails (the
  PDF embeds the full content as ``certificate.json`` in any case).
* wqy-microhei covers the Basic Multilingual Plane only. As in :mod:`app.cases.pdf`, a
  character outside the font (王𠮷, U+20BB7) is written as its code point, "王[U+20BB7]",
  and a note under the table explains the notation — never a silent blank or tofu box.
* The same content and QR text always give the same bytes: Pillow's basic text layout,
  no PNG metadata; the PDF's creation date is the issue date (Beijing time) and its file
  identifier derives from the content.
"""

from __future__ import annotations

import io
import math
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

import segno
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import TTFFont
from PIL import Image, ImageChops, ImageDraw, ImageFont

from app.cases.pdf import printable
from app.certificates.content import CertificateContent, Holder

Color = tuple[int, int, int]

PAGE_WIDTH_MM = 297.0
PAGE_HEIGHT_MM = 210.0
PNG_WIDTH = 1600
PX_PER_MM = PNG_WIDTH / PAGE_WIDTH_MM
PNG_HEIGHT = round(PAGE_HEIGHT_MM * PX_PER_MM)  # 1131
PNG_SIZE = (PNG_WIDTH, PNG_HEIGHT)

EMBEDDED_JSON_NAME = "certificate.json"
CREATOR = "不动产登记自助服务平台"
BEIJING = ZoneInfo("Asia/Shanghai")

PAPER: Color = (253, 250, 243)
WHITE: Color = (255, 255, 255)
INK: Color = (30, 28, 26)
CRIMSON: Color = (155, 38, 32)  # the certificate's brownish red
LABEL_FILL: Color = (247, 236, 226)
SEAL_RED: Color = (218, 24, 24)
SEAL_OPACITY = 0.88
_WATERMARK_INK = (95, 95, 95, 78)
_WATERMARK_ANGLE = 30.0
QR_DARK: Color = (0, 0, 0)

# The page, in millimetres (origin top left).
_OUTER_INSET, _OUTER_WIDTH = 7.0, 1.3
_INNER_INSET, _INNER_WIDTH = 10.0, 0.35
_TITLE_SIZE, _TITLE_BASELINE = 8.5, 21.5
_NUMBER_SIZE, _NUMBER_BASELINE = 4.2, 29.5
_TABLE_LEFT, _TABLE_RIGHT, _TABLE_TOP, _TABLE_BOTTOM = 16.0, 281.0, 33.5, 147.0
_LABEL_WIDTH = 40.0
_PAD_X, _PAD_Y = 2.2, 1.5
_LINE_FACTOR = 1.45  # line height / font size
_TABLE_SIZES = tuple(round(4.4 - 0.1 * i, 1) for i in range(19))  # 4.4 … 2.6 mm
_NOTES_MIN_LINES = 3
_FOOTNOTE_SIZE = 2.6
_QR_BOX = 44.0  # incl. the quiet zone
_QR_LEFT, _QR_TOP = 16.0, 150.0
_QR_BORDER = 4  # modules of quiet zone
_CAPTION_SIZE, _CAPTION_BASELINE = 3.2, 198.0
_SEAL_CX, _SEAL_CY, _SEAL_RADIUS = 226.0, 170.0, 16.0
_AUTHORITY_BASELINE, _DATE_BASELINE = 167.5, 178.0
_BOTTOM_TEXT_WIDTH = 86.0
_EM_CENTRE = 0.35  # a CJK glyph's vertical centre above the baseline, in em
_EM_ASCENT = 0.86  # where the baseline sits below a line's top, in em (plus half leading)
_CLOSING = set("，。、；：？！）》」』】〕…—,.;:?!)]}%")
_OPENING = set("（《「『【〔([{")
_ELLIPSIS = "……"
_CUT_NOTE = "注：内容过长，表中以“……”省略的部分以不动产登记簿记载为准。"
_TOKEN = re.compile(r"\[U\+[0-9A-F]{4,6}\]|[A-Za-z0-9][A-Za-z0-9.,:%/_-]*[A-Za-z0-9%]|.")

# --- characters the font lacks --------------------------------------------------------


@lru_cache(maxsize=4)
def font_cmap(font_path: str, font_index: int = 0) -> frozenset[int]:
    """The code points the font has glyphs for (face ``font_index`` of a collection)."""
    font = TTFont(font_path, fontNumber=font_index, lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


@dataclass
class Printable:
    """Rewrites text for a font: characters it lacks become ``[U+XXXXX]`` (as in
    :meth:`app.cases.pdf._FormPdf.printable`) and are remembered for the note."""

    cmap: frozenset[int]
    unprintable: set[str] = field(default_factory=set)

    def __call__(self, text: str) -> str:
        return printable(text, self.cmap, self.unprintable)

    def note(self) -> str:
        listed = "、".join(f"U+{ord(ch):04X}" for ch in sorted(self.unprintable))
        return ("注：方括号中的“U+”编码表示本证字体无法显示的字符（Unicode 码位），"
                f"本证涉及：{listed}。相关信息以不动产登记簿记载为准。")


# --- the canvas interface -------------------------------------------------------------


class _Canvas(Protocol):
    def measure(self, text: str, size: float) -> float:
        """Width of ``text`` at ``size`` (mm, the em size) in mm."""
        ...

    def rect(self, x: float, y: float, w: float, h: float, *, fill: Color | None = None,
             stroke: Color | None = None, width: float = 0.0) -> None: ...

    def line(self, x1: float, y1: float, x2: float, y2: float, color: Color,
             width: float) -> None: ...

    def circle(self, cx: float, cy: float, r: float, color: Color, width: float) -> None: ...

    def polygon(self, points: Sequence[tuple[float, float]], fill: Color) -> None: ...

    def text(self, x: float, baseline: float, text: str, size: float, color: Color) -> None:
        ...

    def glyph(self, cx: float, cy: float, ch: str, size: float, angle: float,
              color: Color) -> None:
        """One character centred on (cx, cy), turned ``angle`` degrees clockwise."""
        ...

    def qr(self, x: float, y: float, box: float, matrix: Sequence[Sequence[int]]) -> None:
        """A QR symbol (``matrix`` without quiet zone) in a white box of ``box`` mm."""
        ...

    def layer(self, opacity: float) -> AbstractContextManager[None]:
        """Draw what follows at ``opacity`` (the seal's ink over the text)."""
        ...


# --- the layout -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    label: str
    value: str
    min_lines: int = 1


def _holders_text(holders: Sequence[Holder]) -> str:
    return "、".join(f"{h.name}（{h.share}）" if h.share else h.name for h in holders)


def _rows(content: CertificateContent) -> list[_Row]:
    if content.kind == "proof":
        return [
            _Row("证明权利或事项", content.matter),
            _Row("权利人（申请人）", _holders_text(content.holders)),
            _Row("义务人", _holders_text(content.obligors)),
            _Row("坐落", content.location),
            _Row("不动产单元号", content.unit_number),
            _Row("其他", content.other),
            _Row("附记", content.notes, _NOTES_MIN_LINES),
        ]
    return [
        _Row("权利人", _holders_text(content.holders)),
        _Row("共有情况", content.co_ownership),
        _Row("坐落", content.location),
        _Row("不动产单元号", content.unit_number),
        _Row("权利类型", content.right_type),
        _Row("权利性质", content.right_nature),
        _Row("用途", content.use),
        _Row("面积", content.area),
        _Row("使用期限", content.term),
        _Row("权利其他状况", content.other),
        _Row("附记", content.notes, _NOTES_MIN_LINES),
    ]


def issue_date_text(content: CertificateContent) -> str:
    d = content.issue_date
    return f"{d.year}年{d.month:02d}月{d.day:02d}日"


def _tokens(paragraph: str) -> Iterator[str]:
    """Units that wrapping keeps together: "[U+20BB7]", a run of Latin letters and digits
    (12000.00, 440402003001GB00012F00010203), any other single character."""
    return (m.group() for m in _TOKEN.finditer(paragraph))


def wrap(canvas: _Canvas, text: str, size: float, width: float) -> list[str]:
    """Wrap ``text`` to ``width`` mm: between any two Chinese characters (as Chinese text
    wraps) but not inside a code point note or a number, honouring newlines; no line
    starts with closing punctuation (，。）) or ends with an opening bracket where the
    line can avoid it. A token wider than the line is broken between characters."""
    def fits(tokens: Sequence[str]) -> bool:
        return canvas.measure("".join(tokens), size) <= width

    def bad_break(before: Sequence[str], after: Sequence[str]) -> bool:
        return after[0] in _CLOSING or before[-1] in _OPENING

    lines: list[str] = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        for token in _tokens(paragraph):  # (a token of text, not a secret)
            if fits([*line, token]):
                line.append(token)
                continue
            if line and bad_break(line, [token]):
                rest, carry = list(line), [token]
                while len(rest) > 1 and bad_break(rest, carry):
                    carry.insert(0, rest.pop())
                if not bad_break(rest, carry) and fits(carry):
                    lines.append("".join(rest))
                    line = carry
                    continue
            if fits([token]):
                if line:
                    lines.append("".join(line))
                line = [token] if token.strip() else []
                continue
            for ch in token:  # wider than a line: break it anywhere
                if line and not fits([*line, ch]):
                    lines.append("".join(line))
                    line = []
                line.append(ch)
        lines.append("".join(line).rstrip(" "))
    return lines


def _fit_line(canvas: _Canvas, line: str, size: float, width: float) -> str:
    """``line`` cut so that it ends with an ellipsis within ``width``."""
    while line and canvas.measure(line + _ELLIPSIS, size) > width:
        line = line[:-1]
    return line + _ELLIPSIS


def _table(canvas: _Canvas, rows: Sequence[_Row], budget: float
           ) -> tuple[float, list[tuple[list[str], list[str], int]], bool]:
    """The font size and the wrapped (label lines, value lines, line count) per row that
    fit ``budget`` mm; cut rows (and True) if even the smallest size does not fit."""
    value_width = _TABLE_RIGHT - _TABLE_LEFT - _LABEL_WIDTH - 2 * _PAD_X
    size = _TABLE_SIZES[0]
    wrapped: list[tuple[list[str], list[str], int]] = []
    for size in _TABLE_SIZES:
        wrapped = []
        for row in rows:
            labels = [row.label]  # one line, shrunk to fit (see _draw_table)
            values = wrap(canvas, row.value, size, value_width)
            wrapped.append((labels, values, max(len(labels), len(values), row.min_lines)))
        if _table_height(size, wrapped) <= budget:
            return size, wrapped, False
    # Still too tall at the smallest size: cut the tallest values, one line at a time.
    while _table_height(size, wrapped) > budget:
        n = max(range(len(wrapped)), key=lambda i: (len(wrapped[i][1]), -i))
        labels, values, _ = wrapped[n]
        if len(values) <= 1:
            break
        values = [*values[:-2], _fit_line(canvas, values[-2], size, value_width)]
        wrapped[n] = (labels, values, max(len(labels), len(values), rows[n].min_lines))
    return size, wrapped, True


def _table_height(size: float, wrapped: Sequence[tuple[list[str], list[str], int]]) -> float:
    return sum(lines * size * _LINE_FACTOR + 2 * _PAD_Y for _, _, lines in wrapped)


def _centred(canvas: _Canvas, text: str, cx: float, baseline: float, size: float,
             color: Color) -> None:
    canvas.text(cx - canvas.measure(text, size) / 2, baseline, text, size, color)


def _shrunk(canvas: _Canvas, text: str, size: float, width: float) -> float:
    while size > 2.0 and canvas.measure(text, size) > width:
        size -= 0.1
    return size


def _border(canvas: _Canvas) -> None:
    canvas.rect(0, 0, PAGE_WIDTH_MM, PAGE_HEIGHT_MM, fill=PAPER)
    o, i = _OUTER_INSET, _INNER_INSET
    canvas.rect(o, o, PAGE_WIDTH_MM - 2 * o, PAGE_HEIGHT_MM - 2 * o, stroke=CRIMSON,
                width=_OUTER_WIDTH)
    canvas.rect(i, i, PAGE_WIDTH_MM - 2 * i, PAGE_HEIGHT_MM - 2 * i, stroke=CRIMSON,
                width=_INNER_WIDTH)
    r = 2.4
    for cx in (i, PAGE_WIDTH_MM - i):
        for cy in (i, PAGE_HEIGHT_MM - i):
            canvas.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], CRIMSON)
            canvas.polygon([(cx, cy - r / 2.4), (cx + r / 2.4, cy), (cx, cy + r / 2.4),
                            (cx - r / 2.4, cy)], PAPER)


def _title(canvas: _Canvas, title: str, number: str) -> None:
    tracking = _TITLE_SIZE * 0.45
    widths = [canvas.measure(ch, _TITLE_SIZE) for ch in title]
    x = PAGE_WIDTH_MM / 2 - (sum(widths) + tracking * (len(title) - 1)) / 2
    for ch, w in zip(title, widths, strict=True):
        canvas.text(x, _TITLE_BASELINE, ch, _TITLE_SIZE, CRIMSON)
        x += w + tracking
    size = _shrunk(canvas, number, _NUMBER_SIZE, _TABLE_RIGHT - _TABLE_LEFT)
    _centred(canvas, number, PAGE_WIDTH_MM / 2, _NUMBER_BASELINE, size, INK)


def _draw_table(canvas: _Canvas, rows: Sequence[_Row], printable: Printable) -> float:
    """The ruled table; returns its bottom edge (mm)."""
    rows = [_Row(printable(r.label), printable(r.value), r.min_lines) for r in rows]
    left, right, value_left = _TABLE_LEFT, _TABLE_RIGHT, _TABLE_LEFT + _LABEL_WIDTH

    def footnotes(cut: bool) -> list[str]:
        notes = [printable.note()] if printable.unprintable else []
        if cut:
            notes.append(_CUT_NOTE)
        return [line for note in notes for line in wrap(canvas, note, _FOOTNOTE_SIZE,
                                                        right - left)]

    def budget(notes: list[str]) -> float:
        room = len(notes) * _FOOTNOTE_SIZE * _LINE_FACTOR + (1.0 if notes else 0.0)
        return _TABLE_BOTTOM - _TABLE_TOP - room

    notes = footnotes(cut=False)
    size, wrapped, cut = _table(canvas, rows, budget(notes))
    if cut:
        notes = footnotes(cut=True)
        size, wrapped, _ = _table(canvas, rows, budget(notes))
    line_height = size * _LINE_FACTOR
    y = _TABLE_TOP
    edges = [y]
    for row, (_, values, lines) in zip(rows, wrapped, strict=True):
        height = lines * line_height + 2 * _PAD_Y
        canvas.rect(left, y, _LABEL_WIDTH, height, fill=LABEL_FILL)
        label_size = _shrunk(canvas, row.label, size, _LABEL_WIDTH - 2 * _PAD_X)
        _centred(canvas, row.label, left + _LABEL_WIDTH / 2,
                 _baseline(y + (height - line_height) / 2, size), label_size, INK)
        if row.min_lines > 1:  # a box (附记): text from the top
            value_top = y + _PAD_Y
        else:
            value_top = y + (height - len(values) * line_height) / 2
        for n, text in enumerate(values):
            canvas.text(value_left + _PAD_X, _baseline(value_top + n * line_height, size),
                        text, size, INK)
        y += height
        edges.append(y)
    for edge in edges[1:-1]:
        canvas.line(left, edge, right, edge, CRIMSON, 0.2)
    canvas.line(value_left, _TABLE_TOP, value_left, y, CRIMSON, 0.2)
    canvas.rect(left, _TABLE_TOP, right - left, y - _TABLE_TOP, stroke=CRIMSON, width=0.5)
    foot = y + 1.0
    for text in notes:
        canvas.text(left, _baseline(foot, _FOOTNOTE_SIZE), text, _FOOTNOTE_SIZE, INK)
        foot += _FOOTNOTE_SIZE * _LINE_FACTOR
    return foot


def _baseline(line_top: float, size: float) -> float:
    return line_top + (size * _LINE_FACTOR - size) / 2 + _EM_ASCENT * size


def _star(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    points = []
    for k in range(10):
        radius = r if k % 2 == 0 else r * 0.382
        angle = math.radians(-90 + 36 * k)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def _seal(canvas: _Canvas, text: str) -> None:
    cx, cy, r = _SEAL_CX, _SEAL_CY, _SEAL_RADIUS
    with canvas.layer(SEAL_OPACITY):
        canvas.circle(cx, cy, r, SEAL_RED, 0.95)
        canvas.polygon(_star(cx, cy, r * 0.3), SEAL_RED)
        chars = list(text)
        if not chars:
            return
        text_radius = r * 0.74
        span = min(240.0, 26.0 * (len(chars) - 1))
        step = span / (len(chars) - 1) if len(chars) > 1 else 0.0
        arc = text_radius * math.radians(step) if len(chars) > 1 else r
        size = min(r * 0.31, arc * 0.9)
        for n, ch in enumerate(chars):
            angle = -span / 2 + n * step  # degrees clockwise from the top
            a = math.radians(angle)
            canvas.glyph(cx + text_radius * math.sin(a), cy - text_radius * math.cos(a), ch,
                         size, angle, SEAL_RED)


def _draw(canvas: _Canvas, content: CertificateContent, qr_matrix: Sequence[Sequence[int]],
          printable: Printable) -> None:
    # Every text through ``printable`` before the table, whose note lists what it replaced.
    title, number = printable(content.title), printable(content.number)
    authority, seal_text = printable(content.authority), printable(content.seal_text)
    _border(canvas)
    _title(canvas, title, number)
    _draw_table(canvas, _rows(content), printable)

    # Bottom left: the QR code and its caption.
    canvas.qr(_QR_LEFT, _QR_TOP, _QR_BOX, qr_matrix)
    _centred(canvas, "扫码核验", _QR_LEFT + _QR_BOX / 2, _CAPTION_BASELINE, _CAPTION_SIZE, INK)

    # Bottom right: the authority, the date, the seal over them.
    size = _shrunk(canvas, authority, 4.8, _BOTTOM_TEXT_WIDTH)
    _centred(canvas, authority, _SEAL_CX, _AUTHORITY_BASELINE, size, INK)
    _centred(canvas, issue_date_text(content), _SEAL_CX, _DATE_BASELINE, 4.4, INK)
    _seal(canvas, seal_text)


# --- PNG ------------------------------------------------------------------------------


def _px(mm: float) -> float:
    return mm * PX_PER_MM


_local = threading.local()


def _pil_font(font_path: str, font_index: int, size_px: float) -> ImageFont.FreeTypeFont:
    """A loaded font, cached per thread (a FreeType face is not to be shared by threads)."""
    cache: dict[tuple[str, int, float], ImageFont.FreeTypeFont] = _local.__dict__.setdefault(
        "fonts", {})
    key = (font_path, font_index, size_px)
    font = cache.get(key)
    if font is None:
        if len(cache) >= 64:
            cache.clear()
        font = cache[key] = ImageFont.truetype(font_path, size=size_px, index=font_index,
                                               layout_engine=ImageFont.Layout.BASIC)
    return font


def png_qr_geometry(modules: int) -> tuple[int, int, int]:
    """Where :func:`render_png` draws a QR symbol of ``modules`` modules (no quiet zone):
    the pixel position of its first module and the module size in pixels (whole pixels,
    so that the symbol stays sharp)."""
    box = round(_px(_QR_BOX))
    module = max(1, box // (modules + 2 * _QR_BORDER))
    if module < 3 and box // (modules + 4) >= 3:
        module = 3  # sharp 3 px modules over a full 4-module quiet zone (the paper is light)
    offset = (box - modules * module) // 2
    return round(_px(_QR_LEFT)) + offset, round(_px(_QR_TOP)) + offset, module


class _PngCanvas:
    def __init__(self, font_path: str, font_index: int):
        self.font_path, self.font_index = font_path, font_index
        self.image = Image.new("RGB", PNG_SIZE, WHITE)
        self.draw = ImageDraw.Draw(self.image)

    def _font(self, size: float) -> ImageFont.FreeTypeFont:
        return _pil_font(self.font_path, self.font_index, round(_px(size), 2))

    def measure(self, text: str, size: float) -> float:
        return self._font(size).getlength(text) / PX_PER_MM

    def rect(self, x: float, y: float, w: float, h: float, *, fill: Color | None = None,
             stroke: Color | None = None, width: float = 0.0) -> None:
        if fill is not None:
            self.draw.rectangle([round(_px(x)), round(_px(y)), round(_px(x + w)) - 1,
                                 round(_px(y + h)) - 1], fill=fill)
        if stroke is not None:
            lw = max(1, round(_px(width)))
            half = lw // 2
            self.draw.rectangle([round(_px(x)) - half, round(_px(y)) - half,
                                 round(_px(x + w)) - half + lw - 1,
                                 round(_px(y + h)) - half + lw - 1], outline=stroke, width=lw)

    def line(self, x1: float, y1: float, x2: float, y2: float, color: Color,
             width: float) -> None:
        self.draw.line([(round(_px(x1)), round(_px(y1))), (round(_px(x2)), round(_px(y2)))],
                       fill=color, width=max(1, round(_px(width))))

    def circle(self, cx: float, cy: float, r: float, color: Color, width: float) -> None:
        lw = max(1, round(_px(width)))
        outer = _px(r) + lw / 2
        self.draw.ellipse([_px(cx) - outer, _px(cy) - outer, _px(cx) + outer, _px(cy) + outer],
                          outline=color, width=lw)

    def polygon(self, points: Sequence[tuple[float, float]], fill: Color) -> None:
        self.draw.polygon([(_px(x), _px(y)) for x, y in points], fill=fill)

    def text(self, x: float, baseline: float, text: str, size: float, color: Color) -> None:
        if text:
            self.draw.text((_px(x), _px(baseline)), text, font=self._font(size), fill=color,
                           anchor="ls")

    def glyph(self, cx: float, cy: float, ch: str, size: float, angle: float,
              color: Color) -> None:
        side = math.ceil(_px(size) * 1.6)
        tile = Image.new("RGBA", (side, side), (*color, 0))
        ImageDraw.Draw(tile).text((side / 2, side / 2), ch, font=self._font(size),
                                  fill=(*color, 255), anchor="mm")
        tile = tile.rotate(-angle, resample=Image.Resampling.BICUBIC, expand=True)
        self.image.paste(tile, (round(_px(cx) - tile.width / 2),
                                round(_px(cy) - tile.height / 2)), tile)

    def qr(self, x: float, y: float, box: float, matrix: Sequence[Sequence[int]]) -> None:
        self.rect(x, y, box, box, fill=WHITE)
        left, top, module = png_qr_geometry(len(matrix))
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    x0, y0 = left + c * module, top + r * module
                    self.draw.rectangle([x0, y0, x0 + module - 1, y0 + module - 1],
                                        fill=QR_DARK)

    @contextmanager
    def layer(self, opacity: float) -> Iterator[None]:
        """Draw on a white sheet, then multiply it onto the page at ``opacity``: ink over
        ink, as a stamp over printed text (which stays readable)."""
        base = self.image
        self.image = Image.new("RGB", PNG_SIZE, WHITE)
        self.draw = ImageDraw.Draw(self.image)
        try:
            yield
        finally:
            sheet = Image.blend(Image.new("RGB", PNG_SIZE, WHITE), self.image, opacity)
            self.image = ImageChops.multiply(base, sheet)
            self.draw = ImageDraw.Draw(self.image)


def _qr_matrix(qr_text: str) -> tuple[bytearray, ...]:
    return tuple(segno.make(qr_text, error="m", micro=False).matrix)


def _png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def render_png(content: CertificateContent, qr_text: str, *, font_path: str,
               font_index: int = 0) -> bytes:
    """The certificate as a 1600 × 1131 PNG; the same input gives the same bytes."""
    canvas = _PngCanvas(font_path, font_index)
    _draw(canvas, content, _qr_matrix(qr_text), Printable(font_cmap(font_path, font_index)))
    return _png_bytes(canvas.image)


def watermark_png(png: bytes, text: str, *, font_path: str, font_index: int = 0) -> bytes:
    """``png`` under a repeated diagonal semi-transparent ``text`` (e.g.
    "仅供查看 张** 2026-11-24 10:20") over the whole image, so that a screenshot is not
    mistaken for the original. The same input gives the same bytes."""
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    text = Printable(font_cmap(font_path, font_index))(text).replace("\n", " ") or " "
    font = _pil_font(font_path, font_index, max(18.0, round(image.width / 48, 1)))
    size = float(font.size)
    # One tile: the text, turned once; then pasted along a slanted lattice.
    left, top, right, bottom = font.getbbox(text)
    tile = Image.new("RGBA", (math.ceil(right - left) + 4, math.ceil(bottom - top) + 4),
                     (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((2 - left, 2 - top), text, font=font, fill=_WATERMARK_INK)
    tile = tile.rotate(_WATERMARK_ANGLE, resample=Image.Resampling.BICUBIC, expand=True)
    angle = math.radians(_WATERMARK_ANGLE)
    along = font.getlength(text) + size * 3  # baseline direction: up and to the right
    across = size * 4.5
    u = (along * math.cos(angle), -along * math.sin(angle))
    v = (across * math.sin(angle), across * math.cos(angle))
    margin = max(tile.size)
    overlay = Image.new("RGBA", (image.width + 2 * margin, image.height + 2 * margin),
                        (0, 0, 0, 0))
    reach = math.ceil(math.hypot(image.width, image.height) / min(along, across)) + 2
    for j in range(-reach, reach + 1):
        for i in range(-reach, reach + 1):
            shift = 0.5 * (j % 2)  # stagger alternate rows
            x = (i + shift) * u[0] + j * v[0]
            y = (i + shift) * u[1] + j * v[1]
            if -tile.width < x < image.width and -tile.height < y < image.height:
                overlay.alpha_composite(tile, (round(x) + margin, round(y) + margin))
    image.alpha_composite(overlay.crop((margin, margin, margin + image.width,
                                        margin + image.height)))
    return _png_bytes(image.convert("RGB"))


# --- PDF ------------------------------------------------------------------------------

_PDF_FONT = "cjk"
_PT_PER_MM = 72 / 25.4


class _PdfCanvas:
    def __init__(self, pdf: FPDF):
        self.pdf = pdf
        self._size = 0.0

    def _set_size(self, size: float) -> None:
        if size != self._size:
            self.pdf.set_font(_PDF_FONT, size=size * _PT_PER_MM)
            self._size = size

    def measure(self, text: str, size: float) -> float:
        self._set_size(size)
        return float(self.pdf.get_string_width(text))

    def rect(self, x: float, y: float, w: float, h: float, *, fill: Color | None = None,
             stroke: Color | None = None, width: float = 0.0) -> None:
        if fill is not None:
            self.pdf.set_fill_color(*fill)
            self.pdf.rect(x, y, w, h, style="F")
        if stroke is not None:
            self.pdf.set_draw_color(*stroke)
            self.pdf.set_line_width(width)
            self.pdf.rect(x, y, w, h, style="D")

    def line(self, x1: float, y1: float, x2: float, y2: float, color: Color,
             width: float) -> None:
        self.pdf.set_draw_color(*color)
        self.pdf.set_line_width(width)
        self.pdf.line(x1, y1, x2, y2)

    def circle(self, cx: float, cy: float, r: float, color: Color, width: float) -> None:
        self.pdf.set_draw_color(*color)
        self.pdf.set_line_width(width)
        self.pdf.circle(cx, cy, r, style="D")

    def polygon(self, points: Sequence[tuple[float, float]], fill: Color) -> None:
        self.pdf.set_fill_color(*fill)
        self.pdf.polygon(list(points), style="F")

    def text(self, x: float, baseline: float, text: str, size: float, color: Color) -> None:
        if text:
            self._set_size(size)
            self.pdf.set_text_color(*color)
            self.pdf.text(x, baseline, text)

    def glyph(self, cx: float, cy: float, ch: str, size: float, angle: float,
              color: Color) -> None:
        width = self.measure(ch, size)
        self.pdf.set_text_color(*color)
        with self.pdf.rotation(-angle, x=cx, y=cy):
            self.pdf.text(cx - width / 2, cy + _EM_CENTRE * size, ch)

    def qr(self, x: float, y: float, box: float, matrix: Sequence[Sequence[int]]) -> None:
        self.rect(x, y, box, box, fill=WHITE)
        module = box / (len(matrix) + 2 * _QR_BORDER)
        left, top = x + _QR_BORDER * module, y + _QR_BORDER * module
        self.pdf.set_fill_color(*QR_DARK)
        for r, row in enumerate(matrix):
            c = 0
            while c < len(row):  # one rectangle per horizontal run of dark modules
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < len(row) and row[c]:
                    c += 1
                self.pdf.rect(left + start * module, top + r * module, (c - start) * module,
                              module, style="F")

    @contextmanager
    def layer(self, opacity: float) -> Iterator[None]:
        with self.pdf.local_context(fill_opacity=opacity, stroke_opacity=opacity,
                                    blend_mode="Multiply"):
            yield


def render_pdf(content: CertificateContent, qr_text: str, *, font_path: str,
               font_index: int = 0) -> bytes:
    """The certificate as an A4 landscape PDF with ``certificate.json`` (the canonical
    JSON) attached; the same input gives the same bytes."""
    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font(_PDF_FONT, "", font_path, collection_font_number=font_index)
    issued = datetime.combine(content.issue_date, time(0, 0), tzinfo=BEIJING)
    pdf.set_creation_date(issued)
    pdf.set_title(f"{content.title} {content.number}")
    pdf.set_author(content.authority)
    pdf.set_subject(f"{content.title}（电子证照）")
    pdf.set_creator(CREATOR)
    pdf.set_lang("zh-CN")
    try:
        pdf.add_page()
        _draw(_PdfCanvas(pdf), content, _qr_matrix(qr_text),
              Printable(font_cmap(font_path, font_index)))
        pdf.embed_file(bytes=content.canonical_json(), basename=EMBEDDED_JSON_NAME,
                       modification_date=issued, mime_type="application/json",
                       desc="证书内容（规范化 JSON，内容摘要为其 SHA-256）")
        return bytes(pdf.output())
    finally:  # output() closes the font file; an error before it must too
        for font in pdf.fonts.values():
            if isinstance(font, TTFFont):
                font.close()
