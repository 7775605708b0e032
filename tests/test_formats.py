"""Dates and amounts are written the way each language writes them."""

import datetime as dt

from dialogs.formats import Formats
from dialogs.render import render_result
from eligibility import check, validate


def test_italian_and_english_dates_and_amounts():
    it, en = Formats("it"), Formats("en")
    assert it.date(dt.date(1950, 3, 1)) == "01/03/1950"
    assert en.date(dt.date(1950, 3, 1)) == "1 Mar 1950"
    assert it.money(9800.5).replace("\xa0", " ") == "9.800,50 €"
    assert en.money(9800.5) == "€9,800.50"
    assert it.iso("2025-06-20T12:00:00") == "20/06/2025 12:00"
    assert en.iso("2025-06-12T23:59:59") == "12 Jun 2025"


def test_result_deadline_follows_the_language():
    verdict = check(validate({"municipality": "Opera", "application_date": "2025-06-02"}))
    italian = "\n".join(render_result(verdict, lambda m: m, Formats("it")))
    english = "\n".join(render_result(verdict, lambda m: m, Formats("en")))
    assert "Scadenza: 20/06/2025 12:00" in italian
    assert "Scadenza: 20 Jun 2025, 12:00" in english  # identity gettext: only the format differs
