"""Dates, amounts and hours written the way the user's language writes them (Babel)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

BABEL_LOCALES = {"it": "it_IT", "en": "en_GB"}


@dataclass(frozen=True)
class Formats:
    language: str = "it"

    @property
    def locale(self) -> str:
        return BABEL_LOCALES.get(self.language, "it_IT")

    def date(self, day: dt.date) -> str:
        """`01/03/1950` in Italian, `1 Mar 1950` in English: never ambiguous."""
        pattern = "dd/MM/yyyy" if self.language == "it" else "d MMM yyyy"
        return format_date(day, pattern, locale=self.locale)

    def moment(self, value: dt.datetime) -> str:
        pattern = "dd/MM/yyyy HH:mm" if self.language == "it" else "d MMM yyyy, HH:mm"
        return format_datetime(value, pattern, locale=self.locale)

    def money(self, amount: float) -> str:
        return format_currency(amount, "EUR", locale=self.locale)

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def iso(self, value: str | None) -> str:
        """A date or date-time from the verdict document; a closing 23:59:59 shows as the day."""
        if not value:
            return ""
        if "T" in value:
            moment = dt.datetime.fromisoformat(value)
            if moment.time() == dt.time(23, 59, 59):
                return self.date(moment.date())
            return self.moment(moment)
        return self.date(dt.date.fromisoformat(value))
