"""Whole conversations with the real aiogram Bot and Dispatcher, over HTTP to a Bot API stand-in.

Each family answers whatever the bot asks, from a script keyed by the question's words,
so the tests prove the questionnaire asks only what the notice needs and ends in a result.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.app import build_dispatcher, set_commands
from dialogs.languages import available
from storage.db import open_db
from tests.botapi import BotAPI, Family, make_bot

Script = dict[str, list[tuple[str, str]]]
RESULT = "<b>Il risultato</b>"

OPERA: Script = {
    "In quale Comune": [("say", "Opera")],
    "Quando è nata": [("say", "20/5/1939")],
    "Vive a casa": [("press", "Sì")],
    "Quali di questi documenti": [("press", "Indennità di accompagnamento"), ("press", "Fatto")],
    "attestazione ISEE valida": [("press", "Sì, ho l'attestazione")],
    "Che tipo di ISEE": [("press", "Sociosanitario")],
    "valore ISEE": [("say", "9.800,50")],
    "Riceve già": [("press", "SAD"), ("press", "Fatto")],
    "assistente familiare pagato": [("press", "Sì")],
    "Com'è assunto": [("press", "Lo assumiamo noi")],
    "Quante ore a settimana lavora l'assistente": [("say", "30 ore")],
    "prima volta": [("press", "Sì")],
}

SETTALA: Script = {
    "In quale Comune": [("say", "settala")],
    "Quando è nata": [("say", "11 novembre 1958")],
    "Vive a casa": [("press", "Sì")],
    "Quali di questi documenti": [
        ("press", "Invalidità civile al 100%"),
        ("press", "chiesta, in attesa"),
        ("press", "Fatto"),
    ],
    "attestazione ISEE valida": [("press", "Sì, ho l'attestazione")],
    "Che tipo di ISEE": [("press", "Sociosanitario")],
    "valore ISEE": [("say", "€ 15000")],
    "Riceve già": [("press", "Fatto")],
    "Un familiare si prende cura": [("press", "Sì")],
    "Chi è questo familiare": [("press", "Marito o moglie")],
    "assistente familiare pagato": [("press", "No")],
    "Vive senza familiari": [("press", "No")],
}

CASSANO_MAGNAGO: Script = {
    "In quale Comune": [("say", "Cassano Magnago")],
    "Che cittadinanza": [("press", "Italiana")],
    "Vive a casa": [("press", "Sì")],
    "Quali di questi documenti": [("press", "Indennità di accompagnamento"), ("press", "Fatto")],
    "attestazione ISEE valida": [("press", "Sì, ho l'attestazione")],
    "Che tipo di ISEE": [("press", "Sociosanitario")],
    "valore ISEE": [("say", "11000")],
    "Riceve già": [("press", "ADI"), ("press", "Fatto")],
}

CERNUSCO: Script = {
    "In quale Comune": [("say", "Cernusco sul Naviglio")],
    "Quando è nata": [("say", "10.10.1995")],
    "Vive a casa": [("press", "Sì")],
    "Quali di questi documenti": [
        ("press", "Invalidità civile al 100%"),
        ("press", "handicap grave"),
        ("press", "Fatto"),
    ],
    "Da cosa dipende": [("press", "intellettiva")],
    "Vive senza familiari": [("press", "No")],
    "attestazione ISEE valida": [("press", "Ho fatto la DSU")],
    "Riceve già": [("press", "Fatto")],
    "Un familiare si prende cura": [("press", "Sì")],
    "Chi è questo familiare": [("press", "Padre o madre")],
    "vive con la persona assistita": [("press", "Sì")],
    "stesso stato di famiglia": [("press", "Sì")],
    "Questo familiare lavora": [("press", "Lavora part time")],
    "Quante ore a settimana lavora?": [("say", "20")],
    "invalidità al 100%": [("press", "No")],
    "assistente familiare pagato": [("press", "No")],
}


class Session:
    """A bot process: its own Bot, Dispatcher and database connection."""

    def __init__(self, api: BotAPI, db_path: Path, today: dt.date, user_id: int = 4242):
        self.bot = make_bot(api.url)  # type: ignore[attr-defined]
        self.db = open_db(db_path)
        self.dp = build_dispatcher(self.db, clock=lambda: today)
        self.family = Family(api, self.bot, self.dp, user_id=user_id)
        self.family.seen = len(api.sent(user_id))

    async def close(self) -> None:
        await self.bot.session.close()
        self.db.close()


def question_of(texts: list[str]) -> str:
    asked = [t for t in texts if "Domanda " in t or "Question " in t]
    return asked[-1] if asked else ""


async def begin(f: Family) -> list[str]:
    texts = await f.say("/start")
    texts += await f.press("Italiano")
    texts += await f.press("Sì, accetto")
    return texts


async def follow(
    f: Family, script: Script, texts: list[str], max_steps: int = 30, result_mark: str = RESULT
) -> list[str]:
    """Answer each question from the script until the result arrives."""
    everything = list(texts)
    for _ in range(max_steps):
        if any(result_mark in t for t in texts):
            return everything
        question = question_of(texts)
        keys = [k for k in script if k in question]
        assert keys, f"unexpected question: {question!r}"
        texts = []
        for action, value in script[keys[0]]:
            texts += await (f.press(value) if action == "press" else f.say(value))
        everything += texts
    raise AssertionError("no result after the scripted answers")


@pytest.mark.parametrize(
    ("script", "today", "expected"),
    [
        (
            OPERA,
            dt.date(2025, 6, 2),
            [
                "✅ <b>Buono sociale mensile per l'assistente familiare</b>",
                "protocollo@pec.comune.rozzano.mi.it",
                "(Art. 9)",
                "Il bando è aperto.",
                "Scadenza: 20/06/2025 12:00",
            ],
        ),
        (
            SETTALA,
            dt.date(2025, 6, 1),
            [
                "🟡 <b>Buono sociale mensile per il caregiver familiare</b>",
                "prima dell'approvazione delle graduatorie",
                "www.pianodizonaambito5.it",
            ],
        ),
        (
            CASSANO_MAGNAGO,
            dt.date(2026, 5, 4),
            [
                "✅ <b>Interventi integrativi sociali",
                "protocollo@cassano-magnago.it",
                "Fino a esaurimento dei fondi",
            ],
        ),
        (
            CERNUSCO,
            dt.date(2021, 4, 20),
            [
                "🟡 <b>Buono sociale mensile per il caregiver familiare</b>",
                "entro 7 giorni dalla scadenza del bando",
                "Il bando non indica le date",
            ],
        ),
    ],
    ids=["001-opera", "002-settala", "003-cassano-magnago", "004-cernusco"],
)
async def test_family_answers_only_what_the_notice_needs_and_gets_an_explained_result(
    api, db_path, script, today, expected
):
    s = Session(api, db_path, today)
    texts = await follow(s.family, script, await begin(s.family))
    result = "\n".join(texts[texts.index(next(t for t in texts if RESULT in t)) :])
    for part in expected:
        assert part in result, part
    assert "verifica preliminare" in result
    asked = {t.split("\n")[1] for t in texts if t.startswith("<i>Domanda ")}
    assert len(asked) == len(script)  # each scripted question once, nothing else
    # every button press was answered, so no phone shows a spinning clock
    presses = len([c for c in api.calls if c.method == "answerCallbackQuery"])
    assert presses == sum(1 for steps in script.values() for a, _v in steps if a == "press") + 2
    await s.close()


async def test_milano_gets_the_guidance_for_direct_assistance(api, db_path):
    s = Session(api, db_path, dt.date(2025, 9, 1))
    texts = await begin(s.family)
    texts = await s.family.say("Milano")
    joined = "\n".join(texts)
    assert "servizicrm.comune.milano.it" in joined
    assert "Assistente Sociale" in joined
    await s.close()


async def test_restart_mid_questionnaire_resumes_same_question(api, db_path):
    first = Session(api, db_path, dt.date(2025, 6, 2))
    texts = await begin(first.family)
    texts = await first.family.say("Opera")
    texts = await first.family.say("20/5/1939")
    assert "Vive a casa" in question_of(texts)
    await first.close()  # the process dies here

    second = Session(api, db_path, dt.date(2025, 6, 2))
    texts = await second.family.say("/start")
    assert "Bentornati" in texts[0]
    assert "Vive a casa" in question_of(texts)
    texts = await second.family.press("Sì")
    assert "Quali di questi documenti" in question_of(texts)
    summary = "\n".join(await second.family.say("/riepilogo"))
    assert "Opera" in summary and "20/05/1939" in summary
    await second.close()


async def test_a_new_dispatcher_continues_without_start(api, db_path):
    first = Session(api, db_path, dt.date(2025, 6, 2))
    await begin(first.family)
    await first.family.say("Opera")
    await first.close()
    second = Session(api, db_path, dt.date(2025, 6, 2))
    texts = await second.family.say("1/3/1950")
    assert "✓ 01/03/1950" in texts[0]
    assert "Vive a casa" in question_of(texts)
    await second.close()


async def test_editing_an_answer_from_the_summary_keeps_the_others(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    texts = await follow(s.family, OPERA, await begin(s.family))
    assert any("✅ <b>Buono" in t for t in texts)
    texts = await s.family.say("/riepilogo")
    assert "Valore ISEE" in "\n".join(texts)
    texts = await s.family.press("Valore ISEE")
    assert "valore ISEE" in question_of(texts)
    texts = await s.family.say("30.000")
    result = "\n".join(texts).replace("\xa0", " ")
    assert "❌ <b>Buono" in result and "supera il limite di 25.000,00 €" in result
    summary = "\n".join(await s.family.say("/riepilogo")).replace("\xa0", " ")
    for kept in ("Opera", "20/05/1939", "30.000,00 €", "SAD", "30 ore alla settimana"):
        assert kept in summary, kept
    await s.close()


async def test_changing_an_answer_asks_only_questions_that_now_matter(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await follow(s.family, OPERA, await begin(s.family))
    await s.family.say("/riepilogo")
    texts = await s.family.press("Assistente familiare")
    assert "assistente familiare pagato" in question_of(texts)
    texts = await s.family.press("No")
    assert any("❌ <b>Buono" in t for t in texts)  # no new question: the verdict is settled
    await s.close()


async def test_back_asks_the_previous_question_again(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await begin(s.family)
    await s.family.say("Opera")
    texts = await s.family.say("/indietro")
    assert "In quale Comune" in question_of(texts)
    texts = await s.family.say("Rozzano")
    assert "Quando è nata" in question_of(texts)
    await s.close()


async def test_back_then_keeping_the_answer_goes_on_to_the_next_question(api, db_path):
    """«↩️ Va bene così» under a question asked again keeps the answer (family trial 17:
    it used to say the button was no longer valid)."""
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await begin(s.family)
    await s.family.say("Opera")
    await s.family.say("1/3/1940")
    texts = await s.family.say("/indietro")
    assert "Avete risposto: 01/03/1940" in question_of(texts)
    texts = await s.family.press("Va bene così")
    assert not any("non vale più" in t for t in texts), texts
    assert "Vive a casa" in question_of(texts)
    await s.close()


async def test_near_miss_comune_offers_suggestions_as_buttons(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await begin(s.family)
    texts = await s.family.say("Rozano")
    assert "Non trovo «Rozano»" in texts[0]
    assert "Rozzano" in s.family.buttons()
    texts = await s.family.press("Rozzano")
    assert "Quando è nata" in question_of(texts)
    await s.close()


@pytest.mark.parametrize(
    ("bad", "kind_words"),
    [
        (("say", "il primo marzo"), "Non riesco a leggere la data"),
        (("say", "31/2/1950"), "Questa data non esiste"),
        (("say", "1/3/2090"), "nel futuro"),
        (("say", "x" * 4000), "troppo lungo"),
        (("photo", ""), "Adesso mi serve una risposta scritta"),
        (("forge", "a:zzz:9"), "Questo pulsante non vale più"),
        (("forge", "totally-forged"), "Questo pulsante non vale più"),
        (("forge", "a:home:7"), "Questo pulsante non vale più"),
        (("say", "/boh"), "Non conosco questo comando"),
    ],
    ids=[
        "date-words",
        "impossible-date",
        "future-date",
        "4000-chars",
        "photo",
        "forged-id",
        "forged-garbage",
        "stale-button",
        "unknown-command",
    ],
)
async def test_bad_input_gets_a_kind_message_and_the_same_question(api, db_path, bad, kind_words):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await begin(s.family)
    await s.family.say("Opera")
    action, value = bad
    if action == "say":
        texts = await s.family.say(value)
    elif action == "photo":
        texts = await s.family.send_photo()
    else:
        texts = await s.family.press("", data=value)
    assert kind_words in texts[0]
    assert "Quando è nata" in question_of(texts)
    texts = await s.family.say("1/3/1950")  # nothing was lost: the answer still works
    assert "Vive a casa" in question_of(texts)
    await s.close()


async def test_free_text_where_a_button_is_expected(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await begin(s.family)
    await s.family.say("Opera")
    await s.family.say("1/3/1950")
    texts = await s.family.say("boh, forse")
    assert "Premete Sì o No" in texts[0]
    assert "Vive a casa" in question_of(texts)
    texts = await s.family.say("sì")  # typing the button's label works too
    assert "Quali di questi documenti" in question_of(texts)
    await s.close()


async def test_a_question_answered_by_typing_loses_its_buttons_once(api, db_path):
    """Typing "sì" to a question with Sì/No takes its buttons away, as a tap would; a
    message whose buttons are gone is not edited again at the next typed answers."""
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await begin(s.family)
    await s.family.say("Opera")
    await s.family.say("1/3/1950")
    asked = api.last_keyboard_message(4242)
    assert asked is not None and "Vive a casa" in asked["text"]
    await s.family.say("sì")
    assert "reply_markup" not in api.messages[4242][asked["message_id"]]
    await s.family.press("Indennità di accompagnamento")
    await s.family.press("Fatto")
    await s.family.say("no")  # no attestation yet: one more question with buttons
    await s.family.say("boh")  # not an answer: the same question again, with its buttons
    taken = [
        int(c.params["message_id"]) for c in api.calls if c.method == "editMessageReplyMarkup"
    ]
    assert asked["message_id"] in taken
    assert len(taken) == len(set(taken)), "a keyboard already gone was taken away again"
    live = [m for m in api.messages[4242].values() if m.get("reply_markup")]
    assert len(live) == 1  # only the question on screen keeps its buttons
    await s.close()


async def test_html_in_a_typed_name_is_escaped(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await begin(s.family)
    texts = await s.family.say("<b>Roz</b><script>")
    joined = "\n".join(texts)
    assert "<script>" not in joined and "<b>Roz</b>" not in joined
    assert "&lt;b&gt;Roz&lt;/b&gt;&lt;script&gt;" in joined
    await s.close()


async def test_button_press_edits_the_question_into_a_record(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await begin(s.family)
    await s.family.say("Opera")
    await s.family.say("1/3/1950")
    await s.family.press("Sì")
    edits = [c for c in api.calls if c.method == "editMessageText"]
    assert edits[-1].params["text"].endswith("✓ <b>Sì</b>")
    assert not edits[-1].params.get("reply_markup")
    await s.close()


async def test_delete_my_data_removes_everything_after_confirmation(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await begin(s.family)
    await s.family.say("Opera")
    texts = await s.family.say("/cancella_dati")
    assert "Non si può tornare indietro" in texts[0]
    await s.family.press("Sì, cancella tutto")
    assert s.db.execute("select count(*) from users").fetchone()[0] == 0
    rows = s.db.execute("select count(*) from fsm where data like '%Opera%'").fetchone()[0]
    assert rows == 0
    texts = await s.family.say("/start")
    assert "Scegliete la lingua" in texts[0]
    await s.close()


async def test_declining_the_privacy_notice_stores_nothing(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await s.family.say("/start")
    await s.family.press("Italiano")
    texts = await s.family.press("No")
    assert "Non salviamo nulla" in texts[0]
    assert s.db.execute("select count(*) from users").fetchone()[0] == 0
    await s.close()


async def test_typing_after_declining_privacy_asks_for_consent_again(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await s.family.say("/start")
    await s.family.press("Italiano")
    await s.family.press("No")
    texts = await s.family.say("Rozzano")  # issue 9: KeyError 'answers'
    assert "Scegliete la lingua" in texts[-1]
    await s.family.press("Italiano")
    texts = await s.family.press("Sì, accetto")
    assert "In quale Comune" in texts[-1]
    texts = await s.family.say("Rozzano")
    assert texts[0] == "✓ Rozzano (MI)"
    await s.close()


async def test_typing_after_deleting_the_data_asks_for_consent_again(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await begin(s.family)
    await s.family.say("/cancella_dati")
    await s.family.press("Sì, cancella tutto")
    texts = await s.family.say("Rozzano")
    assert "Scegliete la lingua" in texts[-1]
    assert s.db.execute("select count(*) from fsm where data like '%Rozzano%'").fetchone()[0] == 0
    # a stale button of the old conversation does not skip the consent either
    texts = await s.family.press("", data="sum")
    assert "Scegliete la lingua" in texts[-1]
    await s.close()


async def test_command_menu_is_set_in_each_language(api, db_path):
    s = Session(api, db_path, dt.date(2025, 6, 2))
    await set_commands(s.bot)
    menus = [c.params for c in api.calls if c.method == "setMyCommands"]
    assert len(menus) == len(available())  # the default (Italian), then one per language
    names = [c["command"] for c in menus[0]["commands"]]
    assert names == [
        "start",
        "riepilogo",
        "indietro",
        "ricomincia",
        "annulla",
        "documenti",
        "avvisi",
        "lingua",
        "aiuto",
        "privacy",
        "cancella_dati",
    ]
    assert [m.get("language_code") for m in menus] == [None, *available()[1:]]
    assert menus[0]["commands"][0]["description"] == "Inizia o riprendi"
    for menu in menus[1:]:  # each in its own language, the commands themselves unchanged
        assert [c["command"] for c in menu["commands"]] == names
        assert menu["commands"][0]["description"] != "Inizia o riprendi"
    await s.close()


async def test_family_choosing_english_gets_questions_and_result_in_english(api, db_path):
    s = Session(api, db_path, dt.date(2026, 5, 4))
    await s.family.say("/start")
    texts = await s.family.press("English")
    assert "Privacy" in texts[-1] and "Siete d'accordo" not in texts[-1]
    agree = next(b for b in s.family.buttons() if b != "No")
    texts = await s.family.press(agree)
    assert "Question 1</i>" in texts[-1]
    texts = await s.family.say("Cassano Magnago")
    assert "citizenship" in texts[-1].lower()
    await s.family.press("Italian")
    await s.family.press("Yes")
    await s.family.press("Attendance allowance (")
    await s.family.press("Done")
    await s.family.press("Yes")
    await s.family.press("Sociosanitario")
    await s.family.say("11.000")
    texts = await s.family.press("Done")
    result = "\n".join(texts)
    assert "The result" in result
    assert "Ha la certificazione" not in result  # engine sentences are translated too
    assert "€11,000.00" in result and "€25,000.00" in result  # amounts the English way
    assert "protocollo@cassano-magnago.it" in result
    await s.close()
