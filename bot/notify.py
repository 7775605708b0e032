"""Status changes of a dossier, told to the family in their chat, each once.

The outbox worker and the receipt reader only record events in SQLite; this loop sends
them. A crash between sending and marking may repeat one status message, never lose one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramServerError,
)
from aiogram.utils.i18n import I18n
from sqlite_utils import Database

from common.counter import is_counter
from dialogs.languages import SOURCE, translator
from dialogs.paperwork import PaperworkView
from dialogs.replies import Reply
from storage import integrations
from storage.dossiers import events_to_tell, get_dossier, mark_told

from .replies import keyboard

log = logging.getLogger(__name__)
# events about an integration request: the documents asked, with the button to send them
INTEGRATION_EVENTS = ("integrazione_richiesta", "integrazione_aggiunta", "integrazione_promemoria")


@dataclass
class Outage:
    """Telegram unreachable: the loop waits longer and longer between tries (doubling from
    `first` up to `longest` seconds) and the log says so once when it starts and once when
    it ends, not every round for every dossier."""

    first: float = 2.0
    longest: float = 300.0
    since: float | None = None  # monotonic time of the first failure
    delay: float = 0.0
    attempts: int = 0  # tries that failed during this outage

    @property
    def active(self) -> bool:
        return self.since is not None

    def failed(self, exc: Exception, pending: int) -> None:
        self.attempts += 1
        if self.since is None:
            self.since = time.monotonic()
            self.delay = self.first
            log.warning(
                "Telegram unreachable (%s): %d status message(s) wait; trying again with "
                "back-off up to %d s, logged again when it is back",
                type(exc).__name__,
                pending,
                self.longest,
            )
        else:
            self.delay = min(self.longest, self.delay * 2)
            log.debug("Telegram still unreachable (%s)", exc)

    def recovered(self) -> None:
        if self.since is not None:
            log.warning(
                "Telegram reachable again after %.0f s (%d failed tries): sending the "
                "status messages that waited",
                time.monotonic() - self.since,
                self.attempts,
            )
        self.since, self.delay, self.attempts = None, 0.0, 0


async def tell_families(bot: Bot, db: Database, i18n: I18n, outage: Outage | None = None) -> int:
    """Send every status change not told yet; returns how many were sent. With `outage`,
    a failure is recorded there (and logged once per outage) instead of every time."""
    told = 0
    events = events_to_tell(db)
    for n, event in enumerate(events):
        if is_counter(event["user_id"]):  # prepared at the counter: no chat to write to
            mark_told(db, event["id"])  # the console shows an open request (`--pratica`)
            continue
        if said_already(event, events[n + 1 :]):
            mark_told(db, event["id"])
            continue
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
        except (TelegramNetworkError, TelegramServerError) as exc:
            if outage is None:
                log.warning("dossier %s: status not sent yet (%s)", event["dossier_id"], exc)
            else:
                outage.failed(exc, len(events) - told)
            break  # keep the order: try again at the next round
        except TelegramAPIError as exc:
            log.warning("dossier %s: status not sent yet (%s)", event["dossier_id"], exc)
            break  # keep the order: try again at the next round
        if outage is not None and outage.active:
            outage.recovered()
        mark_told(db, event["id"])
        if event["status"] == "integrazione_richiesta" and event["detail"].get("request"):
            integrations.mark_told(db, int(event["detail"]["request"]))
        told += 1
    return told


# steps of the send the family need not read one by one (a second apart)
PASSING = ("pronta", "in_invio")


def said_already(event: dict[str, Any], later: list[dict[str, Any]]) -> bool:
    """A step of the send not worth its own message: "pronta" right after «Sì, invia»
    (the reply said "in coda"; a re-sent one is told), or "in_invio" when a later status
    of the same dossier is already here to tell."""
    if event["status"] not in PASSING or (event.get("detail") or {}).get("requeued"):
        return False
    return event["status"] == "pronta" or any(
        e["dossier_id"] == event["dossier_id"] for e in later
    )


async def tell_forever(
    bot: Bot,
    db: Database,
    i18n: I18n,
    stop: asyncio.Event,
    *,
    every: float = 2.0,
    outage: Outage | None = None,
) -> None:
    """Every `every` seconds; while Telegram is unreachable, with the outage's back-off."""
    outage = outage or Outage(first=every)
    while not stop.is_set():
        try:
            await tell_families(bot, db, i18n, outage)
        except Exception:  # a bad row must not stop the others being told
            log.exception("telling families failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=outage.delay if outage.active else every)
