"""Erasure that erases: after /cancella_dati not one byte of the family's name, codice
fiscale or phone is left in any file under SPORTELLO_DATA_DIR (database, WAL, shared
memory, saved messages, encrypted files); retention and expiry do the same."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from common.settings import Settings
from dossier.delivery import Outbox
from storage import audit, erasure, integrations
from storage.blobs import BlobStore, rekey_names
from storage.dossiers import dossiers_of
from tests.test_bot_conversation import Session
from tests.test_bot_dossier import APPLICANT_CF, BENEFICIARY_CF, TODAY, send_application

TRACES = [b"Rossi", b"ROSSI", APPLICANT_CF.encode(), BENEFICIARY_CF.encode(), b"1234567"]


def traces_under(folder: Path) -> dict[str, list[bytes]]:
    """Every file under `folder` that holds any of the family's traces, raw bytes."""
    found: dict[str, list[bytes]] = {}
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits = [t for t in TRACES if t in data]
            if hits:
                found[str(path.relative_to(folder))] = hits
    return found


async def test_delete_my_data_leaves_no_byte_of_the_family_on_disk(api, db_path):
    s = Session(api, db_path, TODAY)
    dossier_id = await send_application(s)
    folder = db_path.parent
    # no mail server: the application is saved as .eml files, in plain text
    box = Outbox.from_settings(Settings(sportello_data_dir=folder), s.db, s.dp["desk"].blobs)
    await box.run_once()
    assert list((folder / "outbox").rglob("*.eml"))
    # the social worker asked for more, with a note naming the family; and looked at it
    s.db["dossiers"].update(dossier_id, {"status": "consegnata"})
    integrations.request_integration(
        s.db, dossier_id, staff_id=1, items=["payslip:mancante"], note="Sig.ra Rossi: busta paga"
    )
    audit.log(s.db, "anna@comune.it", "view_dossier", dossier_id, {"number": "Rossi 12"})
    before = traces_under(folder)
    assert any(name.endswith(".eml") for name in before), before
    assert any("sqlite3" in name for name in before), before

    await s.family.say("/cancella_dati")
    texts = await s.family.press("Sì, cancella tutto")
    assert "abbiamo cancellato" in texts[-1]

    assert traces_under(folder) == {}  # sportello.sqlite3, -wal, -shm, outbox/, files/
    assert dossiers_of(s.db, 4242) == []
    assert s.db.execute("SELECT COUNT(*) FROM integration_requests").fetchone()[0] == 0
    # the erasure's own update held the chat's line while it ran: now only its id is
    # left (a repeat from Telegram is known), not whose it was
    assert s.db.execute("SELECT COUNT(*) FROM update_journal WHERE user_id = 4242").fetchone()[
        0
    ] == 0
    left = s.db.execute("SELECT done, data, chat FROM update_journal WHERE user_id IS NULL")
    assert left.fetchall() == [(1, None, None)]
    # the audit log still says what the social worker did, not about whom
    rows = audit.entries(s.db)
    assert [r["action"] for r in rows] == ["view_dossier"]
    assert rows[0]["dossier_id"] is None and rows[0]["detail"] == {"erased": True}
    assert list((folder / "files").rglob("*.bin")) == []
    await s.close()


async def test_an_erasure_while_someone_reads_the_database_is_finished_once_they_stop(
    api, db_path
):
    """Another connection holds a read (a back-office export streaming, a second bot
    process) while the family deletes their data: the WAL cannot be emptied then. The
    background jobs try again until it is: once the reader is done, no byte is left."""
    import asyncio
    import sqlite3

    from bot.workers import checkpoints_forever

    s = Session(api, db_path, TODAY)
    await send_application(s)
    folder = db_path.parent
    reader = sqlite3.connect(db_path)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT COUNT(*) FROM dossiers").fetchone()[0] == 1
        await s.family.say("/cancella_dati")
        texts = await s.family.press("Sì, cancella tutto")
        assert "abbiamo cancellato" in texts[-1]
        left = traces_under(folder)
        assert list(left) == ["sportello.sqlite3-wal"], left  # the reader's pages, for now
        assert erasure.checkpoint_owed(s.db) is not None
        stop = asyncio.Event()
        jobs = asyncio.create_task(checkpoints_forever(s.db, stop, every=0.05))
        await asyncio.sleep(0.3)  # still reading: still owed, nothing else broken
        assert erasure.checkpoint_owed(s.db) is not None
        await s.family.say("/start")  # the bot goes on meanwhile
    finally:
        reader.rollback()
        reader.close()
    for _ in range(100):
        if erasure.checkpoint_owed(s.db) is None:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await jobs
    assert erasure.checkpoint_owed(s.db) is None
    assert traces_under(folder) == {}
    await s.close()


