"""Two `sportello serve` processes on one database file (two workers, or the old and the
new process during a restart), one family's updates alternating between them: the
conversation is the same as on one process, and the background jobs run in one."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from storage import leases
from storage.db import open_db
from tests.botapi import TOKEN, BotAPI, Family
from tests.test_bot_conversation import OPERA, Session, begin, follow
from tests.test_serve import free_port

EXE = str(Path(sys.executable).with_name("sportello"))
SECRET = "two-processes-secret"
TODAY = dt.date(2025, 6, 2)


class Alternating(Family):
    """A family whose updates Telegram delivers to one server, then the other."""

    def __init__(self, api: BotAPI, ports: list[int], user_id: int) -> None:
        super().__init__(api, None, None, user_id=user_id)  # type: ignore[arg-type]
        self.ports = ports
        self.turn = 0
        self.served: list[int] = []

    async def feed(self, update: dict[str, Any]) -> None:
        port = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        async with httpx.AsyncClient(timeout=60) as client:
            answer = await client.post(
                f"http://127.0.0.1:{port}/telegram/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
        assert answer.status_code == 200, answer.text
        self.served.append(port)


async def start_server(api: BotAPI, folder: Path, port: int) -> asyncio.subprocess.Process:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("WEBHOOK_URL", "SMTP_HOST")},
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.url,  # type: ignore[attr-defined]
        "WEBHOOK_SECRET": SECRET,
        "SPORTELLO_DATA_DIR": str(folder),
        "SPORTELLO_PORT": str(port),
    }
    return await asyncio.create_subprocess_exec(
        *(EXE, "serve", "--today", TODAY.isoformat()),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def until_up(port: int, proc: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        for _ in range(900):  # up to 90 s: a loaded machine starts slowly
            assert proc.returncode is None, "the server stopped"
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the server did not start")


async def test_a_family_served_by_two_processes_in_turn_has_the_same_conversation_as_on_one(
    api: BotAPI, tmp_path: Path
):
    # on one process (the Dispatcher in this test, its own database file)
    one = Session(api, tmp_path / "one" / "sportello.sqlite3", TODAY, user_id=501)
    expected = await follow(one.family, OPERA, await begin(one.family))
    await one.close()

    # the same answers, each update to the other process, on one shared file
    folder = tmp_path / "shared"
    ports = [free_port(), free_port()]
    servers = [await start_server(api, folder, port) for port in ports]
    try:
        for port, proc in zip(ports, servers, strict=True):
            await until_up(port, proc)
        family = Alternating(api, ports, user_id=502)
        said = await follow(family, OPERA, await begin(family))
        assert set(family.served) == set(ports)  # both processes served the family

        assert said == expected
        db = open_db(folder / "sportello.sqlite3")
        holders = leases.alive(db, "process:")
        assert len(holders) == 2  # both processes are alive ...
        assert leases.holder(db, "jobs") in holders  # ... and one of them runs the jobs
        db.close()
    finally:
        errors = []
        for proc in servers:
            if proc.returncode is None:
                proc.terminate()
            _out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
            errors.append(err.decode())
    for text in errors:
        assert "Traceback" not in text, text
        assert "failed" not in text, text


class HeldSends:
    """The Bot API slow to take a message: the first one sent waits until the test lets
    it go (the process is in the middle of answering)."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.waiting = asyncio.Event()

    async def __call__(self, make_request: Any, bot: Any, method: Any) -> Any:
        from aiogram.methods import SendMessage

        if isinstance(method, SendMessage) and not self.go.is_set():
            self.waiting.set()
            await self.go.wait()
        return await make_request(bot, method)


async def test_a_message_one_process_is_answering_is_not_answered_again_by_the_other(
    api: BotAPI, tmp_path: Path
):
    """Process A answers a family's /start before its own lease says it is alive (it has
    just started: the lease is written by its leader's first round); process B, leading,
    replays what crashes left meanwhile. The update is A's and alive (its row's own
    lease), so B leaves it: the family gets one answer, not two."""
    from bot.journal import replay_unfinished

    path = tmp_path / "sportello.sqlite3"
    a = Session(api, path, TODAY, user_id=503)
    b = Session(api, path, TODAY, user_id=503)
    held = HeldSends()
    a.bot.session.middleware(held)
    assert not leases.alive(a.db, "process:")  # neither has written its lease yet
    answering = asyncio.create_task(a.family.say("/start"))
    await asyncio.wait_for(held.waiting.wait(), 10)
    replayed = await replay_unfinished(b.dp, b.bot, b.db)
    held.go.set()
    texts = await answering
    assert replayed == 0
    asked = [c.params["text"] for c in api.sent(503) if "Scegliete la lingua" in c.params["text"]]
    assert len(asked) == 1, asked
    assert asked == texts, texts
    await a.close()
    await b.close()


def test_an_update_is_left_to_its_process_while_its_own_lease_or_the_process_lease_lives():
    """Who replays what: a row in the hands of a process elsewhere is left to it while
    its own lease runs (a process just started has no process lease yet), or while the
    process's lease does (a row with none); a process of this machine that is gone
    leaves its rows at once, whatever the leases say."""
    import socket
    import time

    from storage import journal

    now = time.time()
    elsewhere, dead = "elsewhere/1/a", f"{socket.gethostname()}/999999/x"
    assert journal.handled_now(elsewhere, now + 30, alive=set())
    assert journal.handled_now(elsewhere, None, alive={elsewhere})
    assert not journal.handled_now(elsewhere, now - 1, alive=set())
    assert not journal.handled_now(elsewhere, None, alive=set())
    assert not journal.handled_now(dead, now + 30, alive={dead})
    assert not journal.handled_now(None, now + 30, alive=set())
