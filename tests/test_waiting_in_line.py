"""A family's file waiting in line for a checking slot (`bot.backlog`), against what may
happen meanwhile: an erasure, Telegram sending it again, the bot stopping, a replay by
another process (the red team's second pass on the wait, issue 9)."""

from __future__ import annotations

import asyncio
import signal

from bot import backlog
from storage.db import open_db
from storage.dossiers import dossiers_of
from tests.botapi import BotAPI, photo_update
from tests.documents import document_photo
from tests.test_bot_dossier import at_checklist
from tests.test_crash_journal import start_bot, wait_for
from tests.test_heavy_work_limits import HeldDownloads, second_family


async def _full(api, db_path, uid):
    s = await at_checklist(api, db_path)
    her = await second_family(s, uid)
    await s.family.press("Verbale dell'accompagnamento")
    await her.family.press("Attestazione ISEE")
    mw = next(m for m in s.dp.update.outer_middleware if isinstance(m, backlog.Backlog))
    mw.in_hand, mw.reserve = 1, 0
    held = HeldDownloads()
    s.bot.session.middleware(held)
    first = asyncio.create_task(s.family.upload_photo(document_photo(101)))
    await asyncio.sleep(0.1)
    assert mw.total == 1
    return s, her, mw, held, first


def _rows(s, uid):
    return s.db.execute(
        "SELECT update_id, done, chat, data IS NOT NULL, owner FROM update_journal WHERE user_id = ?",
        [uid],
    ).fetchall()


async def test_a_file_waiting_in_line_is_in_the_crash_journal_before_it_waits(
    api, db_path, monkeypatch
):
    """A photo from a family with nothing in hand, arriving when every slot is taken,
    waits in line: it is written in the crash journal before it waits (a crash in those
    seconds leaves it to be handled at the next start), and marked done once filed; one
    that gets no slot in time is told about and marked done too (nothing left open)."""
    from storage.dossiers import attachments

    def row_of(update_id: int):
        return s.db.execute(
            "SELECT done, data FROM update_journal WHERE update_id = ?", [update_id]
        ).fetchone()

    s, her, mw, held, first = await _full(api, db_path, 6262)
    mine = asyncio.create_task(her.family.upload_photo(document_photo(999)))
    await asyncio.sleep(0.1)
    assert len(mw.line) == 1  # waiting in line
    waiting = max(r[0] for r in s.db.execute("SELECT update_id FROM update_journal"))
    done, raw = row_of(waiting)
    assert done == 0 and '"chat":{"id":6262' in raw.replace(" ", "")  # written down, open
    held.go.set()
    theirs = await mine
    await first
    assert "Attestazione ISEE" in theirs[-1], theirs
    assert len(attachments(s.db, dossiers_of(s.db, 6262)[0]["id"])) == 1
    assert row_of(waiting)[0] == 1  # handled once, done

    # no slot in time: told, and the row done (not left open for a replay)
    monkeypatch.setattr(backlog, "WAIT", 0.2)
    held.go.clear()
    first = asyncio.create_task(s.family.upload_photo(document_photo(102)))
    await asyncio.sleep(0.1)
    told = await her.family.upload_photo(document_photo(998))
    assert told == [
        "In questo momento ho molti file da controllare: questo non l'ho preso. Mandatelo "
        "di nuovo tra un minuto."
    ], told
    late = max(r[0] for r in s.db.execute("SELECT update_id FROM update_journal"))
    assert row_of(late)[0] == 1
    held.go.set()
    await first
    await s.close()


