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
    )
    assert "1. Italiano" in out
    assert "Domanda 1 di circa" in out
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
