"""The files a chat has sent that wait for their turn, capped.

A chat's updates are handled one at a time (its turn, `bot.turns`), so a family that
sends 50 files at once has 49 waiting behind the first: minutes for the last one, and
every one of them downloaded and checked in turn. This middleware counts, before the
update's turn, the files each chat has in hand (arrived, not finished) and all chats
together; a file over either cap is not downloaded at all, and the family is told that
it was not taken and to send it again in a minute (once per pile: not for every photo of
an album). Nothing kept is lost, and the files not taken are still on their phone.

The process's cap is shared fairly: chats with `FEW` files or more in hand fill it only up
to `RESERVE` slots short of full, and those last slots are for chats with fewer files in
hand. So two chats sending piles of files cannot take every other family's uploads away:
a family sending one photo is still taken while they wait.

The reserve alone could still be held by a dozen chats each keeping one file in hand
(sending the next as soon as one is answered). So a file from a chat with nothing in
hand, arriving when the process is full, waits in line (first come, first served, at
most `WAIT` seconds, at most `MAX_WAITING` files) instead of being turned away, written
in the crash journal before it waits (a crash meanwhile: it is handled at the next
start); while one
waits, a slot that frees goes to the first in line, and a chat already holding a file
takes no slot. Twelve chats keeping one file each then get their turn like anyone else:
a family sending one photo is served once a slot frees, after the few files ahead of
hers, never starved. Only a chat's first file waits; the others of an album that could
not be taken are told about as before.

One counter per process (with two webhook workers each has its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.types import Message, TelegramObject, Update
from aiogram.utils.i18n import I18n
from sqlite_utils import Database

from common.i18n import N_
from storage import journal
from storage.users import get_language

from .i18n import locale_of
from .paperwork import TELEGRAM_FAILED
from .turns import JOURNALED, Turns

log = logging.getLogger(__name__)

PER_CHAT = 20  # two full albums (Telegram's albums hold at most 10)
IN_HAND = 40  # files of all chats together in this process
RESERVE = 10  # of those, kept for chats with fewer than FEW files in hand
FEW = 2
BURST = 2.0  # seconds: the files not taken within this time (one pile) are told about once
WAIT = 20.0  # seconds a file from a chat with nothing in hand waits for a slot, at most
MAX_WAITING = 100  # files waiting in line, at most (then told at once)

NOT_TAKEN = N_(
    "Sto ancora controllando i file di prima: mandate il resto tra un minuto. Gli ultimi "
    "file non li ho presi; con /documenti vedete quelli già arrivati."
)

NOTHING_PENDING = N_(
    "In questo momento ho molti file da controllare: questo non l'ho preso. Mandatelo di "
    "nuovo tra un minuto."
)


class Backlog(BaseMiddleware):
    """The outer middleware (on updates, before their turn); see the module."""

    def __init__(
        self,
        i18n: I18n,
        db: Database,
        per_chat: int | None = None,
        in_hand: int | None = None,
        reserve: int | None = None,
    ) -> None:
        self.i18n = i18n
        self.db = db
        self.per_chat = PER_CHAT if per_chat is None else per_chat
        self.in_hand = IN_HAND if in_hand is None else in_hand
        self.reserve = RESERVE if reserve is None else reserve
        self.chats: dict[int, int] = {}  # files in hand, by chat
        self.line: deque[tuple[int, asyncio.Future[None]]] = deque()  # waiting, by chat
        self.told: dict[int, tuple[float, str | None]] = {}  # when each chat was told, album
        self.turns: Turns | None = None  # writes an update down before it waits in line
        self.in_line: set[int] = set()  # the update ids waiting in line

    @property
    def total(self) -> int:
        return sum(self.chats.values())

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        update: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        message = update.message if isinstance(update, Update) else None
        if message is None or not (message.photo or message.document):
            return await handler(update, data)
        chat = message.chat.id
        if isinstance(update, Update) and update.update_id in self.in_line:
            return None  # Telegram sent it again while it waits in line: it is there
        mine = self.chats.get(chat, 0) + sum(1 for c, _f in self.line if c == chat)
        if self._takes(mine):
            self._take(chat)
        else:
            # a replayed update (a crash's leftovers) does not wait: the replay runs in the
            # leader's round, which must not stall for 20 s a file
            waits = mine == 0 and len(self.line) < MAX_WAITING and not data.get("replaying")
            if waits and self.turns is not None:
                # written down before the wait: a crash meanwhile does not lose it
                assert isinstance(update, Update)
                if not self.turns.write_down(update, data, WAIT):
                    return None  # a repeat, or another process has it
            if waits and isinstance(update, Update):
                self.in_line.add(update.update_id)
            try:
                handed = waits and await self._wait_in_line(chat)
            finally:
                if isinstance(update, Update):
                    self.in_line.discard(update.update_id)
            if not handed:
                log.info("a file not taken: %d of its chat in hand, %d in all", mine, self.total)
                try:
                    await self._tell(message, data, chat, mine)
                finally:  # told (or not): nothing left to do with it
                    if isinstance(update, Update) and (
                        data.get(JOURNALED) or data.get("replaying")
                    ):
                        journal.finish(self.db, update.update_id)
                return None
        try:
            return await handler(update, data)
        finally:
            self._release(chat)
            self._hand_over()

    def _takes(self, mine: int) -> bool:
        """Whether a chat with `mine` files in hand may have one more checked now: under
        its own cap, and under the process's, the last `reserve` slots kept for chats
        with fewer than `FEW` files in hand; none while files of chats with nothing in
        hand wait in line (they come first)."""
        if mine >= self.per_chat or self.line:
            return False
        room = self.in_hand if mine < FEW else self.in_hand - self.reserve
        return self.total < room

    def _take(self, chat: int) -> None:
        self.chats[chat] = self.chats.get(chat, 0) + 1

    def _release(self, chat: int) -> None:
        self.chats[chat] -= 1
        if not self.chats[chat]:
            del self.chats[chat]
            self.told.pop(chat, None)

    async def _wait_in_line(self, chat: int) -> bool:
        """A file of a chat with nothing in hand waits for a slot (see the module): True
        when it was handed one (already counted), False after `WAIT` seconds or when the
        line is full."""
        if len(self.line) >= MAX_WAITING:
            return False
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.line.append((chat, turn))
        handed = False
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(turn), WAIT)
            handed = turn.done()
            return handed
        finally:
            if not handed:  # given up (or the bot stopping): out of line, its slot freed
                if turn.done():
                    self._release(chat)
                else:
                    turn.cancel()
                    with contextlib.suppress(ValueError):
                        self.line.remove((chat, turn))
                self._hand_over()  # it may have been first in line

    def _hand_over(self) -> None:
        """The slots free now go to the files waiting in line, first come first served."""
        while self.line and self.total < self.in_hand:
            chat, turn = self.line.popleft()
            if turn.done():
                continue
            self._take(chat)
            turn.set_result(None)

    async def _tell(self, message: Message, data: dict[str, Any], chat: int, mine: int) -> None:
        """Every file not taken is told about, in the family's language, once per pile (the
        files not taken within `BURST` seconds, or of one album): "the first files are
        still being checked" when some are, else "many files now"."""
        now = time.monotonic()
        album = message.media_group_id
        last = self.told.get(chat)
        if last is not None and (now - last[0] < BURST or (album and album == last[1])):
            self.told[chat] = (now, album or last[1])
            return
        if len(self.told) > 1000:  # chats told and gone quiet
            self.told = {c: t for c, t in self.told.items() if now - t[0] < BURST}
        self.told[chat] = (now, album)
        bot: Bot = data["bot"]
        user = message.from_user
        chosen = get_language(self.db, user.id) if user is not None else None
        said = NOT_TAKEN if mine else NOTHING_PENDING
        text = self.i18n.gettext(said, locale=locale_of(user, chosen))
        try:
            await bot.send_message(chat, text)
        except TELEGRAM_FAILED as exc:
            log.warning("a family not told of files not taken: %s", type(exc).__name__)


def install_backlog(dp: Dispatcher, i18n: I18n, db: Database) -> Backlog:
    """Put the backlog first among the updates' outer middlewares: before the update's
    turn (`bot.turns`), which waits for the chat's earlier updates."""
    backlog = Backlog(i18n, db)
    manager = dp.update.outer_middleware
    existing = list(manager)
    backlog.turns = next((m for m in existing if isinstance(m, Turns)), None)
    for middleware in existing:
        manager.unregister(middleware)
    manager.register(backlog)
    for middleware in existing:
        manager.register(middleware)
    return backlog