async def test_retention_removes_the_saved_messages_too(api, db_path):
    from dossier.retention import apply_retention

    s = Session(api, db_path, TODAY)
    dossier_id = await send_application(s)
    folder = db_path.parent
    box = Outbox.from_settings(Settings(sportello_data_dir=folder), s.db, s.dp["desk"].blobs)
    await box.run_once()
    s.db["dossiers"].update(dossier_id, {"delivered_at": "2025-06-03T10:00:00+00:00"})
    later = dt.datetime(2025, 8, 1, tzinfo=dt.UTC)
    assert apply_retention(s.db, s.dp["desk"].blobs, later, 30, folder / "outbox") == (0, 1)
    assert not list((folder / "outbox").rglob("*.eml"))
    await s.close()


async def test_untouched_conversations_are_warned_then_deleted(api, db_path):
    from bot.workers import expire_once

    s = Session(api, db_path, TODAY)
    await s.family.say("/start")
    await s.family.press("Italiano")
    await s.family.press("Sì, accetto")
    await s.family.say("Rozzano")
    stranger = Session(api, db_path, TODAY, user_id=777)  # /start, then nothing
    await stranger.family.say("/start")
    settings = Settings(sportello_data_dir=db_path.parent)
    blobs = s.dp["desk"].blobs
    now = dt.datetime.now(dt.UTC)
    # the next day the row of the /start without consent is gone; the family's stays
    assert await expire_once(s.bot, s.db, blobs, settings, now + dt.timedelta(days=2)) == (0, 1)
    assert s.db.execute("SELECT COUNT(*) FROM fsm WHERE key LIKE '%:777:%'").fetchone()[0] == 0
    before = len(api.sent(4242))
    soon = now + dt.timedelta(days=erasure.INACTIVE_DAYS - erasure.WARN_DAYS + 1)
    assert await expire_once(s.bot, s.db, blobs, settings, soon) == (1, 0)
    warning = api.sent(4242)[before].params["text"]
    assert "Tra 7 giorni cancelliamo" in warning and "/start" in warning
    assert await expire_once(s.bot, s.db, blobs, settings, soon) == (0, 0)  # warned once
    late = now + dt.timedelta(days=erasure.INACTIVE_DAYS + 1)
    assert await expire_once(s.bot, s.db, blobs, settings, late) == (0, 1)
    assert s.db.execute("SELECT COUNT(*) FROM fsm WHERE data LIKE '%Rozzano%'").fetchone()[0] == 0
    assert s.db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
    await s.close()
    await stranger.close()


