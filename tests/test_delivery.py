"""A confirmed dossier reaches the comune's protocol inbox once, and only once.

Every test talks to a real SMTP server on loopback (aiosmtpd) and keeps its state in a real
SQLite file; time moves by an injected clock, never by sleeping for minutes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from common.clock import iso, parse_iso
from dossier.delivery import FolderMailer, Outbox, RetryPolicy, SmtpMailer
from dossier.mail import build_messages
from storage import outbox
from storage.blobs import BlobStore
from storage.db import open_db
from storage.dossiers import create_dossier, get_dossier, history, set_status
from tests.smtp_server import (
    HOST,
    Authenticator,
    Pki,
    RecordingHandler,
    free_port,
    make_pki,
    smtp_server,
)

ROOT = Path(__file__).resolve().parent.parent
KEY = bytes(range(32))
SENDER = "Sportello B2 <sportello@pec.example.it>"
RECIPIENT = "protocollo@pec.comune.example.it"
SUBJECT = "Istanza Misura B2 - domanda"
BODY = "Buongiorno,\nsi trasmette l'istanza per la Misura B2 con i documenti allegati."
MANIFEST = "riepilogo-istanza.json"


# -- dossiers as the assembly makes them -------------------------------------------------


@dataclass
class OutFile:
    name: str
    data: bytes
    mime: str
    item_id: str | None
    sha256: str
    size: int
    pages: int


@dataclass
class Dossier:
    dossier_id: str
    files: list[OutFile]
    manifest: OutFile
    messages: list[list[OutFile]]


def _file(name: str, data: bytes, mime: str, item_id: str | None) -> OutFile:
    return OutFile(name, data, mime, item_id, hashlib.sha256(data).hexdigest(), len(data), 1)


def assembled(dossier_id: str, parts: int = 1) -> Dossier:
    names = ["domanda-firmata.pdf", "isee.pdf", "verbale-invalidità.pdf", "documento.pdf"]
    files = [
        _file(
            name, b"%PDF-1.7\n" + os.urandom(3000 + 100 * i) + b"\n%%EOF\n", "application/pdf", name
        )
        for i, name in enumerate(names)
    ]
    manifest_doc = {
        "dossier_id": dossier_id,
        "files": [{"name": f.name, "sha256": f.sha256, "size": f.size} for f in files],
    }
    manifest = _file(
        MANIFEST, json.dumps(manifest_doc, ensure_ascii=False).encode(), "application/json", None
    )
    groups = [files[i::parts] for i in range(parts)]
    return Dossier(dossier_id, files, manifest, [[*g, manifest] for g in groups])


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


@dataclass
class World:
    path: Path
    db: sqlite_utils.Database
    blobs: BlobStore
    clock: Clock
    tmp: Path

    def new_dossier(self, parts: int = 1) -> tuple[str, Dossier, list[tuple[str, bytes]]]:
        dossier_id = create_dossier(
            self.db,
            user_id=7,
            chat_id=7,
            notice_id="b2-2025",
            municipality="Milano",
            language="it",
            data={},
        )
        d = assembled(dossier_id, parts)
        messages = build_messages(d, sender=SENDER, recipient=RECIPIENT, subject=SUBJECT, body=BODY)
        outbox.enqueue(self.db, self.blobs, dossier_id, messages, RECIPIENT, now=self.clock())
        return dossier_id, d, messages

    def outbox(self, mailer: Any, **kwargs: Any) -> Outbox:
        return Outbox(self.db, self.blobs, mailer, sender=SENDER, clock=self.clock, **kwargs)


@pytest.fixture
def world(tmp_path: Path) -> World:
    path = tmp_path / "sportello.sqlite3"
    return World(path, open_db(path), BlobStore(tmp_path / "files", KEY), Clock(), tmp_path)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def plain(port: int, **kwargs: Any) -> SmtpMailer:
    return SmtpMailer(HOST, port, security="none", timeout=10, **kwargs)


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def attachments_of(msg: EmailMessage) -> dict[str, bytes]:
    out = {}
    for part in msg.iter_attachments():
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        out[part.get_filename()] = data
    return out


def assert_matches_manifest(attached: dict[str, bytes]) -> None:
    manifest = json.loads(attached.pop(MANIFEST))
    expected = {f["name"]: f["sha256"] for f in manifest["files"]}
    for name, data in attached.items():
        assert hashlib.sha256(data).hexdigest() == expected[name], name


def statuses(db: sqlite_utils.Database, dossier_id: str) -> list[str]:
    return [e["status"] for e in history(db, dossier_id)]


def row(db: sqlite_utils.Database, dossier_id: str, part: int = 1) -> dict[str, Any]:
    return outbox.rows_of(db, dossier_id)[part - 1]


# -- it arrives --------------------------------------------------------------------------


async def test_the_dossier_arrives_at_the_protocol_inbox_with_every_file_intact(world: World):
    dossier_id, d, _ = world.new_dossier()
    handler = RecordingHandler()
    with smtp_server(handler) as server:
        handled = await world.outbox(plain(server.port)).run_once()

    assert handled == 1
    assert len(handler.messages) == 1
    got = handler.messages[0]
    assert got.mail_from == "sportello@pec.example.it"
    assert got.rcpt_tos == [RECIPIENT]
    msg = parse(got.data)
    assert msg["Message-ID"] == f"<{dossier_id}.1of1@pec.example.it>"
    assert msg["X-Sportello-Dossier"] == dossier_id
    assert msg["Subject"] == SUBJECT
    assert msg["To"] == RECIPIENT
    assert msg["Date"] is not None
    attached = attachments_of(msg)
    assert set(attached) == {f.name for f in d.files} | {MANIFEST}
    assert_matches_manifest(attached)
    for part in msg.iter_attachments():
        assert part["Content-Transfer-Encoding"] == "base64"
    text = msg.get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert "si trasmette l'istanza" in content
    assert "verbale-invalidità.pdf" in content and MANIFEST in content

    assert row(world.db, dossier_id)["status"] == "sent"
    dossier = get_dossier(world.db, dossier_id)
    assert dossier is not None and dossier["status"] == "inviata"
    assert statuses(world.db, dossier_id) == ["pronta", "in_invio", "inviata"]
    assert history(world.db, dossier_id)[-1]["detail"] == {"recipient": RECIPIENT}


async def test_a_dossier_over_the_size_budget_arrives_as_two_messages(world: World):
    dossier_id, d, _ = world.new_dossier(parts=2)
    handler = RecordingHandler()
    with smtp_server(handler) as server:
        assert await world.outbox(plain(server.port)).run_once() == 2

    msgs = sorted((parse(m.data) for m in handler.messages), key=lambda m: m["Message-ID"])
    assert [m["Subject"] for m in msgs] == [
        f"{SUBJECT} (parte 1 di 2)",
        f"{SUBJECT} (parte 2 di 2)",
    ]
    assert [m["Message-ID"] for m in msgs] == [
        f"<{dossier_id}.1of2@pec.example.it>",
        f"<{dossier_id}.2of2@pec.example.it>",
    ]
    every: dict[str, bytes] = {}
    for m in msgs:
        attached = attachments_of(m)
        assert MANIFEST in attached  # each part can be read alone
        assert_matches_manifest(dict(attached))
        attached.pop(MANIFEST)
        every.update(attached)
    assert set(every) == {f.name for f in d.files}
    assert statuses(world.db, dossier_id) == ["pronta", "in_invio", "inviata"]


async def test_starttls_and_login_protect_the_password(world: World, pki: Pki):
    dossier_id, _, _ = world.new_dossier()
    handler = RecordingHandler()
    auth = Authenticator(b"operatore", b"segreto")
    with smtp_server(
        handler,
        tls_context=pki.server_context(),
        require_starttls=True,
        authenticator=auth,
        auth_require_tls=True,
        auth_exclude_mechanism=["PLAIN"],
    ) as server:
        mailer = SmtpMailer(
            HOST,
            server.port,
            security="starttls",
            username="operatore",
            password="segreto",
            ca_file=pki.ca_file,
        )
        assert await world.outbox(mailer).run_once() == 1

    assert auth.mechanisms == ["LOGIN"]
    assert len(handler.messages) == 1
    assert handler.messages[0].tls and handler.messages[0].authenticated
    assert get_dossier(world.db, dossier_id)["status"] == "inviata"  # type: ignore[index]


async def test_a_wrong_password_is_retried_not_reported_as_a_refusal(world: World, pki: Pki):
    dossier_id, _, _ = world.new_dossier()
    handler = RecordingHandler()
    with smtp_server(
        handler,
        tls_context=pki.server_context(),
        require_starttls=True,
        authenticator=Authenticator(b"operatore", b"segreto"),
    ) as server:
        mailer = SmtpMailer(
            HOST,
            server.port,
            security="starttls",
            username="operatore",
            password="sbagliata",
            ca_file=pki.ca_file,
        )
        await world.outbox(mailer).run_once()

    assert handler.messages == []
    r = row(world.db, dossier_id)
    assert r["status"] == "pending" and r["attempts"] == 1
    assert r["last_error"].startswith("535")
    assert get_dossier(world.db, dossier_id)["status"] == "in_invio"  # type: ignore[index]


async def test_smtps_with_implicit_tls(world: World, pki: Pki):
    dossier_id, _, _ = world.new_dossier()
    handler = RecordingHandler()
    with smtp_server(handler, ssl_context=pki.server_context()) as server:
        mailer = SmtpMailer(HOST, server.port, security="tls", ca_file=pki.ca_file)
        assert await world.outbox(mailer).run_once() == 1

    assert len(handler.messages) == 1 and handler.messages[0].tls
    assert parse(handler.messages[0].data)["X-Sportello-Dossier"] == dossier_id


async def test_a_server_with_an_untrusted_certificate_gets_nothing(world: World, pki: Pki):
    dossier_id, _, _ = world.new_dossier()
    handler = RecordingHandler()
    with smtp_server(handler, ssl_context=pki.server_context()) as server:
        mailer = SmtpMailer(HOST, server.port, security="tls")  # the system CAs only
        await world.outbox(mailer).run_once()

    assert handler.messages == []
    assert row(world.db, dossier_id)["status"] == "pending"


# -- it goes out once, whatever happens ----------------------------------------------------


async def test_server_down_then_back_the_dossier_goes_out_once(world: World):
    dossier_id, _, _ = world.new_dossier()
    port = free_port()  # nothing listens here
    box = world.outbox(plain(port))

    assert await box.run_once() == 1
    r = row(world.db, dossier_id)
    assert r["status"] == "pending" and r["attempts"] == 1
    assert r["last_error"]
    assert r["next_attempt_at"] == iso(world.clock.now + dt.timedelta(minutes=1))
    assert get_dossier(world.db, dossier_id)["status"] == "in_invio"  # type: ignore[index]

    handler = RecordingHandler()
    with smtp_server(handler, port=port):
        world.clock.advance(dt.timedelta(seconds=30))
        assert await box.run_once() == 0  # not due yet
        assert handler.messages == []
        world.clock.advance(dt.timedelta(seconds=31))
        assert await box.run_once() == 1
        world.clock.advance(dt.timedelta(hours=1))
        assert await box.run_once() == 0

    assert len(handler.messages) == 1
    assert parse(handler.messages[0].data)["Message-ID"] == f"<{dossier_id}.1of1@pec.example.it>"
    assert row(world.db, dossier_id)["status"] == "sent"
    # the family heard once that the mailbox did not answer, with the next try
    assert statuses(world.db, dossier_id) == ["pronta", "in_invio", "riprova", "inviata"]


async def test_a_server_down_for_two_days_ends_in_an_error_for_the_family(world: World):
    dossier_id, _, _ = world.new_dossier()
    start = world.clock.now
    box = world.outbox(plain(free_port()))
    waits = []
    for _ in range(30):
        await box.run_once()
        r = row(world.db, dossier_id)
        if r["status"] != "pending":
            break
        next_at = parse_iso(r["next_attempt_at"])
        waits.append(next_at - world.clock.now)
        world.clock.now = next_at

    minutes = [int(w.total_seconds() // 60) for w in waits]
    assert minutes[:7] == [1, 5, 15, 60, 180, 360, 360]
    assert r["status"] == "failed"
    assert world.clock.now - start == dt.timedelta(hours=48)
    assert get_dossier(world.db, dossier_id)["status"] == "errore"  # type: ignore[index]
    assert history(world.db, dossier_id)[-1]["detail"] == {"reason": "send_failed"}


def test_the_retry_policy_tries_a_few_times_even_after_a_long_outage():
    policy = RetryPolicy()
    queued = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    late = queued + dt.timedelta(days=3)
    assert policy.next_attempt(1, queued, late) == late + dt.timedelta(minutes=1)
    assert policy.next_attempt(6, queued, late) is None


async def test_a_mailbox_refusal_is_an_error_at_once(world: World):
    dossier_id, _, _ = world.new_dossier(parts=2)
    handler = RecordingHandler(reply="550 mailbox unavailable")
    with smtp_server(handler) as server:
        box = world.outbox(plain(server.port))
        assert await box.run_once() == 1
        world.clock.advance(dt.timedelta(days=1))
        assert await box.run_once() == 0

    assert handler.refused == 1  # the second part was held back, not tried
    assert handler.messages == []
    rows = outbox.rows_of(world.db, dossier_id)
    assert [r["status"] for r in rows] == ["failed", "failed"]
    assert rows[0]["last_error"].startswith("550")
    assert get_dossier(world.db, dossier_id)["status"] == "errore"  # type: ignore[index]
    events = history(world.db, dossier_id)
    assert [e["status"] for e in events] == ["pronta", "in_invio", "errore"]
    assert events[-1]["detail"] == {"reason": "refused", "code": 550}


async def test_a_temporary_refusal_is_tried_again(world: World):
    dossier_id, _, _ = world.new_dossier()
    handler = RecordingHandler(reply="451 try again later")
    with smtp_server(handler) as server:
        box = world.outbox(plain(server.port))
        await box.run_once()
        assert row(world.db, dossier_id)["status"] == "pending"
        handler.reply = "250 OK"
        world.clock.advance(dt.timedelta(minutes=1))
        assert await box.run_once() == 1
    assert len(handler.messages) == 1
    assert get_dossier(world.db, dossier_id)["status"] == "inviata"  # type: ignore[index]


async def test_no_answer_after_the_data_is_not_sent_twice_without_receipts(world: World):
    dossier_id, _, _ = world.new_dossier()
    handler = RecordingHandler(first_data_delay=5)
    with smtp_server(handler) as server:
        box = world.outbox(SmtpMailer(HOST, server.port, security="none", timeout=0.5))
        await box.run_once()
        world.clock.advance(dt.timedelta(days=1))
        assert await box.run_once() == 0

    assert len(handler.messages) == 1
    assert row(world.db, dossier_id)["status"] == "uncertain"
    assert get_dossier(world.db, dossier_id)["status"] == "errore"  # type: ignore[index]
    assert history(world.db, dossier_id)[-1]["detail"] == {"reason": "uncertain"}


WORKER = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, {root!r})
    from dossier.delivery import Outbox, SmtpMailer
    from storage.blobs import BlobStore
    from storage.db import open_db

    db = open_db(sys.argv[1])
    blobs = BlobStore(sys.argv[2], bytes.fromhex(sys.argv[3]))
    mailer = SmtpMailer("127.0.0.1", int(sys.argv[4]), security="none", timeout=120)
    asyncio.run(Outbox(db, blobs, mailer, sender={sender!r}).run_once())
    print("finished")
    """
)


