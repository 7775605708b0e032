"""From a stored dossier to what the comune reads: the form's data (`FormData`) and the
e-mail's subject and body, both addressed to whom the notice says.

The dossier holds the questionnaire's answers, the engine's verdict snapshot (measures,
documents, submission, declarations) and the identity answers; the notice file gives
how to address and cite it. Personal details are read from the codice fiscale
(birthplace, gender) and shown the Italian way (phone, IBAN).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from eligibility import Catalogue
from eligibility.comuni import gazetteer, italian_case
from eligibility.declarations import Declared
from eligibility.schema import Notice
from storage.records import BankAccount, Identity, PersonDetails

from .checklist import ItemStatus
from .form import BankDetails, Declaration, FormData, Person, unbracketed
from .people import (
    DetailError,
    TaxCode,
    bank_codes_of,
    decode_tax_code,
    iban_shown,
    phone_shown,
    role_shown,
)
from .record import DossierData, record_of

CHANNEL_LINE = {
    "pec": "PEC: {address}",
    "email": "E-mail: {address}",
    "online_platform": "Piattaforma online: {address}",
}


def _decoded(code: str | None, birth_date: dt.date | None, today: dt.date) -> TaxCode | None:
    if not code:
        return None
    try:
        return decode_tax_code(code, birth_date=birth_date, today=today)
    except DetailError:
        try:  # a code confirmed although its date differs: read it as it is
            return decode_tax_code(code, today=today)
        except DetailError:
            return None


def _town(value: str | None) -> tuple[str | None, str | None]:
    """ "20089 Rozzano" → ("20089", "Rozzano")."""
    if not value:
        return None, None
    code, _sep, name = value.partition(" ")
    return (code, name) if code.isdigit() and name else (None, value)


def _province(town: str | None) -> str | None:
    """The sigla of a comune's province ("MI"), from the ISTAT list; None if not found."""
    found = gazetteer().find(town).comune if town else None
    return found.province if found else None


def _person(
    person: PersonDetails,
    *,
    birth_date: dt.date | None,
    residence: tuple[str | None, str | None, str | None],
    today: dt.date,
) -> Person:
    decoded = _decoded(person.tax_code, birth_date, today)
    address, postcode, town = residence
    return Person(
        given_name=person.given_name or "",
        family_name=person.family_name or "",
        tax_code=person.tax_code or "",
        birth_date=birth_date or (decoded.birth_date if decoded else None),
        birth_place=italian_case(decoded.birthplace_shown)
        if decoded and decoded.birthplace
        else None,
        address=address,
        postcode=postcode,
        town=town,
        province=_province(town),
        phone=phone_shown(person.phone) if person.phone else None,
        email=person.email or None,
        gender=decoded.gender if decoded else None,
        born_abroad=bool(decoded and decoded.born_abroad),
    )


def people(
    record: DossierData, municipality: str, today: dt.date
) -> tuple[Person, Person | None, str]:
    """The applicant, the beneficiary (None when the applicant applies for themselves)
    and the applicant's role, as the form writes them."""
    ident = record.identity
    birth = record.answers.birth_date
    home = (ident.beneficiary.address, ident.beneficiary.postcode, municipality)
    if ident.signs_for_self:
        return _person(ident.beneficiary, birth_date=birth, residence=home, today=today), None, ""
    postcode, town = _town(ident.applicant.town)
    applicant = _person(
        ident.applicant,
        birth_date=None,
        residence=(ident.applicant.address, postcode, town),
        today=today,
    )
    beneficiary = _person(ident.beneficiary, birth_date=birth, residence=home, today=today)
    return applicant, beneficiary, role_shown(ident.role or "", applicant.gender)


