"""Updates survive a crash: the first middleware writes each update down before any
handler sees it and marks it done after (storage/journal.py), for polling and webhook
alike, in the two transactions that also hold the chat and read and write its
conversation (`bot.turns`); at start, `replay_unfinished` handles again what a crash
interrupted, once.

A repeat of an update already done is dropped here too (polling gets the same ledger as
the webhook). Handlers are safe to run again on the same update where it matters: an
upload is recognised by Telegram's file id and filed once. If the second try fails as
well, the family is told to send that message again.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlite_utils import Database

from common.i18n import N_
from storage import journal, leases

from .i18n import make_i18n
from .turns import user_of

log = logging.getLogger(__name__)

PROCESS = "process:"  # the lease each running process renews (bot.leader)

LOST = N_(
    "Scusate, il servizio si è fermato mentre leggevamo un vostro messaggio. Se avevate "
    "mandato foto o documenti, mandateli di nuovo, per favore."
)


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
    for update_id, _user_id, raw, attempts, was, until in journal.unfinished(db):
        if was is not None and (was == me or journal.handled_now(was, until, alive)):
            continue  # a live process is handling it
        if not journal.claim(db, update_id, was, me):
            continue  # another process took it first
        update = Update.model_validate_json(raw, context={"bot": bot})
        _user, chat_id = user_of(update)
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
