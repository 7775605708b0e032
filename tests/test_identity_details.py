"""The applicant complete: what the identity questions ask for which case, and how each
answer is read (codice fiscale with omocodia and the names, CAP and comune, dates, phone,
e-mail, IBAN), through the table `dialogs.identity` drives."""

from __future__ import annotations

import datetime as dt

import pytest

from dialogs.identity import (
    BY_KEY,
    NAMES_MISMATCH,
    UNCONFIRMED,
    Needs,
    answer,
    choose,
    next_question,
    options,
    parse_town,
)
from dialogs.parsing import AnswerError
from dossier.checklist import ChecklistItem
from dossier.people import decode_tax_code, iban_shown, names_match, phone_shown, role_on_form
from dossier.record import DossierData
from tests.istanza_cases import tax_code

TODAY = dt.date(2025, 6, 2)


def walk(identity: dict[str, str], needs: Needs) -> list[str]:
    """The keys asked, in order, answering each with a placeholder."""
    asked = []
    while (q := next_question(identity, needs)) is not None:
        asked.append(q.key)
        identity[q.key] = q.options[0][0] if q.options else "x"
    return asked


def test_a_relative_signing_is_asked_where_they_live_and_the_beneficiary_s_cap():
    asked = walk({"role": "child"}, Needs(isee="attestation", bank=True))
    assert asked[:5] == [
        "applicant.given_name",
        "applicant.family_name",
        "applicant.tax_code",
        "applicant.address",
        "applicant.town",
    ]
    for key in ("beneficiary.tax_code", "beneficiary.postcode", "isee.dsu_date", "bank.iban"):
        assert key in asked
    assert "isee.caf_date" not in asked


def test_someone_signing_for_themselves_is_not_asked_twice_where_they_live():
    asked = walk({"role": "self"}, Needs(isee="caf_appointment"))
    assert "applicant.address" not in asked and "applicant.town" not in asked
    assert "beneficiary.given_name" not in asked
    assert "beneficiary.postcode" in asked and "isee.caf_date" in asked
    assert not any(k.startswith("bank.") for k in asked)  # this notice pays no account


def test_the_account_of_someone_else_asks_their_name_and_code():
    identity = {"role": "self"}
    q = BY_KEY["bank.holder"]
    assert [v for v, _label in options(q, identity)] == ["beneficiary", "other", "joint"]
    choose(q, identity, 1)
    assert identity["bank.holder"] == "other"
    asked = walk(identity, Needs(bank=True))
    assert "bank.holder_name" in asked and "bank.holder_tax_code" in asked
    with pytest.raises(IndexError):
        choose(q, {"role": "self"}, 5)


def test_needs_are_read_from_the_dossier():
    bank = ChecklistItem(
        id="bank_account_declaration",
        title="Dichiarazione del conto corrente",
        text="",
        source="",
        required=True,
        pages=None,
        filled_by="bank_details",
    )
    data = {"answers": {"isee.status": "dsu_submitted"}, "checklist": [bank.as_dict()]}
    assert Needs.of(DossierData.from_dict(data)) == Needs(isee="dsu_submitted", bank=True)
    assert Needs.of(DossierData.from_dict({})) == Needs()


def test_an_omocode_is_read_birthplace_and_all():
    code = tax_code("RSSMRA70A41F20R")  # F205 with its last digit replaced (omocodia)
    decoded = decode_tax_code(code)
    assert decoded.birthplace_shown == "Milano (MI)" and decoded.gender == "F"
    assert decoded.birth_date == dt.date(1970, 1, 1)
    assert names_match(code, "Maria", "Rossi")


def test_a_birthplace_carries_today_s_province_not_the_one_of_its_time():
    """Family trial 15: a man born in Lodi in 1938, when Lodi was in the province of
    Milano, is "nato a Lodi (LO)" as his documents say today; a comune since merged keeps
    the province of its time."""
    lodi = decode_tax_code(tax_code("RVIRST38P05E648"), birth_date=dt.date(1938, 9, 5))
    assert lodi.birthplace_shown == "Lodi (LO)"
    monza = decode_tax_code(tax_code("RSSMRA50A01F704"))  # Monza, province of Milano in 1950
    assert monza.birthplace_shown == "Monza (MB)"
    # Corteolona, merged into Corteolona e Genzone in 2016: as it was
    merged = decode_tax_code(tax_code("RSSMRA50A01D067"))
    assert merged.birthplace_shown == "Corteolona (PV)"


def test_a_code_from_abroad_gives_the_country_and_the_right_century():
    decoded = decode_tax_code(tax_code("PPSLNE25C45Z129"), today=dt.date(2026, 1, 1))
    assert decoded.birthplace == "Romania" and decoded.born_abroad
    assert decoded.birth_date == dt.date(1925, 3, 5)  # a signer is not a baby


def test_a_code_that_does_not_match_the_names_is_kept_when_typed_again():
    identity = {"role": "child", "applicant.given_name": "Marija", "applicant.family_name": "Rossi"}
    q = BY_KEY["applicant.tax_code"]
    code = tax_code("RSSMRA70A41F205")
    with pytest.raises(AnswerError) as err:
        answer(q, code, identity, today=TODAY)
    assert err.value.message == NAMES_MISMATCH and "applicant.tax_code" not in identity
    other = tax_code("RSSMRA71A41F205")
    with pytest.raises(AnswerError):  # another code: asked again, not taken
        answer(q, other, identity, today=TODAY)
    assert answer(q, other, identity, today=TODAY) == other
    assert identity["applicant.tax_code"] == other and UNCONFIRMED not in identity


