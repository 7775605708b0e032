"""aiogram FSM storage in SQLite, as JSON (never pickle): a restart loses nothing, and
several processes on the same file (two workers, or the old and the new one during a
restart) see one conversation.

Nothing is kept in the process between updates: a state another process wrote is the
one read. While an update is handled its chat is locked across processes
(`storage.turns.ChatLock`, a lease row), so no other process reads or writes that
conversation in between: the row is read once when the lock is taken and written once
when it is released, in the same transactions as the lease (`storage.turns`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlite_utils import Database

from .conversations import Row, put, read, row, write, write_data

__all__ = ["Row", "SQLiteStorage", "key_of", "put", "read", "row", "write", "write_data"]


def key_of(key: StorageKey) -> str:
    """One text key per conversation; the user id sits between colons (see delete_user)."""
    name = _names.get(key)
    if name is None:
        if len(_names) >= 4096:
            _names.clear()
        name = _names[key] = ":".join(
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
    return name


_names: dict[StorageKey, str] = {}  # key_of's answers: a few per update, the same


class SQLiteStorage(BaseStorage):
    """Every write is committed before the call returns, except while this process holds
    the chat's lock (`storage.turns.ChatLock`, across processes): then the row read when
    the lock was taken is the one read and changed, and it is written when the lock is
    released, in one transaction with the lease, since nobody else may change it
    meanwhile. Nothing is kept between updates."""

    def __init__(self, db: Database):
        self.db = db
        self._held: dict[str, _Held] = {}

    def hold(self, name: str, row: Row) -> None:
        """This process handles an update of the chat `name` (its lock is held), whose
        stored row is `row`."""
        self._held[name] = _Held(*row)

    def release(self, name: str) -> Row | None:
        """The chat's lock goes: its row to write, or None when it did not change."""
        held = self._held.pop(name, None)
        return (held.state, held.data) if held is not None and held.changed else None

    def _row(self, name: str) -> Row:
        held = self._held.get(name)
        return (held.state, held.data) if held is not None else row(self.db, name)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        name = key_of(key)
        value = state.state if isinstance(state, State) else state
        held = self._held.get(name)
        if held is None:
            write(self.db, name, "state", value)
        else:  # written when the lock goes; even unchanged, it is dated (retention)
            held.state, held.changed = value, True

    async def get_state(self, key: StorageKey) -> str | None:
        return self._row(key_of(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        name = key_of(key)
        text = json.dumps(dict(data), ensure_ascii=False)
        held = self._held.get(name)
        if held is None:
            write(self.db, name, "data", text)
        else:
            held.data, held.changed, held.decoded = text, True, None

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        name = key_of(key)
        held = self._held.get(name)
        if held is not None and held.decoded is not None:  # decoded by `peek_data`: now yours
            data, held.decoded = held.decoded, None
            return data
        text = self._row(name)[1]
        return json.loads(text) if text else {}

    def peek_data(self, key: StorageKey) -> Mapping[str, Any]:
        """The data, to read and not to change: while the chat is held, decoded once and
        handed to the next `get_data` (a middleware that only looks, then the handler,
        decode the JSON once per update)."""
        name = key_of(key)
        held = self._held.get(name)
        if held is None:
            text = self._row(name)[1]
            return json.loads(text) if text else {}
        if held.decoded is None:
            held.decoded = json.loads(held.data) if held.data else {}
        return held.decoded

    async def close(self) -> None:
        """Nothing: the database is not the storage's own. aiogram closes its storage
        when polling stops, while the background jobs still finish their round on the
        same connection; whoever opened the database closes it, after them."""


@dataclass
class _Held:
    state: str | None
    data: str | None
    changed: bool = False
    decoded: dict[str, Any] | None = None  # `data` decoded by `peek_data`, not yet handed on
