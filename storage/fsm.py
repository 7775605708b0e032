"""aiogram FSM storage in SQLite, as JSON (never pickle): a restart loses nothing."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlite_utils import Database
from sqlite_utils.db import NotFoundError


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
        try:
            return self.db["fsm"].get(key_of(key))
        except NotFoundError:
            return None

    def _write(self, key: StorageKey, **values: Any) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.db["fsm"].upsert({"key": key_of(key), **values, "updated_at": now}, pk="key")

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        self._write(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        row = self._row(key)
        return row["state"] if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        self._write(key, data=json.dumps(dict(data), ensure_ascii=False))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = self._row(key)
        if not row or not row["data"]:
            return {}
        return json.loads(row["data"])

    async def close(self) -> None:
        self.db.close()