def details(applicant: Person, beneficiary: Person | None, ident: Identity) -> dict[str, str]:
    """The values a declaration takes from the application, not from the answers: how
    it names the beneficiary, and the date on the ISEE."""
    if beneficiary is None:
        female = applicant.gender == "F"
        out = {
            "beneficiario": "la sottoscritta" if female else "il sottoscritto",
            "del_beneficiario": "della sottoscritta" if female else "del sottoscritto",
        }
    else:
        female = beneficiary.gender == "F"
        out = {
            "beneficiario": "la beneficiaria" if female else "il beneficiario",
            "del_beneficiario": "della beneficiaria" if female else "del beneficiario",
        }
    day = ident.dsu_date or ident.caf_date
    if day:
        with contextlib.suppress(ValueError):
            out["isee_date"] = dt.date.fromisoformat(day).strftime("%d/%m/%Y")
    return out


def addressee(submission: Mapping[str, Any], municipality: str) -> list[str]:
    """Whom the application is addressed to, and where: the notice's words."""
    who = submission.get("addressee") or f"Comune di {municipality}"
    lines = [who.replace("{municipality}", municipality)]
    template = CHANNEL_LINE.get(submission.get("channel") or "")
    if template and submission.get("address"):
        lines.append(template.format(address=submission["address"]))
    return lines


def _documents(statuses: Sequence[ItemStatus]) -> list[str]:
    """ALLEGA's lines: one per document sent; one file that stands for two items (one
    INPS verbale for the accompagnamento and the invalidità) is one line naming both."""
    filed = {s.item.id for s in statuses if s.files and not s.same_as}
    also: dict[str, list[str]] = {}
    for s in statuses:
        if s.same_as in filed and not s.item.signed_form:
            also.setdefault(s.same_as, []).append(_lower_first(s.item.text.rstrip(". ")))
    lines = []
    for s in statuses:
        if s.item.signed_form or s.same_as in filed:
            continue
        text = s.item.text.rstrip(". ")
        if s.item.in_form:
            lines.append(f"{text}: nella pagina «Dichiarazione per l'accredito» di questo modulo")
        elif s.files:
            count = "1 pagina" if s.pages == 1 else f"{s.pages} pagine"
            others = also.get(s.item.id)
            if others:
                lines.append(f"{', '.join([text, *others[:-1]])} e {others[-1]} "
                             f"({count}, un solo documento)")
            else:
                lines.append(f"{text} ({count})")
    return lines


