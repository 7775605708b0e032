"""The crash journal of Telegram updates: each update is written (its JSON, as Telegram
sent it) before it is handled and marked done after, whatever the handler did. After a
crash (kill -9, power cut) the updates not marked done are handled again at the next
start, once; Telegram has already been told they arrived and will not send them again.

An update's row is also its chat's place in line, across every process on the file: an
update is handled once no earlier update of its chat is still open, and no other one is
being handled (`held`, whatever its id), in the hands of a live process (`waiting_on`). The process handling it keeps its row's `expires_at` ahead
(`renew`); a process that dies stops holding anything when that passes, or at once when
it was a process of this machine (`storage.leases.is_gone`). So the chat needs no lock
row of its own: the two writes the journal makes anyway are the lock's.

The JSON is emptied as soon as the update is done, and a family's rows go with
everything else when they delete their data. Done rows are pruned after a day.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time

from sqlite_utils import Database

from common.clock import iso

from . import leases

KEEP = dt.timedelta(days=1)


def _execute(db: Database, sql: str, params: list[object]) -> sqlite3.Cursor:
    """Within the caller's transaction (`storage.turns`: twice per update), straight to
    SQLite; else through sqlite-utils, which commits a write at once."""
    if db.conn.in_transaction:
        return db.conn.execute(sql, params)
    return db.execute(sql, params)


def record(
    db: Database,
    update_id: int,
    user_id: int | None,
    data: str,
    now: dt.datetime,
    owner: str | None = None,
    chat: str | None = None,
    expires_at: float | None = None,
    held: bool = False,
) -> str:
    """Write the update down before the process `owner` handles it (committed at once,
    unless the caller's transaction is open: `storage.turns`), in the line of `chat`
    until `expires_at` (Unix seconds), and `held` (`hold`) when it is new. Returns "new",
    "done" (already handled: a repeat), "open" (written before and never finished, by a
    process that is gone: a crash; now `owner`'s, not held) or "busy" (a live process is
    handling it now)."""
    cursor = _execute(
        db,
        "INSERT OR IGNORE INTO update_journal (update_id, user_id, data, received_at, done, "
        "attempts, owner, chat, expires_at, held) VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?, ?)",
        [update_id, user_id, data, iso(now), owner, chat, expires_at, 1 if held else None],
    )
    if cursor.rowcount == 1:
        return "new"
    row = db.execute(
        "SELECT done, owner, expires_at FROM update_journal WHERE update_id = ?", [update_id]
    ).fetchone()
    if row is None or row[0]:
        return "done"
    was, until = row[1], row[2]
    if _live(was, until, time.time()):
        return "busy"
    claim(db, update_id, was, owner, expires_at, count=False)
    return "open"


# an update of the chat that `update_id` (?2) waits for: any other one being handled
# (held), whatever its id, and any earlier one still open (waiting its turn too)
AHEAD = "chat = ?1 AND done = 0 AND update_id != ?2 AND (update_id < ?2 OR held = 1)"


def waiting_on(db: Database, chat: str, update_id: int, owner: str, now: float) -> bool:
    """True while another update of `chat` is being handled, or an earlier one is open,
    in the hands of a live process (this one, `owner`, included). Being handled counts
    whatever the ids' order: Telegram's updates may reach two processes out of order."""
    return any(
        _live(was, until, now)
        for was, until in db.execute(
            f"SELECT owner, expires_at FROM update_journal WHERE {AHEAD}", [chat, update_id]
        )
    )


def place(db: Database, update_id: int, chat: str) -> None:
    """Put an update written down outside its chat's line (`chat` NULL: a file waiting
    for a checking slot, `bot.backlog`) in that line, now that its turn comes."""
    _execute(db, "UPDATE update_journal SET chat = ? WHERE update_id = ?", [chat, update_id])


def hold(db: Database, update_id: int) -> None:
    """The update is being handled now: its chat's other updates wait for it, whatever
    their ids (`waiting_on`), until it is finished."""
    _execute(db, "UPDATE update_journal SET held = 1 WHERE update_id = ?", [update_id])


def _live(owner: str | None, until: float | None, now: float) -> bool:
    """A row held by a process that may still be handling it: not expired, and not of a
    process of this machine that is gone."""
    if until is None or until < now:
        return False
    return not leases.is_gone(owner)


def renew(db: Database, update_id: int, owner: str, expires_at: float) -> bool:
    """Keep the update in `owner`'s hands until `expires_at`; False when it is not (done,
    erased, or taken over by another process that thought this one gone)."""
    cursor = _execute(
        db,
        "UPDATE update_journal SET expires_at = ? WHERE update_id = ? AND owner = ? AND done = 0",
        [expires_at, update_id, owner],
    )
    return cursor.rowcount == 1


def finish(db: Database, update_id: int) -> None:
    """Done: its JSON goes. An update whose row an erasure emptied while it was handled
    (the family's own «cancella tutto») loses whose it was too: only its id is left, so
    a repeat of it from Telegram is still known."""
    _execute(
        db,
        "UPDATE update_journal SET done = 1, data = NULL, "
        "user_id = CASE WHEN data IS NULL THEN NULL ELSE user_id END, "
        "chat = CASE WHEN data IS NULL THEN NULL ELSE chat END WHERE update_id = ?",
        [update_id],
    )


def unfinished(db: Database) -> list[tuple[int, int | None, str, int, str | None, float | None]]:
    """(update_id, user_id, JSON, attempts, owner, expires_at) of the updates not
    finished: a crash left them, or a process is handling them now (`handled_now`)."""
    return [
        (r[0], r[1], r[2], r[3], r[4], r[5])
        for r in db.execute(
            "SELECT update_id, user_id, data, attempts, owner, expires_at FROM update_journal "
            "WHERE done = 0 AND data IS NOT NULL ORDER BY update_id"
        )
    ]


def handled_now(owner: str | None, expires_at: float | None, alive: set[str]) -> bool:
    """Whether an unfinished update is in the hands of a live process: its row's own
    lease (`renew`) not expired, or, for a row without one, its process's lease
    (`storage.leases`, in `alive`) — and that process not known gone. A process that
    has just started answers before its process lease is first written: its rows'
    leases say it is alive all the same."""
    if owner is None or leases.is_gone(owner):
        return False
    return _live(owner, expires_at, time.time()) or owner in alive


def more_of_album(db: Database, user_id: int, media_group_id: str, after_update_id: int) -> bool:
    """Whether a later update of this user's album (Telegram's media group) is written
    down and not handled yet: it is on its way, waiting for the chat's lock."""
    row = db.execute(
        "SELECT 1 FROM update_journal WHERE done = 0 AND user_id = ? AND update_id > ? "
        "AND data IS NOT NULL AND json_extract(data, '$.message.media_group_id') = ? LIMIT 1",
        [user_id, after_update_id, media_group_id],
    ).fetchone()
    return row is not None


def claim(
    db: Database,
    update_id: int,
    was: str | None,
    owner: str | None,
    expires_at: float | None = None,
    count: bool = True,
) -> bool:
    """Take an unfinished update over from the process `was` (gone) to handle it again,
    until `expires_at`, counting the attempt (`count`). False when another process took
    it first, or it is done."""
    cursor = db.execute(
        "UPDATE update_journal SET attempts = attempts + ?, owner = ?, expires_at = ?, "
        "held = NULL WHERE update_id = ? AND done = 0 AND owner IS ?",
        [1 if count else 0, owner, expires_at, update_id, was],
    )
    return cursor.rowcount == 1


def prune(db: Database, now: dt.datetime) -> int:
    cursor = db.execute(
        # done, or emptied by an erasure while it was handled (`storage.erasure`)
        "DELETE FROM update_journal WHERE (done = 1 OR data IS NULL) AND received_at < ?",
        [iso(now - KEEP)],
    )
    return cursor.rowcount
