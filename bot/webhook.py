"""Telegram by webhook: the route Telegram posts updates to, its registration, and the
request middleware that waits out Telegram's flood control.

**Each update is handled at most once.** Its `update_id` is recorded (committed) before
the Dispatcher sees it, and the answer is 200 whatever the handler did. So:

- a delivery Telegram repeats (it did not get our answer in time, or we restarted) is
  answered 200 and not handled again;
- a handler that raises is logged (type and code location, never the message, which may
  quote what the family typed) and counted in `updates_failed`; Telegram is told 200 so
  it does not redeliver a poison update for a day while holding back the chat's next ones;
- a process that dies in the middle of a handler does not lose that update: it was
  written to the crash journal first (`bot.journal`) and is handled again at the next
  start;
- when the id cannot be recorded (the database is locked or gone) the answer is 503 and
  nothing is handled: Telegram delivers it again later.

We do not retry a crashed handler because handlers are not idempotent: the questionnaire
reads an answer against the question the conversation is at *now*, so the same "30" fed
twice after the state moved on would answer the next question too, and "📨 Sì, invia"
must not act twice. A lost update is visible to the family (no answer comes) and they
simply type or tap again, which is harmless.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import random
import traceback
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response as MethodResponse
from aiogram.methods.base import TelegramType
from aiogram.types import Update
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.requests import ClientDisconnect

from storage.updates import first_time

from .turns import RAW_UPDATE

if TYPE_CHECKING:
    from backoffice.deps import Services

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # an update is a few kilobytes; anything larger is not Telegram

_KINDS = (
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "chat_member",
    "inline_query",
    "channel_post",
    "edited_channel_post",
)


def _kind(update: Update) -> str:
    """The update's type, for the logs (aiogram's `event_type` raises on unknown ones)."""
    return next((k for k in _KINDS if getattr(update, k, None) is not None), "other")


def _where(exc: BaseException) -> str:
    """Where an exception came from (file:line in function), with no values in it."""
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    return " <- ".join(
        f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in reversed(frames)
    )


def _ok() -> Response:
    return Response(status_code=200)


def _text(body: bytes) -> str | None:
    """The body as text for the crash journal, as Telegram sent it (UTF-8); None for
    another encoding (`json.loads` takes UTF-16 and UTF-32 too, and a byte-order mark):
    the journal then writes the update dumped again."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if text.startswith("\ufeff") else text


async def _read_body(request: Request) -> bytes | None:
    """The body, or None when it is larger than MAX_BODY."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def webhook_router(dp: Dispatcher, bot: Bot, secret: str) -> APIRouter:
    """`POST /telegram/webhook`: Telegram's updates, authenticated by the secret token
    given at `setWebhook`. Needs `app.state.services` (counters, database, clock)."""
    if not secret:
        raise ValueError("the webhook needs a secret token")
    expected = secret.encode("utf-8")
    router = APIRouter()
    router.body_limits = {WEBHOOK_PATH: MAX_BODY}  # type: ignore[attr-defined]  # create_app

    @router.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        services: Services = request.app.state.services
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1")
        if not hmac.compare_digest(given, expected):
            services.count("webhook_unauthorized")
            return JSONResponse({"detail": "unauthorized"}, status_code=401)
        try:
            body = await _read_body(request)
        except ClientDisconnect:
            return JSONResponse({"detail": "no body"}, status_code=400)
        if body is None:
            services.count("webhook_bad_request")
            return JSONResponse({"detail": "too large"}, status_code=413)
        try:
            data: Any = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            update = Update.model_validate(data, context={"bot": bot})
        except (ValueError, ValidationError, RecursionError):  # JSON nested a thousand deep
            services.count("webhook_bad_request")
            return JSONResponse({"detail": "not a Telegram update"}, status_code=400)
        if not 0 <= update.update_id < 2**63:
            # no such update comes from Telegram (SQLite keeps 64-bit ids); a 200 so that it
            # is not delivered again and again
            services.count("webhook_bad_request")
            return _ok()

        try:
            new = first_time(services.db, update.update_id, services.clock())
        except Exception as exc:  # not recorded, so not handled: Telegram delivers it again
            services.count("webhook_unavailable")
            log.error("update %s not recorded: %s", update.update_id, type(exc).__name__)
            return JSONResponse({"detail": "try again"}, status_code=503)
        if not new:
            services.count("updates_duplicate")
            return _ok()
        try:
            result = await dp.feed_update(bot, update, **{RAW_UPDATE: _text(body)})
            if isinstance(result, TelegramMethod):  # a handler that answers by returning
                await bot(result)
        except Exception as exc:
            services.count("updates_failed")
            log.error(
                "update %s (%s) failed: %s at %s",
                update.update_id,
                _kind(update),
                type(exc).__name__,
                _where(exc),
            )
            return _ok()
        services.count("updates_handled")
        return _ok()

    return router


async def register_webhook(bot: Bot, dp: Dispatcher, url: str, secret: str) -> None:
    """Tell Telegram where to post, with the secret and only the update types we handle.
    Updates already waiting at Telegram are kept (a restart loses nothing)."""
    await bot.set_webhook(
        url=f"{url.rstrip('/')}{WEBHOOK_PATH}",
        secret_token=secret,
        allowed_updates=dp.resolve_used_update_types(),
        drop_pending_updates=False,
    )


class RetryAfterMiddleware(BaseRequestMiddleware):
    """On Telegram's flood control (429 `retry_after`), wait as asked and send the same
    request again, up to `retries` times. A 429 means Telegram did not carry the request
    out, so sending it again cannot make a double.

    A wait longer than `max_wait` is not waited out here (a shorter sleep would only earn
    another 429): the error goes to the caller, which has its own retry (the status
    messages) or logs it (a handler)."""

    def __init__(self, retries: int = 3, max_wait: float = 30.0) -> None:
        self.retries = retries
        self.max_wait = max_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> MethodResponse[TelegramType]:
        attempt = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                attempt += 1
                wait = float(exc.retry_after)
                if attempt > self.retries or wait > self.max_wait:
                    raise
                # chat ids stay out of the log: the method name and the wait are enough
                log.warning(
                    "Telegram flood control on %s: waiting %.0f s (retry %d of %d)",
                    type(method).__name__,
                    wait,
                    attempt,
                    self.retries,
                )
                # a little jitter, so that requests held together do not all return at once
                await asyncio.sleep(wait * (1 + random.random() * 0.1))


def install_retry(bot: Bot, **options: Any) -> RetryAfterMiddleware:
    """Register the retry middleware on the bot's session, once."""
    for middleware in bot.session.middleware:
        if isinstance(middleware, RetryAfterMiddleware):
            return middleware
    middleware = RetryAfterMiddleware(**options)
    bot.session.middleware(middleware)
    return middleware
