"""Dates, amounts and hours written the way the user's language writes them (Babel, CLDR).

Italian keeps its numeric dates (01/03/1950); every other language gets the month in words
in its own order (1 Mar 1950, 2 iun. 2025, 2 черв. 2025 р., 2025年6月2日): never ambiguous
between day-first and month-first readers. Times are 24-hour everywhere, as the notices
and the comune write them. Arabic uses Latin digits (Babel's `ar`), as the ISEE
attestation and the notices do, so the figures match the family's papers.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

from babel import Locale
from babel.dates import format_datetime, format_skeleton, format_time
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal
from babel.units import format_compound_unit

from common.clock import ROME

from .languages import SOURCE, babel_locale, is_rtl, isolate

# A birth date as each language writes it by hand (the parser reads each of them back).
DATE_EXAMPLES = {
    "it": "1/3/1950",
    "en": "1/3/1950",
    "es": "1/3/1950",
    "ar": "1/3/1950",
    "ro": "1.03.1950",
    "uk": "01.03.1950",
    "sq": "1.3.1950",
    "zh": "1950年3月1日",
}


def esc(text: str) -> str:
    """Escape for Telegram's HTML (the console unescapes it); quotes need no escaping."""
    return html.escape(text, quote=False)


def in_italy(value: dt.datetime) -> dt.datetime:
    """An aware instant as the clock in Italy shows it (what a family reads: "alle 04:58"
    when the server's zone says 02:58); a naive one as it is."""
    return value.astimezone(ROME) if value.tzinfo is not None else value


@dataclass(frozen=True)
class Formats:
    language: str = SOURCE

    @property
    def locale(self) -> Locale:
        return babel_locale(self.language)

    @property
    def rtl(self) -> bool:
        return is_rtl(self.language)

    def date(self, day: dt.date) -> str:
        """`01/03/1950` in Italian, `1 Mar 1950` in English, `1950年3月1日` in Chinese."""
        if self.language == SOURCE:  # the numbers only, as Babel's "dd/MM/yyyy" writes them
            return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
        return format_skeleton("yMMMd", day, locale=self.locale)

    def time(self, value: dt.time | dt.datetime) -> str:
        """`10:41`: 24-hour in every language; an instant (stored in UTC) at Italy's time."""
        if isinstance(value, dt.datetime):
            value = in_italy(value)
        return format_time(value, "HH:mm", locale=self.locale)

    def moment(self, value: dt.datetime) -> str:
        value = in_italy(value)
        if self.language == SOURCE:
            return format_datetime(value, "dd/MM/yyyy HH:mm", locale=self.locale)
        pattern = str(self.locale.datetime_formats["medium"])  # "{1}, {0}": date, then time
        return pattern.replace("{1}", self.date(value.date())).replace(
            "{0}", self.time(value.time())
        )

    def money(self, amount: float) -> str:
        """`14.500,00 €`, `€14,500.00`: the € sign in every language (CLDR writes "EUR"
        in Romanian and Ukrainian, where the notices' sentences and the families write €)."""
        return format_currency(amount, "EUR", locale=self.locale).replace("EUR", "€")

    def example_amount(self) -> str:
        """How to type an amount, as this language groups and separates: `12.000,50`,
        `12,000.50`, `12 000,50`."""
        return format_decimal(12000.5, format="#,##0.00", locale=self.locale)

    def example_date(self) -> str:
        """How to type a birth date, as people of this language write one by hand."""
        return DATE_EXAMPLES.get(self.language, DATE_EXAMPLES[SOURCE])

    def join(self, items: list[str]) -> str:
        """A list as the language joins one: `a, b e c`, `a، b و c`, `a、b和c`."""
        return format_list(items, locale=self.locale) if items else ""

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def hours_per_week(self, hours: float) -> str:
        """`30 ore alla settimana`, `21 година на тиждень`: CLDR's plural of the unit."""
        value = int(hours) if float(hours).is_integer() else hours
        return format_compound_unit(
            value, "duration-hour", denominator_unit="duration-week", locale=self.locale
        ) or self.number(hours)

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

    def embed(self, value: str) -> str:
        """A value set inside a sentence by hand (not through a message's placeholders):
        isolated in a right-to-left language, as it is."""
        return isolate(value) if self.rtl and value else value
