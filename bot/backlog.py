"""The files a chat has sent that wait for their turn, capped.

A chat's updates are handled one at a time (its turn, `bot.turns`), so a family that
sends 50 files at once has 49 waiting behind the first: minutes for the last one, and
every one of them downloaded and checked in turn. This middleware counts, before the
update's turn, the files each chat has in hand (arrived, not finished) and all chats
together; a file over either cap is not downloaded at all, and the family is told once
that the last ones were not taken and to send them again in a minute. Nothing kept is
lost, and the files not taken are still on their phone.

One counter per process (with two webhook workers each has its own).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.types import Message, TelegramObject, Update
from aiogram.utils.i18n import I18n
from sqlite_utils import Database

from common.i18n import N_
from storage.users import get_language

from .i18n import locale_of
from .paperwork import TELEGRAM_FAILED

log = logging.getLogger(__name__)

PER_CHAT = 20  # two full albums (Telegram's albums hold at most 10)
IN_HAND = 40  # files of all chats together in this process
TELL_AGAIN = 60.0  # seconds: a second pile soon after the first is told about once more

NOT_TAKEN = N_(
    "Sto ancora controllando i file di prima: mandate il resto tra un minuto. Gli ultimi "
    "file non li ho presi; con /documenti vedete quelli già arrivati."
)


class Backlog(BaseMiddleware):
    """The outer middleware (on updates, before their turn); see the module."""

    def __init__(
        self, i18n: I18n, db: Database, per_chat: int = PER_CHAT, in_hand: int = IN_HAND
    ) -> None:
        self.i18n = i18n
        self.db = db
        self.per_chat = per_chat
        self.in_hand = in_hand
        self.chats: dict[int, int] = {}  # files in hand, by chat
        self.told: dict[int, float] = {}  # when each chat was last told

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
        if self.chats.get(chat, 0) >= self.per_chat or self.total >= self.in_hand:
            log.info(
                "a file not taken: %d of its chat in hand, %d in all",
                self.chats.get(chat, 0),
                self.total,
            )
            await self._tell(message, data, chat)
            return None
        self.chats[chat] = self.chats.get(chat, 0) + 1
        try:
            return await handler(update, data)
        finally:
            self.chats[chat] -= 1
            if not self.chats[chat]:
                del self.chats[chat]
                self.told.pop(chat, None)

    async def _tell(self, message: Message, data: dict[str, Any], chat: int) -> None:
        """Once per pile (and again after `TELL_AGAIN` seconds), in the family's language."""
        now = time.monotonic()
        if now - self.told.get(chat, -TELL_AGAIN) < TELL_AGAIN:
            return
        self.told[chat] = now
        bot: Bot = data["bot"]
        user = message.from_user
        chosen = get_language(self.db, user.id) if user is not None else None
        text = self.i18n.gettext(NOT_TAKEN, locale=locale_of(user, chosen))
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
    for middleware in existing:
        manager.unregister(middleware)
    manager.register(backlog)
    for middleware in existing:
        manager.register(middleware)
    return backlog
