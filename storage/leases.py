"""Leases: a named thing held by one owner until a moment, across every process on the
database file. A chat's lock while one of its updates is handled (`chat:…`), the
background jobs (`jobs`), a process telling it is alive (`process:…`).

Taking and renewing are one statement each, so two processes can never both hold a
lease; a holder that dies loses it when it expires. Times are Unix seconds (float).
"""

from __future__ import annotations

import time

from sqlite_utils import Database


def hold(db: Database, name: str, owner: str, seconds: float, now: float | None = None) -> bool:
    """Take the lease, or renew it when `owner` holds it already, until now + `seconds`.
    False when someone else holds it and it has not expired."""
    now = time.time() if now is None else now
    cursor = db.execute(
        "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, "
        "expires_at = excluded.expires_at "
        "WHERE leases.owner = excluded.owner OR leases.expires_at < ?",
        [name, owner, now + seconds, now],
    )
    return cursor.rowcount == 1


def release(db: Database, name: str, owner: str) -> None:
    """Give the lease back (only its holder can)."""
    db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", [name, owner])


def holder(db: Database, name: str, now: float | None = None) -> str | None:
    """Who holds the lease now, or None."""
    now = time.time() if now is None else now
    row = db.execute(
        "SELECT owner FROM leases WHERE name = ? AND expires_at >= ?", [name, now]
    ).fetchone()
    return row[0] if row else None


def alive(db: Database, prefix: str, now: float | None = None) -> set[str]:
    """The owners of the unexpired leases whose name starts with `prefix`."""
    now = time.time() if now is None else now
    return {
        r[0]
        for r in db.execute(
            "SELECT owner FROM leases WHERE name >= ? AND name < ? AND expires_at >= ?",
            [prefix, prefix + "\uffff", now],
        )
    }
