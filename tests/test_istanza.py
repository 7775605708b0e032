"""The form read back as a protocol office reads it (pypdf), for each bundled notice:
addressed as the notice says, CHIEDE, DICHIARA with the notice's own sentences and the
family's values, ALLEGA, the applicant complete, the bank page; no block split."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import replace
from io import BytesIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from dossier.form import (
    DECLARATIONS,
    Declaration,
    application_form_pdf,
    rendered_form,
)
from dossier.istanza import body, subject
from eligibility import load_catalogue
from eligibility.declarations import PLACEHOLDERS, placeholders
from tests.istanza_cases import CASES, IBAN, case_form, dossier_of, verdict_of

MM = 72 / 25.4  # PDF points per millimetre


def page_texts(pdf: bytes) -> list[str]:
    """Each page's text, whitespace runs made single spaces."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(BytesIO(pdf)).pages]


def flat(text: str) -> str:
    return " ".join(text.split())


def form_text(notice_id: str) -> str:
    return " ".join(page_texts(application_form_pdf(case_form(notice_id))))


# --- every bundled notice ----------------------------------------------------------------


@pytest.mark.parametrize("notice_id", list(CASES))
def test_the_form_asks_for_the_measures_and_declares_what_the_notice_requires(notice_id):
    text = form_text(notice_id)
    verdict = verdict_of(CASES[notice_id])
    notice = load_catalogue().notice(notice_id)
    assert "CHIEDE" in text and "DICHIARA" in text and "ALLEGA" in text
    assert text.index("CHIEDE") < text.index("DICHIARA") < text.index("ALLEGA")
    chiede = text[text.index("CHIEDE") : text.index("DICHIARA")]
    assert f"«{notice.title}»" in chiede
    for m in verdict["measures"]:
        if m["verdict"] in ("eligible", "conditional"):
            source = next(x.source for x in notice.measures if x.id == m["measure"])
            assert f"{m['name']} ({notice.cited_as}, {source})" in chiede
    assert "artt. 46 e 47 del D.P.R. 28 dicembre 2000, n. 445" in chiede
    assert "dall'art. 76" in chiede and "dall'art. 75" in chiede
    dichiara = text[text.index("DICHIARA") : text.index("ALLEGA")]
    # one sentence per requirement met, each with its article; none left with a {value}
    for d in verdict["declarations"]:
        template = flat(d["template"])
        start = re.escape(template.split("{")[0])
        assert re.search(start, dichiara), template
        assert f"({d['source']})" in dichiara
    assert "{" not in dichiara and "(data da indicare)" not in dichiara
    assert "Verifica preliminare" not in text  # no pre-check footer on a signed application


def test_visconteo_form_declares_isee_certification_benefits_and_the_assistant():
    text = form_text("visconteo-sud-milano-2025")
    for expected in (
        "che il beneficiario è residente nel Comune di Opera, uno dei Comuni dell'Ambito "
        "distrettuale Visconteo Sud Milano (Avviso, Art. 2);",
        "che il beneficiario ha compiuto 65 anni alla data della domanda (data di nascita: "
        "20/05/1939) (Avviso, Art. 2);",
        "indennità di accompagnamento (L. 18/1980 e L. 508/1988) (Avviso, Art. 2);",
        "dall'attestazione ISEE sociosanitario in corso di validità (DSU presentata il "
        "15/01/2025), è di 9.800,50 €, non superiore al limite di 25.000,00 € "
        "(Avviso, Art. 2; Art. 3);",
        "non riceve nessuna delle misure incompatibili con la Misura B2 elencate "
        "dall'avviso: l'accoglienza definitiva in una struttura",
        "Misura B1",
        "che il beneficiario riceve già: il Servizio di Assistenza Domiciliare (SAD) "
        "(Avviso, Art. 9);",
        "che si tratta della prima istanza",
        "che l'assistente familiare presta servizio con regolare contratto di lavoro diretto",
        "che l'assistente familiare lavora 30 ore settimanali (l'avviso ne chiede almeno 10) "
        "(Avviso, Art. 1);",
        "(Avviso, Art. 8);",
    ):
        assert expected in text, expected
    assert "Firma della richiedente" in text  # Maria Rossi signs