def test_the_beneficiary_s_code_must_carry_their_birth_date():
    identity = {
        "role": "child",
        "beneficiary.given_name": "Giuseppe",
        "beneficiary.family_name": "Rossi",
    }
    q = BY_KEY["beneficiary.tax_code"]
    with pytest.raises(AnswerError) as err:
        answer(q, tax_code("RSSGPP39E21F205"), identity, birth_date=dt.date(1939, 5, 20))
    assert "data di nascita" in err.value.message
    assert answer(q, tax_code("RSSGPP39E20F205"), identity, birth_date=dt.date(1939, 5, 20))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("20089 Rozzano", "20089 Rozzano"),
        ("Rozzano 20089", "20089 Rozzano"),
        ("20089 - ROZZANO", "20089 Rozzano"),
        ("20063 cernusco sul naviglio", "20063 Cernusco Sul Naviglio"),
    ],
)
def test_cap_and_comune_as_people_type_them(typed, stored):
    assert parse_town(typed) == stored


@pytest.mark.parametrize("typed", ["Rozzano", "20089", "2008 Rozzano"])
def test_a_cap_or_a_comune_missing_is_asked_again(typed):
    with pytest.raises(AnswerError):
        parse_town(typed)


def test_dates_phone_email_and_iban_are_checked_and_stored_plainly():
    identity: dict[str, str] = {}
    assert answer(BY_KEY["isee.dsu_date"], "15 gennaio 2025", identity, today=TODAY) == "2025-01-15"
    with pytest.raises(AnswerError):
        answer(BY_KEY["isee.dsu_date"], "15/01/2026", identity, today=TODAY)  # future
    assert answer(BY_KEY["isee.caf_date"], "10/06/2025", identity, today=TODAY) == "2025-06-10"
    assert answer(BY_KEY["applicant.phone"], "0039 02 1234 5678", identity) == "+390212345678"
    assert phone_shown("+390212345678") == "02 1234 5678"
    with pytest.raises(AnswerError):
        answer(BY_KEY["applicant.phone"], "12345", identity)
    assert answer(BY_KEY["applicant.email"], "Nome@Gmail.COM", identity) == "Nome@gmail.com"
    with pytest.raises(AnswerError):
        answer(BY_KEY["applicant.email"], "nome@", identity)
    iban = answer(BY_KEY["bank.iban"], "it60 x054 2811 1010 0000 0123 456", identity)
    assert iban == "IT60X0542811101000000123456"
    assert iban_shown(iban) == "IT60 X054 2811 1010 0000 0123 456"
    with pytest.raises(AnswerError):
        answer(BY_KEY["bank.iban"], "IT61X0542811101000000123456", identity)
    assert answer(BY_KEY["beneficiary.postcode"], "20 073", identity) == "20073"


def test_the_role_on_the_form_follows_the_signer_s_gender():
    assert role_on_form("child", tax_code("RSSMRA70A41F205")) == "figlia"
    assert role_on_form("parent", tax_code("RSSMRA70A01F205")) == "padre"
    assert role_on_form("legal_representative", None) == "tutore o amministratore di sostegno"


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("via roma 3", "Via Roma 3"),
        ("VIA GIOVANNI XXIII, 15", "Via Giovanni XXIII, 15"),
        ("via dei mille 5", "Via dei Mille 5"),
        ("piazza della repubblica 1", "Piazza della Repubblica 1"),
        ("via massimo d'azeglio 3", "Via Massimo d'Azeglio 3"),
        ("via roma snc", "Via Roma snc"),
        ("via emilia 1234", "Via Emilia 1234"),
        ("piazza 25 aprile 2", "Piazza 25 Aprile 2"),
        ("strada statale 35 km 12", "Strada Statale 35 Km 12"),
        ("Via de Amicis 4", "Via de Amicis 4"),  # mixed case: as typed
    ],
)
def test_a_street_is_written_with_italian_capitals(typed, written):
    from dialogs.addresses import parse_address

    assert parse_address(typed) == written


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        (tax_code("RSSMRA70A41F205"), "Questo sembra un codice fiscale."),
        ("rssmra 70a41 f205" + tax_code("RSSMRA70A41F205")[-1].lower(), "codice fiscale"),
        ("IT60 X054 2811 1010 0000 0123 456", "Questo sembra un IBAN."),
        ("maria.rossi1@gmail.com", "Questo sembra un indirizzo e-mail."),
        ("Iban IT60X0542811101000000123456", "Questo sembra un IBAN."),
        ("tel 3391234567", "Questo sembra un numero di telefono."),
        ("Opera 20090", "Questo sembra un CAP"),
    ],
)
def test_another_answer_typed_at_the_street_question_is_not_taken_as_a_street(typed, said):
    """A counter worker typed the codice fiscale where the address was asked: it went on
    the form as the street. Now the family is told what this question wants."""
    identity = {"role": "child", "applicant.given_name": "Maria", "applicant.family_name": "Rossi"}
    with pytest.raises(AnswerError) as err:
        answer(BY_KEY["applicant.address"], typed, identity, today=TODAY)
    assert said in err.value.message and "Via Roma 12" in err.value.message
    assert "applicant.address" not in identity
