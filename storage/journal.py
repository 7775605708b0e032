"""The crash journal of Telegram updates: each update is written (its JSON, as Telegram
sent it) before it is handled and marked done after, whatever the handler did. After a
crash (kill -9, power cut) the updates not marked done are handled again at the next
start, once; Telegram has already been told they arrived and will not send them again.

The JSON is emptied as soon as the update is done, and a family's rows go with
everything else when they delete their data. Done rows are pruned after a day.
"""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database

from common.clock import iso

KEEP = dt.timedelta(days=1)


def record(
    db: Database,
    update_id: int,
    user_id: int | None,
    data: str,
    now: dt.datetime,
    owner: str | None = None,
) -> str:
    """Write the update down before the process `owner` handles it (committed at once,
    unless the caller's transaction is open: `storage.turns`). Returns "new", "done"
    (already handled: a repeat) or "open" (written before and never finished: a crash,
    or another process handling it now)."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO update_journal (update_id, user_id, data, received_at, done, "
        "attempts, owner) VALUES (?, ?, ?, ?, 0, 0, ?)",
        [update_id, user_id, data, iso(now), owner],
    )
    if cursor.rowcount == 1:
        return "new"
    row = db.execute("SELECT done FROM update_journal WHERE update_id = ?", [update_id]).fetchone()
    return "done" if row and row[0] else "open"


def finish(db: Database, update_id: int) -> None:
    db.execute("UPDATE update_journal SET done = 1, data = NULL WHERE update_id = ?", [update_id])


def unfinished(db: Database) -> list[tuple[int, int | None, str, int, str | None]]:
    """(update_id, user_id, JSON, attempts, owner) of the updates not finished: a crash
    left them, or a process is handling them now."""
    return [
        (r[0], r[1], r[2], r[3], r[4])
        for r in db.execute(
            "SELECT update_id, user_id, data, attempts, owner FROM update_journal "
            "WHERE done = 0 AND data IS NOT NULL ORDER BY update_id"
        )
    ]


def more_of_album(db: Database, user_id: int, media_group_id: str, after_update_id: int) -> bool:
    """Whether a later update of this user's album (Telegram's media group) is written
    down and not handled yet: it is on its way, waiting for the chat's lock."""
    row = db.execute(
        "SELECT 1 FROM update_journal WHERE done = 0 AND user_id = ? AND update_id > ? "
        "AND data IS NOT NULL AND json_extract(data, '$.message.media_group_id') = ? LIMIT 1",
        [user_id, after_update_id, media_group_id],
    ).fetchone()
    return row is not None


def claim(db: Database, update_id: int, was: str | None, owner: str | None) -> bool:
    """Take an unfinished update over from the process `was` (gone) to handle it again,
    counting the attempt. False when another process took it first, or it is done."""
    cursor = db.execute(
        "UPDATE update_journal SET attempts = attempts + 1, owner = ? "
        "WHERE update_id = ? AND done = 0 AND owner IS ?",
        [owner, update_id, was],
    )
    return cursor.rowcount == 1


def prune(db: Database, now: dt.datetime) -> int:
    cursor = db.execute(
        "DELETE FROM update_journal WHERE done = 1 AND received_at < ?", [iso(now - KEEP)]
    )
    return cursor.rowcount
