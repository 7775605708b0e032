"""The details of the form as people type them: a name, a codice fiscale, a phone, an
e-mail, a date. Each reader returns the value to store or raises `AnswerError` with what
to type; the checks themselves are in `dossier.people`."""

from __future__ import annotations

import datetime as dt
import re

from common.clock import rome_today
from common.i18n import N_
from dossier.people import (
    DetailError,
    compact_tax_code,
    decode_tax_code,
    normalise_email,
    normalise_phone,
)

from .parsing import AnswerError, parse_date

_NAME = re.compile(r"[^\W\d_]+(?:[ '’.-]+[^\W\d_]+)*\.?")


def parse_name(text: str) -> str:
    text = " ".join(text.split())
    if not 1 <= len(text) <= 60 or not _NAME.fullmatch(text):
        raise AnswerError(N_("Scrivete solo il nome, con lettere. Per esempio: Maria."))
    if text.islower() or text.isupper():  # "maria grazia", "ROSSI" → "Maria Grazia", "Rossi"
        text = re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), text)
    return text


def parse_tax_code(
    text: str, birth_date: dt.date | None = None, today: dt.date | None = None
) -> str:
    """A person's valid codice fiscale; when the birth date is known, it must match (day
    and month, and the year's last two digits, which is all the code carries)."""
    try:
        return decode_tax_code(text, birth_date=birth_date, today=today).code
    except DetailError as err:
        if err.reason == "not_a_person":
            raise AnswerError(N_("Serve il codice fiscale di una persona: 16 caratteri.")) from None
        if err.reason == "birth_date":
            raise AnswerError(
                N_(
                    "Questo codice fiscale non va con la data di nascita data prima. "
                    "Controllate e riscrivete."
                )
            ) from None
        if len(compact_tax_code(text)) == 16:  # the right length: a letter or digit is wrong
            raise AnswerError(
                N_(
                    "Questo codice fiscale non torna: l'ultima lettera, di controllo, non va "
                    "con le altre. Forse un carattere è scritto male: controllate e riscrivete."
                )
            ) from None
        raise AnswerError(
            N_("Un codice fiscale ha 16 caratteri, lettere e cifre: controllate e riscrivete.")
        ) from None


def parse_phone(text: str) -> str:
    """Stored in E.164: "+393391234567"."""
    try:
        return normalise_phone(text)
    except DetailError:
        raise AnswerError(
            N_(
                "Questo numero non sembra giusto. Scrivetelo con le cifre, per esempio: "
                "333 123 4567. Un numero estero comincia con + e il prefisso."
            )
        ) from None


def parse_email(text: str) -> str:
    try:
        return normalise_email(text)
    except DetailError:
        raise AnswerError(
            N_("Questo indirizzo e-mail non sembra giusto. Per esempio: nome@gmail.com.")
        ) from None


def parse_past_date(text: str, today: dt.date | None, *, future_ok: bool = False) -> str:
    """A date as people type it (15/01/2025, 15 gennaio 2025), stored as ISO."""
    day = parse_date(
        text, today or rome_today(), without_year="future" if future_ok else "past"
    )
    if today is not None and not future_ok and day > today:
        raise AnswerError(N_("Questa data è nel futuro. Controllate e riscrivete."))
    if today is not None and day < today - dt.timedelta(days=3 * 366):
        raise AnswerError(N_("Questa data è troppo lontana. Controllate e riscrivete."))
    return day.isoformat()
