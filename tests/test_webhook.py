"""Telegram by webhook: the real app, Dispatcher and Bot (talking to the Bot API stand-in),
driven over HTTP with httpx's ASGI transport."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramRetryAfter
from aiogram.types import Message
from sqlite_utils import Database

from backoffice.app import create_app
from backoffice.deps import Services
from bot.app import blob_store_beside, build_dispatcher
from bot.webhook import (
    SECRET_HEADER,
    WEBHOOK_PATH,
    RetryAfterMiddleware,
    install_retry,
    register_webhook,
    webhook_router,
)
from common.settings import Settings
from eligibility import load_catalogue
from storage.db import open_db
from storage.updates import first_time, forget_older_than
from tests.botapi import BotAPI, Family, make_bot
from tests.test_bot_conversation import CASSANO_MAGNAGO, RESULT, begin, follow

SECRET = "s3cret-Token_for-tests"


@dataclass
class Hook:
    """The app with its real Dispatcher and Bot, and an HTTP client speaking to it."""

    api: BotAPI
    db: Database
    bot: Bot
    dp: Dispatcher
    services: Services
    client: httpx.AsyncClient

    async def post(
        self, update: Any, secret: str | bytes | None = SECRET, content_type: str | None = None
    ) -> httpx.Response:
        headers: dict[str, str | bytes] = {} if secret is None else {SECRET_HEADER: secret}
        if content_type:
            headers["content-type"] = content_type
        if isinstance(update, bytes):
            return await self.client.post(WEBHOOK_PATH, content=update, headers=headers)
        return await self.client.post(WEBHOOK_PATH, json=update, headers=headers)

    def sent_to(self, chat_id: int) -> list[str]:
        return [c.params["text"] for c in self.api.sent(chat_id)]


async def make_hook(api: BotAPI, db_path: Path, today: dt.date) -> AsyncIterator[Hook]:
    db = open_db(db_path)
    settings = Settings(sportello_data_dir=db_path.parent)
    blobs = blob_store_beside(db, settings)
    catalogue = load_catalogue()
    bot = make_bot(api.url)  # type: ignore[attr-defined]
    install_retry(bot)
    dp = build_dispatcher(db, catalogue, clock=lambda: today, settings=settings, blobs=blobs)
    services = Services(db=db, blobs=blobs, catalogue=catalogue, settings=settings)
    app = create_app(services, routers=[webhook_router(dp, bot, SECRET)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://b2.test") as client:
        yield Hook(api, db, bot, dp, services, client)
    await bot.session.close()
    db.close()


@pytest.fixture
async def hook(api, db_path):
    async for h in make_hook(api, db_path, dt.date(2026, 5, 4)):
        yield h


def start_update(update_id: int, user_id: int = 77, first_name: str = "Anna") -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1748000000,
            "chat": {"id": user_id, "type": "private"},
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name,
                "language_code": "it",
            },
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


class WebhookFamily(Family):
    """A family whose updates reach the bot the way Telegram sends them: POSTed to the
    webhook with the secret token."""

    def __init__(self, hook: Hook, user_id: int = 4242):
        super().__init__(hook.api, hook.bot, hook.dp, user_id=user_id)
        self.hook = hook

    async def feed(self, update: dict[str, Any]) -> None:
        response = await self.hook.post(update)
        assert response.status_code == 200, response.text


async def test_a_whole_conversation_by_webhook_ends_in_the_result(hook: Hook):
    family = WebhookFamily(hook)
    texts = await follow(family, CASSANO_MAGNAGO, await begin(family))
    result = "\n".join(texts[texts.index(next(t for t in texts if RESULT in t)) :])
    assert "✅ <b>Interventi integrativi sociali" in result
    assert "protocollo@cassano-magnago.it" in result
    assert "verifica preliminare" in result
    presses = sum(1 for steps in CASSANO_MAGNAGO.values() for a, _ in steps if a == "press")
    steps = sum(len(s) for s in CASSANO_MAGNAGO.values())
    assert hook.services.counters["updates_handled"] == steps + 3  # + /start, language, privacy
    assert "updates_failed" not in hook.services.counters
    assert len([c for c in hook.api.calls if c.method == "answerCallbackQuery"]) == presses + 2


async def test_a_wrong_or_missing_secret_is_refused_before_anything_is_handled(hook: Hook):
    update = start_update(500)
    for secret in (None, "", "not-the-secret", SECRET + "x", SECRET[:-1], "è".encode("latin-1")):
        response = await hook.post(update, secret=secret)
        assert response.status_code == 401, secret
    assert hook.api.calls == []
    assert hook.db.execute("SELECT COUNT(*) FROM seen_updates").fetchone()[0] == 0
    assert hook.services.counters["webhook_unauthorized"] == 6
    # the refused deliveries left no trace: the real one is handled
    assert (await hook.post(update)).status_code == 200
    assert any("Scegliete la lingua" in t for t in hook.sent_to(77))


async def test_the_same_update_delivered_twice_is_handled_once(hook: Hook):
    update = start_update(501)
    first = await hook.post(update)
    again = await hook.post(update)
    assert first.status_code == again.status_code == 200
    assert len([c for c in hook.api.calls if c.method == "sendMessage"]) == 1
    assert hook.services.counters["updates_handled"] == 1
    assert hook.services.counters["updates_duplicate"] == 1


async def test_the_crash_journal_keeps_the_update_as_telegram_sent_it(hook: Hook):
    """The body is written down as it came, not the update dumped again (what a restart
    replays after a crash), and the update is handled."""
    body = json.dumps(start_update(510), indent=1).encode()
    seen: list[str] = []
    hook.db.conn.set_trace_callback(seen.append)
    try:
        assert (await hook.post(body)).status_code == 200
    finally:
        hook.db.conn.set_trace_callback(None)
    written = [s for s in seen if s.startswith("INSERT OR IGNORE INTO update_journal")]
    assert len(written) == 1 and f"'{body.decode()}'" in written[0]
    assert any("Scegliete la lingua" in t for t in hook.sent_to(77))


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b"\xff\xfe\x00",
        b"[]",
        b'"text"',
        json.dumps({"message": {"text": "no update id"}}).encode(),
        json.dumps({"update_id": "many"}).encode(),
        json.dumps({"update_id": 5, "message": {"chat": "not a chat"}}).encode(),
    ],
    ids=["broken", "empty", "binary", "list", "string", "no-id", "bad-id", "bad-message"],
)
async def test_a_body_that_is_not_an_update_gets_400_and_nothing_is_recorded(
    hook: Hook, body: bytes
):
    response = await hook.post(body, content_type="application/json")
    assert response.status_code == 400
    assert hook.db.execute("SELECT COUNT(*) FROM seen_updates").fetchone()[0] == 0
    assert hook.api.calls == []


async def test_a_body_larger_than_any_update_is_refused(hook: Hook):
    response = await hook.post(b"{" + b" " * (1024 * 1024 + 10) + b"}")
    assert response.status_code == 413


async def test_a_handler_that_fails_is_logged_without_personal_data_and_not_retried(
    hook: Hook, caplog: pytest.LogCaptureFixture
):
    """The update id is recorded before the handler runs, so Telegram's redelivery of a
    poison update (or of one whose handler crashed) is answered 200 and not run again."""
    ran: list[int] = []

    async def boom(message: Message) -> None:
        ran.append(message.message_id)
        raise RuntimeError(f"handler saw {message.text} from {message.from_user.first_name}")

    hook.dp.message.register(boom, F.text.startswith("/guasto"))
    update = start_update(502, first_name="Giuseppina")
    update["message"]["text"] = "/guasto Via Roma 12"
    with caplog.at_level(logging.INFO):
        response = await hook.post(update)
        again = await hook.post(update)
    assert response.status_code == again.status_code == 200
    assert ran == [502]
    assert hook.services.counters["updates_failed"] == 1
    assert hook.services.counters["updates_duplicate"] == 1
    failure = [r.getMessage() for r in caplog.records if r.name == "bot.webhook"]
    assert failure and "RuntimeError" in failure[0] and "502" in failure[0]
    assert "test_webhook.py" in failure[0]  # where it broke
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert "Giuseppina" not in text and "Via Roma" not in text


def test_seen_updates_are_recorded_once_and_pruned(tmp_path: Path):
    db = open_db(tmp_path / "x.sqlite3")
    t0 = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)
    assert first_time(db, 1, t0) is True
    assert first_time(db, 1, t0 + dt.timedelta(seconds=5)) is False
    assert first_time(db, 2, t0 + dt.timedelta(days=1)) is True
    assert forget_older_than(db, t0 + dt.timedelta(hours=12)) == 1
    assert [r[0] for r in db.execute("SELECT update_id FROM seen_updates")] == [2]
    assert first_time(db, 1, t0 + dt.timedelta(days=1)) is True  # forgotten: new again


async def test_register_webhook_asks_for_the_used_update_types_with_the_secret(hook: Hook):
    await register_webhook(hook.bot, hook.dp, "https://b2.example.it/", SECRET)
    (call,) = [c for c in hook.api.calls if c.method == "setWebhook"]
    assert call.params["url"] == "https://b2.example.it/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert set(call.params["allowed_updates"]) == set(hook.dp.resolve_used_update_types())
    assert {"message", "callback_query"} <= set(call.params["allowed_updates"])
    assert call.params.get("drop_pending_updates") in (False, "false", None)


async def test_the_retry_middleware_waits_out_a_429_and_sends_again(api: BotAPI):
    bot = make_bot(api.url)  # type: ignore[attr-defined]
    install_retry(bot)
    install_retry(bot)  # once only
    assert sum(isinstance(m, RetryAfterMiddleware) for m in bot.session.middleware) == 1
    api.fail_next["sendMessage"] = 1  # the stand-in answers 429, retry_after 1
    start = time.monotonic()
    message = await bot.send_message(77, "ciao")
    waited = time.monotonic() - start
    await bot.session.close()
    assert message.text == "ciao"
    assert len([c for c in api.calls if c.method == "sendMessage"]) == 2
    assert 1.0 <= waited < 3.0


async def test_the_retry_middleware_gives_up_after_its_retries(api: BotAPI):
    bot = make_bot(api.url)  # type: ignore[attr-defined]
    bot.session.middleware(RetryAfterMiddleware(retries=1))
    api.fail_next["sendMessage"] = 2
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(77, "ciao")
    assert len([c for c in api.calls if c.method == "sendMessage"]) == 2
    await bot.session.close()


async def test_the_retry_middleware_does_not_wait_longer_than_its_cap(api: BotAPI):
    bot = make_bot(api.url)  # type: ignore[attr-defined]
    bot.session.middleware(RetryAfterMiddleware(max_wait=0.5))
    api.fail_next["sendMessage"] = 1
    start = time.monotonic()
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(77, "ciao")
    assert time.monotonic() - start < 0.5
    assert len([c for c in api.calls if c.method == "sendMessage"]) == 1
    await bot.session.close()


async def test_an_update_that_cannot_be_recorded_is_refused_so_telegram_sends_it_again(
    hook: Hook,
):
    hook.db.close()
    response = await hook.post(start_update(503))
    assert response.status_code == 503
    assert hook.api.calls == []  # not recorded, so not handled
    assert hook.services.counters["webhook_unavailable"] == 1
