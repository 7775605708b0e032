"""The dossier's own data, typed: read from the stored JSON and written back as it was,
and who signs decided in one place (`Identity.signs_for_self`, `Identity.beneficiary`)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dossier.record import DossierData, record_of
from storage.dossiers import beneficiary_names, index_columns
from storage.records import Identity
from tests.istanza_cases import CASES, dossier_of


@pytest.mark.parametrize("notice_id", sorted(CASES))
def test_a_stored_dossier_reads_and_writes_back_as_it_was(notice_id):
    dossier, _statuses = dossier_of(CASES[notice_id])
    data = {**dossier["data"], "checked_on": "2025-06-02", "order": ["municipality"],
            "form_sha256": "ab" * 32, "lines": [["Comune", "Opera"]]}  # fmt: skip
    record = DossierData.from_dict(data)
    assert record.to_dict() == data
    assert DossierData.from_dict(record.to_dict()) == record
    assert record.identity.to_dict() == CASES[notice_id].identity
    assert record.answers.answer_lines() == [("Comune", "Opera")]
    assert record.others == {"form_sha256": "ab" * 32}


FLAT_KEYS = ["role", "isee.dsu_date", "isee.caf_date"] + [
    f"{who}.{name}"
    for who in ("applicant", "beneficiary")
    for name in ("given_name", "family_name", "tax_code", "address", "postcode", "town",
                 "phone", "email")
] + [f"bank.{n}" for n in ("holder", "holder_name", "holder_tax_code", "iban")]  # fmt: skip


@given(st.dictionaries(st.sampled_from(FLAT_KEYS), st.text(max_size=8)))
def test_every_detail_the_chat_asks_survives_the_round_trip_empty_ones_included(flat):
    """An e-mail skipped ("") stays answered; a question not asked stays absent."""
    assert Identity.from_dict(flat).to_dict() == flat


def test_who_signs_for_themselves_is_the_beneficiary_at_their_home():
    ident = Identity.from_dict(
        {"role": "self", "applicant.given_name": "Ernesta", "applicant.family_name": "Cantù",
         "applicant.tax_code": "CNTRST39E60H470X", "applicant.phone": "+393331234567",
         "beneficiary.address": "Via Cavour 3", "beneficiary.postcode": "20089"}
    )  # fmt: skip
    assert ident.signs_for_self
    person = ident.beneficiary
    assert (person.given_name, person.family_name) == ("Ernesta", "Cantù")
    assert (person.address, person.postcode, person.phone) == ("Via Cavour 3", "20089",
                                                               "+393331234567")  # fmt: skip
    data = {"identity": ident.to_dict()}
    assert beneficiary_names(data) == ("Cantù", "Ernesta")
    assert index_columns("B2-ABCDEF", data)["sort_name"] == "cantù ernesta"


def test_a_child_signing_for_a_parent_names_the_parent_as_beneficiary():
    case = next(c for c in CASES.values() if c.identity["role"] == "child")
    dossier, _ = dossier_of(case)
    record = record_of(dossier)
    ident = record.identity
    assert not ident.signs_for_self
    assert ident.beneficiary == ident.cared_for and ident.applicant != ident.cared_for
    assert beneficiary_names(dossier["data"]) == (
        ident.cared_for.family_name, ident.cared_for.given_name
    )
    assert record.answers.birth_date == dt.date.fromisoformat(
        record.answers.values["beneficiary.birth_date"]
    )
