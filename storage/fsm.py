"""aiogram FSM storage in SQLite, as JSON (never pickle): a restart loses nothing."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlite_utils import Database


def key_of(key: StorageKey) -> str:
    """One text key per conversation; the user id sits between colons (see delete_user)."""
    return ":".join(
        str(part)
        for part in (
            key.bot_id,
            key.chat_id,
            key.user_id,
            key.thread_id or 0,
            key.business_connection_id or "",
            key.destiny,
        )
    )


class SQLiteStorage(BaseStorage):
    def __init__(self, db: Database):
        self.db = db

    def _row(self, key: StorageKey) -> dict[str, Any] | None:
        row = self.db.execute("SELECT state, data FROM fsm WHERE key = ?", [key_of(key)]).fetchone()
        return {"state": row[0], "data": row[1]} if row else None

    def _write(self, key: StorageKey, column: str, value: str | None) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.db.execute(
            f"INSERT INTO fsm (key, {column}, updated_at) VALUES (?, ?, ?) "
            f"ON CONFLICT(key) DO UPDATE SET {column} = excluded.{column}, "
            "updated_at = excluded.updated_at",
            [key_of(key), value, now],
        )
        self.db.conn.commit()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        self._write(key, "state", value)

    async def get_state(self, key: StorageKey) -> str | None:
        row = self._row(key)
        return row["state"] if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        self._write(key, "data", json.dumps(dict(data), ensure_ascii=False))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = self._row(key)
        if not row or not row["data"]:
            return {}
        return json.loads(row["data"])

    async def close(self) -> None:
        self.db.close()
