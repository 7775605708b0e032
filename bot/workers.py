"""The jobs that run beside the bot: the outbox, the PEC receipts, telling families about
their dossier, and retention. Each one survives its own errors; `stop` ends them all."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from sqlite_utils import Database

from common.clock import ROME, Clock, moment_clock, utcnow
from common.counter import is_counter
from common.i18n import N_
from common.settings import Settings
from dossier import bounded
from dossier.delivery import Outbox
from dossier.erasure import erase_family
from dossier.reminders import remind_families
from dossier.retention import apply_retention
from storage import erasure, journal
from storage.blobs import BlobStore

from .i18n import make_i18n
from .notify import tell_forever

log = logging.getLogger(__name__)


async def retention_forever(
    db: Database,
    blobs: BlobStore,
    settings: Settings,
    stop: asyncio.Event,
    every: float = 3600,
    now: Clock = utcnow,
) -> None:
    while not stop.is_set():
        try:
            apply_retention(
                db,
                blobs,
                now(),
                settings.sportello_retention_days,
                settings.outbox_dir,
            )
        except Exception:
            log.exception("retention round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def checkpoints_forever(db: Database, stop: asyncio.Event, every: float = 10.0) -> None:
    """An erasure's WAL checkpoint that a reader blocked (`storage.erasure.checkpoint`),
    tried again at start and then every `every` seconds until it goes through."""
    while not stop.is_set():
        try:
            erasure.settle_owed(db)
        except Exception:
            log.exception("owed checkpoint round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def reminders_forever(
    db: Database, stop: asyncio.Event, every: float = 900, now: Clock = utcnow
) -> None:
    """Integration requests whose deadline is near: the family is reminded once."""
    while not stop.is_set():
        try:
            remind_families(db, now())
        except Exception:
            log.exception("reminder round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


EXPIRY_WARNING = N_(
    "Non vi sentiamo da molti mesi. Tra 7 giorni cancelliamo le vostre risposte e le "
    "domande non ancora inviate. Le domande già inviate al Comune restano. "
    "Per tenere le risposte, scrivete /start."
)


async def expire_once(
    bot: Bot, db: Database, blobs: BlobStore, settings: Settings, now: dt.datetime
) -> tuple[int, int]:
    """Warn the families whose conversation is about to expire, erase the expired ones.
    Returns (warned, erased)."""
    i18n = make_i18n()
    to_warn, to_erase = erasure.inactive(db, now)
    warned = 0
    for family in to_warn:
        if is_counter(family["user_id"]):  # helped at the counter: no chat to warn in
            erasure.mark_warned(db, family["user_id"], now)
            continue
        text = i18n.gettext(EXPIRY_WARNING, locale=family["language"] or "it")
        try:
            await bot.send_message(family["chat_id"], text)
        except TelegramForbiddenError:
            pass  # the bot was blocked: nobody to warn, the deletion goes ahead
        except TelegramAPIError as exc:
            log.warning("expiry warning not sent yet: %s", type(exc).__name__)
            continue
        erasure.mark_warned(db, family["user_id"], now)
        warned += 1
    for user_id in to_erase:
        erase_family(db, blobs, user_id, settings.outbox_dir, drafts_only=True)
    journal.prune(db, now)
    return warned, len(to_erase)


async def expire_forever(
    bot: Bot,
    db: Database,
    blobs: BlobStore,
    settings: Settings,
    stop: asyncio.Event,
    now: Clock = utcnow,
) -> None:
    while not stop.is_set():
        try:
            await expire_once(bot, db, blobs, settings, now())
        except Exception:
            log.exception("expiry round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=3600)


async def warm_up_checks(stop: asyncio.Event, after: float = 10.0) -> None:
    """Start the bounded checker (dossier.bounded) before the first upload needs it, once
    the bot itself is up (its imports would only slow the start down)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=after)
    if stop.is_set():
        return
    try:
        await asyncio.to_thread(bounded.warm_up)
    except Exception as exc:  # the first upload will try again
        log.warning("could not start the file checker: %s", type(exc).__name__)


def local_now(clock: Callable[[], dt.date] | None) -> Callable[[], dt.datetime]:
    """Now in Italy, naive as the notices' windows are written, on the bot's day (`--today`
    moves the date, the time of day stays real). The machine's own zone is never read."""

    def in_italy() -> dt.datetime:
        return utcnow().astimezone(ROME).replace(tzinfo=None)

    if clock is None:
        return in_italy
    return lambda: dt.datetime.combine(clock(), in_italy().time())


def start_workers(
    bot: Bot,
    db: Database,
    blobs: BlobStore,
    settings: Settings,
    stop: asyncio.Event,
    on_receipt_poll: Callable[[dt.datetime], None] | None = None,
    catalogue: Any = None,
    clock: Callable[[], dt.date] | None = None,
    desk: Any = None,
) -> list[asyncio.Task[None]]:
    """Start every background job; the caller sets `stop` and awaits the tasks. With the
    catalogue, the alerts too: planning who to tell, and the sender's queue."""
    now = moment_clock(clock)  # --today: retention, reminders and expiry on that day
    # the outbox's stamps (sent, retried, the family's "next try at") on the same clock
    outbox = Outbox.from_settings(settings, db, blobs, clock=now)
    if settings.smtp_host:
        log.info("outbox: sending through %s", settings.smtp_host)
    else:
        log.info("outbox: no SMTP_HOST, messages are saved in %s", settings.outbox_dir)
    tasks = [
        asyncio.create_task(warm_up_checks(stop), name="warm-up"),
        asyncio.create_task(outbox.run_forever(stop), name="outbox"),
        asyncio.create_task(tell_forever(bot, db, make_i18n(), stop), name="notify"),
        asyncio.create_task(
            retention_forever(db, blobs, settings, stop, now=now), name="retention"
        ),
        asyncio.create_task(reminders_forever(db, stop, now=now), name="reminders"),
        asyncio.create_task(checkpoints_forever(db, stop), name="checkpoints"),
        asyncio.create_task(expire_forever(bot, db, blobs, settings, stop, now=now), name="expiry"),
    ]
    if catalogue is not None:
        from dossier.desk import Desk

        from .alerts import Sender, plan_forever

        desk = desk or Desk(db, blobs, catalogue, clock=now)
        tasks += [
            asyncio.create_task(
                plan_forever(db, catalogue, desk, local_now(clock), make_i18n(), stop),
                name="alerts",
            ),
            asyncio.create_task(Sender(bot, db).run_forever(stop), name="sender"),
        ]
    if settings.imap_host:
        from dossier.imap import poll_forever

        tasks.append(
            asyncio.create_task(
                poll_forever(settings, db, blobs, stop, on_poll=on_receipt_poll), name="receipts"
            )
        )
    return tasks
