"""One clock for what an application dates: the form, the manifest's `created_at` and the
e-mail's `Date:` header.

The bot's clock is a date (`--today 2025-06-02` runs it as if on that day). `moment`
turns it into the instant to stamp: now, when the day is today; otherwise that day at
the present time of day in Italy. So with `--today` the form, the manifest and the
message headers all say the same day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")


def moment(day: dt.date, now: dt.datetime | None = None) -> dt.datetime:
    """The instant (UTC) to stamp on an application made on `day`."""
    real = (now or dt.datetime.now(dt.UTC)).astimezone(ROME)
    if real.date() == day:
        return real.astimezone(dt.UTC)
    return dt.datetime.combine(day, real.time().replace(tzinfo=None), ROME).astimezone(dt.UTC)
