"""Updates per second through the Dispatcher, and memory with 1,000 conversations.

Run: python benchmarks/bot_bench.py [--updates 2000] [--conversations 1000]

The bot's HTTP session is replaced by one that answers at once, so the figures measure
our side only: aiogram's Dispatcher, the SQLite FSM storage (a real file), the dialog and
the engine. The "question step" is a family typing a birth date: parse, store, ask the
engine for the next fact, render the next question. The baseline is a bare echo handler
in the same run, on the same SQLite storage.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import tempfile
import time
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.base import BaseSession
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.types import Chat, Message, Update, User

from bot.app import build_dispatcher
from storage.db import open_db
from storage.fsm import SQLiteStorage

BOT = User(id=1, is_bot=True, first_name="bench")
ids = itertools.count(1)


class InstantSession(BaseSession):
    """Answers every Bot API call at once, as Telegram would, with no network."""

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        if isinstance(method, SendMessage | EditMessageText):
            return Message(
                message_id=next(ids),
                date=dt.datetime.now(),
                chat=Chat(id=int(method.chat_id or 0), type="private"),
                from_user=BOT,
                text=method.text,
            )
        return True

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any):  # pragma: no cover
        raise NotImplementedError


def text_update(user_id: int, text: str) -> Update:
    user = {"id": user_id, "is_bot": False, "first_name": "U", "language_code": "it"}
    return Update.model_validate(
        {
            "update_id": next(ids),
            "message": {
                "message_id": next(ids),
                "date": 1748000000,
                "chat": {"id": user_id, "type": "private"},
                "from": user,
                "text": text,
                **(
                    {"entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}
                    if text.startswith("/")
                    else {}
                ),
            },
        }
    )


def button_update(user_id: int, data: str) -> Update:
    user = {"id": user_id, "is_bot": False, "first_name": "U", "language_code": "it"}
    message = {
        "message_id": 1,
        "date": 1748000000,
        "chat": {"id": user_id, "type": "private"},
        "text": "q",
    }
    return Update.model_validate(
        {
            "update_id": next(ids),
            "callback_query": {
                "id": str(next(ids)),
                "from": user,
                "chat_instance": "c",
                "message": message,
                "data": data,
            },
        }
    )


async def prepare(dp: Dispatcher, bot: Bot, user_id: int) -> None:
    """Bring one family to the birth-date question of the Opera notice."""
    await dp.feed_update(bot, text_update(user_id, "/start"))
    await dp.feed_update(bot, button_update(user_id, "lang:it"))
    await dp.feed_update(bot, button_update(user_id, "priv:yes"))
    await dp.feed_update(bot, text_update(user_id, "Opera"))


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main(updates: int, conversations: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    bot = Bot("1:bench", session=InstantSession())
    db = open_db(tmp / "bench.sqlite3")
    dp = build_dispatcher(db, clock=lambda: dt.date(2025, 6, 2))

    echo = Dispatcher(
        storage=SQLiteStorage(open_db(tmp / "echo.sqlite3")),
        events_isolation=SimpleEventIsolation(),
    )
    router = Router()

    @router.message()
    async def _echo(message: Message) -> None:
        await message.answer(message.text or "")

    echo.include_router(router)

    users = range(10_000, 10_000 + updates)
    for user in users:
        await prepare(dp, bot, user)
    start = time.perf_counter()
    for user in users:  # the step: the birth date, then the engine picks the next question
        await dp.feed_update(bot, text_update(user, "1/3/1940"))
    step = time.perf_counter() - start

    start = time.perf_counter()
    for user in users:
        await echo.feed_update(bot, text_update(user, "1/3/1940"))
    bare = time.perf_counter() - start

    print(f"question step: {updates / step:,.0f} updates/s ({step / updates * 1e3:.2f} ms each)")
    print(f"echo handler:  {updates / bare:,.0f} updates/s ({bare / updates * 1e3:.2f} ms each)")
    print(f"ratio step/echo: {step / bare:.2f}x (target at most 1.5x)")

    before = rss_mib()
    for user in range(50_000, 50_000 + conversations):
        await prepare(dp, bot, user)
        await dp.feed_update(bot, text_update(user, "1/3/1940"))
    after = rss_mib()
    rows = db.execute("select count(*) from fsm").fetchone()[0]
    print(
        f"{conversations} conversations in progress ({rows} stored): resident memory {after:.1f} MiB "
        f"({after - before:+.1f} MiB while adding them)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--conversations", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.updates, args.conversations))
