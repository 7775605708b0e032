"""Every update's turn, as the first of the Dispatcher's middlewares: written down in the
crash journal, then handled holding its chat across processes (once no earlier update of
the chat is being handled), with the conversation and the user's language read in the
same transaction, and marked done after in the transaction that writes the
conversation, which lets the chat's next update go (`storage.turns`).

It does, with what that transaction read, the work of three of aiogram's middlewares,
which it takes the place of: the user context (`event_from_user`, `event_chat`, ...), the
FSM context (`state`, `raw_state`; the Dispatcher's event isolation, the same `ChatLock`,
finds the chat held) and the language (`i18n`, in the user's locale, as aiogram's
`I18nMiddleware` would set it). The second photo of an album waits for the first, but it
is written down as soon as it comes.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.dispatcher.middlewares.user_context import (
    EVENT_CHAT_KEY,
    EVENT_CONTEXT_KEY,
    EVENT_FROM_USER_KEY,
    EVENT_THREAD_ID_KEY,
    EventContext,
    UserContextMiddleware,
)
from aiogram.fsm.context import FSMContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n

from common.clock import utcnow
from dossier import bounded
from storage import journal
from storage.turns import Begun, ChatLock, Entry
from storage.users import get_language

from .i18n import locale_of
from .polled import polled_json

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# `dp.feed_update(bot, update, raw_update=...)`: the update's JSON as it came (the
# webhook's body), written down as it is instead of the update dumped again
RAW_UPDATE = "raw_update"
# in an update's data: what `journal.record` said when `Turns.write_down` wrote it down
# before its turn
JOURNALED = "journaled"


def user_of(update: Update) -> tuple[int | None, int | None]:
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


class Turns(BaseMiddleware):
    """The middleware (see the module)."""

    def __init__(self, lock: ChatLock, fsm: FSMContextMiddleware, i18n: I18n):
        self.lock = lock
        self.fsm = fsm
        self.i18n = i18n

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        update: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(update, Update)  # an outer middleware of the updates
        user_id, _chat = user_of(update)
        written = data.pop(JOURNALED, None)  # written down already (`write_down`)
        # a replayed update is in the journal already
        entry = None if data.get("replaying") or written else _entry(update, data, user_id)
        event = UserContextMiddleware.resolve_event_context(update)
        _user_context(event, data)
        data["fsm_storage"] = self.fsm.storage
        context = self._context(event, data)
        if context is None:  # no chat to hold (not an update we handle)
            return await self._alone(handler, update, data, entry, user_id, event.user)

        async def work(begun: Begun) -> Any:
            data["state"], data["raw_state"] = context, begun.row[0]
            owner = bounded.OWNER.set(user_id)  # heavy work of this family: one job at a time
            try:
                return await self._in_language(handler, update, data, event.user, begun.language)
            finally:
                bounded.OWNER.reset(owner)

        # None, without `work`: a repeat of an update done, or one another process has
        return await self.lock.turn(
            context.key, update.update_id, work, entry, event.user_id, written=written
        )

    def _context(self, event: EventContext, data: dict[str, Any]) -> FSMContext | None:
        return self.fsm.resolve_context(
            bot=data["bot"],
            chat_id=event.chat_id,
            user_id=event.user_id,
            thread_id=event.thread_id,
            business_connection_id=event.business_connection_id,
        )

    def write_down(self, update: Update, data: dict[str, Any], seconds: float) -> bool:
        """Write the update in the crash journal now, before it waits `seconds` outside
        its turn (`bot.backlog`'s line), in this process's hands meanwhile: a crash while
        it waits leaves it to be handled at the next start. Not yet in its chat's line
        (no chat on the row): the family's other updates (a tap, a word) go on while it
        waits, instead of waiting for it while holding the chat (the red team's stall).
        False when it is not to be handled (a repeat of one done, or another process has
        it). Its turn then goes on from the row (`JOURNALED`), placed in the line."""
        if data.get("replaying"):
            return True
        user_id, _chat = user_of(update)
        context = self._context(UserContextMiddleware.resolve_event_context(update), data)
        if context is None:
            return True
        entry = _entry(update, data, user_id)
        written = journal.record(
            self.lock.db,
            entry.update_id,
            entry.user_id,
            entry.raw,
            entry.received,
            self.lock.owner,
            expires_at=time.time() + seconds + self.lock.lease,
        )
        if written in ("done", "busy"):
            return False
        data[JOURNALED] = written
        return True

    async def _in_language(
        self,
        handler: Handler,
        update: Update,
        data: dict[str, Any],
        user: User | None,
        chosen: str | None,
    ) -> Any:
        data["i18n"] = i18n = self.i18n
        # what `i18n.context()` and `i18n.use_locale(...)` do, without their generators
        current = I18n.set_current(i18n)
        locale = i18n.ctx_locale.set(locale_of(user, chosen))
        try:
            return await handler(update, data)
        finally:
            i18n.ctx_locale.reset(locale)
            I18n.reset_current(current)

    async def _alone(
        self,
        handler: Handler,
        update: Update,
        data: dict[str, Any],
        entry: Entry | None,
        user_id: int | None,
        user: User | None,
    ) -> Any:
        db = self.lock.db
        if entry is not None:
            state = journal.record(  # in this process's hands for a lease, as a chat's
                db,
                entry.update_id,
                user_id,
                entry.raw,
                entry.received,
                self.lock.owner,
                expires_at=time.time() + self.lock.lease,
            )
            if state in ("done", "busy"):
                return None
        chosen = get_language(db, user.id) if user is not None else None
        try:
            return await self._in_language(handler, update, data, user, chosen)
        finally:
            if entry is not None:
                journal.finish(db, entry.update_id)


def _entry(update: Update, data: dict[str, Any], user_id: int | None) -> Entry:
    """The update to write down, as Telegram sent it: the webhook's body (`bot.webhook`)
    or the polled JSON (`bot.polled`); else (fed by hand) the update written back as
    JSON."""
    raw = data.get(RAW_UPDATE)
    if not isinstance(raw, str):
        raw = polled_json(data["bot"], update.update_id)
    if raw is None:
        raw = update.model_dump_json(exclude_none=True, by_alias=True)
    return Entry(update.update_id, user_id, raw, utcnow())


def _user_context(event: EventContext, data: dict[str, Any]) -> None:
    """What aiogram's UserContextMiddleware puts in the handlers' data."""
    data[EVENT_CONTEXT_KEY] = event
    if event.user is not None:
        data[EVENT_FROM_USER_KEY] = event.user
    if event.chat is not None:
        data[EVENT_CHAT_KEY] = event.chat
    if event.thread_id is not None:
        data[EVENT_THREAD_ID_KEY] = event.thread_id


def install_turns(dp: Dispatcher, lock: ChatLock, i18n: I18n) -> None:
    """The turn goes first, in place of aiogram's user-context and FSM middlewares (their
    work is done in it), before the errors' middleware."""
    manager = dp.update.outer_middleware
    existing = [
        m for m in manager if not isinstance(m, UserContextMiddleware | FSMContextMiddleware)
    ]
    for middleware in list(manager):
        manager.unregister(middleware)
    manager.register(Turns(lock, dp.fsm, i18n))
    for middleware in existing:
        manager.register(middleware)
