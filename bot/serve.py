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
import inspect
import logging
import os
import re
import secrets
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from common.settings import Settings

if TYPE_CHECKING:  # the heavy imports (aiogram alone takes seconds) wait for build_service
    from aiogram import Bot, Dispatcher
    from fastapi import FastAPI

    from backoffice.deps import Services

log = logging.getLogger(__name__)

SECRET_FILE = "webhook.secret"
SHUTDOWN_GRACE = 30.0  # seconds the jobs get to finish their round at shutdown
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token


# The server's settings live in the one settings object.
ServeSettings = Settings


def webhook_secret(serve_settings: ServeSettings, data_dir: Path) -> str:
    """WEBHOOK_SECRET, or the one kept in `data_dir/webhook.secret` (made on first start,
    readable by this user only). Kept across restarts, so that a registration Telegram
    still holds keeps working even when a new one cannot be made at start."""
    if serve_settings.webhook_secret is not None:
        return serve_settings.webhook_secret.get_secret_value()
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # written whole beside it, then linked into place: never a half-written file, and
        # two processes starting together end up with the same secret
        draft = data_dir / f".{SECRET_FILE}.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    secret = path.read_text(encoding="ascii").strip()
    if not _SECRET.match(secret):
        raise SystemExit(f"{path}: not a valid webhook secret; delete it to make a new one")
    return secret


class Service(NamedTuple):
    app: FastAPI
    services: Services
    bot: Bot
    dp: Dispatcher
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


def _start_workers(bot: Bot, services: Services, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """The workers, with the receipt-poll hook when `start_workers` offers one."""
    from .workers import start_workers

    def polled(when: dt.datetime) -> None:
        services.last_receipt_poll = when

    args: tuple[Any, ...] = (bot, services.db, services.blobs, services.settings, stop)
    alerts = {"catalogue": services.catalogue, "clock": services.extra.get("clock")}
    if "on_receipt_poll" in inspect.signature(start_workers).parameters:
        return start_workers(*args, on_receipt_poll=polled, **alerts)  # type: ignore[call-arg]
    return start_workers(*args, **alerts)


def build_service(
    settings: Settings,
    serve_settings: ServeSettings,
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
    from .webhook import install_retry

    db = db if db is not None else open_db(settings.db_path)
    blobs = blob_store_beside(db, settings)
    catalogue = LiveCatalogue(db)  # follows `sportello notice publish` without a restart
    bot = build_bot(settings)
    install_retry(bot)
    dp = build_dispatcher(
        db, catalogue, clock=clock or dt.date.today, settings=settings, blobs=blobs
    )
    secret = webhook_secret(serve_settings, settings.sportello_data_dir)
    services = Services(db=db, blobs=blobs, catalogue=catalogue, settings=settings)
    services.extra["webhook"] = "pending" if serve_settings.webhook_url else "off"
    services.extra["clock"] = clock  # the alerts' day follows --today

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
            try:
                await set_commands(bot)
            except Exception as exc:  # the menu is a comfort; the bot works without it
                log.warning("could not set the command menu: %s", type(exc).__name__)
            if serve_settings.webhook_url:
                tasks.append(
                    asyncio.create_task(
                        keep_webhook_registered(
                            bot, dp, serve_settings.webhook_url, secret, services, stop
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
            tasks.extend(_start_workers(bot, services, stop))
            from .journal import replay_unfinished

            try:
                await replay_unfinished(dp, bot, services.db)
            except Exception as exc:
                log.error("replaying interrupted updates failed: %s", type(exc).__name__)
            tasks.append(asyncio.create_task(forget_updates_forever(services, stop), name="seen"))
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


def uvicorn_config(app: FastAPI, serve_settings: ServeSettings) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        host=serve_settings.sportello_host,
        port=serve_settings.sportello_port,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips=serve_settings.forwarded_allow_ips,
        access_log=False,  # client addresses are personal data; /metrics counts the traffic
        server_header=False,
        # at shutdown, requests in flight (a handler waiting out flood control) get this
        # long before they are cancelled; then the jobs get SHUTDOWN_GRACE
        timeout_graceful_shutdown=30,
    )


def run_serve(
    settings: Settings,
    serve_settings: ServeSettings,
    *,
    clock: Callable[[], dt.date] | None = None,
) -> None:
    """Serve until SIGTERM or Ctrl-C, then stop the jobs and return normally."""
    import uvicorn

    service = build_service(settings, serve_settings, clock=clock)
    server = uvicorn.Server(uvicorn_config(service.app, serve_settings))
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
