"""`sportello console`, driven through standard input as a person would type."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def console(data_dir: Path, lines: list[str], *options: str) -> str:
    exe = Path(sys.executable).with_name("sportello")
    done = subprocess.run(
        [str(exe), "console", *options],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, "SPORTELLO_DATA_DIR": str(data_dir)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_console_questionnaire_reaches_a_result_with_numbers_and_labels(tmp_path):
    out = console(
        tmp_path,
        [
            "1",
            "Sì, accetto",
            "Cassano Magnago",
            "1",
            "Sì",
            "1",
            "Fatto",
            "1",
            "1",
            "11000",
            "Fatto",
        ],
        "--today",
        "2026-04-15",
    )
    assert "1. Italiano" in out
    # the privacy notice promises no warning the counter cannot give (no chat to write to)
    assert "Vi avvisiamo" not in out
    assert "Allo sportello non possiamo avvisarvi prima." in out
    assert "Chiedete allo sportello una copia della domanda." in out
    assert "Domanda 1\n" in out  # before the comune, no total: the notice decides
    assert "Domanda 2 di 9 al massimo" in out and "Domanda 8 di 9 al massimo" in out
    assert "Il risultato" in out
    assert "✅ Interventi integrativi sociali (assistenza diretta): potete chiederlo" in out
    assert "protocollo@cassano-magnago.it" in out
    assert "verifica preliminare" in out
    assert "<b>" not in out


def test_console_remembers_answers_between_runs(tmp_path):
    console(tmp_path, ["1", "1", "Rozzano", "1/3/1950"])
    out = console(tmp_path, ["/riepilogo"])
    assert "Bentornati" in out
    assert "Vive a casa" in out.split("Bentornati")[1]
    assert "Rozzano" in out and "01/03/1950" in out
    assert (tmp_path / "sportello.sqlite3").exists()


def test_console_bad_date_gets_help_and_the_same_question(tmp_path):
    out = console(tmp_path, ["1", "1", "Opera", "ieri"])
    assert "Non riesco a leggere la data. Scrivetela così: 1/3/1950." in out
    assert out.count("Quando è nata") == 2


def test_console_today_option_sets_the_filing_date(tmp_path):
    lines = [
        "1",
        "1",
        "Rozzano",
        "1/1/1940",
        "Sì",
        "1",
        "Fatto",
        "1",
        "1",
        "9000",
        "Fatto",
        "Sì",
        "1",
        "30",
        "Sì",
    ]
    out = console(tmp_path, lines, "--today", "2025-06-02")
    assert "Il bando è aperto." in out
    assert "Il bando è chiuso" not in out


def test_console_after_refusing_privacy_asks_for_consent_before_storing(tmp_path):
    # issue 9: "1, 2, Rozzano" crashed with KeyError: 'answers'
    out = console(tmp_path, ["1", "2", "Rozzano"])
    assert "Non salviamo nulla" in out
    after = out.split("Non salviamo nulla")[1]
    assert "Scegliete la lingua" in after
    assert "✓ Rozzano" not in out
    out = console(tmp_path, ["1", "Sì, accetto", "Rozzano"])
    assert "✓ Rozzano" in out


def test_console_after_deleting_the_data_asks_for_consent_again(tmp_path):
    # issue 9: the line after /cancella_dati was taken as the comune, then a crash
    out = console(tmp_path, ["1", "1", "/cancella_dati", "Rozzano", "1", "1", "Rozzano"])
    after = out.split("abbiamo cancellato tutti i vostri dati")[1]
    assert after.index("Scegliete la lingua") < after.index("Siete d'accordo?")
    assert after.index("Siete d'accordo?") < after.index("✓ Rozzano")
    assert after.count("✓ Rozzano") == 1



def test_console_a_file_attached_before_there_is_an_application_is_answered(tmp_path):
    """/allega during the questions (family trial 17: no answer at all)."""
    scan = tmp_path / "ci.jpg"
    scan.write_bytes(b"not read")
    out = console(tmp_path, ["1", "1", f"/allega {scan}", "Opera"])
    assert "Non state ancora preparando una domanda" in out
    assert "✓ Opera" in out  # the questions go on

CONSOLE_WITHOUT_AIOGRAM = """
import io, re, sys
from bot.cli import main
out = io.StringIO()
def typed():  # an option by a part of its label, as on screen; else the words typed
    for line in sys.stdin.read().splitlines():
        found = re.findall(r"^  (\\d+)\\. (.*)$", out.getvalue(), re.M)
        yield next((n for n, label in reversed(found) if line in label), line)
code = main(["console", "--today", "2025-06-02"], out=out, err=io.StringIO(), stdin=typed())
screen = out.getvalue()
assert code == 0 and "Chi firma la domanda?" in screen and "Il cognome di chi firma" in screen, screen[-2000:]
print(sorted(m for m in sys.modules if m.split(".")[0] == "aiogram"))
"""


def test_the_console_prepares_an_application_without_loading_aiogram(tmp_path):
    """aiogram's Telegram types cost seconds at start-up: the console (the questions, the
    result, the form's details) never imports them."""
    from tests.test_console_application import QUESTIONNAIRE

    lines = [*QUESTIONNAIRE, "Prepara la domanda", "Il figlio o la figlia", "maria", "/esci"]
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE_WITHOUT_AIOGRAM],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "SPORTELLO_DATA_DIR": str(tmp_path)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"


def test_console_several_answers_on_one_line_are_the_whole_answer(tmp_path):
    """Family trial 17: «SAD» typed at a question with several answers closed it at once,
    when the screen said to type the numbers one at a time. The screen now says both
    ways: one number at a time then «Fatto», or all on one line, which is the answer."""
    out = console(
        tmp_path,
        ["1", "Sì, accetto", "Cassano Magnago", "1", "Sì", "1, 3"],
        "--today",
        "2026-04-15",
    )
    assert "Oppure tutti in una riga, ed è la risposta: per esempio 1, 3." in out
    assert "✓ Indennità di accompagnamento e L. 104 art. 3 comma 3 (handicap grave)" in out
    assert "Domanda 5 di" in out  # the next question: no «Fatto» needed


def test_console_an_answer_not_understood_is_told_in_the_counter_s_words(tmp_path):
    out = console(
        tmp_path,
        ["1", "Sì, accetto", "Opera", "20/5/1939", "Sì", "1", "Fatto", "1", "boh", "boh"],
        "--today",
        "2025-06-02",
    )
    assert "Per rispondere, scrivete il numero di una delle risposte qui sotto." in out
    assert "Non ho capito. Scrivete il numero di una risposta qui sopra" in out  # again
    assert "Toccate uno dei pulsanti" not in out
