"""The one clock module. Time as the database keeps it: aware UTC, ISO 8601 to the
second (`2025-03-01T09:30:00+00:00`). Code that must be testable takes `now` (or a
clock) as an argument; `utcnow` is the real one, the default of those arguments.

What an application dates (the form, the manifest's `created_at`, the e-mail's `Date:`)
comes from the bot's clock, a date (`--today 2025-06-02` runs it as if on that day):
`moment` turns it into the instant to stamp, now when the day is today, otherwise that
day at the present time of day in Italy, so all of them say the same day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """Now, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def iso(when: dt.datetime) -> str:
    """A moment as stored: `2025-03-01T09:30:00+00:00`. A naive datetime is refused: its
    zone would be a guess."""
    if when.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC datetime")
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def now_iso() -> str:
    """Now, as stored."""
    return iso(utcnow())


def parse_iso(text: str) -> dt.datetime:
    """A stored moment back; one written without a zone is UTC."""
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


ROME = ZoneInfo("Europe/Rome")


def rome_today(now: dt.datetime | None = None) -> dt.date:
    """Today in Italy. The machine's own zone (often UTC) is never asked: between 23:00 and
    midnight UTC a family in Lombardy is already on the next day."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(ROME).date()


def moment(day: dt.date, now: dt.datetime | None = None) -> dt.datetime:
    """The instant (UTC) to stamp on an application made on `day`."""
    real = (now or dt.datetime.now(dt.UTC)).astimezone(ROME)
    if real.date() == day:
        return real.astimezone(dt.UTC)
    return dt.datetime.combine(day, real.time().replace(tzinfo=None), ROME).astimezone(dt.UTC)


def moment_clock(day: Callable[[], dt.date] | None) -> Clock:
    """The one clock of a process run with `--today`: that day (or today), at the real
    time of day in Rome (`moment`), aware UTC. Retention, expiry, reminders and the
    back-office all read it, so a trial on another date never deletes by the real one."""
    if day is None:
        return utcnow
    return lambda: moment(day())
