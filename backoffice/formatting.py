"""Dates, amounts and sizes for the back-office pages, in Italian (Babel, it_IT), times in
Europe/Rome. Registered as Jinja filters by `install`."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

LOCALE = "it_IT"
ROME = ZoneInfo("Europe/Rome")


def _moment(value: str | dt.datetime | None) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if value.tzinfo is None:  # stored times without an offset are UTC
        value = value.replace(tzinfo=dt.UTC)
    return value


def moment(value: str | dt.datetime | None) -> str:
    """`12/06/2025 10:41` in Rome's time; "" for nothing."""
    when = _moment(value)
    if when is None:
        return "" if not value else str(value)
    return format_datetime(when, "dd/MM/yyyy HH:mm", tzinfo=ROME, locale=LOCALE)


def hour(value: str | dt.datetime | None) -> str:
    """`10:41` in Rome's time; "" for nothing."""
    when = _moment(value)
    return "" if when is None else format_datetime(when, "HH:mm", tzinfo=ROME, locale=LOCALE)


def local(value: str | dt.datetime | None) -> dt.datetime | None:
    """A stored moment as Rome's wall-clock time without an offset (what a spreadsheet
    cell holds); None for nothing."""
    when = _moment(value)
    return None if when is None else when.astimezone(ROME).replace(tzinfo=None)


def day(value: str | dt.date | dt.datetime | None) -> str:
    """`12/06/2025`; a date-time is the day in Rome."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        if "T" in value or " " in value.strip():
            when = _moment(value)
            if when is None:
                return value
            value = when
        else:
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                return value
    if isinstance(value, dt.datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(ROME).date()
    return format_date(value, "dd/MM/yyyy", locale=LOCALE)


def money(value: float | None) -> str:
    return "" if value is None else format_currency(value, "EUR", locale=LOCALE)


def number(value: float | None) -> str:
    return "" if value is None else format_decimal(value, locale=LOCALE)


def size(value: int | None) -> str:
    """A file size as an Italian reads it: `850 kB`, `1,2 MB`."""
    if value is None:
        return ""
    if value < 1000:
        return f"{value} byte"
    if value < 1_000_000:
        return f"{format_decimal(round(value / 1000), locale=LOCALE)} kB"
    return f"{format_decimal(round(value / 1_000_000, 1), locale=LOCALE)} MB"


def pages(value: int | None) -> str:
    n = int(value or 0)
    return "1 pagina" if n == 1 else f"{n} pagine"


def install(env: Any) -> None:
    """Register the filters on a Jinja environment."""
    env.filters.update(
        {
            "moment": moment,
            "day": day,
            "money": money,
            "number": number,
            "size": size,
            "pages": pages,
        }
    )
