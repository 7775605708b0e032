"""aiogram FSM storage in SQLite, as JSON (never pickle): a restart loses nothing, and
several processes on the same file (two workers, or the old and the new one during a
restart) see one conversation.

Nothing is cached in the process: a state another process wrote is the one read. While
an update is handled its chat is locked across processes (`ChatLock`, a lease row
renewed while the handler runs), so no other process reads or writes that conversation
in between: the state read at the start of an update and the one written at its end
belong to the same update.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StateType, StorageKey
from sqlite_utils import Database

from . import leases
from .conversations import read, write, write_data

__all__ = ["ChatLock", "SQLiteStorage", "key_of", "read", "write", "write_data"]

log = logging.getLogger(__name__)


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
    """Every write is committed before the call returns. Reads go to the file, except
    while this process holds the chat's lock (`ChatLock`, across processes): then the row
    is read once (state and data in one query) and kept until the lock is released, since
    nobody else may change it meanwhile. Nothing is kept between updates."""

    def __init__(self, db: Database):
        self.db = db
        self._held: dict[str, tuple[str | None, str | None] | None] = {}

    def hold(self, name: str) -> None:
        """This process handles an update of the chat `name` (its lock is held)."""
        self._held[name] = None

    def release(self, name: str) -> None:
        self._held.pop(name, None)

    def _row(self, name: str) -> tuple[str | None, str | None]:
        cached = self._held.get(name)
        if cached is not None:
            return cached
        row = self.db.execute("SELECT state, data FROM fsm WHERE key = ?", [name]).fetchone()
        found = (row[0], row[1]) if row else (None, None)
        if name in self._held:
            self._held[name] = found
        return found

    def _kept(self, name: str, state: str | None = None, data: str | None = None) -> None:
        cached = self._held.get(name)
        if cached is not None:
            self._held[name] = (
                state if state is not None else cached[0],
                data if data is not None else cached[1],
            )

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        name = key_of(key)
        value = state.state if isinstance(state, State) else state
        write(self.db, name, "state", value)
        if name in self._held:
            cached = self._held[name]
            self._held[name] = (value, cached[1]) if cached is not None else None

    async def get_state(self, key: StorageKey) -> str | None:
        return self._row(key_of(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        name = key_of(key)
        text = json.dumps(dict(data), ensure_ascii=False)
        write(self.db, name, "data", text)
        self._kept(name, data=text)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        text = self._row(key_of(key))[1]
        return json.loads(text) if text else {}

    async def close(self) -> None:
        """Nothing: the database is not the storage's own. aiogram closes its storage
        when polling stops, while the background jobs still finish their round on the
        same connection; whoever opened the database closes it, after them."""


class ChatLock(BaseEventIsolation):
    """aiogram's event isolation across processes: one update of a chat at a time, on
    every process sharing the database file (albums' photos, two taps, a restart).

    Within the process an asyncio lock queues the chat's updates; across processes a
    lease row (`chat:<key>`) is taken before the handler runs, renewed while it runs,
    and released after. A process that dies holding it loses it after `lease` seconds."""

    def __init__(
        self,
        db: Database,
        lease: float = 30.0,
        poll: float = 0.01,
        owner: str | None = None,
        storage: SQLiteStorage | None = None,
    ):
        self.db, self.lease, self.poll = db, lease, poll
        self.owner = owner or leases.new_owner()
        self.storage = storage  # told which chats are held: it reads their row once
        self._local: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        name = f"chat:{key_of(key)}"
        local, users = self._local.get(name, (asyncio.Lock(), 0))
        self._local[name] = (local, users + 1)
        try:
            async with local:
                await self._take(name)
                renewing = asyncio.create_task(self._renew(name))
                if self.storage is not None:
                    self.storage.hold(key_of(key))
                try:
                    yield
                finally:
                    if self.storage is not None:
                        self.storage.release(key_of(key))
                    renewing.cancel()
                    leases.release(self.db, name, self.owner)
        finally:
            local, users = self._local[name]
            if users <= 1:
                del self._local[name]
            else:
                self._local[name] = (local, users - 1)

    async def _take(self, name: str) -> None:
        wait = self.poll
        while not leases.hold(self.db, name, self.owner, self.lease):
            await asyncio.sleep(wait)  # another process is handling this chat
            wait = min(wait * 2, 0.2)

    async def _renew(self, name: str) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            if not leases.hold(self.db, name, self.owner, self.lease):
                log.error("a chat's lock was lost while its update was handled")
                return

    async def close(self) -> None:
        pass
