"""What the bot and `sportello notice` say about a notice is true and complete, against its seed."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest

from bot.cli import main
from dialogs.flow import Dialog, new_state
from dialogs.render import render_result
from eligibility import check, load_catalogue, validate

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
CATALOGUE = load_catalogue()
ENTRIES = [*CATALOGUE.notices, *CATALOGUE.guidance]


def notice_text(notice_id: str, today: str = "2025-06-02") -> str:
    out, err = io.StringIO(), io.StringIO()
    assert main(["notice", notice_id, "--today", today], out=out, err=err) == 0, err.getvalue()
    return out.getvalue().replace("\xa0", " ")


def result(facts: dict, language: str = "it") -> str:
    verdict = check(validate(facts), CATALOGUE)
    return "\n\n".join(render_result(verdict, lambda s: s))


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_sportello_notice_prints_no_placeholder(entry):
    text = notice_text(entry.id)
    assert "{" not in text and "…" not in text, re.findall(r".*[{…].*", text)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_sportello_notice_says_no_line_twice(entry):
    lines = [line for line in notice_text(entry.id).splitlines() if line.strip().startswith("- ")]
    twice = {line for line in lines if lines.count(line) > 1}
    assert twice == set()


def test_sportello_notice_states_every_isee_ceiling():
    assert "ISEE sociosanitario o sociosanitario (nucleo ristretto): fino a 25.000,00 €" in (
        notice_text("visconteo-sud-milano-2025")
    )
    melzo = notice_text("ambito-5-melzo-2025")
    assert "ordinario: fino a 25.000,00 €" in melzo
    assert "ISEE ordinario per i minori: fino a 40.000,00 €" in melzo
    assert "fino a 30.000,00 €" in melzo  # the assegno per l'autonomia
    assert "Età: almeno 65 anni" in notice_text("visconteo-sud-milano-2025")
    assert "Ore di lavoro dell'assistente a settimana: almeno 10." in (
        notice_text("distretto-4-cernusco-2021")
    )


def test_what_the_seeds_say_and_the_notice_left_out_is_there():
    visconteo = notice_text("visconteo-sud-milano-2025")
    assert "L. 328/2000" in visconteo and "CDD" in visconteo  # Art. 9, "possono ritenersi…"
    assert "la graduatoria scorre" in visconteo  # Art. 5
    assert "All. B" in visconteo
    gallarate = notice_text("gallarate-riapertura-2026")
    assert "Il mese in corso è riconosciuto" in gallarate and "eredi" in gallarate  # Art. 7
    assert "controlli a campione" in gallarate  # Art. 11
    cernusco = notice_text("distretto-4-cernusco-2021")
    for part in ("Via Tizzoni 2", "02.9278434", "pianodizona@comune.cernuscosulnaviglio.mi.it"):
        assert part in cernusco
    assert "dpo@comune.cernuscosulnaviglio.mi.it" in cernusco
    assert "7 giorni" in cernusco  # documents and ISEE after the closing
    assert "22/06/2025" in notice_text("ambito-5-melzo-2025")  # ISEE 10 days after


def test_every_contact_is_in_its_seed():
    for notice in CATALOGUE.notices:
        seed = (SEEDS / notice.source).read_text(encoding="utf-8")
        for contact in notice.contacts:
            for token in re.findall(r"[\w.]+@[\w.]+|\d{2}\.\d{7}", contact.text):
                assert token in seed, token


def test_melzo_cites_the_regional_programme_not_another_notice():
    facts = {
        "municipality": "Melzo",
        "application_date": "2025-06-01",
        "beneficiary": {
            "birth_date": "1950-01-01",
            "certifications": ["indennita_accompagnamento"],
        },
        "isee": {"kind": "sociosanitario", "value": 9000},
        "current_measures": ["misura_b1", "ricovero_sollievo"],
        "caregiver": {"present": True, "relationship": "other_relative"},
    }
    verdict = check(validate(facts), CATALOGUE)
    sources = [r["source"] for m in verdict["measures"] for r in m["reasons"]]
    sources += [c["source"] for c in verdict["incompatible"] + verdict["compatible"]]
    assert any("DGR XII/3719" in s for s in sources)
    assert not [s for s in sources if re.search(r"\b00[0-4]\b", s or "")], sources
    assert "003" not in notice_text("ambito-5-melzo-2025").split("Comuni")[1]


def test_a_closed_notice_says_first_that_it_is_closed_and_what_the_family_would_have_had():
    facts = {
        "municipality": "Rozzano",
        "application_date": "2025-07-01",
        "beneficiary": {
            "birth_date": "1939-05-20",
            "lives_at_home": True,
            "certifications": ["indennita_accompagnamento"],
        },
        "isee": {"kind": "sociosanitario", "value": 9800},
        "current_measures": [],
        "assistant": {"employed": True, "contract": "direct", "weekly_hours": 30},
        "first_application": True,
    }
    text = result(facts)
    blocks = text.split("\n\n")
    assert blocks[2].startswith("📅 Il bando è chiuso: ora non si può fare domanda.")
    assert "con queste risposte avreste potuto chiederlo" in text
    assert "potete chiederlo" not in text and "presto" not in text
    assert "come siete messi" not in text
    assert "Come fare domanda" not in text  # nothing to send now


def test_a_notice_open_until_funds_run_out_says_presto_only_while_open():
    facts = {
        "municipality": "Gallarate",
        "beneficiary": {
            "citizenship": "it",
            "lives_at_home": True,
            "certifications": ["legge104_art3c3_pending"],
        },
        "isee": {"kind": "sociosanitario", "value": 9000},
        "current_measures": [],
    }
    open_ = result({**facts, "application_date": "2026-04-10"})
    closed = result({**facts, "application_date": "2026-07-10"})
    assert "meglio fare domanda presto" in open_
    assert "presto" not in closed and "potete chiederlo" not in closed


def test_a_date_we_read_rather_than_the_notice_says_is_marked_as_ours():
    rozzano = result({"municipality": "Rozzano", "application_date": "2025-06-02"})
    assert "L'apertura è una nostra lettura" in rozzano
    gallarate = result({"municipality": "Gallarate", "application_date": "2026-04-02"})
    assert "La chiusura è una nostra lettura" in gallarate
    assert "nostra lettura" in notice_text("gallarate-riapertura-2026")


def test_other_benefits_are_named_with_their_article():
    facts = {
        "municipality": "Rozzano",
        "application_date": "2025-06-02",
        "current_measures": ["misura_b1", "bonus_assistente_familiare_lr15"],
    }
    text = result(facts)
    assert "Ricevete già la Misura B1" in text
    assert "rinunciare a Misura" not in text and "rinunciare a bonus" not in text


def test_an_unknown_channel_is_said_once_plainly():
    text = notice_text("gallarate-riapertura-2026")
    assert "Modo di invio non indicato: chiedete ai servizi sociali del Comune." in text
    assert "indirizzo non indicato" not in text


def test_lives_at_home_agrees_with_the_question():
    facts = {
        "municipality": "Opera",
        "application_date": "2025-06-02",
        "beneficiary": {"lives_at_home": True},
    }
    assert "Vive a casa, non in una struttura." in result(facts)
    assert "Vive a casa propria" not in result(facts)


def test_milano_guidance_follows_the_note_and_checks_nothing():
    text = result({"municipality": "Milano", "application_date": "2025-09-01"})
    assert text.index("UVM") < text.index("Assistente Sociale")  # the seed's order
    assert "Aiuto a casa" in text and "Attività fuori casa" in text and "RSA o RSD" in text
    assert "verifica preliminare" not in text and "non è una verifica" in text


def test_the_isee_document_names_the_kind_this_family_has():
    base = {
        "municipality": "Melzo",
        "application_date": "2025-06-01",
        "beneficiary": {"lives_at_home": True, "certifications": ["indennita_accompagnamento"]},
        "current_measures": [],
    }
    minor = check(
        validate(
            {
                **base,
                "beneficiary": {**base["beneficiary"], "birth_date": "2015-01-01"},
                "isee": {"kind": "minorenni", "value": 30000},
            }
        ),
        CATALOGUE,
    )
    adult = check(
        validate(
            {
                **base,
                "beneficiary": {**base["beneficiary"], "birth_date": "1980-01-01"},
                "isee": {"kind": "sociosanitario", "value": 20000},
            }
        ),
        CATALOGUE,
    )
    for verdict, expected in (
        (minor, "Attestazione ISEE che avete"),
        (adult, "Attestazione ISEE sociosanitario"),
    ):
        texts = [d["text"] for d in verdict["documents"] if d["id"] == "isee_attestation"]
        assert len(texts) == 1 and texts[0].startswith(expected), texts
        assert "sociosanitario o ordinario" not in texts[0]


ANSWERS = {
    "comune": None,
    "date": "1/3/1950",
    "amount": "12000",
    "hours": "30",
}


def run_questionnaire(comune: str, today: dt.date) -> list[tuple[int, int | None]]:
    """Answer every question with its first option; return each question's counter."""
    dialog = Dialog(CATALOGUE, today, lambda s: s)
    state = new_state()
    state["stage"] = "asking"
    seen = []
    for _ in range(40):
        question = dialog.current(state)
        if question is None:
            return seen
        seen.append(dialog.progress(state))
        if question.kind == "comune":
            dialog.on_text(state, comune)
        elif question.kind == "multi":
            dialog.on_button(state, f"t:{question.qid}:0")
            dialog.on_button(state, f"d:{question.qid}")
        elif question.kind in ("choice", "yesno"):
            dialog.on_button(state, f"a:{question.qid}:0")
        else:
            dialog.on_text(state, ANSWERS[question.kind])
    raise AssertionError("no result")


