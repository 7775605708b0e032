"""Leases: a named thing held by one owner until a moment, across every process on the
database file. A chat's lock while one of its updates is handled (`chat:…`), the
background jobs (`jobs`), a process telling it is alive (`process:…`).

Taking and renewing are one statement each, so two processes can never both hold a
lease; a holder that dies loses it when it expires, or at once when it was a process of
this machine that is gone (killed, crashed). Times are Unix seconds (float).
"""

from __future__ import annotations

import os
import secrets
import socket
import time

from sqlite_utils import Database


def new_owner() -> str:
    """A process's name in the leases: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"


def is_gone(owner: str | None) -> bool:
    """True when `owner` was a process of this machine that no longer runs (or is no
    process's name at all). A process elsewhere is never known gone: its leases expire."""
    if not owner:
        return True
    host, _, rest = owner.partition("/")
    pid = rest.partition("/")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


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
    if cursor.rowcount == 1:
        return True
    gone = holder(db, name, now)
    if gone is None or gone == owner or not is_gone(gone):
        return False
    cursor = db.execute(
        "UPDATE leases SET owner = ?, expires_at = ? WHERE name = ? AND owner = ?",
        [owner, now + seconds, name, gone],
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