def kill_worker_while_sending(world: World, port: int, reached: Any) -> None:
    """Run the outbox in another process and SIGKILL it once the server got as far as
    `reached` (a threading.Event set by the handler)."""
    script = world.tmp / "worker.py"
    script.write_text(WORKER.format(root=str(ROOT), sender=SENDER))
    args = [str(world.path), str(world.tmp / "files"), KEY.hex(), str(port)]
    proc = subprocess.Popen(
        [sys.executable, str(script), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert reached.wait(30), proc.stderr.read().decode() if proc.poll() is not None else ""
    finally:
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert b"finished" not in out


def record_receipt(path: Path, dossier_id: str, refers_to: str, kind: str, at: str) -> None:
    """As the PEC receipt reader does, in its own connection."""
    db = sqlite_utils.Database(path)
    db["receipts"].insert(
        {
            "dossier_id": dossier_id,
            "message_id": f"<opec.{kind}.{dossier_id}@pec.example.it>",
            "refers_to": refers_to,
            "kind": kind,
            "at": at,
            "recipient": RECIPIENT,
            "error": None,
            "blob": None,
            "created_at": at,
        }
    )
    db.close()


async def test_killed_after_the_server_took_it_a_receipt_proves_it_and_nothing_goes_twice(
    world: World,
):
    dossier_id, _, messages = world.new_dossier()
    mid = messages[0][0]
    handler = RecordingHandler(first_data_delay=60)
    with smtp_server(handler) as server:
        await asyncio.to_thread(kill_worker_while_sending, world, server.port, handler.data_reached)
        assert row(world.db, dossier_id)["status"] == "sending"
        assert get_dossier(world.db, dossier_id)["status"] == "in_invio"  # type: ignore[index]

        # the PEC provider's acceptance, recorded by the receipt reader; it moves the dossier
        record_receipt(world.path, dossier_id, mid, "accettazione", iso(world.clock.now))
        set_status(world.db, dossier_id, "accettata", forward_only=True)

        box = world.outbox(plain(server.port), receipts_enabled=True)
        assert box.recover() == 1
        assert await box.run_once() == 1
        world.clock.advance(dt.timedelta(hours=1))
        assert await box.run_once() == 0

    assert len(handler.messages) == 1
    assert row(world.db, dossier_id)["status"] == "sent"
    assert get_dossier(world.db, dossier_id)["status"] == "accettata"  # never backwards
    assert statuses(world.db, dossier_id) == ["pronta", "in_invio", "accettata"]


async def test_killed_after_the_server_took_it_without_receipts_the_operator_decides(
    world: World, caplog: pytest.LogCaptureFixture
):
    dossier_id, _, _ = world.new_dossier()
    handler = RecordingHandler(first_data_delay=60)
    with smtp_server(handler) as server:
        await asyncio.to_thread(kill_worker_while_sending, world, server.port, handler.data_reached)

        caplog.set_level(logging.DEBUG)
        box = world.outbox(plain(server.port), receipts_enabled=False)
        assert box.recover() == 1
        world.clock.advance(dt.timedelta(days=1))
        assert await box.run_once() == 0
        assert len(handler.messages) == 1  # no second application at the comune

        assert row(world.db, dossier_id)["status"] == "uncertain"
        assert get_dossier(world.db, dossier_id)["status"] == "errore"  # type: ignore[index]
        assert history(world.db, dossier_id)[-1]["detail"] == {"reason": "uncertain"}
        assert dossier_id in caplog.text and "requeue" in caplog.text
        assert RECIPIENT not in caplog.text and "sportello@" not in caplog.text

        # the operator checked the sent folder: not there. Send it again, deliberately.
        assert outbox.requeue(world.db, dossier_id, now=world.clock.now) == 1
        assert await box.run_once() == 1
        assert await box.run_once() == 0

    assert len(handler.messages) == 2
    assert handler.messages[0].data == handler.messages[1].data  # the same message, same id
    assert row(world.db, dossier_id)["status"] == "sent"
    assert get_dossier(world.db, dossier_id)["status"] == "inviata"  # type: ignore[index]
    assert statuses(world.db, dossier_id)[-2:] == ["in_invio", "inviata"]


async def test_killed_before_the_data_went_it_is_sent_once_after_the_grace(world: World):
    dossier_id, _, messages = world.new_dossier()
    handler = RecordingHandler(first_rcpt_delay=60)
    with smtp_server(handler) as server:
        await asyncio.to_thread(kill_worker_while_sending, world, server.port, handler.rcpt_reached)
        assert handler.messages == []

        world.clock.now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        box = world.outbox(
            plain(server.port), receipts_enabled=True, uncertain_grace=dt.timedelta(minutes=10)
        )
        assert box.recover() == 1
        assert await box.run_once() == 0  # a receipt may still come: wait
        world.clock.advance(dt.timedelta(minutes=5))
        assert await box.run_once() == 0
        assert handler.messages == []
        world.clock.advance(dt.timedelta(minutes=6))
        assert await box.run_once() == 1
        world.clock.advance(dt.timedelta(hours=1))
        assert await box.run_once() == 0

    assert len(handler.messages) == 1
    assert parse(handler.messages[0].data)["Message-ID"] == messages[0][0]
    assert row(world.db, dossier_id)["status"] == "sent"
    assert get_dossier(world.db, dossier_id)["status"] == "inviata"  # type: ignore[index]


async def test_a_late_receipt_stops_a_retry_of_a_message_already_taken(world: World):
    dossier_id, _, messages = world.new_dossier()
    port = free_port()
    box = world.outbox(plain(port), receipts_enabled=True)
    await box.run_once()  # a resend that found the server down...
    assert row(world.db, dossier_id)["status"] == "pending"
    # ...while the acceptance of an earlier attempt was still on its way
    record_receipt(
        world.path, dossier_id, messages[0][0], "accettazione", "2025-01-01T00:00:00+00:00"
    )
    handler = RecordingHandler()
    with smtp_server(handler, port=port):
        world.clock.advance(dt.timedelta(minutes=2))
        assert await box.run_once() == 1
    assert handler.messages == []
    assert row(world.db, dossier_id)["status"] == "sent"
    assert get_dossier(world.db, dossier_id)["status"] == "inviata"  # type: ignore[index]


async def test_two_workers_never_send_one_message_twice(world: World):
    dossier_id, _, _ = world.new_dossier(parts=2)
    handler = RecordingHandler()
    with smtp_server(handler) as server:
        other_db = open_db(world.path)
        a = world.outbox(plain(server.port))
        b = Outbox(other_db, world.blobs, plain(server.port), sender=SENDER, clock=world.clock)
        results = await asyncio.gather(a.run_once(), b.run_once(), a.run_once(), b.run_once())
    assert sum(results) == 2
    assert len(handler.messages) == 2
    r = row(world.db, dossier_id)
    assert not outbox.mark_sending(world.db, r["id"], world.clock.now)  # already taken


# -- no mail server ------------------------------------------------------------------------


async def test_without_a_mail_server_the_dossier_is_saved_as_an_eml_file(world: World):
    dossier_id, d, messages = world.new_dossier()
    folder = world.tmp / "outbox"
    box = world.outbox(FolderMailer(folder))
    assert await box.run_once() == 1
    assert await box.run_once() == 0

    files = list(folder.rglob("*"))
    emls = [f for f in files if f.is_file()]
    assert [f.name for f in emls] == [f"01-{dossier_id}.1of1_pec.example.it.eml"]
    assert emls[0].parent.name == dossier_id
    msg = parse(emls[0].read_bytes())
    assert msg["Message-ID"] == messages[0][0]
    attached = attachments_of(msg)
    assert set(attached) == {f.name for f in d.files} | {MANIFEST}
    assert_matches_manifest(attached)

    assert row(world.db, dossier_id)["status"] == "saved"
    assert get_dossier(world.db, dossier_id)["status"] == "salvata"  # type: ignore[index]
    events = history(world.db, dossier_id)
    assert events[-1]["detail"] == {"saved_to_folder": True}

    # interrupted while writing: written again over the same file, still one
    world.db.execute("UPDATE outbox SET status = 'sending' WHERE dossier_id = ?", [dossier_id])
    assert box.recover() == 1
    assert await box.run_once() == 1
    assert [f for f in folder.rglob("*") if f.is_file()] == emls
    assert row(world.db, dossier_id)["status"] == "saved"


# -- restart -------------------------------------------------------------------------------


async def test_pending_sends_resume_after_a_restart(world: World):
    first_id, _, _ = world.new_dossier()
    second_id, _, _ = world.new_dossier(parts=2)
    down = world.outbox(plain(free_port()))
    assert await down.run_once() == 3  # all three tried, all waiting for a retry
    world.db.close()

    db = open_db(world.path)  # the bot starts again
    handler = RecordingHandler()
    world.clock.advance(dt.timedelta(minutes=2))
    with smtp_server(handler) as server:
        box = Outbox(
            db,
            BlobStore(world.tmp / "files", KEY),
            plain(server.port),
            sender=SENDER,
            clock=world.clock,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(box.run_forever(stop, interval=0.05))
        for _ in range(200):
            if len(handler.messages) == 3:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(task, 5)

    ids = sorted(parse(m.data)["Message-ID"] for m in handler.messages)
    assert ids == sorted(
        [
            f"<{first_id}.1of1@pec.example.it>",
            f"<{second_id}.1of2@pec.example.it>",
            f"<{second_id}.2of2@pec.example.it>",
        ]
    )
    for dossier_id in (first_id, second_id):
        assert get_dossier(db, dossier_id)["status"] == "inviata"  # type: ignore[index]


# -- the queue itself ----------------------------------------------------------------------


def test_queueing_the_same_messages_again_changes_nothing(world: World):
    dossier_id, _, messages = world.new_dossier(parts=2)
    outbox.enqueue(world.db, world.blobs, dossier_id, messages, RECIPIENT)
    assert len(outbox.rows_of(world.db, dossier_id)) == 2
    assert statuses(world.db, dossier_id) == ["pronta"]
    again = build_messages(
        assembled(dossier_id, 3), sender=SENDER, recipient=RECIPIENT, subject=SUBJECT, body=BODY
    )
    with pytest.raises(ValueError):
        outbox.enqueue(world.db, world.blobs, dossier_id, again, RECIPIENT)
    assert len(outbox.rows_of(world.db, dossier_id)) == 2


def test_message_ids_are_fixed_by_dossier_and_part():
    d = assembled("B2-ABC234", parts=2)
    first = build_messages(d, sender=SENDER, recipient=RECIPIENT, subject=SUBJECT, body=BODY)
    second = build_messages(
        d, sender=SENDER, recipient=RECIPIENT, subject=SUBJECT, body=BODY, domain="example.org"
    )
    assert [m for m, _ in first] == [
        "<B2-ABC234.1of2@pec.example.it>",
        "<B2-ABC234.2of2@pec.example.it>",
    ]
    assert [m for m, _ in second] == [
        "<B2-ABC234.1of2@example.org>",
        "<B2-ABC234.2of2@example.org>",
    ]
    raw = first[0][1]
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
