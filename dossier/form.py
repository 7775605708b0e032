"""The filled application form: an Italian PDF for the family to sign.

The form is always in Italian, whatever language the chat used: it is addressed to the
comune. It prints only what `FormData` carries (no amounts, addresses or deadlines of its
own). Text goes through the embedded DejaVu fonts, so accents, apostrophes and "€" print and
can be extracted; characters the fonts lack (most emoji) are dropped or replaced, never fatal.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF

FONT_DIR = Path(__file__).parent / "fonts"
_REGULAR = FONT_DIR / "DejaVuSans.ttf"
_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
_FAMILY = "DejaVu"

_TEXT_PT = 11.0
_TABLE_PT = 10.0
_LINE = 5.6  # mm per line of 11 pt text
_TABLE_LINE = 5.0  # mm per line of 10 pt text
_PAD = 1.5  # mm of padding inside table cells
_MARGIN = 18.0  # left/right/top page margin, mm
_BOTTOM = 24.0  # room kept for the footer, mm
_GREY = (235, 235, 235)

DECLARATIONS_INTRO = (
    "Il/La sottoscritto/a richiedente, ai sensi degli artt. 46 e 47 del DPR 445/2000 "
    "(D.P.R. 28 dicembre 2000, n. 445), consapevole delle sanzioni penali previste "
    "dall'art. 76 del medesimo decreto per le dichiarazioni mendaci, la formazione o l'uso "
    "di atti falsi, e della decadenza dai benefici eventualmente conseguiti sulla base di "
    "dichiarazioni non veritiere prevista dall'art. 75, dichiara:"
)


@dataclass(frozen=True)
class Declaration:
    """One thing the signer declares, as the form prints it (Italian). Before signing, the
    chat explains each in the family's language, one line per `key`
    (`dialogs.paperwork.DECLARATION_LINES`): a new declaration needs its line there."""

    key: str
    text: str


DECLARATIONS = (
    Declaration(
        "truthful",
        "che i dati e le informazioni riportati in questa domanda e nei documenti allegati "
        "sono veri e corrispondono alla situazione attuale;",
    ),
    Declaration(
        "report_changes",
        "di impegnarsi a comunicare tempestivamente al Comune ogni variazione della "
        "situazione dichiarata.",
    ),
)
PRIVACY = (
    "Il/La sottoscritto/a, informato/a ai sensi dell'art. 13 del Regolamento (UE) 2016/679 "
    "(GDPR), acconsente al trattamento dei dati personali propri e del beneficiario, "
    "compresi i dati relativi alla salute (art. 9 del Regolamento), per le sole finalità "
    "di questa domanda."
)
SIGNATURE_LABEL = "Firma del richiedente"
SIGNATURE_NOTE = (
    "Firmate a mano o con firma digitale. Allegate la copia di un documento d'identità "
    "(D.lgs. 82/2005 art. 65 c. 1 lett. c)."
)
FOOTER_NOTE = "Verifica preliminare: la decisione spetta ai servizi sociali."
NOT_GIVEN = "non indicato"


@dataclass
class Person:
    given_name: str
    family_name: str
    tax_code: str  # codice fiscale
    birth_date: dt.date | None = None
    birth_place: str | None = None
    address: str | None = None  # residenza: via, numero, comune
    phone: str | None = None
    email: str | None = None


@dataclass
class FormData:
    dossier_id: str  # e.g. "B2-7K3M9Q"
    notice_title: str  # e.g. "Avviso pubblico Misura B2 – Assistenza indiretta anziani"
    notice_ambito: str  # e.g. "Ambito distrettuale Visconteo Sud Milano (capofila Rozzano)"
    notice_source: str  # where the application rules are, e.g. "Art. 4"
    municipality: str  # comune of residence of the beneficiary
    recipient: str  # e.g. "Ufficio di Piano / Protocollo – protocollo@pec.comune.rozzano.mi.it"
    applicant: Person
    beneficiary: Person
    applicant_role: str  # Italian, e.g. "figlia/figlio", "amministratore di sostegno"
    measures: list[tuple[str, str]]  # (measure name, pre-check outcome in Italian)
    answers: list[tuple[str, str]]  # (question, answer), Italian, every answer given
    documents: list[tuple[str, str]]  # (document, what is attached)
    place: str  # luogo (usually the municipality)
    date: dt.date
    declarations: Sequence[Declaration] = DECLARATIONS  # the case's own, when it has them


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


def _date(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else NOT_GIVEN


class _FormPDF(FPDF):
    def __init__(self, dossier_id: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.dossier_id = dossier_id
        self.add_font(_FAMILY, "", str(_REGULAR))
        self.add_font(_FAMILY, "B", str(_BOLD))
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(True, margin=_BOTTOM)
        self.alias_nb_pages("{nb}")

    def footer(self) -> None:
        self.set_y(-16)
        self.set_font(_FAMILY, "", 8)
        self.set_text_color(80, 80, 80)
        self.cell(
            0,
            4,
            f"Sportello B2 – pratica {self.dossier_id} – pagina {self.page_no()} di {{nb}}",
            align="C",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.cell(0, 4, FOOTER_NOTE, align="C")
        self.set_text_color(0, 0, 0)

    # --- building blocks -------------------------------------------------------------

    def heading(self, text: str, *, keep: float = 25.0) -> None:
        """A section title, kept on the same page as `keep` mm of what follows."""
        if self.will_page_break(12 + keep):
            self.add_page()
        self.ln(3)
        self.set_font(_FAMILY, "B", 13)
        self.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        y = self.get_y()
        self.set_draw_color(120, 120, 120)
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_draw_color(0, 0, 0)
        self.ln(2)

    def paragraph(self, text: str, *, bold: bool = False, size: float = _TEXT_PT) -> None:
        self.set_font(_FAMILY, "B" if bold else "", size)
        self.multi_cell(0, _LINE, text, align="L", new_x="LMARGIN", new_y="NEXT")

    def bullet(self, text: str) -> None:
        self.set_font(_FAMILY, "", _TEXT_PT)
        indent = 6.0
        y = self.get_y()
        if self.will_page_break(_LINE):
            self.add_page()
            y = self.get_y()
        self.set_xy(self.l_margin, y)
        self.cell(indent, _LINE, "–")
        self.set_xy(self.l_margin + indent, y)
        self.multi_cell(
            self.w - self.r_margin - self.l_margin - indent,
            _LINE,
            text,
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )

    def _lines(self, width: float, text: str, bold: bool) -> list[str]:
        self.set_font(_FAMILY, "B" if bold else "", _TABLE_PT)
        lines = self.multi_cell(
            width - 2 * _PAD, _TABLE_LINE, text or " ", dry_run=True, output="LINES"
        )
        return [str(line) for line in lines] or [""]

    def table(
        self,
        rows: Sequence[tuple[str, str]],
        *,
        header: tuple[str, str] | None = None,
        left_ratio: float = 0.42,
        bold_left: bool = False,
    ) -> None:
        """A two-column bordered table; rows too tall for the page continue on the next."""
        width = self.w - self.l_margin - self.r_margin
        widths = (width * left_ratio, width * (1 - left_ratio))
        auto = self.auto_page_break
        self.set_auto_page_break(False, margin=_BOTTOM)
        try:
            if header:
                self._row(header, widths, bold=(True, True), fill=True, header=None)
            for left, right in rows:
                self._row((left, right), widths, bold=(bold_left, False), fill=False, header=header)
        finally:
            self.set_auto_page_break(auto, margin=_BOTTOM)
        self.ln(1)

    def _row(
        self,
        cells: tuple[str, str],
        widths: tuple[float, float],
        *,
        bold: tuple[bool, bool],
        fill: bool,
        header: tuple[str, str] | None,
    ) -> None:
        columns = [self._lines(w, t, b) for w, t, b in zip(widths, cells, bold, strict=True)]
        done = 0
        total = max(len(c) for c in columns)
        while done < total:
            room = int((self.page_break_trigger - self.get_y() - 2 * _PAD) // _TABLE_LINE)
            left = total - done
            # Short rows stay whole; long ones continue on the next page.
            if left <= room:
                take = left
            elif left <= 3 or room < 2:
                self._new_table_page(widths, header)
                continue
            else:
                take = room if left - room >= 2 else left - 2  # no lone line overleaf
            self._draw_chunk(columns, widths, bold, fill, done, done + take)
            done += take

    def _new_table_page(self, widths: tuple[float, float], header: tuple[str, str] | None) -> None:
        self.add_page()
        if header:
            self._draw_chunk(
                [self._lines(w, t, True) for w, t in zip(widths, header, strict=True)],
                widths,
                (True, True),
                True,
                0,
                10_000,
            )

    def _draw_chunk(
        self,
        columns: list[list[str]],
        widths: tuple[float, float],
        bold: tuple[bool, bool],
        fill: bool,
        start: int,
        stop: int,
    ) -> None:
        parts = [c[start:stop] for c in columns]
        height = max(len(p) for p in parts) * _TABLE_LINE + 2 * _PAD
        x0, y0 = self.l_margin, self.get_y()
        x = x0
        for width, part, is_bold in zip(widths, parts, bold, strict=True):
            if fill:
                self.set_fill_color(*_GREY)
                self.rect(x, y0, width, height, style="DF")
            else:
                self.rect(x, y0, width, height)
            self.set_font(_FAMILY, "B" if is_bold else "", _TABLE_PT)
            for i, line in enumerate(part):
                self.set_xy(x + _PAD, y0 + _PAD + i * _TABLE_LINE)
                self.cell(width - 2 * _PAD, _TABLE_LINE, line)
            x += width
        self.set_xy(x0, y0 + height)


def _person_rows(person: Person) -> list[tuple[str, str]]:
    def given(value: str | None) -> str:
        return clean_text(value) if value and value.strip() else NOT_GIVEN

    name = " ".join(clean_text(f"{person.given_name} {person.family_name}").split())
    return [
        ("Nome e cognome", name or NOT_GIVEN),
        ("Codice fiscale", given(person.tax_code)),
        ("Data di nascita", _date(person.birth_date)),
        ("Luogo di nascita", given(person.birth_place)),
        ("Residenza", given(person.address)),
        ("Telefono", given(person.phone)),
        ("E-mail", given(person.email)),
    ]


def _pairs(rows: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(clean_text(a), clean_text(b)) for a, b in rows]


def application_form_pdf(data: FormData) -> bytes:
    """The filled application form, A4, in Italian, ready to be signed."""
    pdf = _FormPDF(clean_text(data.dossier_id))
    pdf.set_title("Domanda di accesso alla Misura B2")
    pdf.set_author("Sportello B2")
    pdf.set_creator("Sportello B2")
    pdf.set_lang("it")
    pdf.set_creation_date(dt.datetime.combine(data.date, dt.time(), tzinfo=dt.UTC))
    pdf.add_page()

    pdf.set_font(_FAMILY, "B", 17)
    pdf.multi_cell(
        0, 9, "Domanda di accesso alla Misura B2", align="L", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.paragraph(clean_text(data.notice_title), bold=True, size=12)
    pdf.paragraph(clean_text(data.notice_ambito))
    pdf.paragraph(f"Presentazione della domanda secondo l'avviso: {clean_text(data.notice_source)}")
    pdf.paragraph(f"Pratica n. {clean_text(data.dossier_id)}", bold=True)
    pdf.ln(3)
    pdf.paragraph(
        f"Al Comune di {clean_text(data.municipality)} – {clean_text(data.recipient)}", bold=True
    )

    pdf.heading("Chi presenta la domanda", keep=50)
    rows = _person_rows(data.applicant)
    rows.append(("In qualità di", clean_text(data.applicant_role) or NOT_GIVEN))
    pdf.table(rows, left_ratio=0.3, bold_left=True)

    pdf.heading("Per chi si chiede", keep=50)
    pdf.table(_person_rows(data.beneficiary), left_ratio=0.3, bold_left=True)

    pdf.heading("Misure richieste", keep=30)
    if data.measures:
        pdf.table(_pairs(data.measures), header=("Misura", "Esito della verifica preliminare"))
    else:
        pdf.paragraph("Nessuna misura indicata.")

    pdf.heading("Le risposte date", keep=40)
    if data.answers:
        pdf.table(_pairs(data.answers), header=("Domanda", "Risposta"))
    else:
        pdf.paragraph("Nessuna risposta registrata.")

    pdf.heading("Documenti allegati", keep=30)
    if data.documents:
        pdf.table(_pairs(data.documents), header=("Documento", "Allegato"), left_ratio=0.55)
    else:
        pdf.paragraph("Nessun documento allegato.")

    pdf.heading("Dichiarazioni")
    pdf.paragraph(DECLARATIONS_INTRO)
    for declaration in data.declarations:
        pdf.bullet(declaration.text)

    pdf.heading("Privacy")
    pdf.paragraph(PRIVACY)

    _signature(pdf, place=clean_text(data.place), date=data.date)
    return bytes(pdf.output())


def _signature(pdf: _FormPDF, *, place: str, date: dt.date) -> None:
    box_w, box_h = 85.0, 28.0
    if pdf.will_page_break(8 + _LINE + 6 + box_h + 3 * _LINE):
        pdf.add_page()
    pdf.ln(6)
    pdf.paragraph(f"Luogo e data: {place}, {date.strftime('%d/%m/%Y')}")
    pdf.ln(4)
    x = pdf.w - pdf.r_margin - box_w
    pdf.set_x(x)
    pdf.set_font(_FAMILY, "B", _TEXT_PT)
    pdf.cell(box_w, _LINE, SIGNATURE_LABEL, new_x="LEFT", new_y="NEXT")
    y = pdf.get_y() + 1
    pdf.rect(x, y, box_w, box_h)
    pdf.set_xy(pdf.l_margin, y + box_h + 3)
    pdf.set_font(_FAMILY, "", 9.5)
    pdf.multi_cell(0, 5, SIGNATURE_NOTE, align="L", new_x="LMARGIN", new_y="NEXT")