def test_the_applicant_is_complete_birthplace_residence_with_cap_and_role():
    text = form_text("visconteo-sud-milano-2025")
    assert (
        "La sottoscritta Maria Rossi, nata a Milano (MI) il 01/01/1970, residente a Rozzano "
        "(MI), Via Verdi 5, CAP 20089, codice fiscale RSSMRA70A41F205Z, telefono 333 123 4567, "
        "e-mail maria.rossi@example.it, in qualità di figlia di Giuseppe Rossi, nato a Opera "
        "(MI) il 20/05/1939, residente a Opera (MI), Via Roma 12, CAP 20073" in text
    )
    assert "non indicato" not in text
    # she signs for herself, born abroad: "nata in Romania", her residence with its CAP
    text = form_text("gallarate-riapertura-2026")
    assert "La sottoscritta Elena Popescu, nata in Romania il 05/03/1948, residente a " in text
    assert "Cassano Magnago (VA), Via Mazzini 7, CAP 21012" in text and ", in proprio," in text
    # a birthplace as the ISTAT list writes it, with Italian capitals
    assert "nata a Cernusco sul Naviglio (MI)" in form_text("distretto-4-cernusco-2021")
    assert (
        "che la sottoscritta ha la cittadinanza di uno Stato extra UE, con regolare titolo" in text
    )


def test_an_opera_family_writes_to_the_protocol_of_rozzano_for_the_ambito():
    text = form_text("visconteo-sud-milano-2025")
    # an address block, a part of the notice's words per line, and no brackets in brackets
    assert (
        "Spett.le Comune di Rozzano capofila dell'Ambito distrettuale Visconteo Sud Milano "
        "Ufficio Protocollo PEC: protocollo@pec.comune.rozzano.mi.it" in text
    )
    assert "(Ambito distrettuale Visconteo Sud Milano, capofila Rozzano; FNA 2024" in text
    assert "(capofila Rozzano)," not in text
    assert "Al Comune di Opera" not in text
    # and the e-mail that carries it: to the Ambito, Opera named as the residence
    dossier, _statuses = dossier_of(CASES["visconteo-sud-milano-2025"])
    text = body(dossier)
    assert text.startswith("Spett.le Comune di Rozzano, capofila dell'Ambito")
    assert "a favore di Giuseppe Rossi, residente nel Comune di Opera" in text
    assert "(Ambito distrettuale Visconteo Sud Milano, capofila Rozzano)." in text
    assert "Al Comune di Opera" not in text and "333 123 4567" in text
    assert subject(dossier) == "Domanda Misura B2 – Rossi Giuseppe (Opera) – pratica B2-7K3M9Q"


@pytest.mark.parametrize(
    ("notice_id", "lines"),
    [
        (
            "ambito-5-melzo-2025",
            ["Ambito Territoriale 5", "Piattaforma online: www.pianodizonaambito5.it"],
        ),
        (
            "gallarate-riapertura-2026",
            [
                "Comune di Cassano Magnago Ufficio Protocollo",
                "E-mail: protocollo@cassano-magnago.it",
            ],
        ),
        ("distretto-4-cernusco-2021", ["Comune di Cernusco sul Naviglio Servizio sociale"]),
    ],
)
def test_each_notice_names_its_own_addressee(notice_id, lines):
    text = form_text(notice_id)
    head = text[: text.index("Oggetto:")]
    for line in lines:
        assert line in head


def test_where_the_notice_has_its_own_form_ours_says_it_stands_for_it():
    text = form_text("visconteo-sud-milano-2025")
    assert (
        "Questo modulo sostituisce il modulo previsto dall'avviso (All. A – Domanda di accesso "
        "assistenza indiretta) e ne riporta tutte le dichiarazioni." in text
    )
    text = form_text("gallarate-riapertura-2026")
    assert "sostituisce il modulo previsto dall'avviso (Art. 9" in text
    assert "sostituisce il modulo" not in form_text("ambito-5-melzo-2025")  # it has none


