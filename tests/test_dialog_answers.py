"""How typed answers are read, and what changing an answer does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dialogs.flow import Dialog
from dialogs.parsing import AnswerError, parse_amount, parse_date, parse_hours
from eligibility import load_catalogue

TODAY = dt.date(2025, 6, 2)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("12.000", "12000.00"),
        ("12.000,50", "12000.50"),
        ("€ 12000", "12000.00"),
        ("12000 euro", "12000.00"),
        ("12,000", "12000.00"),
        ("1,250,000.50", "1250000.50"),
        ("12,50", "12.50"),
        ("9800,5", "9800.50"),
        ("12 000", "12000.00"),
        ("dodicimila", "12000.00"),  # in words, as the hours and dates are read
        ("diciottomila e cinquecento", "18500.00"),
    ],
)
def test_isee_typed_the_ways_people_type_it_is_accepted(typed, value):
    assert parse_amount(typed) == Decimal(value)


@pytest.mark.parametrize("typed", ["boh", "-5", "12.000.000.000", ""])
def test_unreadable_amount_says_how_to_type_it(typed):
    with pytest.raises(AnswerError) as err:
        parse_amount(typed)
    assert "12.000,50" in err.value.message


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("1/3/1950", dt.date(1950, 3, 1)),
        ("01.03.1950", dt.date(1950, 3, 1)),
        ("1 marzo 1950", dt.date(1950, 3, 1)),
        ("1 mar 1950", dt.date(1950, 3, 1)),
        ("1950-03-01", dt.date(1950, 3, 1)),
        ("1-3-50", dt.date(1950, 3, 1)),
        ("1 March 1950", dt.date(1950, 3, 1)),
    ],
)
def test_dates_typed_the_italian_way_are_accepted(typed, day):
    assert parse_date(typed, TODAY) == day


def test_hours_accept_ore_and_decimal_comma():
    assert parse_hours("25 ore") == 25.0
    assert parse_hours("25,5") == 25.5
    with pytest.raises(AnswerError):
        parse_hours("200")


def test_comune_short_forms_are_understood():
    catalogue = load_catalogue()
    assert catalogue.find("Rozzano (MI)", TODAY).name == "Rozzano"
    # every Lombard comune is known: the ones with a notice on file come first
    assert catalogue.find("Cernusco", TODAY).suggestions == [
        "Cernusco sul Naviglio",
        "Cernusco Lombardone",
    ]
    assert catalogue.find("Cassano", TODAY).suggestions == [
        "Cassano Magnago",
        "Cassano d'Adda",
        "Cassano Valcuvia",
    ]


def test_leaving_in_the_middle_of_a_change_keeps_the_old_answer():
    d = Dialog(load_catalogue(), TODAY, lambda m: m)
    state: dict = {}
    d.start(state)
    d.on_button(state, "lang:it")
    d.on_button(state, "priv:yes")
    d.on_text(state, "Opera")
    d.on_text(state, "1/3/1950")
    d.edit(state, "bd")  # the family opens the birth date to change it, then leaves
    assert state["answers"]["beneficiary.birth_date"] == "1950-03-01"
    again = d.start(state)  # days later
    assert "Bentornati" in again.replies[0].text
    assert state["answers"]["beneficiary.birth_date"] == "1950-03-01"


def test_going_back_then_keeping_the_answer_goes_on_without_calling_the_button_old():
    from dialogs.flow import new_state
    from dialogs.languages import untranslated

    dialog = Dialog(load_catalogue(), TODAY, untranslated, "it")
    state = new_state()
    state["stage"] = "asking"
    dialog.on_text(state, "Opera")
    dialog.on_text(state, "1/3/1940")
    again = dialog.back(state).replies[-1]
    assert "Avete risposto: 01/03/1940" in again.text
    keep = next(b for row in again.buttons for b in row if "Va bene così" in b.label)
    replies = dialog.on_button(state, keep.data).replies
    assert "non vale più" not in replies[0].text
    assert replies[0].text.endswith("✓ <b>01/03/1940</b>")
    assert "Vive a casa" in replies[-1].text
    assert state["answers"]["beneficiary.birth_date"] == "1940-03-01"


def test_a_line_typed_at_a_multiple_answer_asked_again_replaces_the_old_answer():
    """Family trial 18: certifications changed from /riepilogo (1, 2, 3 given) by typing
    «3, 4»: the four were kept, declaring the L. 104 granted and still pending. A line
    typed is the answer; ticks tapped since asking again are added to, as before."""
    from dialogs.flow import new_state
    from dialogs.languages import untranslated

    dialog = Dialog(load_catalogue(), TODAY, untranslated, "it")
    state = new_state()
    state["stage"] = "asking"
    dialog.on_text(state, "Opera")
    dialog.on_text(state, "1/3/1940")
    dialog.on_text(state, "Sì")
    dialog.on_text(state, "1, 2, 3")
    given = state["answers"]["beneficiary.certifications"]
    assert given == ["indennita_accompagnamento", "invalidita_100", "legge104_art3c3"]
    dialog.edit(state, "cert")
    dialog.on_text(state, "3, 4")
    assert state["answers"]["beneficiary.certifications"] == [
        "legge104_art3c3",
        "legge104_art3c3_pending",
    ]
    dialog.edit(state, "cert")  # a tick tapped first, then a line: both count
    tick = next(
        b.data
        for row in dialog.edit(state, "cert")[0].buttons
        for b in row
        if "Indennità di accompagnamento" in b.label
    )
    dialog.on_button(state, tick)
    dialog.on_text(state, "4")
    assert state["answers"]["beneficiary.certifications"] == [
        "indennita_accompagnamento",
        "legge104_art3c3",
        "legge104_art3c3_pending",
    ]


def test_coming_back_lands_on_the_question_that_was_on_screen():
    """Family trial 18: gone back to the birth date (/indietro) and left, the next visit
    asked the question after it, so «01.03.1940» got «Scrivete Sì o No»; and a family
    that had only given consent was asked the language and consent again."""
    from dialogs.flow import new_state
    from dialogs.languages import untranslated

    dialog = Dialog(load_catalogue(), TODAY, untranslated, "it")
    state = new_state()
    dialog.on_button(state, "lang:it")
    dialog.on_button(state, "priv:yes")
    again = dialog.start(state).replies
    assert "Bentornati" in again[0].text and "In quale Comune" in again[-1].text
    dialog.on_text(state, "Opera")
    dialog.on_text(state, "1/3/1940")
    dialog.back(state)  # the birth date asked again, then the family leaves
    again = dialog.start(state).replies  # days later
    assert "Quando è nata" in again[-1].text and "Avete risposto: 01/03/1940" in again[-1].text
    dialog.on_text(state, "01.03.1941")
    assert state["answers"]["beneficiary.birth_date"] == "1941-03-01"
