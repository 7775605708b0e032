"""Updates survive a crash: `sportello run` killed with SIGKILL while it downloads an album
(Telegram already told the updates arrived) handles them again at the next start."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from storage.db import open_db
from storage.dossiers import attachments, dossiers_of
from tests.botapi import TOKEN, BotAPI, photo_update
from tests.documents import document_photo
from tests.test_bot_dossier import TODAY, at_checklist

EXE = str(Path(sys.executable).with_name("sportello"))


def album_photo(api: BotAPI, n: int, album: str) -> dict:
    return photo_update(api, 900 + n, 4242, f"albumphoto{n}", document_photo(500 + n), album)


async def start_bot(api: BotAPI, folder: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.url,  # type: ignore[attr-defined]
        "SPORTELLO_DATA_DIR": str(folder),
    }
    return await asyncio.create_subprocess_exec(
        EXE,
        "run",
        "--today",
        TODAY.isoformat(),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def wait_for(condition, seconds: float) -> bool:
    for _ in range(int(seconds * 10)):
        if condition():
            return True
        await asyncio.sleep(0.1)
    return condition()


async def test_album_interrupted_by_kill_9_is_filed_after_the_restart(api, db_path):
    s = await at_checklist(api, db_path)
    await s.family.press("Carta d'identità di chi firma")
    await s.close()
    api.download_delay = 4.0  # a slow network: the process dies mid-download
    api.updates += [album_photo(api, 1, "alb9"), album_photo(api, 2, "alb9")]
    first = await start_bot(api, db_path.parent)
    try:
        assert await wait_for(lambda: any(c.method == "download" for c in api.calls), 90)
        # Telegram has been told both updates arrived (the next getUpdates confirmed them)
        assert await wait_for(lambda: api.confirmed > 902, 30)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    db = open_db(db_path)
    dossier = dossiers_of(db, 4242)[0]
    assert attachments(db, dossier["id"]) == []  # nothing was filed before the crash
    db.close()

    api.download_delay = 0.0
    sent_before = len(api.sent(4242))
    second = await start_bot(api, db_path.parent)
    try:

        def filed() -> int:
            with open_db(db_path) as check:  # type: ignore[attr-defined]
                return len(attachments(check, dossier["id"]))

        # a restart on a loaded machine (aiogram's import, the album's checks) is slow:
        # what is proven is that it is filed, not how fast
        assert await wait_for(lambda: filed() == 2, 180), "the album was not filed after restart"

        def told() -> list[str]:
            return [c.params["text"] for c in api.sent(4242)[sent_before:]]

        # the family is told after the filing (an album gets one reply): on a loaded
        # machine, a moment after
        assert await wait_for(
            lambda: any("le metto tutte in «Carta d'identità di chi firma»" in t for t in told()),
            30,
        ), told()
    finally:
        second.terminate()
        await second.wait()
