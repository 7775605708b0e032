"""Updates survive a crash: an outer middleware writes each update down before any
handler sees it and marks it done after (storage/journal.py), for polling and webhook
alike, in the two transactions that also hold the chat and read and write its
conversation (storage/turns.py); at start, `replay_unfinished` handles again what a crash
interrupted, once.

A repeat of an update already done is dropped here too (polling gets the same ledger as
the webhook). Handlers are safe to run again on the same update where it matters: an
upload is recognised by Telegram's file id and filed once. If the second try fails as
well, the family is told to send that message again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import Update
from sqlite_utils import Database

from common.clock import utcnow
from common.i18n import N_
from dossier import bounded
from storage import journal, leases
from storage.turns import ChatLock, Entry

from .i18n import LANGUAGE, make_i18n

log = logging.getLogger(__name__)

PROCESS = "process:"  # the lease each running process renews (bot.leader)

LOST = N_(
    "Scusate, il servizio si è fermato mentre leggevamo un vostro messaggio. Se avevate "
    "mandato foto o documenti, mandateli di nuovo, per favore."
)


def _user_of(update: Update) -> tuple[int | None, int | None]:
    """(user id, chat id) of an update, where it has them."""
    for kind in ("message", "edited_message", "callback_query"):
        event = getattr(update, kind, None)
        if event is None:
            continue
        user = getattr(event, "from_user", None)
        chat = getattr(event, "chat", None) or getattr(
            getattr(event, "message", None), "chat", None
        )
        return (user.id if user else None), (chat.id if chat else None)
    return None, None


class Turns:
    """The outer middleware of every update: written down in the crash journal, then
    handled holding its chat across processes (`storage.turns.ChatLock`: once no earlier
    update of the chat is being handled), with the conversation's row and the user's
    language read in the same transaction, and marked done after in the transaction that
    writes the row, which lets the chat's next update go.

    It goes first, before aiogram's FSM middleware (whose event isolation, the same
    `ChatLock`, then finds the chat held): the second photo of an album waits for the
    first, but it is written down as soon as it comes."""

    def __init__(self, lock: ChatLock, fsm: FSMContextMiddleware):
        self.lock = lock
        self.fsm = fsm

    async def __call__(
        self,
        handler: Callable[[Update, dict[str, Any]], Awaitable[Any]],
        update: Update,
        data: dict[str, Any],
    ) -> Any:
        user_id, _chat = _user_of(update)
        entry = None
        if not data.get("replaying"):  # a replayed update is in the journal already
            raw = update.model_dump_json(exclude_none=True)
            entry = Entry(update.update_id, user_id, raw, utcnow())
        event = UserContextMiddleware.resolve_event_context(update)
        context = self.fsm.resolve_context(
            bot=data["bot"],
            chat_id=event.chat_id,
            user_id=event.user_id,
            thread_id=event.thread_id,
            business_connection_id=event.business_connection_id,
        )
        if context is None:  # no chat to lock (not an update we handle)
            return await self._alone(handler, update, data, entry, user_id)
        async with self.lock.turn(context.key, update.update_id, entry, event.user_id) as begun:
            if not begun.held:  # a repeat of an update done, or one another process has
                return None
            data[LANGUAGE] = begun.language
            owner = bounded.OWNER.set(user_id)  # heavy work of this family: one job at a time
            try:
                return await handler(update, data)
            finally:
                bounded.OWNER.reset(owner)

    async def _alone(
        self,
        handler: Callable[[Update, dict[str, Any]], Awaitable[Any]],
        update: Update,
        data: dict[str, Any],
        entry: Entry | None,
        user_id: int | None,
    ) -> Any:
        db = self.lock.db
        if entry is not None:
            state = journal.record(
                db, entry.update_id, user_id, entry.raw, entry.received, self.lock.owner
            )
            if state in ("done", "busy"):
                return None
        try:
            return await handler(update, data)
        finally:
            if entry is not None:
                journal.finish(db, entry.update_id)


def install_journal(dp: Dispatcher, lock: ChatLock) -> None:
    """The journal and the chat's lock go first, before every other middleware."""
    manager = dp.update.outer_middleware
    existing = list(manager)
    for middleware in existing:
        manager.unregister(middleware)
    manager.register(Turns(lock, dp.fsm))
    for middleware in existing:
        manager.register(middleware)


async def replay_unfinished(dp: Dispatcher, bot: Bot, db: Database) -> int:
    """Handle again the updates a crash left unfinished (each once); returns how many.

    Only those of a process that is gone: with several processes on the file (two
    workers, or the old and the new one during a restart), an update another process is
    handling now is left to it. Each is claimed before it is handled, so two processes
    replaying at once handle it once."""
    me = dp.get("owner")
    alive = leases.alive(db, PROCESS)
    handled = 0
    i18n = make_i18n()
    for update_id, _user_id, raw, attempts, was in journal.unfinished(db):
        if was is not None and (was == me or (was in alive and not leases.is_gone(was))):
            continue  # a live process is handling it
        if not journal.claim(db, update_id, was, me):
            continue  # another process took it first
        update = Update.model_validate_json(raw, context={"bot": bot})
        _user, chat_id = _user_of(update)
        if attempts >= 1:  # it crashed us once more: give up, and say so
            journal.finish(db, update_id)
            await _tell_lost(bot, chat_id, i18n)
            continue
        try:
            await dp.feed_update(bot, update, replaying=True)
            handled += 1
        except Exception as exc:
            log.error("replayed update %s failed: %s", update_id, type(exc).__name__)
            await _tell_lost(bot, chat_id, i18n)
        finally:
            journal.finish(db, update_id)
    if handled:
        log.info("%d update(s) interrupted by a crash handled again", handled)
    return handled


async def _tell_lost(bot: Bot, chat_id: int | None, i18n: Any) -> None:
    if chat_id is None:
        return
    try:
        await bot.send_message(chat_id, i18n.gettext(LOST, locale="it"))
    except Exception as exc:  # the family will write again anyway
        log.warning("could not tell about a lost update: %s", type(exc).__name__)
