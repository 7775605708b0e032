"""aiogram FSM storage in SQLite, as JSON (never pickle): a restart loses nothing."""

from __future__ import annotations

import json
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlite_utils import Database

from common.clock import now_iso


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


_storages: weakref.WeakSet[SQLiteStorage] = weakref.WeakSet()


def forget_cached(user_id: int) -> None:
    """Drop a user's rows from every storage's cache (their rows were deleted in SQL)."""
    marker = f":{user_id}:"
    for storage in list(_storages):
        for k in [k for k in storage._cache if marker in k]:
            storage._cache.pop(k, None)


class SQLiteStorage(BaseStorage):
    """Rows are read through a small cache of their stored text (decoded afresh on every
    read, so a handler that changes its copy and then fails changes nothing). Every write
    goes to SQLite first; this process is the only writer of the table."""

    CACHE = 4096

    def __init__(self, db: Database):
        self.db = db
        self._cache: OrderedDict[str, dict[str, Any] | None] = OrderedDict()
        _storages.add(self)

    def _row(self, key: StorageKey) -> dict[str, Any] | None:
        k = key_of(key)
        if k in self._cache:
            self._cache.move_to_end(k)
            return self._cache[k]
        row = self.db.execute("SELECT state, data FROM fsm WHERE key = ?", [k]).fetchone()
        found = {"state": row[0], "data": row[1]} if row else None
        self._remember(k, found)
        return found

    def _remember(self, k: str, row: dict[str, Any] | None) -> None:
        self._cache[k] = row
        self._cache.move_to_end(k)
        while len(self._cache) > self.CACHE:
            self._cache.popitem(last=False)

    def _write(self, key: StorageKey, column: str, value: str | None) -> None:
        now = now_iso()
        self.db.execute(
            f"INSERT INTO fsm (key, {column}, updated_at) VALUES (?, ?, ?) "
            f"ON CONFLICT(key) DO UPDATE SET {column} = excluded.{column}, "
            "updated_at = excluded.updated_at",
            [key_of(key), value, now],
        )
        # a conversation cleared to nothing leaves no row behind
        self.db.execute(
            "DELETE FROM fsm WHERE key = ? AND state IS NULL AND (data IS NULL OR data = '{}')",
            [key_of(key)],
        )
        self.db.conn.commit()
        k = key_of(key)
        cached = self._cache.get(k)
        if cached is None:
            self._cache.pop(k, None)  # the other column is not known here: read it next time
        else:
            self._remember(k, {**cached, column: value})

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