@pytest.mark.parametrize(
    ("comune", "today"),
    [
        ("Opera", "2025-06-02"),
        ("Melzo", "2025-06-01"),
        ("Cassano Magnago", "2026-04-02"),
        ("Cernusco sul Naviglio", "2021-04-20"),
    ],
)
def test_the_question_counter_never_promises_fewer_questions_than_it_asks(comune, today):
    seen = run_questionnaire(comune, dt.date.fromisoformat(today))
    assert seen[0] == (1, None)
    totals = [t for _n, t in seen[1:]]
    assert totals == sorted(totals, reverse=True), totals  # the bound never grows
    assert all(n <= t for n, t in seen[1:]), seen


async def test_an_isee_typed_under_1000_euro_is_asked_again_before_it_is_kept(api, db_path):
    from tests.test_bot_conversation import Session, begin, question_of

    s = Session(api, db_path, dt.date(2025, 6, 2))
    f = s.family
    await begin(f)
    for say in ("Opera", "20/5/1939"):
        await f.say(say)
    await f.press("Sì")
    await f.press("Indennità di accompagnamento")
    await f.press("Fatto")
    await f.press("Sì, ho l'attestazione")
    await f.press("Sociosanitario")
    texts = await f.say("18.5")
    assert "Avete scritto 18,50\xa0€" in texts[-1]
    assert "Riceve già" not in question_of(texts)  # nothing kept yet
    texts = await f.press("No, 18.500,00")
    assert "✓ 18.500,00\xa0€" in texts[0] and "Riceve già" in question_of(texts)
    summary = "\n".join(await f.say("/riepilogo"))
    assert "Valore ISEE: 18.500,00\xa0€" in summary
    # a plain typo kept on purpose: "Sì" keeps the small figure
    await f.say("/riepilogo")
    await f.press("Valore ISEE")
    await f.say("17")
    texts = await f.press("Sì, 17,00")
    assert "✓ 17,00\xa0€" in texts[0]
    await s.close()


def test_the_data_protection_officer_is_not_among_the_familys_contacts():
    facts = {"municipality": "Cernusco sul Naviglio", "application_date": "2021-04-20"}
    shown = "\n".join(c["text"] for c in check(validate(facts))["contacts"])
    assert "pianodizona@comune.cernuscosulnaviglio.mi.it" in shown
    assert "dpo@" not in shown
    assert "dpo@comune.cernuscosulnaviglio.mi.it" in notice_text("distretto-4-cernusco-2021")
