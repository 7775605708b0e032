"""Figures for `/healthz` and `/metrics`: does the database answer, how many rows of a
table are in each status, the oldest message waiting in the outbox."""

from __future__ import annotations

import logging

from sqlite_utils import Database

log = logging.getLogger(__name__)

# the tables with a status column that the figures count
COUNTED = ("dossiers", "outbox", "integration_requests", "outgoing")


def answers(db: Database) -> bool:
    """True when the database answers a query (not closed, locked past busy_timeout, gone)."""
    try:
        return db.execute("SELECT 1").fetchone() == (1,)
    except Exception as exc:
        log.warning("database check failed: %s", type(exc).__name__)
        return False


def by_status(db: Database, table: str, known: tuple[str, ...]) -> dict[str, int]:
    """COUNT(*) by status, with every known status present (0 when none)."""
    if table not in COUNTED:
        raise ValueError(f"no status figures for {table!r}")
    counts = dict.fromkeys(known, 0)
    for status, n in db.execute(f"SELECT status, COUNT(*) FROM [{table}] GROUP BY status"):
        counts[str(status)] = int(n)
    return counts


def oldest_in_outbox(db: Database, status: str) -> str | None:
    """When the oldest outbox message in `status` was queued (as stored), or None."""
    return db.execute("SELECT MIN(created_at) FROM outbox WHERE status = ?", [status]).fetchone()[0]
