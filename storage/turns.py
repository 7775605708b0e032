"""One update's turn on the database file: two write transactions around its handler.

- `begin`, before the handler: the update written down in the crash journal (its row
  is also its chat's place in line across processes: `storage.journal`) and, when no
  other update of the chat is ahead (`journal.AHEAD`: being handled, whatever its id, or
  earlier and still open), marked held, with the conversation's row and the
  user's language read, in one transaction. When one is, the journal row is committed
  all the same (an update is written down as soon as it comes) and `begin` is tried
  again later without it.
- `end`, after the handler (whatever it did): the conversation's row written when it
  was written to, and the update marked done (which lets the chat's next update go), in
  one transaction.

So an update costs two commits and about five pages of the file, however many times the
handler reads and changes the conversation in between (`storage.fsm.SQLiteStorage`
keeps the row while the chat is held: nobody else may change it meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from sqlite_utils import Database

from . import fsm, journal, leases
from .db import immediate
from .fsm import Row, SQLiteStorage

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    """An update to write down in the crash journal before it is handled."""

    update_id: int
    user_id: int | None
    raw: str  # its JSON
    received: dt.datetime


@dataclass(frozen=True)
class Begun:
    journal: str | None  # "new", "open", "done" or "busy" (see `journal.record`); None: not written
    held: bool  # the chat is this update's now
    row: Row = (None, None)  # the conversation, read once the chat is held
    language: str | None = None  # the language the user chose, read with it


def begin(
    db: Database,
    *,
    owner: str,
    update_id: int,
    chat: str,
    seconds: float,
    user_id: int | None,
    entry: Entry | None = None,
) -> Begun:
    """Write `entry` down (if any; else keep the update's row in `owner`'s hands) and,
    unless another update of `chat` is ahead of it (`journal.AHEAD`), mark it held and
    read the conversation and the language of `user_id`: one transaction."""
    now = time.time()
    with immediate(db):
        # one statement: is another update of the chat ahead (`journal.AHEAD`, which
        # leaves this update's own row out: the same before it is written), the
        # conversation, the language (the slower look at who holds the update ahead only
        # when there is one)
        earlier, state, data, language = db.conn.execute(
            f"SELECT EXISTS (SELECT 1 FROM update_journal WHERE {journal.AHEAD} "
            "AND expires_at >= ?3), "
            "(SELECT state FROM fsm WHERE key = ?1), (SELECT data FROM fsm WHERE key = ?1), "
            "(SELECT language FROM users WHERE user_id = ?4)",
            [chat, update_id, now, user_id],
        ).fetchone()
        written = None
        if entry is not None:
            # written down, and held at once when nothing is ahead (one statement)
            written = journal.record(
                db,
                entry.update_id,
                entry.user_id,
                entry.raw,
                entry.received,
                owner,
                chat=chat,
                expires_at=now + seconds,
                held=not earlier,
            )
            if written in ("done", "busy"):
                return Begun(written, False)
        elif not journal.renew(db, update_id, owner, now + seconds):
            # its row is gone (an erasure) or no longer this process's (another one took it
            # over, or finished it): not handled here
            return Begun("done", False)
        if earlier and journal.waiting_on(db, chat, update_id, owner, now):
            return Begun(written, False)
        if earlier or written != "new":  # not held by `record`
            journal.hold(db, update_id)
    return Begun(written, True, (state, data), language)


def end(db: Database, *, update_id: int, chat: str, row: Row | None = None) -> None:
    """Write the conversation's `row` (None: not written to) and mark the update done,
    which lets the chat's next update go: one transaction."""
    with immediate(db):
        if row is not None:
            fsm.put(db, chat, *row)
        journal.finish(db, update_id)


_HELD: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "chats_held", default=frozenset()
)
_HOLDING: contextlib.nullcontext[None] = contextlib.nullcontext()