def _lower_first(text: str) -> str:
    """"Verbale di invalidità" → "verbale di invalidità", in the middle of a line (an
    acronym, "ISEE", stays)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _bank(
    account: BankAccount,
    applicant: Person,
    beneficiary: Person | None,
    statuses: Sequence[ItemStatus],
) -> BankDetails | None:
    if not account.iban:
        return None
    co_holder = co_code = ""
    if account.holder == "other":
        name, code = account.holder_name or "", account.holder_tax_code or ""
    elif account.holder == "joint":  # the person cared for, and a second holder
        person = beneficiary or applicant
        name, code = person.name, person.tax_code
        co_holder, co_code = account.co_holder_name or "", account.co_holder_tax_code or ""
    else:
        person = applicant if account.holder == "applicant" or beneficiary is None else beneficiary
        name, code = person.name, person.tax_code
    annex = next((s.item.annex for s in statuses if s.item.filled_by == "bank_details"), None)
    return BankDetails(
        iban=iban_shown(account.iban),
        holder=name,
        holder_tax_code=code,
        codes=bank_codes_of(account.iban),
        annex=annex,
        co_holder=co_holder,
        co_holder_tax_code=co_code,
    )


def _assistant_named(declared: list[Declaration], name: str | None) -> list[Declaration]:
    """The assistente familiare the notice pays for, named right after the first sentence
    about them (the contract attached names them too)."""
    first = next((n for n, d in enumerate(declared) if d.key == "assistant"), None)
    if first is None or not name:
        return declared
    who = Declaration("assistant", f"che il nominativo dell'assistente familiare è {name}")
    return [*declared[: first + 1], who, *declared[first + 1 :]]


def _notice(catalogue: Catalogue | None, notice_id: str) -> Notice | None:
    found = catalogue.notice(notice_id) if catalogue is not None else None
    return found if isinstance(found, Notice) else None


def form_data(
    dossier: Mapping[str, Any],
    statuses: Sequence[ItemStatus],
    catalogue: Catalogue | None,
    today: dt.date,
) -> FormData:
    """The form of this dossier, as it stands today."""
    record = record_of(dossier)
    ident = record.identity
    municipality = dossier["municipality"]
    notice = _notice(catalogue, dossier["notice_id"])
    applicant, beneficiary, role = people(record, municipality, today)
    filled = details(applicant, beneficiary, ident)
    declarations = [
        Declared.from_dict(dict(d)).with_details(filled)
        for d in record.declarations
        if "template" in d
    ]
    named = _assistant_named(
        [Declaration(d.kind, d.text, d.source) for d in declarations], ident.assistant_name
    )
    sources: dict[str, str] = {m.id: m.source or "" for m in notice.measures} if notice else {}
    form_item = next((s.item for s in statuses if s.item.signed_form), None)
    _postcode, town = _town(ident.applicant.town)
    return FormData(
        dossier_id=dossier["id"],
        notice_title=record.notice.title,
        notice_ambito=record.notice.ambito,
        notice_year=notice.year if notice else "",
        notice_cited_as=notice.cited_as if notice else "Avviso",
        addressee=addressee(record.submission, municipality),
        applicant=applicant,
        beneficiary=beneficiary,
        applicant_role=role,
        measures=[
            (m.name, f"{notice.cited_as}, {sources[m.id]}" if sources.get(m.id) else "")
            for m in record.measures
        ]
        if notice
        else [(m.name, "") for m in record.measures],
        declarations=named,
        documents=_documents(statuses),
        replaces_annex=form_item.annex if form_item and form_item.filled_by == "form" else None,
        privacy_source=notice.privacy_source if notice else None,
        bank=_bank(ident.bank, applicant, beneficiary, statuses),
        place=town or municipality,
        date=today,
    )


# --- the e-mail -----------------------------------------------------------------------------


def subject(dossier: Mapping[str, Any]) -> str:
    person = record_of(dossier).identity.beneficiary
    name = f"{person.family_name or ''} {person.given_name or ''}".strip()
    return f"Domanda Misura B2 – {name} ({dossier['municipality']}) – pratica {dossier['id']}"


def body(dossier: Mapping[str, Any]) -> str:
    """The e-mail's text: addressed as the form is, naming the family's comune as the
    beneficiary's residence."""
    record = record_of(dossier)
    ident, municipality = record.identity, dossier["municipality"]
    to = addressee(record.submission, municipality)[0]
    signer = ident.applicant
    contact = phone_shown(signer.phone) if signer.phone else ""
    if signer.email:
        contact = f"{contact}, {signer.email}".strip(", ")
    if ident.signs_for_self:
        whom = f"residente nel Comune di {municipality}"
    else:
        whom = f"a favore di {ident.beneficiary.full_name}, residente nel Comune di {municipality}"
    return (
        f"Spett.le {to},\n\n"
        f"si trasmette la domanda di accesso alla Misura B2 presentata da {signer.full_name} "
        f"(recapiti: {contact}), {whom}, riferita all'avviso «{record.notice.title}» "
        f"({unbracketed(record.notice.ambito)}).\n\n"
        "In allegato: la domanda firmata e i documenti, un PDF per documento. Il file "
        "riepilogo-istanza.json elenca ogni allegato con la sua impronta SHA-256.\n\n"
        "La domanda è stata preparata con Sportello B2, che fa solo una verifica preliminare "
        "dei requisiti: la decisione spetta ai servizi sociali. Per chiedere integrazioni "
        f"rispondete a questo messaggio indicando la pratica {dossier['id']}.\n"
    )
