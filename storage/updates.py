"""Telegram updates already taken by the webhook, so that a delivery Telegram repeats is
handled once. Only the update id and when it came: nothing about the user."""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database

from common.clock import iso

KEEP = dt.timedelta(days=1)  # Telegram gives up redelivering long before this


def first_time(db: Database, update_id: int, now: dt.datetime) -> bool:
    """Record `update_id` (committed at once, unless a transaction is open); True if it had
    not been seen before. One statement, so two deliveries racing cannot both win."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO seen_updates (update_id, at) VALUES (?, ?)",
        [int(update_id), iso(now)],
    )
    return cursor.rowcount == 1


def forget_older_than(db: Database, moment: dt.datetime) -> int:
    """Drop the ids recorded before `moment`; returns how many went."""
    return db.execute("DELETE FROM seen_updates WHERE at < ?", [iso(moment)]).rowcount