async def test_a_word_typed_while_her_file_waits_in_line_is_answered_and_the_file_filed(
    api, db_path
):
    """The red team: a family's photo waits in line for a checking slot (written in the
    crash journal), and she types a word meanwhile. The word is answered at once, and the
    photo is filed once a slot frees: neither waits for the other (they did, for the
    journal row's 50 s lease)."""
    import time

    s, her, mw, held, first = await _full(api, db_path, 6363)
    mine = asyncio.create_task(her.family.upload_photo(document_photo(999)))
    await asyncio.sleep(0.1)
    assert len(mw.line) == 1
    t = time.monotonic()
    word = asyncio.create_task(her.family.say("ciao"))
    _done, pending = await asyncio.wait({word}, timeout=5)
    assert not pending, "the word waited for the photo in line"
    held.go.set()
    _done, pending = await asyncio.wait({mine, first}, timeout=8)
    for task in pending:
        task.cancel()
    assert not pending, f"stalled after {time.monotonic() - t:.1f}s"
    assert "Attestazione ISEE" in mine.result()[-1], mine.result()
    await s.close()


async def test_deleting_the_data_while_a_file_waits_leaves_nothing_and_files_nothing(api, db_path):
    s, her, mw, held, first = await _full(api, db_path, 6464)
    mine = asyncio.create_task(her.family.upload_photo(document_photo(999)))
    await asyncio.sleep(0.1)
    assert len(mw.line) == 1
    await her.family.say("/cancella_dati")
    texts = await her.family.press("Sì, cancella tutto")
    assert "abbiamo cancellato" in texts[-1], texts
    kept = _rows(s, 6464)
    held.go.set()
    after = await mine
    await first
    for table in ("users", "dossiers"):
        counted = s.db.execute(f"SELECT count(*) FROM {table} WHERE user_id = ?", [6464])
        assert counted.fetchone()[0] == 0, table
    assert s.db.execute("SELECT count(*) FROM fsm WHERE key LIKE '%6464%'").fetchone()[0] == 0
    assert dossiers_of(s.db, 6464) == [], "a dossier of the erased family came back"
    assert kept == [], f"the waiting row (her photo's JSON) survived the erasure: {kept}"
    assert after == [], f"her file handled after the erasure: {after}"
    await s.close()


async def test_a_file_sent_again_by_telegram_while_it_waits_is_not_told_not_taken(api, db_path):
    s, her, mw, held, first = await _full(api, db_path, 6565)
    raw = her.family._photo_update(document_photo(999))
    f = her.family
    one = asyncio.create_task(f.feed(raw))
    await asyncio.sleep(0.1)
    assert len(mw.line) == 1
    await f.feed(raw)  # Telegram's retry, same update_id
    told = f.new_texts()
    held.go.set()
    await one
    await first
    assert told == [], "a repeat of a file being handled told 'not taken'"
    await s.close()


async def test_a_file_waiting_when_the_bot_stops_is_filed_once_at_the_restart(api, db_path):
    from bot.journal import replay_unfinished
    from storage.dossiers import attachments

    s, her, mw, held, first = await _full(api, db_path, 6666)
    raw = her.family._photo_update(document_photo(999))
    uid = raw["update_id"]
    task = asyncio.create_task(her.family.feed(raw))
    await asyncio.sleep(0.1)
    assert len(mw.line) == 1
    task.cancel()  # the bot stopping: its update tasks cancelled
    await asyncio.gather(task, return_exceptions=True)
    row = s.db.execute(
        "SELECT done, chat, owner, expires_at, data IS NOT NULL FROM update_journal WHERE update_id = ?",
        [uid],
    ).fetchone()
    assert row[0] == 0 and row[4] == 1  # left for the replay
    held.go.set()
    await first
    # the process is gone: the row's owner a dead pid of this machine
    s.db.execute(
        "UPDATE update_journal SET owner = ? WHERE update_id = ?",
        [f"{__import__('socket').gethostname()}/999999/x", uid],
    )
    s.db.conn.commit()
    n = await replay_unfinished(s.dp, s.bot, s.db)
    n2 = await replay_unfinished(s.dp, s.bot, s.db)
    d = dossiers_of(s.db, 6666)[0]["id"]
    assert len(attachments(s.db, d)) == 1
    assert (n, n2) == (1, 0)
    await s.close()


