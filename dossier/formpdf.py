"""The PDF building blocks of the form: fonts, text the fonts can draw, blocks that stay
whole on one page, and a footer with the page's QR code.

A block (a paragraph, one declaration, the signature) is measured before it is drawn
(fpdf2's dry run); if it does not fit in what is left of the page, the page breaks
before it, so no declaration starts on one page and ends on the next. Only a block
taller than a whole page (never seen on a real form) is split.
"""

from __future__ import annotations

import logging
import unicodedata
from functools import lru_cache
from pathlib import Path

import segno
from fontTools.ttLib import TTFont
from fpdf import FPDF

from common.logs import quiet

from .pagecode import payload

FONT_DIR = Path(__file__).parent / "fonts"
_REGULAR = FONT_DIR / "DejaVuSans.ttf"
_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
FAMILY = "DejaVu"

TEXT_PT = 10.5
LINE = 5.3  # mm per line of text
MARGIN = 18.0  # left/right/top page margin, mm
BOTTOM = 30.0  # room kept for the footer and its QR code, mm
SIGNATURE_BOX = (85.0, 25.0)  # mm
QR_SIDE = 18.0  # mm: 25 modules of 0.72 mm, read by any phone camera at arm's length
_QR_QUIET = 1.5  # mm of white around it (the page is white anyway)
SCAN_NOTE = (
    "Dopo la firma, fotografate o scansionate la pagina intera, con il codice QR qui "
    "accanto ben visibile."
)

# fontTools logs every subset it makes at INFO (some 37 lines a form): keep the bot's log
# for the bot
quiet("fontTools", "fontTools.subset", "fontTools.ttLib", level=logging.WARNING)


@lru_cache(maxsize=1)
def _printable() -> frozenset[int]:
    """Code points both embedded fonts can draw."""
    cmaps = []
    for path in (_REGULAR, _BOLD):
        font = TTFont(path, lazy=True)
        try:
            cmaps.append(set(font.getBestCmap()))
        finally:
            font.close()
    return frozenset(cmaps[0] & cmaps[1])


def clean_text(value: object) -> str:
    """Text the fonts can draw: NFC, no control characters, missing glyphs handled.

    Marks, format characters (zero-width joiners, variation selectors) and symbols the
    fonts lack (emoji) are dropped; any other missing character becomes "?".
    """
    text = unicodedata.normalize("NFC", str(value))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    printable = _printable()
    out: list[str] = []
    for ch in text:
        if ch == "\n" or (ord(ch) in printable and unicodedata.category(ch)[0] != "C"):
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category[0] in "CMZ" or category in ("So", "Sk", "Sm", "Sc"):
            if category[0] == "Z":
                out.append(" ")
            continue
        out.append("?")
    return "".join(out).replace("{nb}", "{ nb }")  # fpdf2 would put the page count there


