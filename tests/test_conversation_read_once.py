"""While an update is handled, a look at the conversation (the typed-press check) and the
handler read it once between them, and neither ever sees what the other has not stored."""

from __future__ import annotations

import json

from aiogram.fsm.storage.base import StorageKey

from storage.db import open_db
from storage.fsm import SQLiteStorage, key_of

KEY = StorageKey(bot_id=1, chat_id=7, user_id=7)


async def test_the_handler_gets_the_conversation_a_look_decoded_and_later_reads_decode_anew(
    tmp_path,
):
    storage = SQLiteStorage(open_db(tmp_path / "b2.sqlite3"))
    stored = {"dialog": {"stage": "result", "answers": {"municipality": "Opera"}}}
    name = key_of(KEY)
    storage.hold(name, (None, json.dumps(stored)))
    looked = storage.peek_data(KEY)
    assert looked == stored
    assert storage.peek_data(KEY) is looked  # decoded once
    handed = await storage.get_data(KEY)
    assert handed is looked  # the handler's now
    handed["dialog"]["answers"]["municipality"] = "Rozzano"  # changed, not stored yet
    assert storage.peek_data(KEY)["dialog"]["answers"]["municipality"] == "Opera"
    again = await storage.get_data(KEY)
    assert again["dialog"]["answers"]["municipality"] == "Opera" and again is not handed
    await storage.set_data(KEY, handed)
    assert storage.peek_data(KEY)["dialog"]["answers"]["municipality"] == "Rozzano"
    assert (await storage.get_data(KEY))["dialog"]["answers"]["municipality"] == "Rozzano"
    assert json.loads(storage.release(name)[1]) == handed


async def test_a_look_at_a_conversation_not_held_reads_what_is_stored(tmp_path):
    storage = SQLiteStorage(open_db(tmp_path / "b2.sqlite3"))
    assert storage.peek_data(KEY) == {}
    await storage.set_data(KEY, {"dialog": {"stage": "asking"}})
    assert storage.peek_data(KEY) == {"dialog": {"stage": "asking"}}
