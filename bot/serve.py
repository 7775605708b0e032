"""The production server: one FastAPI app under uvicorn carrying the Telegram webhook, the
staff back-office, `/healthz` and `/metrics`, with the background jobs (outbox, PEC
receipts, status messages, retention) in its lifespan.

Telegram needs HTTPS: run this on loopback behind a reverse proxy that terminates TLS
(nginx, Caddy) and forwards to SPORTELLO_HOST:SPORTELLO_PORT, with WEBHOOK_URL the
proxy's public address. `sportello run` (polling) and `sportello serve` must not run at
once for the same bot: each start takes Telegram's updates for itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import re
import secrets
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from common.clock import moment_clock, rome_today
from common.settings import Settings

if TYPE_CHECKING:  # the heavy imports (aiogram alone takes seconds) wait for build_service
    from aiogram import Bot, Dispatcher
    from fastapi import FastAPI

    from backoffice.deps import Services

log = logging.getLogger(__name__)

SECRET_FILE = "webhook.secret"
SHUTDOWN_GRACE = 30.0  # seconds the jobs get to finish their round at shutdown
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token


def webhook_secret(settings: Settings, data_dir: Path) -> str:
    """WEBHOOK_SECRET, or the one kept in `data_dir/webhook.secret` (made on first start,
    readable by this user only). Kept across restarts, so that a registration Telegram
    still holds keeps working even when a new one cannot be made at start."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    from storage.blobs import write_once

    path = data_dir / SECRET_FILE
    write_once(path, secrets.token_urlsafe(32) + "\n")
    secret = path.read_text(encoding="ascii").strip()
    if not _SECRET.match(secret):
        raise SystemExit(f"{path}: not a valid webhook secret; delete it to make a new one")
    return secret


class Service(NamedTuple):
    app: FastAPI
    services: Services
    bot: Bot | None  # None: the back-office alone (no BOT_TOKEN)
    dp: Dispatcher | None
    secret: str


async def keep_webhook_registered(
    bot: Bot,
    dp: Dispatcher,
    url: str,
    secret: str,
    services: Services,
    stop: asyncio.Event,
    first_delay: float = 5.0,
) -> None:
    """setWebhook until Telegram takes it, waiting longer after each failure (5 s to
    5 min). Meanwhile the back-office works, and a registration Telegram already holds
    with the same secret keeps delivering."""
    from .webhook import register_webhook

    delay = first_delay
    while not stop.is_set():
        try:
            await register_webhook(bot, dp, url, secret)
        except Exception as exc:
            services.extra["webhook"] = "failing"
            log.error("setWebhook failed (%s); trying again in %.0f s", type(exc).__name__, delay)
        else:
            services.extra["webhook"] = "registered"
            log.info("webhook registered at %s", url)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        delay = min(delay * 2, 300.0)


async def forget_updates_forever(
    services: Services, stop: asyncio.Event, every: float = 3600
) -> None:
    """Prune the ids of handled updates older than a day, every hour."""
    from storage.journal import prune
    from storage.updates import KEEP, forget_older_than

    while not stop.is_set():
        try:
            forget_older_than(services.db, services.clock() - KEEP)
            prune(services.db, services.clock())
        except Exception as exc:
            log.warning("pruning seen updates failed: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


def build_service(
    settings: Settings,
    *,
    clock: Callable[[], dt.date] | None = None,
    db: Any = None,
) -> Service:
    """Open everything and build the app; nothing talks to Telegram until the lifespan."""
    from backoffice.app import create_app
    from backoffice.deps import Services
    from dialogs.live_catalogue import LiveCatalogue
    from storage.db import open_db

    from .app import blob_store_beside, build_bot, build_dispatcher, set_commands
    from .journal import replay_unfinished
    from .leader import lead_jobs
    from .workers import start_workers

    db = db if db is not None else open_db(settings.db_path)
    blobs = blob_store_beside(db, settings)
    catalogue = LiveCatalogue(db)  # follows `sportello notice publish` without a restart
    if settings.bot_token is None:
        return _backoffice_alone(settings, db, blobs, catalogue, clock)
    bot = build_bot(settings)  # with the retry middleware
    dp = build_dispatcher(
        db, catalogue, clock=clock or rome_today, settings=settings, blobs=blobs
    )
    secret = webhook_secret(settings, settings.sportello_data_dir)
    services = Services(
        db=db, blobs=blobs, catalogue=catalogue, settings=settings, clock=moment_clock(clock)
    )
    services.extra["webhook"] = "pending" if settings.webhook_url else "off"
    services.extra["clock"] = clock  # the alerts' day follows --today

    def polled(when: dt.datetime) -> None:
        services.last_receipt_poll = when

    def jobs(inner: asyncio.Event) -> list[asyncio.Task[None]]:
        """The background jobs, in the one process that holds their lease."""
        return [
            *start_workers(
                bot,
                services.db,
                services.blobs,
                settings,
                inner,
                on_receipt_poll=polled,
                catalogue=services.catalogue,
                clock=clock,
            ),
            asyncio.create_task(forget_updates_forever(services, inner), name="seen"),
        ]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []

        async def begin() -> None:
            """Talk to Telegram and start the jobs only once the port is ours: a second
            `sportello serve` that cannot bind must not steal the webhook or the jobs."""
            server = services.extra.get("server")
            while server is not None and not server.started:
                if stop.is_set():
                    return
                await asyncio.sleep(0.05)
            # first: this process says it is alive (its lease) before it talks to Telegram
            tasks.append(
                asyncio.create_task(
                    lead_jobs(
                        services.db,
                        dp["owner"],
                        jobs,
                        stop,
                        each_round=lambda: replay_unfinished(dp, bot, services.db),
                        on_change=lambda leading: services.extra.update(jobs=leading),
                        grace=SHUTDOWN_GRACE,
                    ),
                    name="leader",
                )
            )
            try:
                await set_commands(bot)
            except Exception as exc:  # the menu is a comfort; the bot works without it
                log.warning("could not set the command menu: %s", type(exc).__name__)
            if settings.webhook_url:
                tasks.append(
                    asyncio.create_task(
                        keep_webhook_registered(
                            bot, dp, settings.webhook_url, secret, services, stop
                        ),
                        name="webhook",
                    )
                )
            else:
                log.warning(
                    "WEBHOOK_URL is not set: Telegram sends nothing to this server (the "
                    "back-office, /healthz and the jobs still run). Set it to the public "
                    "https address that forwards here."
                )
            log.info("service started")

        starter = asyncio.create_task(begin(), name="begin")
        try:
            yield
        finally:
            stop.set()
            await starter
            _done, pending = (
                await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE) if tasks else (set(), set())
            )
            for task in pending:
                log.warning("job %s did not stop in time: cancelled", task.get_name())
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await bot.session.close()
            log.info("service stopped")

    from .webhook import webhook_router

    app = create_app(services, routers=[webhook_router(dp, bot, secret)], lifespan=lifespan)
    return Service(app, services, bot, dp, secret)


