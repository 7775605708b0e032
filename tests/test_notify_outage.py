"""Telegram unreachable while status messages wait: the loop backs off (not a try every
2 s) and the log says it once when the outage starts and once when it ends, not a WARNING
per dossier per round. Real aiogram Bot against the Bot API stand-in, stopped and started
again on the same port."""

# ruff: noqa: F811

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web

from bot.i18n import make_i18n
from bot.notify import Outage, said_already, tell_forever
from storage import outcomes
from storage.dossiers import events_to_tell
from tests.backoffice_fixtures import World
from tests.botapi import BotAPI, make_bot, start_api
from tests.test_backoffice import template, world  # noqa: F401  (fixtures, by name)


def _notify_records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.notify" and r.levelno >= level]


async def test_an_outage_is_logged_once_and_retried_with_back_off(
    world: World, caplog: pytest.LogCaptureFixture
):
    outcomes.set_outcome(world.db, world.dossiers["delivered"], "ammessa", reason=None,
                         position=None, now=world.clock())  # fmt: skip
    waiting = events_to_tell(world.db)
    # what is told: not the passing steps of a send a later status follows (bot.notify)
    pending = len([e for n, e in enumerate(waiting) if not said_already(e, waiting[n + 1 :])])
    assert pending >= 1
    api = BotAPI()
    runner, url = await start_api(api)
    port = int(url.rsplit(":", 1)[1])
    await runner.cleanup()  # Telegram gone: connections refused
    bot = make_bot(url)
    stop = asyncio.Event()
    outage = Outage(first=0.1, longest=0.4)
    caplog.set_level(logging.DEBUG, logger="bot.notify")
    task = asyncio.create_task(
        tell_forever(bot, world.db, make_i18n(), stop, every=0.02, outage=outage)
    )
    try:
        await asyncio.sleep(1.6)
        warnings = _notify_records(caplog, logging.WARNING)
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert "Telegram unreachable" in warnings[0].getMessage()
        assert "status message(s) wait" in warnings[0].getMessage()
        # 0.1, 0.2, 0.4, 0.4 ... s apart: a handful of tries, not one every 0.02 s (80)
        assert 2 <= outage.attempts <= 10, outage.attempts
        assert outage.delay == 0.4
        # Telegram is back on the same address: everything waiting is sent, in order
        runner = web.AppRunner(api.app())
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        for _ in range(100):
            if not events_to_tell(world.db):
                break
            await asyncio.sleep(0.05)
        assert events_to_tell(world.db) == []
        sent = [c for c in api.calls if c.method == "sendMessage"]
        assert len(sent) == pending
        warnings = _notify_records(caplog, logging.WARNING)
        assert len(warnings) == 2 and "Telegram reachable again" in warnings[1].getMessage()
        assert not outage.active
    finally:
        stop.set()
        await task
        await bot.session.close()
        await runner.cleanup()
