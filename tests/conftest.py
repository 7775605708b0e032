"""Fixtures shared by the bot's tests: the Bot API stand-in on loopback, the database file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.botapi import BotAPI, start_api


@pytest.fixture
async def api():
    api = BotAPI()
    runner, url = await start_api(api)
    api.url = url  # type: ignore[attr-defined]
    yield api
    await runner.cleanup()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "sportello.sqlite3"
