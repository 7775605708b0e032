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
        for _ in range(600):  # up to 60 s: a loaded machine starts slowly
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


async def test_sportello_run_sends_the_outbox_and_tells_the_family(tmp_path: Path):
    """The main job runs the outbox and the status messages beside polling: a dossier
    queued before start-up is saved to the outbox folder (no SMTP_HOST) and the family
    is told it was saved, not sent."""
    from bot.app import blob_store_beside
    from common.settings import Settings
    from storage.db import open_db
    from storage.dossiers import create_dossier
    from storage.outbox import enqueue

    db = open_db(tmp_path / "sportello.sqlite3")
    dossier_id = create_dossier(
        db, user_id=78, chat_id=78, notice_id="n", municipality="Opera", language="it", data={}
    )
    raw = b"Message-ID: <x@example.it>\r\nSubject: prova\r\n\r\nciao\r\n"
    blobs = blob_store_beside(db, Settings(sportello_data_dir=tmp_path))
    enqueue(db, blobs, dossier_id, [("<x@example.it>", raw)], "protocollo@example.it")
    db.close()
    api = BotAPI()
    runner, url = await start_api(api)
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": url,
        "SPORTELLO_DATA_DIR": str(tmp_path),
    }
    env.pop("SMTP_HOST", None)
    exe = Path(sys.executable).with_name("sportello")
    proc = await asyncio.create_subprocess_exec(
        str(exe), "run", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        told: list[str] = []
        for _ in range(600):  # up to 60 s: a loaded machine starts slowly
            told = [
                c.params["text"]
                for c in api.calls
                if c.method == "sendMessage" and int(c.params["chat_id"]) == 78
            ]
            if any("NON inviata" in t for t in told):
                break
            await asyncio.sleep(0.1)
        # "pronta" is told only when nothing later waits (here the saving usually does)
        assert any("salvata ma NON inviata" in t for t in told)
        saved = list((tmp_path / "outbox").rglob("*.eml"))
        assert len(saved) == 1 and saved[0].read_bytes() == raw
    finally:
        proc.terminate()
        _out, err = await proc.communicate()
        await runner.cleanup()
    assert b"Traceback" not in err



async def test_ctrl_c_leaves_the_database_open_for_the_jobs_to_finish(tmp_path: Path):
    """Ctrl-C on `sportello run`: aiogram's shutdown closes the FSM storage as polling
    stops, while the status messages, alerts and outbox still finish their round on the
    same connection. The storage must not close it ("Cannot operate on a closed
    database" tracebacks); `sportello run` closes it after the jobs."""
    from bot.app import build_dispatcher
    from storage.db import open_db
    from storage.dossiers import events_to_tell
    from tests.botapi import make_bot

    api = BotAPI()
    runner, url = await start_api(api)
    db = open_db(tmp_path / "sportello.sqlite3")
    bot = make_bot(url)
    dp = build_dispatcher(db)
    try:
        await dp.emit_shutdown(bot=bot)  # what start_polling does when Ctrl-C stops it
        assert list(events_to_tell(db)) == []  # a job's next query still works
    finally:
        await bot.session.close()
        db.close()
        await runner.cleanup()


async def test_a_polled_update_is_written_down_as_telegram_sent_it(tmp_path: Path):
    """Polling: the crash journal keeps the update's JSON as Telegram sent it, not the
    update dumped again (which fails on a message with link preview options, and loses
    nothing here either), and the family is answered."""
    import json

    from bot.app import build_dispatcher
    from storage.db import open_db
    from tests.botapi import make_bot

    update = {
        "update_id": 20,
        "message": {
            "message_id": 1,
            "date": 1748000000,
            "chat": {"id": 79, "type": "private"},
            "from": {"id": 79, "is_bot": False, "first_name": "Anna", "language_code": "it"},
            "text": "/start https://www.regione.lombardia.it",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            "link_preview_options": {"is_disabled": True},
        },
    }
    api = BotAPI()
    api.updates.append(update)
    runner, url = await start_api(api)
    db = open_db(tmp_path / "sportello.sqlite3")
    bot = make_bot(url)
    dp = build_dispatcher(db)
    seen: list[str] = []
    db.conn.set_trace_callback(seen.append)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    try:
        for _ in range(300):
            if any(c.method == "sendMessage" for c in api.calls):
                break
            await asyncio.sleep(0.1)
    finally:
        db.conn.set_trace_callback(None)
        await dp.stop_polling()
        await polling
        await runner.cleanup()
    sent = [c.params for c in api.calls if c.method == "sendMessage"]
    assert sent and "Scegliete la lingua" in sent[0]["text"]
    written = [s for s in seen if s.startswith("INSERT OR IGNORE INTO update_journal")]
    as_sent = json.dumps(update, ensure_ascii=False, separators=(",", ":"))
    assert len(written) == 1 and f"'{as_sent}'" in written[0]
