"""The application (istanza) as a protocol office expects it: an Italian PDF to sign.

Addressed to whom the notice says; the applicant and the beneficiary with birthplace,
residence and codice fiscale; CHIEDE (the measures, with the notice's articles);
DICHIARA under DPR 445/2000 (the notice's own sentences for this case, each citing its
article); ALLEGA (the documents); the privacy consent; place, date and signature. Where
the notice pays on a bank account, a second page declares it (the notice's "conto
corrente" annex). Every page carries a QR code with the dossier, the page and a check
(`dossier.pagecode`), so the signed pages photographed back are recognised.

The form is Italian whatever the chat language, and prints only what `FormData` carries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from .formpdf import FormPDF, clean_text, print_maps
from .people import signature_label

__all__ = [
    "DECLARATIONS",
    "BankDetails",
    "Declaration",
    "FormData",
    "MadeForm",
    "Person",
    "application_form_pdf",
    "clean_text",
    "form_edition",
    "made_form",
    "rendered_form",
]

RESPONSIBILITY = (
    "A tal fine, ai sensi degli artt. 46 e 47 del D.P.R. 28 dicembre 2000, n. 445, "
    "consapevole delle sanzioni penali previste dall'art. 76 del medesimo decreto per le "
    "dichiarazioni mendaci, la formazione o l'uso di atti falsi, e della decadenza dai "
    "benefici eventualmente conseguiti sulla base di dichiarazioni non veritiere prevista "
    "dall'art. 75,"
)
PRIVACY = (
    "{Il} {sottoscritto}, informat{o} ai sensi dell'art. 13 del Regolamento (UE) 2016/679 "
    "(GDPR){notice_privacy}, acconsente al trattamento dei dati personali propri{and_whom}, "
    "compresi i dati relativi alla salute (art. 9 del Regolamento), per le sole finalità "
    "di questa domanda."
)
# How the form names the notice: "all'avviso", "alle linee guida".
_ARTICLES = {
    "avviso": ("all'avviso", "dell'avviso"),
    "linee guida": ("alle linee guida", "delle linee guida"),
}
SIGNATURE_LABEL = "Firma del richiedente"  # a man's; `signature_label` by gender
SIGNATURE_NOTE = (
    "Firma autografa, con copia di un documento d'identità di chi firma, oppure firma "
    "digitale (D.lgs. 82/2005, art. 65, c. 1; D.P.R. 445/2000, art. 38)."
)
NOT_GIVEN = "non indicato"


@dataclass(frozen=True)
class Declaration:
    """One sentence after DICHIARA (Italian), its kind and its citation ("Avviso, Art. 2").
    Before signing, the chat explains each kind in the family's language, one line per
    `key` (`dialogs.sending_view.DECLARATION_LINES`): a new kind needs its line there."""

    key: str
    text: str
    source: str = ""


# Said on every form, after the notice's own declarations.
DECLARATIONS = (
    Declaration(
        "truthful",
        "che i dati e le informazioni riportati in questa domanda e nei documenti allegati "
        "sono veri e corrispondono alla situazione attuale",
    ),
    Declaration(
        "report_changes",
        "di impegnarsi a comunicare tempestivamente al Comune ogni variazione della "
        "situazione dichiarata",
    ),
)


@dataclass
class Person:
    given_name: str
    family_name: str
    tax_code: str  # codice fiscale
    birth_date: dt.date | None = None
    birth_place: str | None = None  # "Milano (MI)", or the country for someone born abroad
    address: str | None = None  # via e numero
    postcode: str | None = None  # CAP
    town: str | None = None  # comune di residenza
    province: str | None = None  # its sigla: "MI" (from the ISTAT list of comuni)
    phone: str | None = None  # as shown: "333 123 4567"
    email: str | None = None
    gender: str | None = None  # "F" or "M", from the codice fiscale
    born_abroad: bool = False  # "nata in Romania", not "a"

    @property
    def name(self) -> str:
        return " ".join(clean_text(f"{self.given_name} {self.family_name}").split())


@dataclass
class BankDetails:
    """The account the payments go to, for the declaration page."""

    iban: str  # as shown, in groups of four
    holder: str
    holder_tax_code: str
    # the IBAN's bank and branch codes (ABI, CAB); never the bank's name, which no
    # registry we have keeps up to date (banks merge): the codes are what the IBAN says
    codes: tuple[str, str] | None = None
    annex: str | None = None  # the notice's annex this page stands for ("All. E – ...")
    co_holder: str = ""  # a joint account's second holder, and their codice fiscale
    co_holder_tax_code: str = ""


@dataclass
class FormData:
    dossier_id: str  # e.g. "B2-7K3M9Q"
    notice_title: str  # e.g. "Avviso pubblico Misura B2 – Assistenza indiretta anziani"
    notice_ambito: str  # e.g. "Ambito distrettuale Visconteo Sud Milano (capofila Rozzano)"
    notice_year: str  # e.g. "FNA 2024, esercizio 2025"
    addressee: Sequence[str]  # lines: who, then "PEC: protocollo@..."
    applicant: Person
    beneficiary: Person | None  # None when the applicant applies for themselves
    applicant_role: str  # Italian: "figlia", "amministratore di sostegno"
    measures: Sequence[tuple[str, str]]  # (measure name, where the notice describes it)
    declarations: Sequence[Declaration]  # the case's own, from the notice, in order
    documents: Sequence[str]  # what is attached, one line each
    place: str
    date: dt.date
    notice_cited_as: str = "Avviso"
    replaces_annex: str | None = None  # the notice's own form this one stands for
    privacy_source: str | None = None  # where the notice's privacy notice is
    bank: BankDetails | None = None
    generic: Sequence[Declaration] = field(default=DECLARATIONS)

    @property
    def all_declarations(self) -> list[Declaration]:
        """The notice's declarations, then the general ones the notice does not say."""
        kinds = {d.key for d in self.declarations}
        return [*self.declarations, *(d for d in self.generic if d.key not in kinds)]


