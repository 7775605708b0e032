"""A new year's notice from an existing one (pure: eligibility/notice_derive.py), and the
limits a notice file from outside is read with (eligibility/yaml_guard.py)."""

from __future__ import annotations

import datetime as dt
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
    assert "year" in by_field and "«2025»" in by_field["year"].message
    deadline = by_field["common_requirements.2.followups.caf_appointment.by"]
    assert deadline.line is not None and "22/06/2025" in deadline.message
    assert made.text.splitlines()[deadline.line - 1].strip() == "by: 2025-06-22"
    wrong_kind = by_field["common_requirements.2.texts.wrong_kind"]  # "fino a 40.000 €"
    assert "«40.000», l'importo di prima" in wrong_kind.message
    assert not any("25.000" in s or "25000" in s for s in said)  # unchanged: not named
    assert any(n.field == "source" for n in made.notes)


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