async def test_expiry_keeps_an_application_already_sent_and_says_so(api, db_path):
    """A family whose application was delivered and protocolled waits quietly for the
    outcome: after 180 days their conversation goes, the application stays (retention)."""
    from bot.workers import expire_once

    s = Session(api, db_path, TODAY)
    dossier_id = await send_application(s)
    folder = db_path.parent
    settings = Settings(sportello_data_dir=folder)
    blobs = s.dp["desk"].blobs
    await Outbox.from_settings(settings, s.db, blobs).run_once()
    s.db["dossiers"].update(dossier_id, {"status": "consegnata", "protocol_number": "2025/0004711"})
    files = s.db.execute(
        "SELECT COUNT(*) FROM attachments WHERE dossier_id = ?", [dossier_id]
    ).fetchone()[0]
    assert files > 0
    now = dt.datetime.now(dt.UTC)
    before = len(api.sent(4242))
    soon = now + dt.timedelta(days=erasure.INACTIVE_DAYS - erasure.WARN_DAYS + 1)
    assert await expire_once(s.bot, s.db, blobs, settings, soon) == (1, 0)
    warning = api.sent(4242)[before].params["text"]
    assert "non ancora inviate" in warning and "già inviate al Comune restano" in warning
    late = now + dt.timedelta(days=erasure.INACTIVE_DAYS + 1)
    assert await expire_once(s.bot, s.db, blobs, settings, late) == (0, 1)
    # the conversation went; the application, its files and its .eml stayed
    assert s.db.execute("SELECT COUNT(*) FROM fsm WHERE key LIKE '%:4242:%'").fetchone()[0] == 0
    kept = dossiers_of(s.db, 4242)
    assert [(d["id"], d["status"], d["protocol_number"]) for d in kept] == [
        (dossier_id, "consegnata", "2025/0004711")
    ]
    assert (
        s.db.execute(
            "SELECT COUNT(*) FROM attachments WHERE dossier_id = ?", [dossier_id]
        ).fetchone()[0]
        == files
    )
    for row in s.db.execute("SELECT sha256 FROM attachments").fetchall():
        assert blobs.exists(row[0])
    assert list((folder / "outbox").rglob("*.eml"))
    # and later runs leave it alone too
    assert await expire_once(s.bot, s.db, blobs, settings, late + dt.timedelta(days=30)) == (
        0,
        0,
    )
    assert len(dossiers_of(s.db, 4242)) == 1
    await s.close()


async def test_a_pec_receipt_arriving_after_the_erasure_is_dropped_not_kept(api, db_path):
    """A ricevuta completa carries the whole application: after /cancella_dati it must
    not be kept as an unmatched receipt."""
    import email
    import email.policy

    from dossier.pec import parse_receipt
    from dossier.receipts import record_receipt
    from tests.pec_messages import build_receipt

    s = Session(api, db_path, TODAY)
    await send_application(s)
    folder = db_path.parent
    blobs = s.dp["desk"].blobs
    await Outbox.from_settings(Settings(sportello_data_dir=folder), s.db, blobs).run_once()
    eml = next((folder / "outbox").rglob("*.eml")).read_bytes()
    sent = email.message_from_bytes(eml, policy=email.policy.default)
    await s.family.say("/cancella_dati")
    await s.family.press("Sì, cancella tutto")
    raw = build_receipt(
        "avvenuta-consegna",
        str(sent["Message-ID"]),
        at=dt.datetime.now(dt.UTC),
        recipient="protocollo@pec.comune.rozzano.mi.it",
        subject=str(sent["Subject"]),
        completa_original=eml,
    )
    assert record_receipt(s.db, blobs, raw, parse_receipt(raw)) is None  # type: ignore[arg-type]
    assert s.db.execute("SELECT COUNT(*) FROM receipts").fetchone()[0] == 0
    assert traces_under(folder) == {}
    # a receipt about a message that was never ours is still kept, unmatched
    other = build_receipt(
        "avvenuta-consegna",
        "<altro@example.it>",
        at=dt.datetime.now(dt.UTC),
        recipient="protocollo@pec.comune.rozzano.mi.it",
        subject="Altro",
    )
    record_receipt(s.db, blobs, other, parse_receipt(other))  # type: ignore[arg-type]
    assert s.db.execute("SELECT COUNT(*) FROM receipts").fetchone()[0] == 1
    await s.close()


def test_blob_names_are_keyed_and_old_names_are_renamed(tmp_path: Path):
    import hashlib

    from storage.db import open_db

    db = open_db(tmp_path / "sportello.sqlite3")
    blobs = BlobStore(tmp_path / "files", b"k" * 32)
    document = b"%PDF-1.4 a document everybody has"
    name = blobs.put(document)
    assert name != hashlib.sha256(document).hexdigest()  # nobody can look it up by hash
    assert BlobStore(tmp_path / "other", b"j" * 32).put(document) != name
    # a blob from before: named by its plain SHA-256, referred to by an attachment
    plain = hashlib.sha256(b"old photo").hexdigest()
    path = blobs.path(plain)
    path.parent.mkdir(parents=True, exist_ok=True)
    nonce = b"\0" * 12
    path.write_bytes(nonce + blobs._aead.encrypt(nonce, b"old photo", plain.encode()))
    db["dossiers"].insert({"id": "B2-OLD", "user_id": 1, "status": "bozza", "data": "{}"})
    db["attachments"].insert({"dossier_id": "B2-OLD", "item_id": "x", "sha256": plain, "seq": 1})
    assert rekey_names(db, blobs) == 1
    new = db.execute("SELECT sha256 FROM attachments").fetchone()[0]
    assert new == blobs.name_of(b"old photo") and blobs.get(new) == b"old photo"
    assert not path.exists()
    assert rekey_names(db, blobs) == 0  # once
    db.close()


