"""A conversation's stored state, read and written without aiogram: the `fsm` table's
rows (state, data as JSON). `storage.fsm` is aiogram's storage over the same rows; the
console reads and writes them here, so it starts without loading aiogram."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database

from common.clock import now_iso

from .db import immediate

Row = tuple[str | None, str | None]  # a conversation's (state, data as JSON)


def row(db: Database, key: str) -> Row:
    """A conversation's stored (state, data as JSON); (None, None) when it has none."""
    found = db.execute("SELECT state, data FROM fsm WHERE key = ?", [key]).fetchone()
    return (found[0], found[1]) if found else (None, None)


def read(db: Database, key: str) -> tuple[str | None, dict[str, Any]]:
    """A conversation's (state, data); (None, {}) when it has none."""
    state, data = row(db, key)
    return state, (json.loads(data) if data else {})


def put(db: Database, key: str, state: str | None, data: str | None) -> None:
    """Store a conversation's whole row (one statement); one with nothing in it leaves no
    row behind."""
    if state is None and data in (None, "{}"):
        db.execute("DELETE FROM fsm WHERE key = ?", [key])
        return
    db.execute(
        "INSERT INTO fsm (key, state, data, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET state = excluded.state, data = excluded.data, "
        "updated_at = excluded.updated_at",
        [key, state, data, now_iso()],
    )


def write(db: Database, key: str, column: str, value: str | None) -> None:
    """Set the state or the data (JSON) of a conversation; one cleared to nothing leaves
    no row behind."""
    if column not in ("state", "data"):
        raise ValueError(column)
    with immediate(db):
        db.execute(
            f"INSERT INTO fsm (key, {column}, updated_at) VALUES (?, ?, ?) "
            f"ON CONFLICT(key) DO UPDATE SET {column} = excluded.{column}, "
            "updated_at = excluded.updated_at",
            [key, value, now_iso()],
        )
        db.execute(
            "DELETE FROM fsm WHERE key = ? AND state IS NULL AND (data IS NULL OR data = '{}')",
            [key],
        )


def write_data(db: Database, key: str, data: Mapping[str, Any]) -> None:
    write(db, key, "data", json.dumps(dict(data), ensure_ascii=False))
