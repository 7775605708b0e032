"""Read answers the way Italians type them: dates, euro amounts, hours, yes and no.

Each parser returns the value, or raises `AnswerError` with a message id that says what
to type, with an example. Messages are marked with `N_` and translated by the caller.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal

from babel.dates import get_month_names
from babel.numbers import NumberFormatError, parse_decimal


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


class AnswerError(ValueError):
    """An answer that cannot be read; `message` is a msgid to translate and show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold().strip()


def _month_names() -> dict[str, int]:
    names: dict[str, int] = {}
    for locale in ("it_IT", "en_GB"):
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=locale).items():
                names[_fold(name).rstrip(".")] = number
    return names


MONTHS = _month_names()
_NUMERIC = re.compile(r"^(\d{1,2})\s*[/.\-\s]\s*(\d{1,2})\s*[/.\-\s]\s*(\d{2}|\d{4})$")
_WORDS = re.compile(r"^(\d{1,2})\s*(?:°|º)?\s+([a-z]+)\.?\s+(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_RUN = re.compile(r"^(\d{2})(\d{2})(\d{2}|\d{4})$")  # 16062025, 160625: no separators


def parse_date(text: str, today: dt.date) -> dt.date:
    """`1/3/1950`, `01.03.1950`, `1-3-1950`, `1 3 1950`, `01031950`, `1 marzo 1950`,
    `1950-03-01`; day first. A two-digit year is this century's unless that is after
    `today` (`16/6/25` is 2025; `1/3/50` is 1950)."""
    folded = _fold(text)
    if m := _ISO.match(folded):
        year, month, day = (int(g) for g in m.groups())
    elif (m := _NUMERIC.match(folded)) or (m := _RUN.match(folded)):
        day, month = int(m.group(1)), int(m.group(2))
        year = int(m.group(3))
        if len(m.group(3)) == 2:
            year += 2000 if 2000 + year <= today.year else 1900
    elif m := _WORDS.match(folded):
        day, year = int(m.group(1)), int(m.group(3))
        month = MONTHS.get(m.group(2).rstrip("."))
        if month is None:
            raise AnswerError(N_("Non riesco a leggere la data. Scrivetela così: 1/3/1950."))
    else:
        raise AnswerError(N_("Non riesco a leggere la data. Scrivetela così: 1/3/1950."))
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise AnswerError(
            N_("Questa data non esiste. Controllate giorno e mese, così: 1/3/1950.")
        ) from None


def parse_birth_date(text: str, today: dt.date) -> dt.date:
    day = parse_date(text, today)
    if day > today:
        raise AnswerError(
            N_("Questa data è nel futuro. Scrivete la data di nascita, così: 1/3/1950.")
        )
    if day.year < 1900:
        raise AnswerError(
            N_("Questa data è troppo lontana. Scrivete la data di nascita, così: 1/3/1950.")
        )
    return day


_EN_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d{1,2})?$")
_CURRENCY = re.compile(r"(€|eur(o)?\b|euros?\b)", re.IGNORECASE)


def parse_amount(text: str) -> Decimal:
    """`12.000`, `12.000,50`, `€ 12000`, `12000 euro`: Babel's strict Italian parser first."""
    cleaned = _CURRENCY.sub(" ", text).strip().replace(" ", "").replace("\u00a0", "")
    if not cleaned or len(cleaned) > 20:
        raise AnswerError(N_("Non riesco a leggere la cifra. Scrivetela così: 12.000,50."))
    # "12,000" or "1,250,000.50": thousands grouped with commas. Nobody writes euro with
    # three decimals, so this is the English way, not 12 euro.
    locales = ("en_US", "it_IT") if _EN_GROUPED.match(cleaned) else ("it_IT", "en_US")
    for locale in locales:
        try:
            value = parse_decimal(cleaned, locale=locale, strict=True)
        except NumberFormatError:
            continue
        if value < 0:
            raise AnswerError(N_("La cifra non può essere negativa. Scrivetela così: 12.000,50."))
        if value > 10_000_000:
            raise AnswerError(
                N_("La cifra è troppo alta. Controllatela e scrivetela così: 12.000,50.")
            )
        return value.quantize(Decimal("0.01"))
    raise AnswerError(N_("Non riesco a leggere la cifra. Scrivetela così: 12.000,50."))


def parse_hours(text: str) -> float:
    """Hours a week: a number from 0 to 168 (`25`, `25,5`, `25 ore`)."""
    cleaned = re.sub(r"\s*(ore|ora|h|hours?)\s*$", "", text.strip(), flags=re.IGNORECASE)
    try:
        value = parse_decimal(cleaned, locale="it_IT", strict=True)
    except NumberFormatError:
        raise AnswerError(N_("Scrivete solo il numero di ore a settimana, così: 25.")) from None
    if not 0 <= value <= 168:
        raise AnswerError(N_("Una settimana ha 168 ore. Scrivete un numero da 0 a 168, così: 25."))
    return float(value)


YES = {"si", "sì", "s", "yes", "y", "certo", "ok"}
NO = {"no", "n"}


def parse_yes_no(text: str) -> bool:
    folded = _fold(text).rstrip(".!")
    if folded in {_fold(y) for y in YES}:
        return True
    if folded in NO:
        return False
    raise AnswerError(N_("Premete Sì o No."))