class ChatLock(BaseEventIsolation):
    """aiogram's event isolation across processes: one update of a chat at a time, on
    every process sharing the database file (albums' photos, two taps, a restart), in
    the order they came.

    Within the process an asyncio lock queues the chat's updates; across processes the
    crash journal's rows do (`storage.journal`): `turn` holds a chat for one update,
    written down first, with the conversation's row, in the two transactions of `begin`
    and `end`. aiogram's own `lock` then finds the chat held by the turn (`bot.journal`
    runs every update through one) and lets it through."""

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
        self._handling: set[int] = set()  # the updates held now, kept ahead by `_renew`
        self._renewer: asyncio.Task[None] | None = None

    def lock(self, key: StorageKey) -> contextlib.nullcontext[None]:  # type: ignore[override]
        """aiogram's FSM middleware asks for the chat its update's turn holds already."""
        if fsm.key_of(key) not in _HELD.get():
            raise RuntimeError("a chat is held for an update by ChatLock.turn (bot.journal)")
        return _HOLDING

    async def turn(
        self,
        key: StorageKey,
        update_id: int,
        work: Callable[[Begun], Awaitable[T]],
        entry: Entry | None = None,
        user_id: int | None = None,
        written: str | None = None,
    ) -> T | None:
        """`work(begun)` holding the chat of `key` for the update `update_id`, written
        down first as `entry` (None: it is in the journal already, a replay), with what
        `begin` read. An update that is not to be handled here (`journal` "done": a
        repeat; "busy": another process has it) is not worked on: None. `written`: what
        `journal.record` said when this process wrote it down earlier itself, outside the
        chat's line (`entry` None)."""
        chat = fsm.key_of(key)
        local, users = self._local.get(chat) or (asyncio.Lock(), 0)
        self._local[chat] = (local, users + 1)
        try:
            if entry is None:  # written down before (a replay, a file that waited in
                # line), maybe outside the chat's line: in it now
                journal.place(self.db, update_id, chat)
            if entry is not None and local.locked():
                # another update of this chat is being handled here: this one is
                # written down now, then waits its turn
                written = journal.record(
                    self.db,
                    entry.update_id,
                    entry.user_id,
                    entry.raw,
                    entry.received,
                    self.owner,
                    chat=chat,
                    expires_at=time.time() + self.lease,
                )
                entry = None
                if written in ("done", "busy"):
                    return None
            async with local:
                begun = await self._begin(chat, update_id, user_id, entry, written)
                if not begun.held:
                    return None
                self.storage.hold(chat, begun.row)
                held = _HELD.set(_HELD.get() | {chat})
                self._handling.add(update_id)
                if self._renewer is None or self._renewer.done():
                    self._renewer = asyncio.create_task(self._renew(), name="chats-renewer")
                try:
                    return await work(begun)
                finally:
                    _HELD.reset(held)
                    self._handling.discard(update_id)
                    row = self.storage.release(chat)
                    end(self.db, update_id=update_id, chat=chat, row=row)
        finally:
            local, users = self._local[chat]
            if users <= 1:
                del self._local[chat]
            else:
                self._local[chat] = (local, users - 1)

    async def _begin(
        self,
        chat: str,
        update_id: int,
        user_id: int | None,
        entry: Entry | None,
        written: str | None,
    ) -> Begun:
        """`begin` until no other update of the chat is ahead of this one (in another
        process), the journal entry written with the first try."""
        wait = self.poll
        while True:
            begun = begin(
                self.db,
                owner=self.owner,
                update_id=update_id,
                chat=chat,
                seconds=self.lease,
                user_id=user_id,
                entry=entry,
            )
            if entry is not None:
                written, entry = begun.journal, None
            if begun.held or begun.journal in ("done", "busy"):
                return Begun(written, begun.held, begun.row, begun.language)
            await asyncio.sleep(wait)  # another process is handling this chat
            wait = min(wait * 2, 0.2)

    async def _renew(self) -> None:
        """While updates are held here, keep their rows ahead every third of the lease
        (one task for all of them; it stops when none is held)."""
        while self._handling:
            await asyncio.sleep(self.lease / 3)
            for update_id in list(self._handling):
                try:
                    if not journal.renew(self.db, update_id, self.owner, time.time() + self.lease):
                        log.error("a chat's lock was lost while its update was handled")
                        self._handling.discard(update_id)
                except sqlite3.Error as exc:  # the database out of reach: try again later
                    log.warning("a chat's lock not renewed: %s", type(exc).__name__)

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