def form_edition(data: FormData) -> str:
    """A digest of what the form declares (people, measures, declarations, account), not
    of its date or of the attachments: a page printed yesterday is still this edition; a
    page printed before an answer changed is not."""
    kept = asdict(data)
    for key in ("date", "documents", "place"):
        kept.pop(key, None)
    text = json.dumps(kept, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- wording -----------------------------------------------------------------------------


def _gendered(gender: str | None) -> dict[str, str]:
    if gender == "F":
        return {"Il": "La", "sottoscritto": "sottoscritta", "o": "a", "nato": "nata"}
    if gender == "M":
        return {"Il": "Il", "sottoscritto": "sottoscritto", "o": "o", "nato": "nato"}
    return {"Il": "Il/La", "sottoscritto": "sottoscritto/a", "o": "o/a", "nato": "nato/a"}


def _date(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else NOT_GIVEN


def _person(p: Person) -> str:
    """ "Maria Rossi, nata a Milano (MI) il 01/01/1970, residente a Rozzano (MI), Via
    Verdi 5, CAP 20089, codice fiscale RSSMRA70A41F205Z"."""
    words = _gendered(p.gender)
    parts = [p.name or NOT_GIVEN]
    born = f"{words['nato']}"
    if p.birth_place:
        born += f" {'in' if p.born_abroad else 'a'} {clean_text(p.birth_place)}"
    parts.append(f"{born} il {_date(p.birth_date)}")
    if p.town or p.address:
        town = clean_text(p.town or NOT_GIVEN)
        if p.province:
            town += f" ({clean_text(p.province)})"
        residence = f"residente a {town}"
        if p.address:
            residence += f", {clean_text(p.address)}"
        if p.postcode:
            residence += f", CAP {clean_text(p.postcode)}"
        parts.append(residence)
    parts.append(f"codice fiscale {clean_text(p.tax_code) or NOT_GIVEN}")
    return ", ".join(parts)


def _applicant_paragraph(data: FormData) -> str:
    a = data.applicant
    words = _gendered(a.gender)
    text = f"{words['Il']} {words['sottoscritto']} {_person(a)}"
    contacts = []
    if a.phone:
        contacts.append(f"telefono {clean_text(a.phone)}")
    if a.email:
        contacts.append(f"e-mail {clean_text(a.email)}")
    if contacts:
        text += ", " + ", ".join(contacts)
    if data.beneficiary is None:
        return text + ", in proprio,"
    role = clean_text(data.applicant_role) or "richiedente"
    return f"{text}, in qualità di {role} di {_person(data.beneficiary)},"


def _to_notice(cited_as: str) -> str:
    return _ARTICLES.get(cited_as.lower(), (f"a: {cited_as}", ""))[0]


def _by_notice(cited_as: str) -> str:
    return {"avviso": "dall'avviso", "linee guida": "dalle linee guida"}.get(
        cited_as.lower(), f"da: {cited_as}"
    )


def _of_notice(cited_as: str) -> str:
    return _ARTICLES.get(cited_as.lower(), ("", f"di: {cited_as}"))[1]


def unbracketed(text: str) -> str:
    """A name with its own brackets, to be written inside brackets: "Ambito … (capofila
    Rozzano)" → "Ambito …, capofila Rozzano" (no brackets within brackets)."""
    return clean_text(re.sub(r"\s*\(([^()]*)\)", r", \1", text))


def addressee_lines(addressee: Sequence[str]) -> list[str]:
    """Who the form is addressed to, a part per line as a letter's address block: "Comune
    di Rozzano, capofila dell'Ambito … – Ufficio Protocollo" → "Comune di Rozzano" /
    "capofila dell'Ambito …" / "Ufficio Protocollo" (the notice's words, only broken)."""
    lines: list[str] = []
    for n, line in enumerate(addressee):
        parts = re.split(r",\s+|\s+–\s+", clean_text(line)) if n == 0 else [clean_text(line)]
        for part in parts:
            # a long name is broken after "dell'Ambito", not mid-name where the block ends
            # ("capofila dell'Ambito" / "distrettuale Visconteo Sud Milano")
            long = len(part) > ADDRESSEE_WIDTH
            lines += [p for p in (re.split(r"(?<=dell'Ambito)\s+", part) if long else [part]) if p]
    return lines


ADDRESSEE_WIDTH = 40  # characters a line of the addressee block holds, about


def _cited(source: str) -> str:
    return f" ({clean_text(source)})" if source else ""


# --- the pages ---------------------------------------------------------------------------


def _heading(pdf: FormPDF, data: FormData) -> None:
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 7.5, "Domanda di accesso alla Misura B2", new_x="LMARGIN", new_y="NEXT")
    pdf.paragraph(clean_text(data.notice_title), bold=True, size=11, align="L", after=0)
    year = f" – {clean_text(data.notice_year)}" if data.notice_year else ""
    pdf.paragraph(clean_text(data.notice_ambito) + year, align="L", after=0)
    pdf.paragraph(f"Pratica n. {clean_text(data.dossier_id)}", bold=True, align="L", after=4)
    if data.addressee:
        lines = ["Spett.le", *addressee_lines(data.addressee)]
        indent = 92.0
        pdf.paragraph("\n".join(lines), align="L", indent=indent, label="addressee", after=4)
    subject = f"Oggetto: domanda di accesso alla Misura B2 – {clean_text(data.notice_title)}."
    if data.replaces_annex:
        subject += (
            f" Questo modulo sostituisce il modulo previsto {_by_notice(data.notice_cited_as)} "
            f"({clean_text(data.replaces_annex)}) e ne riporta tutte le dichiarazioni."
        )
    pdf.paragraph(subject, bold=True, align="L", label="subject", after=3)


def _request(pdf: FormPDF, data: FormData) -> None:
    pdf.paragraph(_applicant_paragraph(data), label="applicant")
    pdf.centred("CHIEDE")
    notice = (
        f"di accedere alla Misura B2 di cui {_to_notice(data.notice_cited_as)} "
        f"«{clean_text(data.notice_title)}» ({unbracketed(data.notice_ambito)}"
        + (f"; {clean_text(data.notice_year)}" if data.notice_year else "")
        + "), per:"
    )
    pdf.paragraph(notice, label="request", keep_with=10)
    for name, source in data.measures or [("Misura B2", "")]:
        pdf.numbered("–", clean_text(name) + _cited(source), label=f"measure:{name}")
    pdf.ln(1)
    pdf.paragraph(RESPONSIBILITY, label="responsibility", keep_with=20)
    pdf.centred("DICHIARA")
    declarations = data.all_declarations
    for n, d in enumerate(declarations, start=1):
        end = "." if n == len(declarations) else ";"
        pdf.numbered(f"{n}.", clean_text(d.text) + _cited(d.source) + end, label=f"decl:{n}")


def _attachments(pdf: FormPDF, data: FormData) -> None:
    pdf.centred("ALLEGA", keep_with=12)
    documents = list(data.documents) or ["nessun documento"]
    for line in documents:
        pdf.numbered("–", clean_text(line), label=f"doc:{line[:30]}")
    pdf.ln(2)
    words = _gendered(data.applicant.gender)
    privacy = PRIVACY.format(
        Il=words["Il"],
        sottoscritto=words["sottoscritto"],
        o=words["o"],
        notice_privacy=(
            f" e dell'informativa {_of_notice(data.notice_cited_as)} "
            f"({clean_text(data.privacy_source)})"
            if data.privacy_source
            else ""
        ),
        and_whom=f" e di {data.beneficiary.name}" if data.beneficiary is not None else "",
    )
    # the consent stays with the signature: no signature alone at the top of a page
    pdf.paragraph(privacy, label="privacy", keep_with=pdf.signature_height(SIGNATURE_NOTE))


def _bank_page(pdf: FormPDF, data: FormData, bank: BankDetails) -> None:
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(
        0, 7, "Dichiarazione per l'accredito del contributo", new_x="LMARGIN", new_y="NEXT"
    )
    if bank.annex:
        pdf.paragraph(
            f"Sostituisce il modulo previsto {_by_notice(data.notice_cited_as)}: "
            f"{clean_text(bank.annex)}.",
            align="L",
            after=0,
        )
    pdf.paragraph(
        f"Domanda di accesso alla Misura B2 – pratica n. {clean_text(data.dossier_id)}",
        bold=True,
        align="L",
        after=4,
    )
    a = data.applicant
    words = _gendered(a.gender)
    who = f"{words['Il']} {words['sottoscritto']} {a.name}, codice fiscale {clean_text(a.tax_code)}"
    if data.beneficiary is None:  # signing for themselves: their own application
        whose = "per la propria domanda di accesso alla Misura B2"
    else:
        whose = (
            f"per la domanda di accesso alla Misura B2 a favore di {data.beneficiary.name} "
            f"(codice fiscale {clean_text(data.beneficiary.tax_code)})"
        )
    pdf.paragraph(
        f"{who}, {whose}, ai sensi dell'art. 47 del D.P.R. 445/2000 e consapevole delle "
        "sanzioni penali previste dall'art. 76 del medesimo decreto,",
        label="bank:who",
    )
    pdf.centred("CHIEDE", keep_with=40)
    pdf.paragraph(
        "che il contributo eventualmente riconosciuto sia accreditato sul conto seguente:",
        label="bank:request",
        keep_with=30,
    )
    rows = [
        ("Intestatario del conto", clean_text(bank.holder)),
        ("Codice fiscale dell'intestatario", clean_text(bank.holder_tax_code) or NOT_GIVEN),
    ]
    if bank.co_holder:  # a joint account: its second holder too
        rows += [
            ("Cointestatario del conto", clean_text(bank.co_holder)),
            (
                "Codice fiscale del cointestatario",
                clean_text(bank.co_holder_tax_code) or NOT_GIVEN,
            ),
        ]
    rows.append(("IBAN", clean_text(bank.iban)))
    if bank.codes is not None:
        abi, cab = (clean_text(code) for code in bank.codes)
        codes = f"codice ABI {abi}, CAB {cab} (dall'IBAN)" if cab else f"codice ABI {abi}"
        rows.append(("Banca e filiale", codes))
    pdf.field_rows(rows, label="bank:account")
    pdf.centred("DICHIARA", keep_with=15)
    pdf.paragraph(
        "che i dati del conto sono esatti e di impegnarsi a comunicare tempestivamente ogni "
        "loro variazione.",
        label="bank:declares",
    )


def _render(data: FormData, edition: str, total: int) -> FormPDF:
    pdf = FormPDF(clean_text(data.dossier_id), edition, total)
    pdf.set_title("Domanda di accesso alla Misura B2")
    pdf.set_author("Sportello B2")
    pdf.set_creator("Sportello B2")
    pdf.set_lang("it")
    pdf.set_creation_date(dt.datetime.combine(data.date, dt.time(), tzinfo=dt.UTC))
    pdf.add_page()
    _heading(pdf, data)
    _request(pdf, data)
    _attachments(pdf, data)
    place = f"Luogo e data: {clean_text(data.place)}, {data.date.strftime('%d/%m/%Y')}"
    label = signature_label(data.applicant.gender)
    pdf.signature(place, label, SIGNATURE_NOTE)
    if data.bank is not None:
        _bank_page(pdf, data, data.bank)
        pdf.signature(place, label, SIGNATURE_NOTE)
    return pdf


@dataclass(frozen=True)
class MadeForm:
    """The form as made: its bytes, its page count, each block's first and last page (to
    check that none is split), and where its QR code and signature boxes are
    (`FormPDF.layout`, with the label printed over the boxes)."""

    pdf: bytes
    pages: int
    blocks: list[tuple[str, int, int]]
    layout: dict[str, object]


def rendered_form(data: FormData) -> tuple[bytes, int, list[tuple[str, int, int]]]:
    """The form's bytes, its page count, and each block's first and last page (to check
    that none is split)."""
    made = made_form(data)
    return made.pdf, made.pages, made.blocks


def made_form(data: FormData) -> MadeForm:
    """The form and its layout (`MadeForm`)."""
    edition = form_edition(data)
    total = 1
    for _ in range(3):  # the QR codes need the page count: render until it holds
        pdf = _render(data, edition, total)
        pages = pdf.page_no()
        if pages == total:
            break
        total = pages
    else:
        pdf = _render(data, edition, total)
    layout: dict[str, object] = {**pdf.layout(), "label": signature_label(data.applicant.gender)}
    made = bytes(pdf.output())
    layout["print"] = print_maps(made, layout)
    return MadeForm(made, pdf.page_no(), pdf.blocks, layout)


def application_form_pdf(data: FormData) -> bytes:
    """The filled application form, A4, in Italian, ready to be signed."""
    return rendered_form(data)[0]
