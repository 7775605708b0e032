"""A family's messages are handled one at a time and in order, across processes on one
database file: a message that reaches a second process while the first is still
answering the one before waits its turn, and a process that died in the middle of a
message holds nothing up."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.methods import SendMessage

from storage import journal
from tests.botapi import BotAPI, Family
from tests.test_bot_conversation import Session, begin

TODAY = dt.date(2025, 6, 2)


class HeldReplies(BaseRequestMiddleware):
    """The Bot API slow to answer: a message waits until the test lets it go."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.waiting = asyncio.Event()

    async def __call__(self, make_request: Any, bot: Bot, method: Any) -> Any:
        if isinstance(method, SendMessage):
            self.waiting.set()
            await self.go.wait()
        return await make_request(bot, method)


async def test_a_message_reaching_another_process_waits_for_the_one_before(
    api: BotAPI, db_path: Path
):
    one = Session(api, db_path, TODAY, user_id=611)
    two = Session(api, db_path, TODAY, user_id=611)
    try:
        await begin(one.family)
        await one.family.say("Opera")
        held = HeldReplies()
        one.bot.session.middleware(held)
        # the birth date goes to the first process, which is slow to answer ...
        first = asyncio.create_task(one.family.say("20/5/1939"))
        await asyncio.wait_for(held.waiting.wait(), 30)
        # ... and the next answer reaches the second process meanwhile
        on_two = Family(api, two.bot, two.dp, user_id=611)
        second = asyncio.create_task(on_two.feed(on_two._message(text="Sì")))
        await asyncio.sleep(1.0)
        assert not second.done(), "the second process did not wait for the first"
        held.go.set()
        await asyncio.wait_for(asyncio.gather(first, second), 30)
        texts = [c.params["text"] for c in api.sent(611)]
        # read in order: the date, then "Sì" for the question that came after it
        assert any("20/05/1939" in t for t in texts)
        assert any("Vive a casa" in t for t in texts)
        assert "Quali di questi documenti" in texts[-1], texts[-1]
        assert not any("Non riesco a leggere la data" in t for t in texts), texts
    finally:
        await one.close()
        await two.close()


async def test_a_process_that_died_mid_message_holds_nothing_up(api: BotAPI, db_path: Path):
    s = Session(api, db_path, TODAY, user_id=612)
    try:
        await begin(s.family)
        chat = s.db.execute("SELECT key FROM fsm WHERE key LIKE '%:612:%'").fetchone()[0]
        # a process of this machine that is gone left an update of this chat open
        dead = f"{socket.gethostname()}/999999999/dead"
        journal.record(
            s.db, 0, 612, "{}", dt.datetime.now(dt.UTC), dead, chat=chat, expires_at=time.time() + 30
        )
        started = time.monotonic()
        texts = await s.family.say("Opera")
        assert time.monotonic() - started < 10
        assert any("Quando è nata" in t for t in texts), texts
    finally:
        await s.close()


async def test_an_earlier_message_reaching_another_process_late_waits_for_the_one_answered(
    api: BotAPI, db_path: Path
):
    """Telegram's updates may reach two processes out of order: the later one (a higher
    update id) is being answered on the first process when the earlier one reaches the
    second. The second waits all the same: one message of a chat at a time."""
    one = Session(api, db_path, TODAY, user_id=613)
    two = Session(api, db_path, TODAY, user_id=613)
    try:
        await begin(one.family)
        await one.family.say("Opera")
        held = HeldReplies()
        one.bot.session.middleware(held)
        on_one = one.family
        on_two = Family(api, two.bot, two.dp, user_id=613)
        later = on_one._message(text="20/5/1939")
        earlier = on_two._message(text="Sì")
        later["update_id"], earlier["update_id"] = 90001, 90000
        first = asyncio.create_task(on_one.feed(later))
        await asyncio.wait_for(held.waiting.wait(), 30)
        second = asyncio.create_task(on_two.feed(earlier))
        await asyncio.sleep(1.0)
        assert not second.done(), "the second process handled the chat at the same time"
        held.go.set()
        await asyncio.wait_for(asyncio.gather(first, second), 30)
        texts = [c.params["text"] for c in api.sent(613)]
        # the date was read, then "Sì" answered the question after it
        assert any("20/05/1939" in t for t in texts)
        assert not any("Non riesco a leggere la data" in t for t in texts), texts
        assert "Quali di questi documenti" in texts[-1], texts[-1]
    finally:
        await one.close()
        await two.close()


async def test_the_next_message_waits_until_the_erasure_is_done_and_told(
    api: BotAPI, db_path: Path
):
    """/cancella_dati answered on the first process (its reply slow to go); the family's
    next message reaches the second process meanwhile. It waits for the erasure and its
    reply: the family reads «Fatto» first, and what she sent after is kept."""
    from aiogram.methods import EditMessageText

    from tests.test_bot_dossier import APPLICANT_CF, send_application

    class HeldEdits(HeldReplies):
        async def __call__(self, make_request: Any, bot: Bot, method: Any) -> Any:
            if isinstance(method, SendMessage | EditMessageText):
                self.waiting.set()
                await self.go.wait()
            return await make_request(bot, method)

    one = Session(api, db_path, TODAY)
    two = Session(api, db_path, TODAY)
    try:
        await send_application(one)
        await one.family.say("/cancella_dati")
        held = HeldEdits()
        one.bot.session.middleware(held)
        first = asyncio.create_task(one.family.press("Sì, cancella tutto"))
        await asyncio.wait_for(held.waiting.wait(), 30)
        on_two = Family(api, two.bot, two.dp, user_id=4242)
        before = len(api.calls)
        second = asyncio.create_task(on_two.say(f"il mio codice fiscale è {APPLICANT_CF}"))
        await asyncio.sleep(1.0)
        assert not second.done(), "the next message was handled during the erasure"
        assert not [c for c in api.calls[before:] if c.method == "sendMessage"]
        held.go.set()
        await asyncio.wait_for(asyncio.gather(first, second), 30)
        after = [c.params["text"] for c in api.calls[before:] if "text" in c.params]
        done = next(i for i, t in enumerate(after) if "abbiamo cancellato" in t)
        assert done == 0, after  # «Fatto» first, then the answer to the next message
        assert len(after) > 1, after
        # nothing of the erasure's own update is left to replay, and the line is free
        rows = one.db.execute(
            "SELECT COUNT(*) FROM update_journal WHERE user_id = 4242 AND done = 0"
        ).fetchone()[0]
        assert rows == 0
    finally:
        await one.close()
        await two.close()
