"""Status changes of a dossier, told to the family in their chat, each once.

The outbox worker and the receipt reader only record events in SQLite; this loop sends
them. A crash between sending and marking may repeat one status message, never lose one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.utils.i18n import I18n
from sqlite_utils import Database

from dialogs.flow import Reply
from dialogs.languages import SOURCE, translator
from dialogs.paperwork import PaperworkView
from storage import integrations
from storage.dossiers import events_to_tell, get_dossier, mark_told

from .replies import keyboard

log = logging.getLogger(__name__)
# events about an integration request: the documents asked, with the button to send them
INTEGRATION_EVENTS = ("integrazione_richiesta", "integrazione_aggiunta", "integrazione_promemoria")


async def tell_families(bot: Bot, db: Database, i18n: I18n) -> int:
    """Send every status change not told yet; returns how many were sent."""
    told = 0
    for event in events_to_tell(db):
        language = event["language"] or SOURCE
        view = PaperworkView(translator(i18n, language), language)
        if event["status"] in INTEGRATION_EVENTS:
            dossier = get_dossier(db, event["dossier_id"]) or {"data": {}}
            reply = view.integration_request(event, dossier["data"].get("checklist") or [])
        else:
            reply = Reply(view.status(event))
        try:
            await bot.send_message(event["chat_id"], reply.text, reply_markup=keyboard(reply))
        except TelegramForbiddenError:
            log.info("dossier %s: the family blocked the bot", event["dossier_id"])
        except TelegramAPIError as exc:
            log.warning("dossier %s: status not sent yet (%s)", event["dossier_id"], exc)
            break  # keep the order: try again at the next round
        mark_told(db, event["id"])
        if event["status"] == "integrazione_richiesta" and event["detail"].get("request"):
            integrations.mark_told(db, int(event["detail"]["request"]))
        told += 1
    return told


async def tell_forever(bot: Bot, db: Database, i18n: I18n, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await tell_families(bot, db, i18n)
        except Exception:  # a bad row must not stop the others being told
            log.exception("telling families failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=2)