BACKOFFICE_ALONE = (
    "BOT_TOKEN is not set: serving the back-office alone. The Telegram webhook is off and "
    "the background jobs do not run (outbox, PEC receipts, messages to families, alerts, "
    "retention, expiry): start with BOT_TOKEN for those."
)


def _backoffice_alone(
    settings: Settings, db: Any, blobs: Any, catalogue: Any, clock: Callable[[], dt.date] | None
) -> Service:
    """The staff back-office without Telegram: no webhook route, no jobs (they tell
    families things, and retention must not delete files the family was not warned of)."""
    from backoffice.app import create_app
    from backoffice.deps import Services

    services = Services(
        db=db, blobs=blobs, catalogue=catalogue, settings=settings, clock=moment_clock(clock)
    )
    services.extra["webhook"] = "off"
    services.extra["jobs"] = False

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.warning(BACKOFFICE_ALONE)
        yield
        log.info("service stopped")

    return Service(create_app(services, lifespan=lifespan), services, None, None, "")


TODAY_VARIABLE = "_SPORTELLO_SERVE_TODAY"  # --today, handed to the worker processes


def _server_options(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.sportello_host,
        "port": settings.sportello_port,
        "log_level": "info",
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "access_log": False,  # client addresses are personal data; /metrics counts the traffic
        "server_header": False,
        # at shutdown, requests in flight (a handler waiting out flood control) get this
        # long before they are cancelled; then the jobs get SHUTDOWN_GRACE
        "timeout_graceful_shutdown": 30,
    }


def uvicorn_config(app: FastAPI, settings: Settings) -> Any:
    import uvicorn

    return uvicorn.Config(app, **_server_options(settings))


def worker_app() -> FastAPI:
    """The app of one worker process of `sportello serve --workers N` (uvicorn imports
    it by name in each process): everything opened afresh in the process."""
    from common.settings import Settings

    today = os.environ.get(TODAY_VARIABLE)
    day = dt.date.fromisoformat(today) if today else None
    return build_service(Settings(), clock=(lambda: day) if day else None).app


def run_serve(
    settings: Settings,
    *,
    clock: Callable[[], dt.date] | None = None,
    workers: int = 1,
) -> None:
    """Serve until SIGTERM or Ctrl-C, then stop the jobs and return normally. With more
    than one worker, uvicorn runs that many processes on the one port, each with its own
    app on the same database file (one of them runs the background jobs: bot.leader)."""
    import uvicorn

    if workers > 1:
        if clock is not None:
            os.environ[TODAY_VARIABLE] = clock().isoformat()
        uvicorn.run(
            "bot.serve:worker_app", factory=True, workers=workers, **_server_options(settings)
        )
        return
    service = build_service(settings, clock=clock)
    server = uvicorn.Server(uvicorn_config(service.app, settings))
    service.services.extra["server"] = server  # the lifespan waits until it listens
    # uvicorn shuts down gracefully on the signal, then raises it again; by then there is
    # nothing left to do, so the process ends with status 0 rather than "killed".
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        service.services.db.close()
