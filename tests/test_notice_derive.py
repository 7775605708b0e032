"""A new year's notice from an existing one (pure: eligibility/notice_derive.py), and the
limits a notice file from outside is read with (eligibility/yaml_guard.py)."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from eligibility import CatalogueError, load_catalogue
from eligibility.catalogue import DATA_DIR
from eligibility.notice_derive import current, derive
from eligibility.notice_file import check_notice, parse_notice
from eligibility.yaml_guard import oversized

NOTICES = DATA_DIR / "notices"


def new_year(notice_id: str, **over):
    catalogue = load_catalogue()
    notice = catalogue.notice(notice_id)
    changes = current(notice)
    changes.document_title = "Avviso Misura B2 2026"
    changes.document_date = dt.date(2026, 3, 2)
    changes.document_address = "https://ambito.example.invalid/b2-2026"
    changes.opens = dt.date(2026, 3, 16)
    changes.closes = dt.datetime(2026, 4, 16, 12, 0)
    for key, value in over.items():
        setattr(changes, key, value)
    text = (NOTICES / f"{notice_id}.yaml").read_text(encoding="utf-8")
    cases = (NOTICES / f"{notice_id}.cases.yaml").read_text(encoding="utf-8")
    return notice, changes, derive(text, notice, changes, catalogue, cases)


@pytest.mark.parametrize(
    "notice_id",
    [
        "visconteo-sud-milano-2025",
        "ambito-5-melzo-2025",
        "gallarate-riapertura-2026",
        "distretto-4-cernusco-2021",
    ],
)
def test_every_bundled_notice_gives_a_new_one_that_can_be_published(notice_id):
    _notice, changes, made = new_year(notice_id)
    report = check_notice(made.text, load_catalogue(), made.cases_text)
    assert report.publishable, [str(p) for p in report.problems]
    new = report.notice
    assert new.id == changes.id and new.id != notice_id
    assert new.source is None and new.document.address.endswith("b2-2026")
    assert new.window.closes == dt.datetime(2026, 4, 16, 12, 0)
    assert new.window.text == "Domande dal 16/03/2026 alle ore 12:00 del 16/04/2026."
    assert made.cases_text is None or made.cases_kept  # kept cases all hold (checked above)


def test_the_original_structure_and_comments_stay_and_only_the_changes_differ():
    original = (NOTICES / "ambito-5-melzo-2025.yaml").read_text(encoding="utf-8")
    _notice, _changes, made = new_year("ambito-5-melzo-2025")
    # everything below the window, but the ISEE follow-up dates, is the original's text
    tail = original.split("common_requirements:")[1]
    assert made.text.split("common_requirements:")[1] == tail
    assert "  text: >-\n    La domanda si fa solo online" in made.text  # the folded block
    assert "# Avviso derivato da «ambito-5-melzo-2025»" in made.text.splitlines()[1]
    assert "Seed: 002" not in made.text  # the old heading described the old notice


def test_what_is_left_of_last_year_is_named_with_line_and_field():
    _notice, _changes, made = new_year(
        "ambito-5-melzo-2025",
        ceilings={
            "common_requirements.2.limits.0": 25000,
            "common_requirements.2.limits.1": 45000,
            "measures.2.requirements.0.limits.0": 30000,
        },
    )
    said = [str(n) for n in made.notes]
    by_field = {n.field: n for n in made.notes}
    assert "year" not in by_field and "document.title" not in by_field  # typed in the form
    deadline = by_field["common_requirements.2.followups.caf_appointment.by"]
    assert deadline.line is not None and "22/06/2025" in deadline.message
    assert made.text.splitlines()[deadline.line - 1].strip() == "by: 2025-06-22"
    wrong_kind = by_field["common_requirements.2.texts.wrong_kind"]  # "fino a 40.000 €"
    assert "«40.000», l'importo di prima" in wrong_kind.message
    assert not any("25.000" in s or "25000" in s for s in said)  # unchanged: not named
    assert any(n.field == "source" for n in made.notes)


def test_a_year_written_in_words_is_named_but_not_an_act_number():
    _notice, _changes, made = new_year("visconteo-sud-milano-2025")
    by_field = {n.field: n.message for n in made.notes}
    continuity = by_field["measures.0.requirements.0.texts.failed"]  # "nel 2024"
    assert "dice ancora «2024»" in continuity
    acts = [  # "DGR 3719/2024", "D.lgs 29/2024": acts, not last year
        i + 1 for i, line in enumerate(made.text.splitlines()) if re.search(r"\d/2024", line)
    ]
    assert len(acts) >= 3 and not {n.line for n in made.notes} & set(acts)
    assert "document.title" not in by_field and "year" not in by_field


def test_cases_that_no_longer_hold_are_dropped_and_named():
    _notice, changes, made = new_year("visconteo-sud-milano-2025")
    assert made.cases_text is not None
    assert f"notice: {changes.id}" in made.cases_text
    assert any("20 June 2025" in d for d in made.cases_dropped)  # the old closing moment
    assert len(made.cases_kept) > 40
    assert "2026-03-" in made.cases_text  # the application dates moved with the opening


def test_a_billion_laughs_is_refused_before_anything_expands_it():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    started = time.monotonic()
    report = check_notice(bomb, load_catalogue())
    assert time.monotonic() - started < 2
    assert "più di 50.000 valori" in report.problems[0].message
    with pytest.raises(CatalogueError, match="valori"):
        parse_notice(bomb)


def test_the_bundled_cases_with_anchors_are_within_the_limits():
    for path in NOTICES.glob("*.yaml"):
        assert oversized(path.read_text(encoding="utf-8")) is None, path.name


VIMERCATE = ["Vimercate", "Arcore", "Concorezzo", "Usmate Velate", "Bernareggio"]


def test_other_comuni_with_the_old_ambito_is_not_publishable_and_says_which_sentences():
    _notice, _changes, made = new_year(
        "visconteo-sud-milano-2025",
        comuni=VIMERCATE,
        address="protocollo@pec.offertasocialeasc.it",
        submission_text="Inviate la domanda per PEC a Offerta Sociale.",
    )
    report = check_notice(made.text, load_catalogue(), made.cases_text)
    assert not report.publishable
    said = {p.field: p.message for p in report.problems}
    assert all(f.startswith("before_publishing.") for f in said)
    text = "\n".join(said.values())
    assert "I Comuni sono cambiati ma l'Ambito è ancora «Ambito distrettuale Visconteo" in text
    # the residence declaration the family signs (DPR 445) would be false: named
    assert "declarations.0.says: La frase «che {beneficiario} è residente nel Comune" in text
    assert "submission.alternatives.0.address: La frase nomina ancora Rozzano" in text
    assert "submission.addressee: La frase nomina ancora Rozzano" in text
    assert all("togliete la riga" in m for m in said.values())
    lines = made.text.splitlines()
    for p in report.problems:  # each problem's line is its entry in the file
        assert lines[p.line - 1].lstrip().startswith("- ")


def test_a_new_ambito_is_carried_into_every_sentence_that_names_it():
    _notice, _changes, made = new_year(
        "visconteo-sud-milano-2025",
        comuni=VIMERCATE,
        ambito="Ambito di Vimercate e Trezzo (capofila Vimercate)",
        address="protocollo@pec.offertasocialeasc.it",
        addressee="Offerta Sociale asc, per l'Ambito di Vimercate e Trezzo – Ufficio Protocollo",
        submission_text="Inviate la domanda per PEC a Offerta Sociale.",
        alternatives=[
            {
                "address": "Ufficio Protocollo di Offerta Sociale, via Assunta 59, Vimercate",
                "addressee": "Offerta Sociale asc – Ufficio Protocollo",
                "text": "Consegna a mano all'Ufficio Protocollo di Offerta Sociale.",
            }
        ],
    )
    report = check_notice(made.text, load_catalogue(), made.cases_text)
    assert report.publishable, [str(p) for p in report.problems]
    notice = report.notice
    assert notice.ambito == "Ambito di Vimercate e Trezzo (capofila Vimercate)"
    residence = next(d for d in notice.declarations if d.kind == "residence")
    assert " ".join(residence.says.split()).endswith(
        "uno dei Comuni dell'Ambito di Vimercate e Trezzo"
    )
    office = notice.submission.alternatives[0]
    assert office.address.startswith("Ufficio Protocollo di Offerta Sociale")
    assert office.addressee == "Offerta Sociale asc – Ufficio Protocollo"
    body = made.text.split("\n", 4)[4]  # below the heading
    assert "Rozzano" not in body and "Visconteo" not in body
    assert "before_publishing" not in body


def test_an_office_emptied_in_the_form_is_taken_away():
    _notice, _changes, made = new_year(
        "visconteo-sud-milano-2025",
        alternatives=[{"address": "", "addressee": "", "text": ""}],
    )
    report = check_notice(made.text, load_catalogue(), made.cases_text)
    assert report.notice.submission.alternatives == []


def test_a_higher_isee_ceiling_moves_the_ranking_points_with_it():
    key = "common_requirements.3.limits.0"
    _notice, _changes, made = new_year("visconteo-sud-milano-2025", ceilings={key: 26000})
    report = check_notice(made.text, load_catalogue(), made.cases_text)
    assert report.publishable, [str(p) for p in report.problems]
    isee = report.notice.ranking.components["isee"]
    assert isee.bands[-1].max == 26000
    assert "fino a 26.000 € → 10 punti" in isee.text
    moved = next(n for n in made.notes if n.field == "ranking.components.isee")
    assert "ora arriva a 26.000,00 €" in moved.message and "prima 25.000,00 €" in moved.message


def test_a_ceiling_above_the_isee_points_table_is_a_problem_of_the_check():
    text = (NOTICES / "visconteo-sud-milano-2025.yaml").read_text(encoding="utf-8")
    text = text.replace("        max: 25000\n", "        max: 26000\n", 1)
    report = check_notice(text, load_catalogue())
    gap = next(p for p in report.problems if p.field == "ranking.components.isee.bands")
    assert "non coprono l'ISEE da 25.000,01 € a 26.000,00 €" in gap.message
    assert "entro il limite di 26.000,00 €" in gap.message
    assert text.splitlines()[gap.line - 2].strip() == "bands:"  # its first band
    same = check_notice(text.replace("max: 26000", "max: 25000", 1), load_catalogue())
    assert not [p for p in same.problems if "ranking" in p.field]


def test_kept_cases_carry_no_old_date_and_each_move_is_named():
    _notice, _changes, made = new_year("visconteo-sud-milano-2025")
    assert made.cases_text is not None
    body = made.cases_text.split("\ncases:", 1)[1]
    cases_only = "\n".join(x for x in body.splitlines() if "seed:" not in x)
    assert "2025-06-20" not in cases_only and "20/06/2025" not in cases_only
    # the old closing moment becomes the new one, exactly
    assert any("20/06/2025 12:00 → 16/04/2026 12:00" in m for m in made.cases_moved)
    # the cases that expect the old date in a sentence now expect the new one; while the
    # notice still says 20/06/2025 (a note names it) they are dropped, and say so
    dsu = next(d for d in made.cases_dropped if d.startswith("«DSU filed"))
    assert "(date spostate: 20/06/2025 → 16/04/2026)" in dsu
