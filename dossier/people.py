"""The personal details of an application, checked and written as an Italian office
expects them: the codice fiscale (python-codicefiscale: birth date, gender and birthplace
read from it, omocodia included, and checked against the names), the phone number
(phonenumbers: kept in E.164, shown in the Italian way), the e-mail address
(email-validator) and the IBAN (schwifty: checksum, national format, the ABI and CAB
codes; not the bank's name, which schwifty's registry does not keep up to date). Pure functions; each refusal is a `DetailError` with a short reason code, which
the chat turns into a kind sentence.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# The libraries are loaded when first used: the bot starts without them.


class DetailError(ValueError):
    """A detail that is not right; `reason` says what (for the chat's message)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- codice fiscale -------------------------------------------------------------------


@dataclass(frozen=True)
class TaxCode:
    """What a person's codice fiscale says of them."""

    code: str
    gender: str  # "F" or "M"
    birth_date: dt.date
    birthplace: str  # a comune ("Milano") or, born abroad, a country ("Romania")
    province: str | None  # "MI"; None when born abroad

    @property
    def born_abroad(self) -> bool:
        return self.province is None

    @property
    def birthplace_shown(self) -> str:
        """ "Milano (MI)", or "Romania" for someone born abroad."""
        return f"{self.birthplace} ({self.province})" if self.province else self.birthplace


def compact_tax_code(text: str) -> str:
    return re.sub(r"[\s.-]", "", text).upper()


def decode_tax_code(
    text: str, *, birth_date: dt.date | None = None, today: dt.date | None = None
) -> TaxCode:
    """Read a person's codice fiscale (omocodia included). Reasons: `invalid` (not a code,
    or its check letter is wrong), `not_a_person` (a company's 11 digits), `birth_date`
    (it does not carry `birth_date`: day, month and the year's last two digits).

    The code gives the year's last two digits only: with `birth_date` known its century
    is that one; otherwise a code that would make the person younger than 14 on `today`
    is taken a hundred years earlier (the signer of an application is an adult)."""
    from codicefiscale import codicefiscale

    code = compact_tax_code(text)
    if re.fullmatch(r"\d{11}", code):
        raise DetailError("not_a_person")
    try:
        decoded = codicefiscale.decode(code)
    except (ValueError, KeyError, TypeError, IndexError):
        raise DetailError("invalid") from None
    born = decoded["birthdate"].date()
    if birth_date is not None:
        if (born.day, born.month, born.year % 100) != (
            birth_date.day,
            birth_date.month,
            birth_date.year % 100,
        ):
            raise DetailError("birth_date")
        born = birth_date
    elif today is not None and born > _years_before(today, 14):
        born = born.replace(year=born.year - 100)
    place = decoded.get("birthplace") or {}
    province = _province_today(place)
    return TaxCode(
        code=code,
        gender=decoded["gender"],
        birth_date=born,
        birthplace=str(place.get("name") or ""),
        province=None if province == "EE" else province,
    )


@functools.cache
def _places_by_code() -> dict[str, list[dict[str, Any]]]:
    """python-codicefiscale's records of every comune and country by code: built once
    (building them takes most of a second)."""
    from codicefiscale.codicefiscale import get_indexed_data

    return dict(get_indexed_data()["codes"])


def _province_today(place: dict[str, Any]) -> str | None:
    """The province a form prints beside the birthplace: today's, where the comune still
    exists under its code ("Lodi (LO)" for a man born there in 1938, when Lodi was in the
    province of Milano); the one of its time for a comune since merged or renamed.
    python-codicefiscale decodes the record valid on the birth date."""
    code = place.get("code")
    records = _places_by_code().get(code, []) if code else []
    for record in records:
        if record.get("active") and record.get("name") == place.get("name"):
            return record.get("province") or None
    return place.get("province") or None


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _letters(name: str) -> str:
    """The name as the codice fiscale spells it: no accents, apostrophes or spaces."""
    plain = unicodedata.normalize("NFKD", name)
    return "".join(c for c in plain if c.isascii() and c.isalpha()).upper()


def names_match(code: str, given_name: str, family_name: str) -> bool:
    """The code's first six letters are those of these names (surname, then name)."""
    from codicefiscale import codicefiscale

    code = compact_tax_code(code)
    try:
        surname = codicefiscale.encode_lastname(_letters(family_name))
        name = codicefiscale.encode_firstname(_letters(given_name))
    except (ValueError, IndexError):
        return False
    return code[:3] == surname and code[3:6] == name


# Who signs, as the form says it (Italian whatever the chat language), by gender.
ROLE_ON_FORM: dict[str, str | dict[str | None, str]] = {
    "self": "la persona stessa",
    "child": {"F": "figlia", "M": "figlio", None: "figlia/figlio"},
    "spouse": {
        "F": "coniuge o convivente",
        "M": "coniuge o convivente",
        None: "coniuge o convivente",
    },
    "parent": {"F": "madre", "M": "padre", None: "genitore"},
    "relative": {"F": "familiare", "M": "familiare", None: "familiare"},
    "legal_representative": {
        "F": "tutrice o amministratrice di sostegno",
        "M": "tutore o amministratore di sostegno",
        None: "tutore o amministratore di sostegno",
    },
}


def role_shown(role: str, gender: str | None) -> str:
    """ "figlia", "padre", "tutore o amministratore di sostegno"."""
    names = ROLE_ON_FORM.get(role, "")
    if isinstance(names, dict):
        return names.get(gender, names[None])
    return names


def role_on_form(role: str, tax_code: str | None) -> str:
    """Who signs, in Italian, as the form and the back-office write it: "figlia" or
    "figlio" from the signer's codice fiscale (its day of birth is 40 more for women)."""
    return role_shown(role, gender_of(tax_code))


def signature_label(gender: str | None) -> str:
    """Over the form's signature box, by the signer's gender (from the codice fiscale):
    "Firma della richiedente", "Firma del richiedente", or both when it is not known."""
    return {"F": "Firma della richiedente", "M": "Firma del richiedente"}.get(
        gender or "", "Firma del/della richiedente"
    )


def gender_of(tax_code: str | None) -> str | None:
    """ "F" or "M" from a codice fiscale; None without a valid one."""
    if not tax_code:
        return None
    try:
        return decode_tax_code(tax_code).gender
    except DetailError:
        return None


# --- phone and e-mail ----------------------------------------------------------------


def normalise_phone(text: str) -> str:
    """A phone number in E.164 ("+393391234567"); Italian when it has no country code.
    Reasons: `invalid`."""
    import phonenumbers

    if not re.fullmatch(r"[\d\s./()+-]{6,25}", text.strip()):
        raise DetailError("invalid")
    try:
        number = phonenumbers.parse(text, "IT")
    except phonenumbers.NumberParseException:
        raise DetailError("invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise DetailError("invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_shown(stored: str) -> str:
    """ "339 123 4567" for an Italian number, "+40 721 234 567" for another; a number
    stored before it was normalised is shown as it was typed."""
    import phonenumbers

    try:
        number = phonenumbers.parse(stored, "IT")
    except phonenumbers.NumberParseException:
        return stored
    if not phonenumbers.is_valid_number(number):
        return stored
    if number.country_code == 39:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalise_email(text: str) -> str:
    """An e-mail address a person can receive at (its form: no lookup on the network),
    the domain in lower case. Reasons: `invalid`."""
    from email_validator import EmailNotValidError, validate_email

    text = text.strip()
    if len(text) > 120:
        raise DetailError("invalid")
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise DetailError("invalid") from None


# --- IBAN ------------------------------------------------------------------------------


def _iban(value: str) -> Any:
    """schwifty's IBAN, or DetailError("invalid")."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        return IBAN(value)
    except (SchwiftyException, ValueError):
        raise DetailError("invalid") from None


def normalise_iban(text: str) -> str:
    """An IBAN, compact ("IT60X0542811101000000123456"). Reasons: `invalid` (its length,
    country or check digits are wrong)."""
    return _iban(re.sub(r"[\s.-]", "", text).upper()).compact


def iban_shown(iban: str) -> str:
    """In groups of four, as printed on a bank statement."""
    try:
        return _iban(iban).formatted
    except DetailError:
        return iban


def bank_codes_of(iban: str) -> tuple[str, str] | None:
    """The bank's and the branch's codes in the IBAN (ABI and CAB in Italy), or None.

    The bank's *name* is not given: schwifty's registry is not kept up to date with
    mergers (ABI 05428 is still "Unione Di Banche Italiane SpA", which became part of
    Intesa Sanpaolo in 2021), and a signed declaration must not carry a guess."""
    try:
        parsed = _iban(iban)
    except DetailError:
        return None
    if not parsed.bank_code:
        return None
    return parsed.bank_code, parsed.branch_code or ""