async def test_staff_searches_for_a_family_leave_no_trace_after_its_erasure(tmp_path, monkeypatch):
    """A social worker finds the family's dossier by surname and by codice fiscale (the
    usual way), writes a note and asks for a document; after the erasure no byte of the
    surname or the codice fiscale is in any file under the data folder, WAL included."""
    from stdnum.it import codicefiscale

    from dossier.erasure import erase_family
    from storage import staff as accounts
    from tests.backoffice_fixtures import TEST_HASHER, build_world
    from tests.test_backoffice import logged_in

    monkeypatch.setattr(accounts, "hasher", TEST_HASHER)
    folder = tmp_path / "var"
    world = build_world(folder)
    dossier_id = world.dossiers["sent"]
    surname = "Cantù"
    tax_code = "CNTRST39E60H470" + codicefiscale.calc_check_digit("CNTRST39E60H470")
    traces = [surname.encode(), b"Cant\\u00f9", b"Cant%C3%B9", tax_code.encode()]
    async with logged_in(world) as (client, csrf):
        for typed in (surname, tax_code, "cantu"):
            page = await client.get("/pratiche", params={"cerca": typed})
            assert dossier_id in page.text  # found
        await client.post(
            f"/pratiche/{dossier_id}/nota",
            data={"csrf": csrf, "text": f"Telefonato alla sig.ra {surname} ({tax_code})"},
        )
        register = await client.get("/registro")
        assert "con una ricerca" in register.text  # the register says a search was made
        assert tax_code not in register.text.replace(f"({tax_code})", "")
    erase_family(world.db, world.services.blobs, 4343, folder / "outbox")
    left = {
        str(path.relative_to(folder)): [t for t in traces if t in path.read_bytes()]
        for path in folder.rglob("*")
        if path.is_file()
    }
    assert {name: hits for name, hits in left.items() if hits} == {}
    world.db.close()


def test_searches_logged_before_the_update_are_scrubbed_when_the_database_opens(tmp_path):
    from storage.db import open_db

    db = open_db(tmp_path / "sportello.sqlite3")
    audit.log(db, "a@b.it", "view_list", detail={"filters": {"cerca": "Cantù"}, "results": 1})
    # the database as it was before the migration (a search written in clear)
    db.execute("DELETE FROM _sqlite_migrations WHERE name LIKE 'm013_%'")
    db.execute("ALTER TABLE attachments DROP COLUMN signers")
    db.conn.commit()
    db.close()
    db = open_db(tmp_path / "sportello.sqlite3")
    [row] = audit.entries(db)
    assert row["detail"] == {"filters": {"cerca": True}, "results": 1}
    db.close()


def test_a_family_with_answers_is_not_taken_for_a_blank_start_however_its_state_is_written(
    tmp_path: Path,
):
    """The daily expiry erases a /start without answers after a day, and a family with
    answers only after 180 days: whether the stored conversation has answers is read as
    JSON, not matched as text, so compact JSON (no spaces) is not a blank start."""
    import json

    from storage.db import open_db

    db = open_db(tmp_path / "sportello.sqlite3")
    now = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    two_days_ago = (now - dt.timedelta(days=2)).isoformat(timespec="seconds")
    answers = {"answers": {"municipality": "Rozzano"}}
    for user_id, data in (
        (1, json.dumps(answers)),
        (2, json.dumps(answers, separators=(",", ":"))),
        (3, json.dumps({"answers": {}})),
        (4, "{}"),
    ):
        db["fsm"].insert(
            {"key": f"99:{user_id}:{user_id}", "state": "Q", "data": data, "updated_at": two_days_ago}
        )
    _warn, erase = erasure.inactive(db, now)
    assert sorted(erase) == [3, 4]
    db.close()