def test_the_bank_page_declares_the_account_in_place_of_annex_e():
    pdf = application_form_pdf(case_form("visconteo-sud-milano-2025"))
    pages = page_texts(pdf)
    bank = pages[-1]
    assert "Dichiarazione per l'accredito del contributo" in bank
    assert (
        "Sostituisce il modulo previsto dall'avviso: All. E – Dichiarazione conto corrente" in bank
    )
    assert "IBAN IT60 X054 2811 1010 0000 0123 456" in bank
    assert "Intestatario del conto Giuseppe Rossi" in bank
    assert "RSSGPP39E20G078" in bank
    # the bank by the IBAN's own codes, never a name from a registry that may be out of
    # date (schwifty calls ABI 05428 "Unione Di Banche Italiane SpA", merged into Intesa
    # Sanpaolo in 2021)
    assert "Banca e filiale codice ABI 05428, CAB 11101 (dall'IBAN)" in bank
    assert "Unione" not in bank and "SpA" not in bank
    assert "Firma del" in bank and "Luogo e data: Rozzano, 02/06/2025" in bank
    allega = " ".join(pages)
    assert (
        "Dichiarazione del conto corrente (All. E): nella pagina «Dichiarazione per l'accredito»"
        in allega
    )
    # a notice that pays no one on an account has no such page
    assert "IBAN" not in form_text("gallarate-riapertura-2026")
    assert IBAN[:4] == "IT60"


def test_the_cernusco_form_declares_the_caregiver_and_the_day_centre():
    text = form_text("distretto-4-cernusco-2021")
    assert "di cui alle linee guida «Linee guida Misura B2" in text
    assert (
        "che il caregiver familiare è genitore del beneficiario (Linee guida, sez. 4, tabella, requisito 1);"
        in text
    )
    assert "che il beneficiario frequenta un servizio diurno per 30 ore settimanali" in text
    assert "informativa delle linee guida (sez. 9)" in text


def test_a_pending_l104_and_the_caregiver_are_declared_for_melzo():
    text = form_text("ambito-5-melzo-2025")
    assert "domanda di accertamento della condizione di gravità" in text
    assert "l'istanza sarà perfezionata prima dell'approvazione delle graduatorie" in text
    assert "che il caregiver familiare è coniuge del beneficiario (Avviso, Strumento 1);" in text
    # the notice states no commitment to report changes: the general one is said
    assert "di impegnarsi a comunicare tempestivamente al Comune ogni variazione" in text


def test_every_requirement_of_every_notice_carries_its_declaration():
    """A new notice brings its own declarations: each requirement says what the applicant
    declares when it is met, with placeholders the engine knows."""
    for notice in load_catalogue().notices:
        rules = [*notice.common_requirements, *(r for m in notice.measures for r in m.requirements)]
        for rule in rules:
            assert rule.declaration is not None, (notice.id, rule.id)
            for text in (rule.declaration.says, rule.declaration.pending or ""):
                assert placeholders(text) <= PLACEHOLDERS, (notice.id, rule.id, text)
        for d in notice.declarations:
            assert placeholders(d.says) <= PLACEHOLDERS, (notice.id, d.says)
        assert any(d.kind == "residence" for d in notice.declarations), notice.id
        assert any(d.kind == "benefits" for d in notice.declarations), notice.id
        for m in notice.measures:
            assert m.source, (notice.id, m.id)


# --- layout ------------------------------------------------------------------------------


def _many_declarations(n: int) -> list[Declaration]:
    words = " ".join(f"parola{i}" for i in range(60))
    return [
        Declaration("truthful", f"che la dichiarazione numero {k} dice {words}", "Avviso, Art. 2")
        for k in range(1, n + 1)
    ]


def test_no_declaration_and_no_signature_is_split_across_pages():
    data = replace(case_form("visconteo-sud-milano-2025"), declarations=_many_declarations(30))
    pdf, pages, blocks = rendered_form(data)
    assert pages >= 4
    split = [b for b in blocks if b[1] != b[2]]
    assert split == []
    texts = page_texts(pdf)
    for k in range(1, 31):
        whole = f"che la dichiarazione numero {k} dice parola0"
        on = [i for i, t in enumerate(texts) if whole in t]
        assert len(on) == 1, k
        assert "parola59 (Avviso, Art. 2)" in texts[on[0]][texts[on[0]].index(whole) :]
    # the privacy consent and the signature are on the same page
    signing = [t for t in texts if "Firma del" in t]
    assert any("acconsente al trattamento" in t for t in signing)


def _filled(page) -> float:
    """How far down a rendered page its content reaches, as a share of the room above the
    footer (0: empty, 1: full)."""
    image = page.render(scale=0.5).to_pil().convert("L")
    width, height = image.size
    room = int(height * 267 / 297)  # the footer and its QR code start at 267 mm
    ink = image.crop((0, 0, width, room)).point(lambda v: 255 if v < 128 else 0)
    box = ink.getbbox()
    return box[3] / room if box else 0.0


