"""One family per bundled notice, as a stored dossier: the engine's verdict snapshot (the
way `Desk.open` keeps it), the identity answers, the checklist with files on every item.
Used to read each notice's form back (tests/test_istanza.py) and to render them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from stdnum.it import codicefiscale

from dossier.checklist import ItemStatus, build_checklist, status
from dossier.form import FormData
from dossier.istanza import form_data
from eligibility import check, load_catalogue, validate
from storage.records import Identity


def tax_code(stem: str) -> str:
    return stem + codicefiscale.calc_check_digit(stem)


IBAN = "IT60X0542811101000000123456"


@dataclass
class Case:
    notice_id: str
    facts: dict[str, Any]
    identity: dict[str, str]
    answers: dict[str, Any]  # as the questionnaire stores them (only what the form reads)
    today: dt.date


CASES = {
    # 001, Opera: the daughter signs for her father, an assistant 30 h a week, SAD too
    "visconteo-sud-milano-2025": Case(
        "visconteo-sud-milano-2025",
        {
            "municipality": "Opera",
            "application_date": "2025-06-02",
            "beneficiary": {
                "birth_date": "1939-05-20",
                "lives_at_home": True,
                "certifications": ["indennita_accompagnamento"],
            },
            "isee": {"kind": "sociosanitario", "value": 9800.5},
            "current_measures": ["sad"],
            "first_application": True,
            "assistant": {"employed": True, "contract": "direct", "weekly_hours": 30},
        },
        {
            "role": "child",
            "applicant.given_name": "Maria",
            "applicant.family_name": "Rossi",
            "applicant.tax_code": tax_code("RSSMRA70A41F205"),
            "applicant.address": "Via Verdi 5",
            "applicant.town": "20089 Rozzano",
            "applicant.phone": "+393331234567",
            "applicant.email": "maria.rossi@example.it",
            "beneficiary.given_name": "Giuseppe",
            "beneficiary.family_name": "Rossi",
            "beneficiary.tax_code": tax_code("RSSGPP39E20G078"),  # born in Opera
            "beneficiary.address": "Via Roma 12",
            "beneficiary.postcode": "20073",
            "isee.dsu_date": "2025-01-15",
            "bank.holder": "beneficiary",
            "bank.iban": IBAN,
        },
        {"beneficiary.birth_date": "1939-05-20", "isee.status": "attestation"},
        dt.date(2025, 6, 2),
    ),
    # 002, Settala: the wife asks for her husband; L. 104 pending; she is his caregiver
    "ambito-5-melzo-2025": Case(
        "ambito-5-melzo-2025",
        {
            "municipality": "Settala",
            "application_date": "2025-06-01",
            "beneficiary": {
                "birth_date": "1958-11-11",
                "citizenship": "eu",
                "lives_at_home": True,
                "certifications": ["invalidita_100", "legge104_art3c3_pending"],
            },
            "isee": {"kind": "sociosanitario", "value": 15000},
            "caregiver": {
                "present": True,
                "relationship": "spouse",
                "cohabiting": True,
                "same_household": True,
                "employment": "homemaker",
            },
            "current_measures": [],
        },
        {
            "role": "spouse",
            "applicant.given_name": "Anna",
            "applicant.family_name": "Bianchi",
            "applicant.tax_code": tax_code("BNCNNA60A41F205"),
            "applicant.address": "Via Verdi 3",
            "applicant.town": "20090 Settala",
            "applicant.phone": "+393401234567",
            "beneficiary.given_name": "Paolo",
            "beneficiary.family_name": "Verdi",
            "beneficiary.tax_code": tax_code("VRDPLA58S11F205"),
            "beneficiary.address": "Via Verdi 3",
            "beneficiary.postcode": "20090",
            "isee.dsu_date": "2025-02-03",
        },
        {"beneficiary.birth_date": "1958-11-11", "isee.status": "attestation"},
        dt.date(2025, 6, 1),
    ),
    # 003, Cassano Magnago: a woman born in Romania applies for herself; ADI too
    "gallarate-riapertura-2026": Case(
        "gallarate-riapertura-2026",
        {
            "municipality": "Cassano Magnago",
            "application_date": "2026-04-10",
            "beneficiary": {
                "birth_date": "1948-03-05",
                "citizenship": "non_eu_permit",
                "lives_at_home": True,
                "certifications": ["legge104_art3c3"],
            },
            "isee": {"kind": "sociosanitario", "value": 18000},
            "current_measures": ["adi"],
        },
        {
            "role": "self",
            "applicant.given_name": "Elena",
            "applicant.family_name": "Popescu",
            "applicant.tax_code": tax_code("PPSLNE48C45Z129"),
            "applicant.phone": "+40721234567",
            "beneficiary.address": "Via Mazzini 7",
            "beneficiary.postcode": "21012",
            "isee.dsu_date": "2026-02-20",
        },
        {"beneficiary.birth_date": "1948-03-05", "isee.status": "attestation"},
        dt.date(2026, 4, 10),
    ),
    # 004, Cernusco sul Naviglio: the mother asks for her son, at a day centre 30 h a week
    "distretto-4-cernusco-2021": Case(
        "distretto-4-cernusco-2021",
        {
            "municipality": "Cernusco sul Naviglio",
            "application_date": "2021-04-20",
            "beneficiary": {
                "birth_date": "1995-10-10",
                "citizenship": "it",
                "lives_at_home": True,
                "certifications": ["invalidita_100", "legge104_art3c3"],
                "disability_kind": "intellectual",
                "lives_alone": False,
            },
            "isee": {"kind": "sociosanitario", "value": 6000},
            "caregiver": {
                "present": True,
                "relationship": "parent",
                "cohabiting": True,
                "same_household": True,
                "employment": "unemployed",
                "invalid_100": False,
            },
            "day_service_weekly_hours": 30,
            "current_measures": [],
        },
        {
            "role": "parent",
            "applicant.given_name": "Lucia",
            "applicant.family_name": "Neri",
            "applicant.tax_code": tax_code("NRELCU65A41C523"),
            "applicant.address": "Via Tizzoni 4",
            "applicant.town": "20063 Cernusco sul Naviglio",
            "applicant.phone": "+390292784340",
            "beneficiary.given_name": "Marco",
            "beneficiary.family_name": "Neri",
            "beneficiary.tax_code": tax_code("NREMRC95R10C523"),
            "beneficiary.address": "Via Tizzoni 4",
            "beneficiary.postcode": "20063",
            "isee.dsu_date": "2021-02-10",
        },
        {"beneficiary.birth_date": "1995-10-10", "isee.status": "attestation"},
        dt.date(2021, 4, 20),
    ),
}


def verdict_of(case: Case) -> dict[str, Any]:
    return check(validate(case.facts), load_catalogue())


def dossier_of(
    case: Case, dossier_id: str = "B2-7K3M9Q"
) -> tuple[dict[str, Any], list[ItemStatus]]:
    """The dossier as `Desk.open` stores it, and its checklist with every item sent."""
    verdict = verdict_of(case)
    who = Identity.from_dict(case.identity)
    items = build_checklist(verdict, applicant_is_beneficiary=who.signs_for_self)
    attachments = [
        {"item_id": i.id, "pages": 2 if i.pages == 2 else 1, "signed": False}
        for i in items
        if not i.signed_form and not i.in_form
    ]
    dossier = {
        "id": dossier_id,
        "municipality": verdict["municipality"]["matched"],
        "notice_id": case.notice_id,
        "data": {
            "identity": dict(case.identity),
            "answers": case.answers,
            "notice": {k: verdict["notice"][k] for k in ("id", "title", "ambito", "source")},
            "submission": verdict["submission"],
            "measures": [
                {"id": m["measure"], "name": m["name"], "verdict": m["verdict"]}
                for m in verdict["measures"]
                if m["verdict"] in ("eligible", "conditional")
            ],
            "documents": verdict["documents"],
            "declarations": verdict["declarations"],
            "checklist": [i.as_dict() for i in items],
        },
    }
    return dossier, status(items, attachments)


def case_form(notice_id: str, dossier_id: str = "B2-7K3M9Q") -> FormData:
    case = CASES[notice_id]
    dossier, statuses = dossier_of(case, dossier_id)
    return form_data(dossier, statuses, load_catalogue(), case.today)
