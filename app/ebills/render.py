"""An e-bill as a PDF (fpdf2, the project's CJK font), and amounts in Chinese capitals.

:func:`render_document` takes plain values (:class:`BillDocument`, no database): title
by kind, bill code, number and check code, the date in Beijing time, the payer, the
items in yuan, the total in capitals (大写) and in figures (小写), the issuer, and a QR
code of the platform's check page (segno, embedded as an image so the exact modules
survive). The same document always gives the same bytes.

The font (wqy-microhei) covers the Basic Multilingual Plane only: a rare character
outside it (王𠮷) is printed as its code point, "王[U+20BB7]", with a note at the foot —
as on the application form (app/cases/pdf.py) — never silently dropped.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import segno
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from app.cases.pdf import font_location
from app.fees.service import yuan
from app.kernel.timeutil import SHANGHAI, as_utc

CREATOR = "不动产登记自助服务平台"
TITLES = {"fiscal": "广东省非税收入电子票据", "tax": "中华人民共和国税收完税证明",
          "fund": "住宅专项维修资金缴存收据"}
LABELS = {
    "fiscal": {"payer": "交款人", "item": "项目名称", "issuer": "收款单位（开票单位）"},
    "tax": {"payer": "纳税人名称", "item": "税种", "issuer": "税务机关"},
    "fund": {"payer": "缴存人", "item": "项目", "issuer": "收款单位"},
}
QR_ERROR = "m"

_FONT = "cjk"
_WIDTH, _HEIGHT = 210.0, 148.0  # A5 landscape
_MARGIN = 10.0
_CONTENT = _WIDTH - 2 * _MARGIN
_QR_SIZE = 28.0
_RED = (160, 30, 30)
_HEADING_STYLE = FontFace(emphasis="", fill_color=(246, 236, 236))

# --- amounts in Chinese capitals ------------------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")


def _group(n: int) -> str:
    """0 < n < 10000, with 零 for the zeros inside (1010 → 壹仟零壹拾)."""
    out, zero = "", False
    for power in (3, 2, 1, 0):
        digit = n // 10**power % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + _UNITS[power]
    return out


def amount_in_words(fen: int) -> str:
    """An amount in integer fen as the capitals written on bills (中文大写金额):
    5 → 伍分, 8000 → 捌拾元整, 2158000 → 贰万壹仟伍佰捌拾元整,
    10000010 → 壹拾万元零壹角, 0 → 零元整.

    The rules of the People's Bank's 正确填写票据和结算凭证的基本规定: 整 after 元
    when there are no jiao and fen, none after 角 or 分; one 零 for a run of zeros
    inside the amount; 零 between 元 and the jiao (or fen) when the yuan end in zero;
    a leading ten is 壹拾.
    """
    if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
        raise ValueError("an amount is a non-negative integer number of fen")
    yuan_part, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    if yuan_part >= 10**16:
        raise ValueError("amount too large")
    words = ""
    if yuan_part:
        groups = []
        rest = yuan_part
        while rest:
            rest, group = divmod(rest, 10000)
            groups.append(group)
        pending_zero = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                pending_zero = bool(words)
                continue
            if words and (pending_zero or group < 1000):
                words += "零"
            words += _group(group) + _GROUPS[index]
            pending_zero = False
        words += "元"
    if not cents:
        return (words or "零元") + "整"
    if words and (yuan_part % 10 == 0 or jiao == 0):
        words += "零"
    if jiao:
        words += _DIGITS[jiao] + "角"
    if fen_digit:
        words += _DIGITS[fen_digit] + "分"
    return words


# --- the document ---------------------------------------------------------------------


@dataclass(frozen=True)
class BillDocument:
    kind: str  # fiscal | tax | fund
    bill_code: str
    bill_number: str
    check_code: str
    issued_at: datetime
    payer_name: str
    items: Sequence[tuple[str, int]]  # (name, fen)
    total_fen: int
    issuer_name: str
    verify_url: str
    case_number: str
    reference: str  # the payment order number (业务流水号)


def qr_png(text: str) -> bytes:
    """The QR code of ``text`` as a PNG: 8 pixels a module, 4 modules of quiet zone."""
    out = io.BytesIO()
    segno.make(text, error=QR_ERROR, micro=False).save(out, kind="png", scale=8, border=4)
    return out.getvalue()


class _BillPdf(FPDF):
    def __init__(self, font: str, index: int):
        super().__init__(orientation="landscape", unit="mm", format=(148.0, 210.0))
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_MARGIN)
        self.add_font(_FONT, "", font, collection_font_number=index)
        face = self.fonts[_FONT]
        assert isinstance(face, TTFFont)
        self.cmap = set(face.cmap)
        self.unprintable: set[str] = set()

    def printable(self, text: str) -> str:
        out = []
        for ch in text:
            if ord(ch) in self.cmap or ch == "\n":
                out.append(ch)
            else:
                self.unprintable.add(ch)
                out.append(f"[U+{ord(ch):04X}]")
        return "".join(out)

    def text_at(self, x: float, y: float, width: float, text: str, size: float,
                align: str = "L", color: tuple[int, int, int] = (0, 0, 0)) -> None:
        self.set_font(_FONT, size=size)
        self.set_text_color(*color)
        self.set_xy(x, y)
        self.multi_cell(width, size * 0.45, self.printable(text), align=align,
                        wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)


def render_document(doc: BillDocument) -> bytes:
    """The bill as PDF bytes; the same document gives the same bytes."""
    font, index = font_location()
    pdf = _BillPdf(str(font), index)
    issued = as_utc(doc.issued_at)
    pdf.set_creation_date(issued)
    title = TITLES[doc.kind]
    labels = LABELS[doc.kind]
    pdf.set_title(f"{title} {doc.bill_code} {doc.bill_number}")
    pdf.set_author(doc.issuer_name)
    pdf.set_creator(CREATOR)
    pdf.set_lang("zh-CN")
    pdf.add_page()

    # The QR code (top left), the title, the bill's identifiers (top right).
    pdf.image(io.BytesIO(qr_png(doc.verify_url)), x=_MARGIN, y=_MARGIN - 2, w=_QR_SIZE,
              h=_QR_SIZE, alt_text="查验二维码")
    pdf.text_at(_MARGIN, _MARGIN + _QR_SIZE - 1, _QR_SIZE, "扫码查验", 7, align="C")
    pdf.text_at(_MARGIN + _QR_SIZE, _MARGIN + 4, _CONTENT - 2 * _QR_SIZE - 24, title, 16,
                align="C", color=_RED)
    right = _WIDTH - _MARGIN - 52
    local_day = issued.astimezone(SHANGHAI).strftime("%Y-%m-%d")
    for n, line in enumerate((f"票据代码：{doc.bill_code}", f"票据号码：{doc.bill_number}",
                              f"校 验 码：{doc.check_code}", f"开票日期：{local_day}")):
        pdf.text_at(right, _MARGIN + n * 5.5, 52, line, 9)

    # Who paid, for which case and payment.
    y = _MARGIN + _QR_SIZE + 5
    pdf.text_at(_MARGIN, y, _CONTENT / 2, f"{labels['payer']}：{doc.payer_name}", 10)
    pdf.text_at(_MARGIN + _CONTENT / 2, y, _CONTENT / 2, f"办件编号：{doc.case_number}", 10)
    pdf.text_at(_MARGIN, y + 6, _CONTENT, f"业务流水号：{doc.reference}", 10)

    # The items, then the total in capitals and in figures.
    pdf.set_xy(_MARGIN, y + 13)
    pdf.set_font(_FONT, size=10)
    pdf.set_draw_color(*_RED)
    widths = (_CONTENT - 50, 50)
    with pdf.table(width=_CONTENT, col_widths=widths, align="LEFT", text_align=("LEFT", "RIGHT"),
                   wrapmode=WrapMode.CHAR, line_height=6, padding=1.5,
                   headings_style=_HEADING_STYLE) as table:
        heading = table.row()
        heading.cell(pdf.printable(labels["item"]))
        heading.cell("金额（元）")
        for name, fen in doc.items:
            row = table.row()
            row.cell(pdf.printable(name))
            row.cell(yuan(fen))
        total = table.row()
        total.cell(f"金额合计（大写）{amount_in_words(doc.total_fen)}")
        total.cell(f"（小写）¥{yuan(doc.total_fen)}")
    pdf.set_draw_color(0)

    pdf.ln(4)
    pdf.text_at(_MARGIN, pdf.get_y(), _CONTENT, f"{labels['issuer']}：{doc.issuer_name}", 10)
    pdf.ln(2)
    pdf.text_at(_MARGIN, pdf.get_y(), _CONTENT,
                f"扫描左上角二维码或访问以下地址，可在票据平台查验真伪：{doc.verify_url}",
                7, color=(90, 90, 90))
    if pdf.unprintable:
        listed = "、".join(f"U+{ord(ch):04X}" for ch in sorted(pdf.unprintable))
        pdf.ln(1)
        pdf.text_at(_MARGIN, pdf.get_y(), _CONTENT,
                    "注：方括号中的“U+”编码表示本票据字体无法显示的字符（Unicode 码位），"
                    f"本票据涉及：{listed}。", 7, color=(90, 90, 90))
    return bytes(pdf.output())