async def test_replaying_a_crashed_process_s_files_does_not_wait_in_line(api, db_path, monkeypatch):
    """The leader's round (`lead_jobs`, lease 20 s) awaits `replay_unfinished`; a replayed
    file in a full process waits in line `WAIT` (20 s) each, one after the other."""
    import json
    import socket
    import time

    from bot.journal import replay_unfinished
    from common.clock import utcnow
    from storage import journal

    monkeypatch.setattr(backlog, "WAIT", 0.5)
    s, her, _mw, held, first = await _full(api, db_path, 6767)
    dead = f"{socket.gethostname()}/999999/x"
    for n in range(3):
        raw = her.family._photo_update(document_photo(900 + n))
        journal.record(
            s.db,
            raw["update_id"],
            6767,
            json.dumps(raw),
            utcnow(),
            dead,
            expires_at=time.time() - 1,
        )
    t = time.monotonic()
    n = await replay_unfinished(s.dp, s.bot, s.db)
    took = time.monotonic() - t
    held.go.set()
    await first
    assert took < 0.5, f"the leader's round blocked {took:.1f}s (3 x WAIT)"
    assert n == 3
    await s.close()


async def test_a_waiting_file_another_process_took_over_is_answered_once(api, db_path):
    """Process A's file waits in line (owner A, no process lease renewed: as when A's
    leader round is blocked past its 20 s lease). Process B's replay runs meanwhile; the
    row's own lease says A still has it (`journal.handled_now`): the family is answered
    once, by one of them."""
    from bot.journal import replay_unfinished

    s, her, mw, held, first = await _full(api, db_path, 6868)
    raw = her.family._photo_update(document_photo(999))
    a = asyncio.create_task(her.family.feed(raw))
    await asyncio.sleep(0.1)
    assert len(mw.line) == 1
    me = s.dp["owner"]
    s.dp["owner"] = "elsewhere/1/b"  # process B (another host), same database
    try:
        await replay_unfinished(s.dp, s.bot, s.db)
    finally:
        s.dp["owner"] = me
    by_b = her.family.new_texts()
    held.go.set()
    await a
    await first
    by_a = her.family.new_texts()
    assert not (by_b and by_a), f"one update answered twice: {by_b} then {by_a}"
    await s.close()


N = iter(range(100000, 200000))


def photo(api: BotAPI, chat: int) -> dict:
    n = next(N)
    return photo_update(api, n, chat, f"rtphoto{n}", document_photo(n % 900))


async def test_a_file_waiting_in_line_when_the_process_is_killed_is_answered_after_restart(
    api, db_path
):
    """`sportello run` killed with SIGKILL while a family's photo waits in line (every
    slot held by slow downloads): the photo was written down before it waited, and at
    the restart it is handled once and the family answered."""
    s = await at_checklist(api, db_path)
    fams = [s] + [await second_family(s, 7000 + i) for i in range(11)]
    for f in fams:
        await f.family.press("Verbale dell'accompagnamento")
    await s.close()
    api.download_delay = 120.0
    ups = [photo(api, 4242) for _ in range(20)] + [photo(api, 7000) for _ in range(10)]
    ups += [photo(api, 7001 + i) for i in range(10)]
    waiting = photo(api, 9999)
    api.updates += [*ups, waiting]
    wid = waiting["update_id"]
    first = await start_bot(api, db_path.parent)

    def row():
        with open_db(db_path) as db:  # type: ignore[attr-defined]
            return db.execute(
                "SELECT done, chat, owner, data IS NOT NULL FROM update_journal "
                "WHERE update_id = ?",
                [wid],
            ).fetchone()

    try:
        assert await wait_for(lambda: row() is not None, 90), "the waiting file never written"
        assert await wait_for(lambda: api.confirmed > wid, 30)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    assert row()[0] == 0
    api.download_delay = 0.0
    second = await start_bot(api, db_path.parent)
    try:
        assert await wait_for(lambda: row()[0] == 1, 120), row()
        told = [c.params["text"] for c in api.sent(9999)]
        assert len(told) >= 1
    finally:
        second.terminate()
        await second.wait()
