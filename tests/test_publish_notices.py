"""An Ambito's operator checks, publishes and withdraws a notice of their own (not a bundled
one), and a running bot uses it within a minute, with no restart and no release."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import pytest

from backoffice.routes.audit import detail_text  # the Registro's words for a row
from bot.app import build_dispatcher
from bot.cli import main
from dialogs.live_catalogue import RELOAD_EVERY, LiveCatalogue
from eligibility import check, load_catalogue, validate
from storage import audit
from storage import notices as published
from storage.db import open_db
from tests.botapi import Family, make_bot
from tests.example_notice import EXAMPLE, EXAMPLE_SOURCE
from tests.test_bot_conversation import RESULT, follow

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_ID = "esempio-brianza-2027"
OPEN_DAY = dt.date(2027, 3, 20)
GIUSSANO = {
    "Vive a casa": [("press", "Sì")],
    "Quali di questi documenti": [("press", "Indennità di accompagnamento"), ("press", "Fatto")],
    "attestazione ISEE valida": [("press", "Sì, ho l'attestazione")],
    "Che tipo di ISEE": [("press", "Sociosanitario")],
    "valore ISEE": [("say", "14000")],
    "Riceve già": [("press", "Fatto")],
    "Un familiare si prende cura": [("press", "Sì")],
    "assistente familiare pagato": [("press", "No")],
}


def sportello(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "var"
    monkeypatch.setenv("SPORTELLO_DATA_DIR", str(folder))
    return folder


def test_the_example_notice_is_not_a_bundled_one():
    catalogue = load_catalogue()
    assert EXAMPLE_ID not in {n.id for n in catalogue.notices}
    assert "ESEMPIO" in EXAMPLE.read_text(encoding="utf-8").splitlines()[0]
    assert not list((ROOT / "eligibility" / "data").rglob("esempio*"))


def test_the_example_as_shipped_cannot_be_published_until_its_marker_is_removed(data_dir):
    code, out, err = sportello("notice", "check", str(EXAMPLE_SOURCE), "--today", "2027-03-20")
    assert code == 2
    assert "Non si può pubblicare: 1 problema da correggere." in err
    assert "before_publishing.0: da fare prima di pubblicare: Questo è un esempio" in err
    assert "togliete la riga" in err
    assert "Buono mensile per il caregiver familiare" in out  # still a notice that teaches
    code, _out, err = sportello("notice", "publish", str(EXAMPLE_SOURCE), "--by", "op")
    assert code == 2
    assert sportello("notices")[1].count(EXAMPLE_ID) == 0


def test_check_prints_the_notice_as_a_family_reads_it_and_says_it_can_be_published(data_dir):
    code, out, err = sportello("notice", "check", str(EXAMPLE), "--today", "2027-03-20")
    assert code == 0, err
    assert "ESEMPIO – Avviso Misura B2 2027" in out
    assert "Giussano" in out and "100 € al mese" in out
    assert "Fonte: Avviso di esempio Misura B2" in out  # its own document, not a seed file
    assert "https://ambito-esempio.invalid/avvisi/b2-2027" in out
    assert "Si può pubblicare" in err
    assert not (data_dir / "sportello.sqlite3").exists()  # checking writes nothing


def broken_copy(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    target = tmp_path / "rotto.yaml"
    target.write_text(text, encoding="utf-8")
    return target


def test_a_broken_file_exits_2_with_a_line_naming_the_field(tmp_path, data_dir):
    path = broken_copy(
        tmp_path,
        ("closes: 2027-04-15T12:00:00", "closes: 15 aprile 2027"),
        ("  - name: Renate", "  - name: Renat"),
        ("channel: email", "channel: posta"),
    )
    code, _out, err = sportello("notice", "check", str(path))
    assert code == 2
    lines = err.splitlines()
    closes = next(line for line in lines if "window.closes" in line)
    assert "rotto.yaml, riga 29" in closes and "2027-04-15" in closes and "15 aprile 2027" in closes
    assert any("municipalities.5.name" in line and "Forse: Renate" in line for line in lines)
    assert any("submission.channel" in line and "valore non ammesso" in line for line in lines)
    assert "Non si può pubblicare: 3 problemi" in err
    code, _out, err = sportello("notice", "publish", str(path))
    assert code == 2 and "Non pubblicato" in err
    assert not (data_dir / "sportello.sqlite3").exists()


def test_a_case_that_fails_beside_the_notice_stops_the_publication(tmp_path, data_dir):
    path = tmp_path / "esempio.yaml"
    shutil.copy(EXAMPLE, path)
    cases = EXAMPLE.with_name(f"{EXAMPLE_ID}.cases.yaml").read_text(encoding="utf-8")
    cases = cases.replace("{buono_caregiver: not_eligible}", "{buono_caregiver: eligible}")
    (tmp_path / "esempio.cases.yaml").write_text(cases, encoding="utf-8")
    code, _out, err = sportello("notice", "check", str(path))
    assert code == 2
    assert "esempio.cases.yaml, riga" in err
    assert (
        "«ISEE sopra 25.000 €: no»: per buono_caregiver il caso dice «sì», il risultato è «no»"
        in err
    )


def test_a_placeholder_the_rule_cannot_fill_is_a_problem(tmp_path, data_dir):
    path = broken_copy(
        tmp_path,
        (
            'failed: "Questo buono è per chi è assistito da un familiare."',
            'failed: "Questo buono è per chi ha {anni} anni."',
        ),
    )
    code, _out, err = sportello("notice", "check", str(path))
    assert code == 2
    assert "{anni} non si può riempire qui; si può usare: {value}" in err


def test_a_notice_must_cite_its_own_document_not_a_seed(tmp_path, data_dir):
    block = EXAMPLE.read_text(encoding="utf-8").split("document:\n")[1].split("year:")[0]
    path = broken_copy(tmp_path, ("document:\n" + block, "source: 001_1012f43f3fae6e09.txt\n"))
    code, _out, err = sportello("notice", "check", str(path))
    assert code == 2
    assert "document: manca: titolo, data e indirizzo dove l'avviso è pubblicato" in err
    assert "source: è per gli avvisi inclusi nel programma: usate `document`" in err


async def test_published_while_the_bot_runs_a_family_finds_it_within_a_minute(api, data_dir):
    db = open_db(data_dir / "sportello.sqlite3")
    now = [1000.0]
    live = LiveCatalogue(db, clock=lambda: now[0])
    assert RELOAD_EVERY <= 30  # "entro 30 secondi", as the publish command and the README say
    bot = make_bot(api.url)
    dp = build_dispatcher(db, catalogue=live, clock=lambda: OPEN_DAY)
    family = Family(api, bot, dp, user_id=5151)
    await family.say("/start")
    await family.press("Italiano")
    await family.press("Sì, accetto")
    texts = await family.say("Giussano")
    assert "✓ Giussano (MB)" in texts[0]
    assert "Quali di questi documenti" in texts[-1]  # the regional pre-check asks

    code, out, err = sportello("notice", "publish", str(EXAMPLE), "--by", "anna.rossi")
    assert code == 0, err
    assert "Pubblicato: esempio-brianza-2027, versione 1, da anna.rossi" in out

    now[0] += 5  # a few seconds later the bot has not looked yet: the old catalogue
    await family.say("/ricomincia")
    texts = await family.say("Giussano")
    assert "Quali di questi documenti" in texts[-1] and "Quando è nata" not in texts[-1]

    now[0] += RELOAD_EVERY  # within the minute: the published notice is in use
    await family.say("/ricomincia")
    texts = await family.say("Giussano")
    assert "Vive a casa" in texts[-1]  # the notice's questions now
    texts = await follow(family, GIUSSANO, texts)
    result = "\n".join(texts[texts.index(next(t for t in texts if RESULT in t)) :])
    assert "ESEMPIO – Avviso Misura B2 2027" in result
    assert "📄 Avviso di esempio Misura B2 – FNA 2026, esercizio 2027, 01/03/2027" in result
    assert "✅ <b>Buono mensile per il caregiver familiare</b>: potete chiederlo" in result
    assert "protocollo@ambito-esempio.invalid" in result

    code, out, _ = sportello("notices", "--today", "2027-03-20")
    line = next(x for x in out.splitlines() if x.startswith(EXAMPLE_ID))
    assert "aperto" in line and "pubblicato v1 da anna.rossi" in line
    assert "visconteo-sud-milano-2025\tchiuso\tincluso" in out

    code, out, _ = sportello("notice", "publish", str(EXAMPLE), "--by", "anna.rossi")
    assert code == 0 and "versione 2" in out
    assert [p.version for p in published.history(db, EXAMPLE_ID)] == [1, 2]  # both kept

    code, out, err = sportello("notice", "unpublish", EXAMPLE_ID, "--by", "capo")
    assert code == 0, err
    assert "Ritirato: esempio-brianza-2027, versione 2, da capo" in out
    now[0] += RELOAD_EVERY
    await family.say("/ricomincia")
    texts = await family.say("Giussano")
    assert "Quali di questi documenti" in texts[-1]  # back to the regional pre-check
    code, out, _ = sportello("notices")
    assert f"{EXAMPLE_ID}\tritirato\tv2 ritirato da capo" in out
    code, _out, err = sportello("notice", "unpublish", EXAMPLE_ID)
    assert code == 2 and "non è un avviso pubblicato in vigore" in err
    await bot.session.close()
    db.close()


def test_a_published_notice_cites_its_own_document_in_the_verdict(data_dir):
    assert sportello("notice", "publish", str(EXAMPLE), "--by", "op")[0] == 0
    db = open_db(data_dir / "sportello.sqlite3")
    live = LiveCatalogue(db)
    verdict = check(validate({"municipality": "Renate", "application_date": "2027-03-20"}), live)
    assert verdict["notice"]["id"] == EXAMPLE_ID and verdict["notice"]["bundled"] is False
    assert verdict["notice"]["source"] == (
        "Avviso di esempio Misura B2 – FNA 2026, esercizio 2027, 01/03/2027, "
        "https://ambito-esempio.invalid/avvisi/b2-2027"
    )
    code, out, _ = sportello("notice", EXAMPLE_ID, "--today", "2027-03-20")
    assert code == 0 and "Stato oggi: aperto" in out


async def test_an_untranslated_sentence_of_a_published_notice_is_shown_in_italian_marked(
    api, data_dir
):
    assert sportello("notice", "publish", str(EXAMPLE), "--by", "op")[0] == 0
    db = open_db(data_dir / "sportello.sqlite3")
    bot = make_bot(api.url)
    dp = build_dispatcher(db, clock=lambda: OPEN_DAY)
    family = Family(api, bot, dp, user_id=6161, language_code="en")
    await family.say("/start")
    await family.press("English")
    agree = next(b for b in family.buttons() if b != "No")
    await family.press(agree)
    texts = await family.say("Giussano")
    script = {
        "live at home": [("press", "Yes")],
        "Which of these documents": [("press", "Attendance allowance"), ("press", "Done")],
        "valid ISEE": [("press", "Yes, I have")],
        "What type of ISEE": [("press", "Sociosanitario")],
        "ISEE value": [("say", "14000")],
        "already receive": [("press", "Done")],
        "family member look after": [("press", "Yes")],
        "paid care worker": [("press", "No")],
    }
    texts = await follow(family, script, texts, result_mark="<b>The result</b>")
    result = "\n".join(texts)
    assert "Some sentences of this notice are not translated yet" in result
    assert "🇮🇹 Buono mensile per il caregiver familiare" in result  # the notice's own words
    assert ": you can apply" in result  # our own words, translated
    assert "🇮🇹 Lives at home" not in result and "Lives at home, not in a care home" in result
    await bot.session.close()
    db.close()


@pytest.mark.parametrize(
    "deep",
    [
        "[" * 20_000 + "]" * 20_000,
        "{a: " * 10_000 + "1" + "}" * 10_000,
        "\n" + "- " * 20_000 + "x",
    ],
    ids=["flow lists", "flow maps", "block lists"],
)
def test_a_notice_nested_twenty_thousand_deep_is_a_problem_not_a_traceback(
    tmp_path, data_dir, deep
):
    path = broken_copy(tmp_path, ("equals: true", "equals: " + deep))
    code, _out, err = sportello("notice", "check", str(path))
    assert code == 2 and "Traceback" not in err and "RecursionError" not in err
    assert "livelli" in err or "non si legge" in err
    cases = path.with_name(path.name.removesuffix(".yaml") + ".cases.yaml")
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    cases.write_text("notice: x\ncases: " + deep, encoding="utf-8")
    code, _out, err = sportello("notice", "check", str(path))
    assert code == 2 and "Traceback" not in err and "livelli" in err


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            ("  - name: Albiate\n", "  - name: Albiate\n   - name: Broken\n"),
            "riga 19, colonna 4): qui ci si aspettava un'altra riga dell'elenco",
        ),
        (
            ('ambito: "Ambito di esempio', 'ambito: "Ambito: di esempio'),
            "",  # inside quotes a colon is fine: no syntax problem at all
        ),
        (
            ('year: "FNA 2026, esercizio 2027"', "year: FNA 2026: esercizio 2027"),
            "riga 14, colonna 15): c'è un «:» dove non può stare",
        ),
        (("programme: dgr-3719-2024\n", "programme: dgr-3719-2024\n\tx: 1\n"), "tabulatore"),
    ],
)
def test_a_yaml_syntax_error_is_said_in_italian_with_line_and_column(
    tmp_path, data_dir, change, said
):
    code, _out, err = sportello("notice", "check", str(broken_copy(tmp_path, change)))
    if not said:
        assert "non si legge" not in err
        return
    assert code == 2
    line = next(x for x in err.splitlines() if "il file non si legge" in x)
    assert said in line, line
    for english in ("did not", "expected", "found", "mapping", "token", "while"):
        assert english not in line


def test_cli_publish_and_unpublish_are_in_the_registro_with_who_and_the_file(data_dir):
    assert sportello("notice", "publish", str(EXAMPLE), "--by", "anna.rossi")[0] == 0
    assert sportello("notice", "unpublish", EXAMPLE_ID, "--by", "capo")[0] == 0
    db = open_db(data_dir / "sportello.sqlite3")
    rows = [(e["action"], e["staff_email"], e["detail"]) for e in audit.entries(db, limit=10)]
    assert rows[::-1] == [
        (
            "publish_notice",
            "anna.rossi",
            {"notice": EXAMPLE_ID, "version": 1, "file": EXAMPLE.name, "via": "cli"},
        ),
        ("unpublish_notice", "capo", {"notice": EXAMPLE_ID, "version": 1, "via": "cli"}),
    ]
    assert detail_text("publish_notice", rows[1][2]) == (
        f"avviso {EXAMPLE_ID}; versione 1; file {EXAMPLE.name}; "
        "dalla riga di comando (sportello notice)"
    )
    checked = {"file": "avviso-vimercate-2027.yaml", "cases": True}  # "Prova di un file"
    assert detail_text("check_notice", checked) == "file avviso-vimercate-2027.yaml con i casi"