class FormPDF(FPDF):
    """An A4 page with our fonts, margins and footer. `pages_total` and `edition` go into
    each page's QR code (`dossier.pagecode`); `blocks` records, for the tests, the page
    each block started and ended on."""

    def __init__(self, dossier_id: str, edition: str, pages_total: int) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.dossier_id = dossier_id
        self.edition = edition
        self.pages_total = pages_total
        self.blocks: list[tuple[str, int, int]] = []
        # (page, x, y, width, height) in mm of each box drawn to sign in (`layout`)
        self.signature_boxes: list[tuple[int, float, float, float, float]] = []
        self.add_font(FAMILY, "", str(_REGULAR))
        self.add_font(FAMILY, "B", str(_BOLD))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=BOTTOM)
        self.alias_nb_pages("{nb}")

    # --- the footer: page number and QR code -------------------------------------------

    def footer(self) -> None:
        self.set_y(-16)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(80, 80, 80)
        width = self.w - self.l_margin - self.r_margin - QR_SIDE - 4
        self.cell(
            width,
            4,
            f"Sportello B2 – pratica {self.dossier_id} – pagina {self.page_no()} di {{nb}}",
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        # the page is known by its code when it comes back signed: say so where it is
        self.cell(width, 4, SCAN_NOTE, align="L")
        self.set_text_color(0, 0, 0)
        self._qr(payload(self.dossier_id, self.page_no(), self.pages_total, self.edition))

    def _qr(self, text: str) -> None:
        """The page's code, drawn as vector squares at the bottom right (crisp in print)."""
        code = segno.make(text, error="m", micro=False)
        matrix = code.matrix
        size = len(matrix)
        module = QR_SIDE / size
        x0, y0, _side = self.qr_square()
        self.set_fill_color(255, 255, 255)
        self.rect(
            x0 - _QR_QUIET, y0 - _QR_QUIET, QR_SIDE + 2 * _QR_QUIET, QR_SIDE + 2 * _QR_QUIET, "F"
        )
        self.set_fill_color(0, 0, 0)
        for row, cells in enumerate(matrix):
            col = 0
            while col < size:
                if not cells[col] & 1:
                    col += 1
                    continue
                start = col
                while col < size and cells[col] & 1:
                    col += 1
                self.rect(
                    x0 + start * module, y0 + row * module, (col - start) * module, module, "F"
                )

    def qr_square(self) -> tuple[float, float, float]:
        """Where the QR code is on every page: left, top and side, mm."""
        return self.w - self.r_margin - QR_SIDE, self.h - 8 - QR_SIDE, QR_SIDE

    def layout(self) -> dict[str, object]:
        """Where things are on the pages, as data (mm from the top left corner): the
        page's size, the QR code and each signature box with its page and label. A photo
        of a signed page is set upright from its QR code and its box looked at for ink
        (`dossier.pagephoto`)."""
        return {
            "page": [self.w, self.h],
            "qr": list(self.qr_square()),
            "signatures": [list(box) for box in self.signature_boxes],
        }

    # --- blocks that stay whole ------------------------------------------------------------

    def lines(self, text: str, width: float, *, bold: bool = False, size: float = TEXT_PT) -> int:
        self.set_font(FAMILY, "B" if bold else "", size)
        return len(self.multi_cell(width, LINE, text, dry_run=True, output="LINES"))

    def keep(self, height: float, label: str = "") -> None:
        """Break the page now unless `height` mm fit on what is left of it."""
        room = self.page_break_trigger - self.t_margin
        if self.get_y() + height > self.page_break_trigger and height <= room:
            self.add_page()

    def paragraph(
        self,
        text: str,
        *,
        bold: bool = False,
        size: float = TEXT_PT,
        align: str = "J",
        indent: float = 0.0,
        label: str = "",
        after: float = 1.5,
        keep_with: float = 0.0,
    ) -> None:
        """A paragraph kept on one page (with `keep_with` mm of what follows)."""
        width = self.w - self.l_margin - self.r_margin - indent
        height = self.lines(text, width, bold=bold, size=size) * LINE
        # what follows starts after the gap below this paragraph: count it too, or the
        # paragraph stays and what it is kept with goes alone to the next page
        self.keep(height + (after + keep_with if keep_with else 0))
        start = self.page_no()
        self.set_x(self.l_margin + indent)
        self.set_font(FAMILY, "B" if bold else "", size)
        self.multi_cell(width, LINE, text, align=align, new_x="LMARGIN", new_y="NEXT")
        self.blocks.append((label or text[:40], start, self.page_no()))
        self.ln(after)

    def numbered(self, number: str, text: str, *, label: str = "") -> None:
        """One item of a numbered list, kept whole, its text indented under the number."""
        indent = 8.0
        width = self.w - self.l_margin - self.r_margin - indent
        height = self.lines(text, width) * LINE
        self.keep(height)
        start = self.page_no()
        y = self.get_y()
        self.set_font(FAMILY, "", TEXT_PT)
        self.set_xy(self.l_margin, y)
        self.cell(indent, LINE, number)
        self.set_xy(self.l_margin + indent, y)
        self.multi_cell(width, LINE, text, align="J", new_x="LMARGIN", new_y="NEXT")
        self.blocks.append((label or text[:40], start, self.page_no()))
        self.ln(1.2)

    def centred(self, text: str, *, size: float = 12.5, keep_with: float = 20.0) -> None:
        """A centred word such as CHIEDE, kept with the start of what it introduces."""
        self.keep(8 + keep_with)
        self.ln(1.5)
        self.set_font(FAMILY, "B", size)
        self.cell(0, 7, text, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)

    def rule(self) -> None:
        y = self.get_y()
        self.set_draw_color(150, 150, 150)
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_draw_color(0, 0, 0)
        self.ln(2)

    def field_rows(self, rows: list[tuple[str, str]], *, label: str = "") -> None:
        """Label and value lines ("IBAN: IT60 ..."), kept together."""
        width = self.w - self.l_margin - self.r_margin
        left = 72.0
        heights = [
            max(self.lines(k, left - 2, bold=True), self.lines(v, width - left)) for k, v in rows
        ]
        self.keep(sum(heights) * LINE + 2)
        start = self.page_no()
        for (key, value), lines in zip(rows, heights, strict=True):
            y = self.get_y()
            self.set_font(FAMILY, "B", TEXT_PT)
            self.set_xy(self.l_margin, y)
            self.multi_cell(left - 2, LINE, key, align="L")
            self.set_font(FAMILY, "", TEXT_PT)
            self.set_xy(self.l_margin + left, y)
            self.multi_cell(width - left, LINE, value, align="L")
            self.set_xy(self.l_margin, y + lines * LINE)
        self.blocks.append((label or rows[0][0], start, self.page_no()))
        self.ln(2)

    def signature_height(self, note: str) -> float:
        note_lines = self.lines(note, self.w - self.l_margin - self.r_margin, size=8.5)
        return 3 + LINE + 1 + SIGNATURE_BOX[1] + 3 + note_lines * 4.5

    def signature(self, place_and_date: str, label: str, note: str) -> None:
        """Place and date on the left, beside the signer's label and the box to sign in,
        with a note under both: one block, as short as a signature allows (so that the
        consent kept with it fits after the attachments rather than alone on a page)."""
        box_w, box_h = SIGNATURE_BOX
        self.keep(self.signature_height(note))
        start = self.page_no()
        self.ln(3)
        y = self.get_y()
        x = self.w - self.r_margin - box_w
        self.set_font(FAMILY, "", TEXT_PT)
        self.set_xy(self.l_margin, y)
        self.multi_cell(x - self.l_margin - 4, LINE, place_and_date, align="L")
        self.set_xy(x, y)
        self.set_font(FAMILY, "B", TEXT_PT)
        self.cell(box_w, LINE, label, new_x="LEFT", new_y="NEXT")
        y = self.get_y() + 1
        self.rect(x, y, box_w, box_h)
        self.signature_boxes.append((self.page_no(), x, y, box_w, box_h))
        self.set_xy(self.l_margin, y + box_h + 3)
        self.set_font(FAMILY, "", 8.5)
        self.multi_cell(0, 4.5, note, align="L", new_x="LMARGIN", new_y="NEXT")
        self.blocks.append((label, start, self.page_no()))


def print_maps(data: bytes, layout: dict[str, object]) -> list[str]:
    """Where each page of the rendered form prints (`pagephoto.form_print`), kept with
    its layout: a photo of a page must show print there, not only the code."""
    from .pagecode import page_images
    from .pagephoto import PRINT_DENSITY, Layout, form_print

    where = Layout.of(layout)
    # rendered at twice the density the photo's page is looked at
    return [form_print(image, where) for image in page_images(data, 2 * PRINT_DENSITY)]