@pytest.mark.parametrize("notice_id", list(CASES))
def test_the_consent_and_signature_follow_the_attachments_and_no_page_is_mostly_empty(
    notice_id,
):
    """Kept whole, the consent and the signature once went alone to a page two-thirds
    empty (the Visconteo form: 4 pages); the signature is now compact enough that they
    follow the attachments when there is room. The pages rendered (pypdfium2)."""
    import pypdfium2

    pdf, pages, blocks = rendered_form(case_form(notice_id))
    texts = page_texts(pdf)
    signing = next(t for t in texts if "Firma del" in t)
    assert "ALLEGA" in signing and "acconsente al trattamento" in signing
    assert [b for b in blocks if b[1] != b[2]] == []
    document = pypdfium2.PdfDocument(pdf)
    filled = [round(_filled(document[i]), 2) for i in range(len(document))]
    assert min(filled) > 0.5, filled
    if notice_id == "visconteo-sud-milano-2025":
        assert pages == 3  # two of istanza, one of bank details


def test_every_page_carries_its_number_and_no_pre_check_footer():
    pdf = application_form_pdf(
        replace(case_form("visconteo-sud-milano-2025"), declarations=_many_declarations(12))
    )
    texts = page_texts(pdf)
    for n, text in enumerate(texts, start=1):
        assert f"Sportello B2 – pratica B2-7K3M9Q – pagina {n} di {len(texts)}" in text
        assert "Verifica preliminare" not in text


def test_the_signature_box_is_drawn_under_its_label():
    reader = PdfReader(BytesIO(application_form_pdf(case_form("ambito-5-melzo-2025"))))
    last = reader.pages[-1]
    assert "Firma del" in last.extract_text()
    content = last.get_contents().get_data().decode("latin-1")
    assert f"{85 * MM:.2f} -{25 * MM:.2f} re" in content  # fpdf2: "x y w -h re"


def test_the_form_embeds_its_fonts_on_a4():
    reader = PdfReader(BytesIO(application_form_pdf(case_form("ambito-5-melzo-2025"))))
    fonts = 0
    for page in reader.pages:
        assert round(float(page.mediabox.width) / MM) == 210
        assert round(float(page.mediabox.height) / MM) == 297
        for font in page["/Resources"]["/Font"].values():
            descendant = font.get_object()["/DescendantFonts"][0].get_object()
            assert "/FontFile2" in descendant["/FontDescriptor"].get_object()
            fonts += 1
    assert fonts >= 2


def test_emoji_in_a_name_does_not_stop_the_form():
    data = case_form("visconteo-sud-milano-2025")
    applicant = replace(data.applicant, given_name="Nicolò 🦄🧓‍🦳", family_name="D'Agostino 𝔸")
    text = " ".join(
        page_texts(application_form_pdf(replace(data, applicant=applicant, place="Rozzano 🏠")))
    )
    assert "Nicolò D'Agostino" in text and "🦄" not in text
    assert "Luogo e data: Rozzano" in text


def test_what_is_not_known_is_marked_not_invented():
    data = case_form("visconteo-sud-milano-2025")
    applicant = replace(data.applicant, tax_code="", birth_date=None, birth_place=None)
    text = " ".join(page_texts(application_form_pdf(replace(data, applicant=applicant))))
    assert "nata il non indicato" in text and "codice fiscale non indicato" in text


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(min_size=1, max_size=40), said=st.text(max_size=300))
def test_any_unicode_in_names_and_declarations_gives_a_form(name: str, said: str):
    data = case_form("ambito-5-melzo-2025")
    data = replace(
        data,
        applicant=replace(data.applicant, given_name=name),
        declarations=[Declaration("truthful", said)],
    )
    assert "Firma del" in " ".join(page_texts(application_form_pdf(data)))


def test_making_a_form_writes_no_font_subsetting_lines_at_info(caplog):
    with caplog.at_level(logging.INFO):
        application_form_pdf(case_form("ambito-5-melzo-2025"))
    assert not [r for r in caplog.records if r.name.startswith("fontTools")]


def test_the_general_declarations_come_after_the_notice_s_own():
    data = case_form("visconteo-sud-milano-2025")
    keys = [d.key for d in data.all_declarations]
    assert keys[-1] == "truthful" and keys.count("report_changes") == 1
    assert keys[0] == "residence"
    assert {d.key for d in DECLARATIONS} <= set(keys)
    assert data.date == dt.date(2025, 6, 2)
