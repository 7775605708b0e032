"""`sportello run` polls the Bot API named by TELEGRAM_API_URL and answers a family."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.botapi import TOKEN, BotAPI, start_api


async def test_sportello_run_polls_a_local_bot_api_and_answers_start(tmp_path: Path):
    api = BotAPI()
    runner, url = await start_api(api)
    api.updates.append(
        {
            "update_id": 10,
            "message": {
                "message_id": 1,
                "date": 1748000000,
                "chat": {"id": 77, "type": "private"},
                "from": {"id": 77, "is_bot": False, "first_name": "Anna", "language_code": "it"},
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
    )
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": url,
        "SPORTELLO_DATA_DIR": str(tmp_path),
    }
    exe = Path(sys.executable).with_name("sportello")
    proc = await asyncio.create_subprocess_exec(
        str(exe), "run", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        for _ in range(150):
            if any(c.method == "sendMessage" for c in api.calls):
                break
            await asyncio.sleep(0.1)
        methods = [c.method for c in api.calls]
        assert "setMyCommands" in methods and "deleteWebhook" in methods
        sent = [c.params for c in api.calls if c.method == "sendMessage"]
        assert sent and int(sent[0]["chat_id"]) == 77
        assert "Scegliete la lingua" in sent[0]["text"]
        assert (tmp_path / "sportello.sqlite3").exists()
    finally:
        proc.terminate()
        _out, err = await proc.communicate()
        await runner.cleanup()
    assert b"Anna" not in err  # no personal data in the logs


def test_run_without_a_token_explains_what_to_do(tmp_path: Path):
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    exe = Path(sys.executable).with_name("sportello")
    done = subprocess.run([str(exe), "run"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "sportello console" in done.stderr
