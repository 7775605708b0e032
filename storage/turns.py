"""One update's turn on the database file: two write transactions around its handler.

- `begin`, before the handler: the update written down in the crash journal, the chat's
  lease taken (`chat:<key>`, across processes), the conversation's row and the user's
  language read, in one transaction. When another process holds the chat, the journal
  row is committed all the same (an update is written down as soon as it comes) and the
  lease is tried again later with `begin` and no journal entry.
- `end`, after the handler (whatever it did): the conversation's row written when it
  changed, the update marked done, the lease released, in one transaction. Another
  process taking the chat next reads the row this one wrote.

So an update costs two commits, however many times the handler reads and changes the
conversation in between (`storage.fsm.SQLiteStorage` keeps the row while the lease is
held: nobody else may change it meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from sqlite_utils import Database

from . import fsm, journal, leases
from .db import immediate
from .fsm import Row, SQLiteStorage
from .users import get_language

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """An update to write down in the crash journal before it is handled."""

    update_id: int
    user_id: int | None
    raw: str  # its JSON
    received: dt.datetime


@dataclass(frozen=True)
class Begun:
    journal: str | None  # "new", "done" (a repeat), "open" (written before), None: not written
    locked: bool  # the chat's lease is ours
    row: Row = (None, None)  # the conversation, read once the lease is ours
    language: str | None = None  # the language the user chose, read with it


def begin(
    db: Database,
    *,
    owner: str,
    lease: str,
    seconds: float,
    key: str,
    user_id: int | None,
    entry: Entry | None = None,
) -> Begun:
    """Write `entry` down (if any), take the lease `lease` for `owner` and, once it is
    ours, read the conversation `key` and the language of `user_id`: one transaction."""
    now = time.time()
    with immediate(db):
        written = None
        if entry is not None:
            written = journal.record(
                db, entry.update_id, entry.user_id, entry.raw, entry.received, owner
            )
        if written == "done" or not leases.hold(db, lease, owner, seconds, now):
            return Begun(written, False)
        row = fsm.row(db, key)
        language = get_language(db, user_id) if user_id is not None else None
    return Begun(written, True, row, language)


def end(
    db: Database,
    *,
    owner: str,
    lease: str | None,
    key: str,
    row: Row | None = None,
    update_id: int | None = None,
) -> None:
    """Write the conversation's `row` (None: unchanged), mark `update_id` done and release
    the lease: one transaction."""
    with immediate(db):
        if row is not None:
            fsm.put(db, key, *row)
        if update_id is not None:
            journal.finish(db, update_id)
        if lease is not None:
            leases.release(db, lease, owner)



_HELD: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "chats_held", default=frozenset()
)


class ChatLock(BaseEventIsolation):
    """aiogram's event isolation across processes: one update of a chat at a time, on
    every process sharing the database file (albums' photos, two taps, a restart).

    Within the process an asyncio lock queues the chat's updates; across processes a
    lease row (`chat:<key>`) is taken before the handler runs, renewed while it runs,
    and released after. A process that dies holding it loses it after `lease` seconds.

    `turn` does it for one update with its crash journal entry and the conversation's
    row, in the two transactions of `begin` and `end`; aiogram's own `lock` then finds
    the chat held by the turn and lets it through."""

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
        self.storage = storage or SQLiteStorage(db)
        self._local: dict[str, tuple[asyncio.Lock, int]] = {}
        self._renewals: dict[str, asyncio.TimerHandle] = {}

    @contextlib.asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        if fsm.key_of(key) in _HELD.get():  # this update's turn holds it already
            yield
            return
        async with self.turn(key):
            yield

    @contextlib.asynccontextmanager
    async def turn(
        self, key: StorageKey, entry: Entry | None = None, user_id: int | None = None
    ) -> AsyncIterator[Begun]:
        """Hold the chat of `key` for one update, written down first as `entry` (if
        given); yields what `begin` read. A repeat of an update already done
        (`journal == "done"`) is yielded without the lock: nothing is to be handled."""
        name = fsm.key_of(key)
        lease = f"chat:{name}"
        local, users = self._local.get(lease, (asyncio.Lock(), 0))
        self._local[lease] = (local, users + 1)
        try:
            written = None
            if entry is not None and local.locked():
                # another update of this chat is being handled here: this one is
                # written down now, then waits its turn
                written = journal.record(
                    self.db, entry.update_id, entry.user_id, entry.raw, entry.received, self.owner
                )
            if written == "done":
                yield Begun(written, False)
                return
            async with local:
                begun = await self._begin(lease, name, user_id, None if written else entry)
                if not begun.locked:
                    yield begun
                    return
                self.storage.hold(name, begun.row)
                held = _HELD.set(_HELD.get() | {name})
                self._renew_later(lease)
                try:
                    yield begun if written is None else replace(begun, journal=written)
                finally:
                    _HELD.reset(held)
                    self._renewals.pop(lease).cancel()
                    end(
                        self.db,
                        owner=self.owner,
                        lease=lease,
                        key=name,
                        row=self.storage.release(name),
                        update_id=entry.update_id if entry is not None else None,
                    )
        finally:
            local, users = self._local[lease]
            if users <= 1:
                del self._local[lease]
            else:
                self._local[lease] = (local, users - 1)

    async def _begin(self, lease: str, name: str, user_id: int | None, entry: Entry | None) -> Begun:
        """`begin` until the lease is ours (another process is handling this chat), the
        journal entry written with the first try."""
        wait = self.poll
        first = begin(
            self.db,
            owner=self.owner,
            lease=lease,
            seconds=self.lease,
            key=name,
            user_id=user_id,
            entry=entry,
        )
        begun = first
        while not begun.locked and begun.journal != "done":
            await asyncio.sleep(wait)
            wait = min(wait * 2, 0.2)
            begun = begin(
                self.db, owner=self.owner, lease=lease, seconds=self.lease, key=name, user_id=user_id
            )
        return begun if begun is first else replace(begun, journal=first.journal)

    def _renew_later(self, lease: str) -> None:
        self._renewals[lease] = asyncio.get_running_loop().call_later(
            self.lease / 3, self._renew, lease
        )

    def _renew(self, lease: str) -> None:
        """Renew a held chat's lease (between awaits: no transaction is open then)."""
        try:
            if not leases.hold(self.db, lease, self.owner, self.lease):
                log.error("a chat's lock was lost while its update was handled")
                return
        except sqlite3.Error as exc:  # the database out of reach: try again later
            log.warning("a chat's lease not renewed: %s", type(exc).__name__)
        self._renew_later(lease)

    async def close(self) -> None:
        pass
