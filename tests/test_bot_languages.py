"""A whole conversation in each new language, through the real aiogram Dispatcher and the
Bot API stand-in: Telegram's language picked at first contact, /start, the questions, a
birth date and an ISEE typed the way a speaker of the language types them, the result,
the form details and the checklist. And Arabic, read right to left, with its values in
Unicode isolates so names, dates and euro amounts do not scramble."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from dataclasses import dataclass

import pytest
from babel.messages.pofile import read_po
from pypdf import PdfReader

from bot.i18n import LOCALES, make_i18n
from dialogs.languages import FSI, PDI, display_name, translator
from dialogs.questions import BY_KEY
from tests.test_bot_conversation import Session
from tests.test_bot_dossier import APPLICANT_CF, ASSISTANT, BENEFICIARY_CF, IBAN

TODAY = dt.date(2025, 6, 2)  # the Visconteo Sud Milano notice (Opera) is open


@dataclass(frozen=True)
class Speaker:
    telegram: str  # Telegram's language_code on the family's phone
    birth: str  # 20 May 1939, as they type it
    isee: str  # as they type it
    hours: str
    shown: tuple[str, ...]  # how the bot writes the answers back (Babel's CLDR formats)
    words: tuple[str, ...]  # a few words of the result, in that language


SPEAKERS = {
    "ro": Speaker(
        "ro",
        "20 mai 1939",
        "12 000",
        "30 de ore",
        ("20 mai 1939", "12.000,00\xa0€", "30 de ore pe săptămână"),
        ("Rezultatul", "Anunțul este deschis."),
    ),
    "uk": Speaker(
        "uk",
        "20 травня 1939",
        "12 000",
        "30 годин",
        ("20 трав. 1939\u202fр.", "12\xa0000,00\xa0€", "30 годин на тиждень"),
        ("Результат",),
    ),
    "es": Speaker(
        "es-PE",
        "20 de mayo de 1939",
        "12.000",
        "30 horas",
        ("20 may 1939", "12.000,00\xa0€", "30 horas por semana"),
        ("El resultado", "La convocatoria está abierta."),
    ),
    "ar": Speaker(
        "ar",
        "٢٠ مايو ١٩٣٩",
        "١٢٬٥٠٠",
        "٣٠ ساعة",
        ("20 مايو 1939", "\u200f12,500.00\xa0€", "30 ساعة في الأسبوع"),
        ("النتيجة", "الإعلان مفتوح."),
    ),
    "sq": Speaker(
        "sq",
        "20 maj 1939",
        "12 000",
        "30 orë",
        ("20 maj 1939", "12\xa0000,00\xa0€", "30 orë/javë"),
        ("Rezultati",),
    ),
    "zh": Speaker(
        "zh-hans",
        "1939年5月20日",
        "12,500欧元",
        "30小时",
        ("1939年5月20日", "€12,500.00", "30小时/周"),
        ("结果", "申请已开放。"),
    ),
}

# The Opera family of the Italian conversation test, by fact: what they press (an
# Italian label, shown translated) or type (per language).
ANSWERS = {
    "municipality": [("say", "Opera")],
    "beneficiary.birth_date": [("say", "birth")],
    "beneficiary.lives_at_home": [("press", "Sì")],
    "beneficiary.certifications": [("press", "Indennità di accompagnamento"), ("done", "Fatto")],
    "isee.status": [("press", "Sì, ho l'attestazione")],
    "isee.kind": [("press", "Sociosanitario")],
    "isee.value": [("say", "isee")],
    "current_measures": [("press", "SAD (assistenza domiciliare del Comune)"), ("done", "Fatto")],
    "assistant.employed": [("press", "Sì")],
    "assistant.contract": [("press", "Lo assumiamo noi, con contratto")],
    "assistant.weekly_hours": [("say", "hours")],
    "first_application": [("press", "Sì")],
}


def plain(text: str) -> str:
    return html.unescape(text).replace(FSI, "").replace(PDI, "")


def italian_sentences(language: str) -> list[str]:
    """Every Italian message of five words or more that the language's catalog translates:
    none may reach a family that chose it. (Official names the translation keeps in Italian,
    with a word of explanation, are allowed: "Ambito distrettuale ... (districtul ...)".)"""
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    return [
        m.id
        for m in catalog
        if isinstance(m.id, str)
        and len(m.id.split()) >= 5
        and "{" not in m.id
        and m.id not in m.string
    ]


RLM = "\u200f"  # every Arabic button starts with it (bot.rtl)


def _prompts(key: str) -> list[str]:
    """A question's usual wording, and the wordings of the notices that ask it their way
    (Opera's "first time": a B2 with a care worker in 2024)."""
    from eligibility import load_catalogue

    prompts = [BY_KEY[key].prompt]
    for notice in load_catalogue().notices:
        for rule in notice.common_requirements + [
            r for m in notice.measures for r in m.requirements
        ]:
            if getattr(rule, "fact", None) == key and getattr(rule, "question", None):
                prompts.append(rule.question)
    return prompts


async def conversation(s: Session, language: str, speaker: Speaker) -> list[str]:
    """From /start to the checklist; returns everything the bot said."""
    f = s.family
    f.user["language_code"] = speaker.telegram
    _ = translator(make_i18n(), language)

    def t(label: str) -> str:
        return plain(_(label))

    said = await f.say("/start")
    # first contact: Telegram's language comes first, and the question is in it too
    assert f.buttons()[0].lstrip(RLM) == display_name(language)
    assert t("Scegliete la lingua") in plain(said[-1])
    said += await f.press(display_name(language))
    assert t("Privacy, in breve:") in plain(said[-1])
    said += await f.press(t("Sì, accetto"))
    for _step in range(20):
        last = plain(said[-1])
        if any(f"<b>{html.escape(_('Il risultato'), quote=False)}</b>" in x for x in said):
            break
        keys = [k for k in ANSWERS if any(t(p) in last for p in _prompts(k))]
        assert keys, f"unexpected question: {last!r}"
        for action, value in ANSWERS[keys[0]]:
            if action == "press":
                said += await f.press(t(value))
            elif action == "done":  # "➡️ Done": in Arabic تم is also in "تم طلب" (requested)
                said += await f.press(f"➡️ {t(value)}")
            else:
                said += await f.say(getattr(speaker, value, value))
    else:
        raise AssertionError("no result")
    said += await f.press(t("📝 Prepara la domanda"))
    said += await f.press(t("Il figlio o la figlia"))
    for typed in ("Maria", "Rossi", APPLICANT_CF, "Via Verdi 5", "20089 Rozzano", "333 123 4567"):
        said += await f.say(typed)
    said += await f.press(t("Non ce l'ho · Avanti"))
    for typed in ("Giuseppe", "Rossi", BENEFICIARY_CF, "Via Roma 12", "20073", "15/01/2025"):
        said += await f.say(typed)
    said += await f.press(t("La persona assistita"))
    said += await f.say(IBAN)
    said += await f.say(ASSISTANT)
    return said


@pytest.mark.parametrize("language", list(SPEAKERS))
async def test_a_family_talks_in_its_language_from_start_to_the_checklist(api, db_path, language):
    speaker = SPEAKERS[language]
    s = Session(api, db_path, TODAY)
    said = await conversation(s, language, speaker)
    _ = translator(make_i18n(), language)
    everything = "\n".join(plain(x) for x in said)
    for value in speaker.shown:  # the date, the ISEE and the hours as the language writes them
        assert f"✓ {value}" in everything or value in everything, value
    for words in speaker.words:
        assert words in everything, words
    assert plain(_("La verifica è preliminare: decidono i servizi sociali.")) in everything
    assert "protocollo@pec.comune.rozzano.mi.it" in everything  # addresses stay as they are
    checklist = plain(said[-1])
    assert plain(_("Documenti della domanda")) in checklist
    assert plain(_("Carta d'identità di chi firma")) in checklist
    left_in_italian = [m for m in italian_sentences(language) if m in everything]
    assert left_in_italian == []
    # the chosen language is kept, whatever Telegram says later
    s.family.user["language_code"] = "it"
    again = "\n".join(plain(x) for x in await s.family.say("/aiuto"))
    assert plain(_("State preparando la domanda.")) in again
    await s.close()


async def test_arabic_keeps_names_dates_and_amounts_whole_inside_right_to_left_text(api, db_path):
    s = Session(api, db_path, TODAY)
    said = await conversation(s, "ar", SPEAKERS["ar"])
    raw = "\n".join(html.unescape(x) for x in said)
    # each value the bot fills into an Arabic sentence sits in its own isolate
    assert f"✓ {FSI}\u200f12,500.00\xa0€{PDI}" in raw
    assert f"✓ {FSI}20 مايو 1939{PDI}" in raw
    assert f"{FSI}20 يونيو 2025، 12:00{PDI}" in raw  # the deadline, in the result
    assert f"({FSI}Art. " in raw  # the notice's article after a translated sentence
    assert f"السؤال {FSI}1{PDI}</i>" in raw  # before the comune: no total yet
    assert re.search(f"السؤال {FSI}2{PDI} من {FSI}\\d+{PDI} على الأكثر", raw)
    # every amount and date the bot formats is inside an isolate, nowhere bare (the
    # notices' own sentences may say "200 €" in words of their own: that is their text)
    bare = re.sub(f"{FSI}[^{FSI}{PDI}]*{PDI}", "", raw)
    assert not re.search(r"\d\.\d\d\xa0€", bare)
    assert not re.search(r"\d{1,2} (يونيو|مايو) \d{4}", bare)
    # isolates open and close in pairs, in every message
    for text in said:
        assert text.count(FSI) == text.count(PDI)
    # buttons stay readable: each speaks Arabic (an Italian name keeps its explanation),
    # and any value in one is isolated like in the messages
    buttons = s.family.buttons()
    assert buttons
    for label in buttons:
        assert re.search("[\u0600-\u06ff]", label), label
        assert label.count(FSI) == label.count(PDI)
    await s.close()


async def test_the_command_menu_and_the_language_list_speak_every_language(api, db_path):
    s = Session(api, db_path, TODAY)
    await s.family.say("/start")
    names = s.family.buttons()
    for name in ("Italiano", "English", "Română", "Українська", "Español", "العربية", "Shqip"):
        assert name in names
    assert "中文" in names
    await s.close()


async def test_before_signing_the_chat_explains_each_declaration_of_the_italian_form(api, db_path):
    """The form stays Italian (it is for the comune); the chat says, in the family's
    language, one line per declaration, what signing it declares."""
    from dialogs.sending_view import (
        BANK_LINE,
        DECLARATION_LINES,
        DECLARING,
        PRIVACY_CONSENT,
        UNDER_DPR_445,
    )
    from tests.test_bot_dossier import upload_everything

    s = Session(api, db_path, TODAY)
    await conversation(s, "ro", SPEAKERS["ro"])
    _ = translator(make_i18n(), "ro")
    await upload_everything(s, shown=lambda label: plain(_(label)))
    said = await s.family.press(plain(_("📝 Prepara il modulo da firmare")))
    _name, pdf, _caption = api.documents[4242][-1]
    form = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "DICHIARA" in form and "445" in form  # the form: Italian
    assert "che il beneficiario vive presso il proprio domicilio" in form
    explained = plain(said[-1])
    # one plain line per kind of declaration this form prints (this case: 001, Opera)
    kinds = ["residence", "age", "at_home", "certifications", "isee", "benefits"]
    kinds += ["first_application", "assistant", "report_changes", "truthful"]
    lines = [DECLARING, UNDER_DPR_445, *(DECLARATION_LINES[k] for k in kinds), BANK_LINE]
    for line in [*lines, PRIVACY_CONSENT]:
        assert plain(_(line)) in explained, line
        assert explained.count(plain(_(line))) == 1, line
    for kind in set(DECLARATION_LINES) - set(kinds):  # not this case's
        assert plain(_(DECLARATION_LINES[kind])) not in explained, kind
    assert explained.index(plain(_(DECLARING))) < explained.index(
        plain(_("1. Stampate il modulo e firmatelo in fondo."))
    )
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert f"({pages})" in explained  # "fiecărei pagini (3)": the count, in Romanian
    await s.close()


def test_every_declaration_the_form_prints_has_its_line_in_the_chat():
    """A declaration added to the form (issue 12 rewrites them) needs its plain line; until
    it has one, the chat shows the form's Italian words rather than nothing."""
    from dialogs.paperwork import PaperworkView
    from dialogs.sending_view import DECLARATION_LINES
    from dossier.form import DECLARATIONS, Declaration
    from eligibility.declarations import KINDS

    assert set(KINDS) == set(DECLARATION_LINES)  # every kind a notice may declare
    assert {d.key for d in DECLARATIONS} <= set(DECLARATION_LINES)
    view = PaperworkView(translator(make_i18n(), "uk"), "uk")
    new = Declaration("new_one", "di essere residente in Lombardia;")
    twice = Declaration("truthful", "che i dati sono veri, di nuovo")
    lines = view.declarations([*DECLARATIONS, twice, new])
    assert "<i>di essere residente in Lombardia;</i>" in lines[-2]
    assert len(lines) == 2 + len(DECLARATIONS) + 1 + 1  # heading, DPR 445, each kind, privacy


def test_a_status_in_arabic_keeps_the_date_time_and_the_address_whole():
    """Status messages are escaped before their values go in: the isolates survive it."""
    from dialogs.paperwork import PaperworkView

    view = PaperworkView(translator(make_i18n(), "ar"), "ar")
    text = view.status(
        {
            "dossier_id": "B2-7K3M9Q",
            "status": "consegnata",
            "at": "2025-06-12T10:41:00",
            "detail": {"recipient": "protocollo@pec.comune.rozzano.mi.it"},
        }
    )
    assert f"{FSI}protocollo@pec.comune.rozzano.mi.it{PDI}" in text
    assert f"{FSI}B2-7K3M9Q{PDI}" in text
    assert f"{FSI}12 يونيو 2025{PDI}" in text and f"{FSI}10:41{PDI}" in text
    italian = PaperworkView(translator(make_i18n(), "it"), "it").status(
        {
            "dossier_id": "B2-7K3M9Q",
            "status": "consegnata",
            "at": "2025-06-12T10:41:00",
            "detail": {"recipient": "protocollo@pec.comune.rozzano.mi.it"},
        }
    )
    assert italian == (
        "Consegnata il 12/06/2025 alle 10:41 alla casella del protocollo: "
        "protocollo@pec.comune.rozzano.mi.it. Pratica B2-7K3M9Q."
    )  # no isolates where the text runs left to right


async def test_changing_language_halfway_keeps_the_answers_and_asks_again_in_the_new_one(
    api, db_path
):
    s = Session(api, db_path, TODAY)
    f = s.family
    await f.say("/start")
    await f.press("Italiano")
    await f.press("Sì, accetto")
    await f.say("Opera")
    await f.say("20/5/1939")
    await f.say("/lingua")
    said = await f.press("Українська")
    uk = translator(make_i18n(), "uk")
    assert plain(uk(BY_KEY["beneficiary.lives_at_home"].prompt)) in plain(said[-1])
    said = await f.say("/riepilogo")
    assert "Opera" in plain(said[-1]) and "20 трав. 1939" in plain(said[-1])
    await s.close()


def test_an_outcome_told_in_arabic_isolates_the_place_and_the_reason():
    from dialogs.paperwork import PaperworkView

    view = PaperworkView(translator(make_i18n(), "ar"), "ar")
    ranked = view.status(
        {
            "dossier_id": "B2-7K3M9Q",
            "status": "esito",
            "detail": {"outcome": "in_graduatoria", "position": 3},
        }
    )
    assert f"{FSI}3{PDI}" in ranked and f"{FSI}B2-7K3M9Q{PDI}" in ranked
    refused = view.status(
        {
            "dossier_id": "B2-7K3M9Q",
            "status": "esito",
            "detail": {"outcome": "esclusa", "reason": "ISEE oltre {limite} <25.000 €>"},
        }
    )
    assert f"{FSI}ISEE oltre {{limite}} &lt;25.000 €&gt;{PDI}" in refused  # text, escaped
    assert refused.count(FSI) == refused.count(PDI) == 2


async def test_every_arabic_line_and_button_starts_right_to_left(api, db_path):
    """Telegram lays out each line by its first letter: "✅ Buono sociale …: يمكنكم طلبه"
    would run left to right. Every line and button of an Arabic message starts with RLM."""
    s = Session(api, db_path, TODAY)
    said = await conversation(s, "ar", SPEAKERS["ar"])
    arabic = [t for t in said if re.search("[\u0600-\u06ff]", t)]
    assert any("Buono" in t for t in arabic)  # the result, with its Italian measure names
    for text in arabic:
        for line in text.split("\n"):
            assert not line or line.startswith("\u200f"), line
    for label in s.family.buttons():
        assert label.startswith("\u200f") or not re.search("[\u0600-\u06ff]", label), label
    await s.close()


async def test_an_italian_chat_gets_no_right_to_left_marks(api, db_path):
    from tests.test_bot_conversation import OPERA, begin, follow

    s = Session(api, db_path, TODAY)
    said = await follow(s.family, OPERA, await begin(s.family))
    assert any("Il risultato" in t for t in said)
    assert not any("\u200f" in t for t in said)
    await s.close()


@pytest.mark.parametrize(
    ("language", "date_example", "amount_example"),
    [
        ("zh", "1950年3月1日", "12,000.50"),
        ("en", "1/3/1950", "12,000.50"),
        ("uk", "01.03.1950", "12\xa0000,50"),
    ],
)
def test_examples_and_hints_are_written_the_way_of_the_familys_language(
    language, date_example, amount_example
):
    import datetime as dt

    from bot.i18n import make_i18n
    from dialogs.flow import Dialog, new_state
    from dialogs.languages import translator
    from dialogs.parsing import AnswerError, parse_amount, parse_date
    from eligibility import load_catalogue

    _ = translator(make_i18n(), language)
    d = Dialog(load_catalogue(), dt.date(2025, 6, 2), _, language)
    state = {**new_state(), "stage": "asking"}
    d.on_text(state, "Opera")
    asked = d.ask(state)[-1].text
    assert date_example in asked  # "For example: …" under the birth-date question
    with pytest.raises(AnswerError) as err:
        parse_date("ieri l'altro", dt.date(2025, 6, 2))
    assert date_example in _(err.value.message)
    with pytest.raises(AnswerError) as err:
        parse_amount("tanti")
    assert amount_example in _(err.value.message)
    assert "12.000,50" not in _(err.value.message) or language in ("it", "es", "ro")
