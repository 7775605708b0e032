"""Time as the database keeps it: aware UTC, ISO 8601 to the second
(`2025-03-01T09:30:00+00:00`). Code that must be testable takes `now` (or a clock)
as an argument; `utcnow` is the real one, the default of those arguments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

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
