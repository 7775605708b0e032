"""Build the Dispatcher and the Bot, and run by polling."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
from collections.abc import Callable

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand
from sqlite_utils import Database

from common.clock import moment, rome_today
from common.i18n import N_
from common.settings import Settings
from dialogs.languages import SOURCE, available
from dialogs.live_catalogue import LiveCatalogue
from dossier.desk import Desk
from eligibility import Catalogue
from storage import leases
from storage.blobs import BlobStore
from storage.fsm import SQLiteStorage
from storage.turns import ChatLock

from .alerts import alerts_router
from .backlog import install_backlog
from .groups import groups_router
from .handlers import conversation_router, typed, typed_answer
from .i18n import make_i18n
from .journal import replay_unfinished
from .paperwork import paperwork_router
from .places import blob_store_beside, data_folder
from .polled import PolledUpdates
from .turns import install_turns
from .typed_press import typed_press

__all__ = ["blob_store_beside", "build_dispatcher", "data_folder", "get_routers"]

log = logging.getLogger(__name__)

COMMANDS = (
    ("start", N_("Inizia o riprendi")),
    ("riepilogo", N_("Vedi e cambia le risposte")),
    ("indietro", N_("Torna alla domanda prima")),
    ("ricomincia", N_("Ricomincia da capo")),
    ("annulla", N_("Ferma qui, riprendi poi")),
    ("documenti", N_("I documenti della domanda")),
    ("avvisi", N_("Avvisi e promemoria")),
    ("lingua", N_("Cambia lingua")),
    ("aiuto", N_("Come funziona")),
    ("privacy", N_("Come usiamo i dati")),
    ("cancella_dati", N_("Cancella tutti i tuoi dati")),
)


def build_dispatcher(
    db: Database,
    catalogue: Catalogue | None = None,
    clock: Callable[[], dt.date] = rome_today,
    settings: Settings | None = None,
    blobs: BlobStore | None = None,
) -> Dispatcher:
    """One Dispatcher for polling, webhook and tests; dependencies arrive as handler arguments."""
    i18n = make_i18n()
    settings = settings or Settings()
    # the bundled notices and the published ones, reloaded when a publication changes
    catalogue = catalogue or LiveCatalogue(db)
    blobs = blobs or blob_store_beside(db, settings)
    owner = leases.new_owner()  # this process, in the leases and the crash journal
    storage = SQLiteStorage(db)
    lock = ChatLock(db, owner=owner, storage=storage)
    dp = Dispatcher(
        storage=storage,
        events_isolation=lock,
        owner=owner,
        catalogue=catalogue,
        clock=clock,
        db=db,
        settings=settings,
        desk=Desk(
            db, blobs, catalogue, data_folder(db, settings) / "outbox", clock=lambda: moment(clock())
        ),
    )
    install_turns(dp, lock, i18n)  # every update written down before it is handled
    install_backlog(dp, i18n, db)  # before the turn: a pile of files, capped
    # after the turn (the chat's state loaded): a live button's label typed, as its press
    dp.update.outer_middleware(typed_press)
    # typed answers while no application is open, the most frequent update: on the
    # Dispatcher itself, tried before every router with one filter
    dp.message.register(typed, typed_answer)
    for router in get_routers():
        dp.include_router(router)
    return dp


def get_routers() -> list[Router]:
    """Every router, in the order they are tried (after the typed answers of a private chat
    with no application open, `bot.handlers.typed_answer`): groups first (outside a
    private chat the bot only says to write in private), the alerts' buttons and /avvisi, the paperwork (it only takes updates while an
    application is being prepared), then the questionnaire."""
    return [
        groups_router(),
        alerts_router(),
        paperwork_router(),
        conversation_router(),
    ]


def settled() -> None:
    """Start-up is over: what it built (routers, notices, translations, the app) lives as
    long as the process. `gc.freeze` moves it out of the collector's way, so the full
    collections that come now and then walk only what was made since, not all of it."""
    gc.collect()
    gc.freeze()


def build_bot(settings: Settings) -> Bot:
    if settings.bot_token is None:
        raise SystemExit("BOT_TOKEN is not set. To try the bot without Telegram: sportello console")
    # polled updates kept as decoded, for the crash journal (`bot.polled`)
    session = AiohttpSession(json_loads=PolledUpdates())
    if settings.telegram_api_url:
        session = AiohttpSession(
            api=TelegramAPIServer.from_base(settings.telegram_api_url), json_loads=PolledUpdates()
        )
    bot = Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    from .rtl import install_right_to_left
    from .webhook import install_retry

    install_retry(bot)  # Telegram's "retry after": wait and try again, polling or webhook
    install_right_to_left(bot)  # Arabic lines and buttons laid out right to left
    return bot


async def set_commands(bot: Bot) -> None:
    """The command menu, in each language."""
    i18n = make_i18n()
    for language in available():
        commands = [
            BotCommand(command=name, description=i18n.gettext(text, locale=language))
            for name, text in COMMANDS
        ]
        # Italian is the menu of every language we have no catalog for
        code = None if language == SOURCE else language
        await bot.set_my_commands(commands, language_code=code)


async def run_polling(
    settings: Settings, db: Database, clock: Callable[[], dt.date] = rome_today
) -> None:
    """The bot by long polling, with the outbox, receipts, status messages and retention
    running beside it; on exit the jobs finish their round first."""
    from .leader import lead_jobs
    from .workers import start_workers

    bot = build_bot(settings)
    blobs = blob_store_beside(db, settings)
    dp = build_dispatcher(db, clock=clock, settings=settings, blobs=blobs)
    await set_commands(bot)
    await bot.delete_webhook(drop_pending_updates=False)
    stop = asyncio.Event()

    def jobs(inner: asyncio.Event) -> list[asyncio.Task[None]]:
        return start_workers(
            bot, db, blobs, settings, inner, catalogue=dp["catalogue"], clock=clock, desk=dp["desk"]
        )

    leader = asyncio.create_task(
        lead_jobs(db, dp["owner"], jobs, stop, each_round=lambda: replay_unfinished(dp, bot, db)),
        name="leader",
    )
    log.info("polling started")
    settled()
    try:
        await dp.start_polling(bot, allowed_updates=dp.resolve_used_update_types())
    finally:
        stop.set()
        await leader
