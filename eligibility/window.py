"""Whether a notice takes applications at a given moment."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from .schema import Window

Status = Literal["open", "closed", "not_yet_open", "unknown"]


def _start(moment: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(moment, dt.datetime):
        return moment
    return dt.datetime.combine(moment, dt.time.min)


def _end(moment: dt.date | dt.datetime) -> dt.datetime:
    """A closing date with no time means the whole of that day."""
    if isinstance(moment, dt.datetime):
        return moment
    return dt.datetime.combine(moment, dt.time(23, 59, 59))


def status(window: Window, when: dt.date | dt.datetime) -> Status:
    """Open, closed or not yet open at `when`; a bare date counts as any moment of that day."""
    first = _start(when)
    if window.valid_until is not None and first > _end(window.valid_until):
        return "closed"  # an old notice: its period is over, whatever its dates say
    if window.opens is None and window.closes is None:
        return "unknown"
    last = _end(when) if not isinstance(when, dt.datetime) else when
    if window.opens is not None and last < _start(window.opens):
        return "not_yet_open"
    if window.closes is not None and first > _end(window.closes):
        return "closed"
    return "open"


def iso(moment: dt.date | dt.datetime | None, closing: bool = False) -> str | None:
    """As the contract prints it: a date, or a date-time for a closing moment."""
    if moment is None:
        return None
    if closing:
        return _end(moment).isoformat()
    return moment.isoformat()
