"""Every Lombard comune is understood, from the ISTAT data python-codicefiscale ships."""

from __future__ import annotations

import datetime as dt

import pytest

from eligibility import check, load_catalogue, validate
from eligibility.comuni import LOMBARD_PROVINCES, gazetteer, lombard_comuni
from tests.test_bot_conversation import RESULT, Session, begin, follow, question_of

CATALOGUE = load_catalogue()
DAY = dt.date(2025, 6, 2)


def test_the_dataset_has_lombardys_comuni_active_today():
    comuni = lombard_comuni()
    assert 1490 <= len(comuni) <= 1520  # ISTAT: about 1,500
    assert {c.province for c in comuni} == LOMBARD_PROVINCES
    names = {c.name for c in comuni}
    assert {"Cernusco sul Naviglio", "Cassano d'Adda", "Sesto San Giovanni"} <= names
    assert "Sotto il Monte Giovanni XXIII" in names  # written the Italian way


def test_every_lombard_comune_resolves_as_typed_in_any_case():
    wrong = []
    for comune in lombard_comuni():
        for typed in (
            comune.name,
            comune.name.upper(),
            f"{comune.name.lower()} ({comune.province})",
        ):
            match = CATALOGUE.find(typed, DAY)
            if match.comune != comune:
                wrong.append((typed, match.comune))
    assert wrong == []


def test_every_comune_of_a_notice_is_a_lombard_comune():
    for entry in [*CATALOGUE.notices, *CATALOGUE.guidance]:
        for m in entry.municipalities:
            found = gazetteer().find(m.name).comune
            assert found is not None and found.lombard and found.name == m.name, m.name


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Cernusco s/N", "Cernusco sul Naviglio"),  # as the 004 seed writes it
        ("S. Giuliano", "San Giuliano Milanese"),
        ("Sesto S.G.", "Sesto San Giovanni"),
        ("S.Donato M.se", "San Donato Milanese"),
        ("Trezzo s/Adda", "Trezzo sull'Adda"),
        ("Cologno M.", "Cologno Monzese"),
        ("S. Angelo Lodigiano", "Sant'Angelo Lodigiano"),
        ("comune di Lissone", "Lissone"),
        ("cassina de pecchi", "Cassina de' Pecchi"),
    ],
)
def test_abbreviations_are_read_by_rule(typed, name):
    assert CATALOGUE.find(typed, DAY).name == name


def test_cernusco_sn_finds_its_notice():
    verdict = check(validate({"municipality": "Cernusco s/N", "application_date": "2021-04-20"}))
    assert verdict["notice"]["id"] == "distretto-4-cernusco-2021"
    assert verdict["municipality"]["matched"] == "Cernusco sul Naviglio"


def test_a_near_miss_gets_suggestions_and_an_ambiguous_name_a_choice():
    assert "Rozzano" in CATALOGUE.find("Rozano", DAY).suggestions
    assert "Lissone" in CATALOGUE.find("Lisone", DAY).suggestions
    cassano = CATALOGUE.find("Cassano", DAY)
    assert cassano.comune is None
    assert {"Cassano d'Adda", "Cassano Magnago"} <= set(cassano.suggestions)


def test_a_lombard_namesake_wins_unless_the_province_says_otherwise():
    assert CATALOGUE.find("Castro", DAY).comune.province == "BG"
    assert CATALOGUE.find("Castro (LE)", DAY).comune.province == "LE"


def test_a_lombard_comune_with_no_notice_gets_the_regional_pre_check():
    verdict = check(validate({"municipality": "Lissone", "application_date": "2025-06-01"}))
    assert verdict["notice"] is None  # the contract: no notice covers it
    assert verdict["regional"]["programme"] == "dgr-3719-2024"
    assert verdict["missing"] == ["beneficiary.certifications", "isee"]
    facts = {
        "municipality": "Lissone",
        "application_date": "2025-06-01",
        "beneficiary": {
            "birth_date": "2012-01-01",
            "certifications": ["indennita_accompagnamento"],
        },
        "isee": {"kind": "ordinario", "value": 35000},
    }
    verdict = check(validate(facts))
    assert verdict["regional"]["verdict"] == "eligible"  # a minor: ordinario up to 40.000 €
    assert all("regola regionale" in r["text"] for r in verdict["regional"]["reasons"])


def test_a_comune_outside_lombardy_is_told_where_to_ask():
    verdict = check(validate({"municipality": "Roma", "application_date": "2025-06-01"}))
    assert verdict["notice"] is None and verdict["outside_lombardy"] is True
    assert verdict["municipality"]["province"] == "RM" and verdict["missing"] == []


LISSONE = {
    "In quale Comune": [("say", "Lissone")],
    "Quali di questi documenti": [("press", "Indennità di accompagnamento"), ("press", "Fatto")],
    "attestazione ISEE valida": [("press", "Sì, ho l'attestazione")],
    "Che tipo di ISEE": [("press", "Sociosanitario")],
    "valore ISEE": [("say", "12.000")],
}


async def test_a_family_from_lissone_gets_the_regional_rules_and_where_to_ask(api, db_path):
    s = Session(api, db_path, dt.date(2026, 3, 1))
    texts = await follow(s.family, LISSONE, await begin(s.family))
    result = "\n".join(texts[texts.index(next(t for t in texts if RESULT in t)) :])
    assert "✓ Lissone (MB)" in "\n".join(texts)
    assert "Per il Comune di Lissone non abbiamo ancora il bando B2" in result
    assert "✅ Con queste risposte avete i requisiti di base della Regione." in result
    assert result.count("(regola regionale: decide il bando dell'Ambito)") >= 2
    assert "Chiedete ai servizi sociali del Comune di Lissone" in result
    assert "verifica preliminare" in result
    await s.close()


async def test_a_family_from_cernusco_sn_reaches_the_cernusco_notice(api, db_path):
    s = Session(api, db_path, dt.date(2021, 4, 20))
    await begin(s.family)
    texts = await s.family.say("Cernusco s/N")
    assert "✓ Cernusco sul Naviglio (MI)" in texts[0]
    assert "Quando è nata" in question_of(texts)
    await s.close()


async def test_a_family_outside_lombardy_is_told_kindly(api, db_path):
    s = Session(api, db_path, dt.date(2026, 3, 1))
    await begin(s.family)
    texts = await s.family.say("Bologna")
    joined = "\n".join(texts)
    assert "Bologna (BO) non è in Lombardia" in joined
    assert "chiedete ai servizi sociali del Comune di Bologna" in joined
    assert "Domanda" not in joined  # nothing more to ask
    await s.close()
