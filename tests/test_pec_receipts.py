"""PEC receipts: parsed from what providers send, recorded once, moving the dossier forward
only; read from a real IMAP server (Dovecot on loopback) and marked read once recorded."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from common.settings import Settings
from dossier import imap
from dossier.pec import KINDS, STATUS_FOR_KIND, Receipt, parse_receipt
from dossier.receipts import record_receipt
from storage.blobs import BlobStore
from storage.db import open_db
from storage.dossiers import create_dossier, get_dossier, history, set_status
from storage.receipts import receipts_of
from tests.imap_server import ImapServer, free_ports, imap_server_fixture  # noqa: F401
from tests.pec_messages import build_receipt, ordinary_mail, original_message

ROME_SUMMER = dt.timezone(dt.timedelta(hours=2))
ROME_WINTER = dt.timezone(dt.timedelta(hours=1))
AT = dt.datetime(2025, 6, 12, 10, 41, 7, tzinfo=ROME_SUMMER)
PROTOCOL = "protocollo@pec.comune.rozzano.mi.it"
SUBJECT = "Domanda Misura B2 – pratica B2-7K3M9Q"
OURS = "<B2-7K3M9Q.1of1@pec.example.it>"
FAMILY_NAME = "Maria Rossi"  # personal data: must never reach a log


def receipt(kind: str, refers_to: str = OURS, **kwargs: Any) -> bytes:
    kwargs.setdefault("at", AT)
    kwargs.setdefault("recipient", PROTOCOL)
    kwargs.setdefault("subject", SUBJECT)
    if kind in ("non-accettazione", "errore-consegna", "preavviso-errore-consegna"):
        kwargs.setdefault("error", "5.1.1 casella del destinatario inesistente")
    if kind == "rilevazione-virus":
        kwargs.setdefault("error", "virus rilevato nel messaggio")
    return build_receipt(kind, refers_to, **kwargs)


# -- parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_read_from_a_signed_receipt(kind: str):
    parsed = parse_receipt(receipt(kind))
    assert parsed is not None
    assert parsed.kind == kind
    assert parsed.refers_to == OURS
    assert parsed.at == AT and parsed.at.utcoffset() == dt.timedelta(hours=2)
    assert parsed.recipient == PROTOCOL
    assert parsed.provider == "Gestore PEC di prova"
    assert parsed.subject == SUBJECT
    assert parsed.message_id and parsed.message_id.startswith("<opec21010.")
    if STATUS_FOR_KIND[kind] == "errore":
        assert parsed.error and len(parsed.error) > 5
    else:
        assert parsed.error is None


def test_status_for_each_kind():
    assert STATUS_FOR_KIND == {
        "accettazione": "accettata",
        "avvenuta-consegna": "consegnata",
        "non-accettazione": "errore",
        "errore-consegna": "errore",
        "rilevazione-virus": "errore",
        "preavviso-errore-consegna": "errore",
        "presa-in-carico": None,
    }
    assert set(STATUS_FOR_KIND) == set(KINDS)


def test_completa_delivery_receipt_with_the_original_message():
    original = original_message(OURS, SUBJECT, PROTOCOL)
    raw = receipt("avvenuta-consegna", completa_original=original)
    assert b"postacert.eml" in raw and b"message/rfc822" in raw
    parsed = parse_receipt(raw)
    assert parsed is not None
    assert (parsed.kind, parsed.refers_to, parsed.recipient) == (
        "avvenuta-consegna",
        OURS,
        PROTOCOL,
    )


def test_older_signature_type_and_other_encodings_of_daticert():
    for protocol in ("application/x-pkcs7-signature", "application/pkcs7-signature"):
        for cte in ("base64", "quoted-printable", "8bit"):
            raw = receipt("accettazione", protocol=protocol, daticert_cte=cte)
            parsed = parse_receipt(raw)
            assert parsed is not None, (protocol, cte)
            assert parsed.provider == "Gestore PEC di prova"
            assert parsed.at == AT


def test_daticert_msgid_wins_over_a_wrong_or_missing_header():
    wrong = parse_receipt(receipt("accettazione", header_refers_to="<someone.else@example.org>"))
    assert wrong is not None and wrong.refers_to == OURS
    missing = parse_receipt(receipt("accettazione", header_refers_to=""))
    assert missing is not None and missing.refers_to == OURS
    bare = parse_receipt(receipt("accettazione", refers_to="B2-7K3M9Q.1of1@pec.example.it"))
    assert bare is not None and bare.refers_to == OURS


def test_timezone_of_the_provider_is_kept():
    winter = dt.datetime(2025, 1, 15, 9, 30, 0, tzinfo=ROME_WINTER)
    summer = dt.datetime(2025, 1, 15, 9, 30, 0, tzinfo=ROME_SUMMER)
    got_winter = parse_receipt(receipt("accettazione", at=winter))
    got_summer = parse_receipt(receipt("accettazione", at=summer))
    assert got_winter is not None and got_summer is not None
    assert got_winter.at is not None and got_summer.at is not None
    assert got_winter.at.utcoffset() == dt.timedelta(hours=1)
    assert got_summer.at.utcoffset() == dt.timedelta(hours=2)
    assert got_winter.at - got_summer.at == dt.timedelta(hours=1)
    assert got_winter.at.isoformat() == "2025-01-15T09:30:00+01:00"


def test_messages_that_are_not_receipts_give_none():
    assert parse_receipt(ordinary_mail()) is None
    assert parse_receipt(b"") is None
    assert parse_receipt(b"\x00\xff" * 100) is None
    # a transport envelope (someone's PEC message to us) is not a receipt
    envelope = receipt("accettazione").replace(b"X-Ricevuta: accettazione", b"X-Trasporto: posta")
    envelope = envelope.replace(b'tipo="accettazione"', b'tipo="posta-certificata"')
    assert parse_receipt(envelope) is None
    # an X-Ricevuta we do not know, and no daticert saying otherwise
    unknown = b"X-Ricevuta: qualcosa\r\nSubject: x\r\n\r\nbody\r\n"
    assert parse_receipt(unknown) is None


def test_a_receipt_without_daticert_is_read_from_its_headers():
    raw = (
        b"Date: Thu, 12 Jun 2025 10:41:07 +0200\r\n"
        b"Message-ID: <opec.1@pec.gestore-prova.it>\r\n"
        b"Subject: ACCETTAZIONE: Domanda Misura B2\r\n"
        b"X-Ricevuta: accettazione\r\n"
        b"X-Riferimento-Message-ID: <B2-7K3M9Q.1of1@pec.example.it>\r\n\r\n"
        b"Il messaggio e' stato accettato.\r\n"
    )
    parsed = parse_receipt(raw)
    assert parsed == Receipt(
        kind="accettazione",
        refers_to=OURS,
        at=AT,
        recipient=None,
        error=None,
        message_id="<opec.1@pec.gestore-prova.it>",
        provider=None,
        subject="Domanda Misura B2",
    )


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE postacert [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b']>\n<postacert tipo="avvenuta-consegna" errore="nessuno"><dati>'
    b"<consegna>&lol9;</consegna><msgid>&lol9;</msgid></dati></postacert>\n"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE postacert [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    b'<postacert tipo="avvenuta-consegna" errore="nessuno"><dati><consegna>&x;</consegna>'
    b"</dati></postacert>\n"
)


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["bomb", "external"])
def test_dangerous_daticert_is_refused_quickly(xml: bytes):
    raw = receipt("avvenuta-consegna", daticert=xml)
    started = time.monotonic()
    parsed = parse_receipt(raw)
    assert time.monotonic() - started < 2
    assert parsed is None or (parsed.recipient is None and parsed.provider is None)
    if parsed is not None:  # the headers alone still say what it is
        assert parsed.kind == "avvenuta-consegna" and parsed.refers_to == OURS
        assert "lol" not in repr(parsed) and "root:" not in repr(parsed)


SAMPLE = receipt("avvenuta-consegna", completa_original=original_message(OURS, SUBJECT, PROTOCOL))


@st.composite
def mangled_receipts(draw: st.DrawFn) -> bytes:
    data = bytearray(SAMPLE)
    for _ in range(draw(st.integers(1, 12))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=40))
        elif data:
            del data[pos : pos + draw(st.integers(1, 400))]
    return bytes(data)


@st.composite
def receipt_like(draw: st.DrawFn) -> bytes:
    headers = draw(
        st.lists(
            st.tuples(
                st.sampled_from(
                    [
                        b"X-Ricevuta",
                        b"X-Riferimento-Message-ID",
                        b"Message-ID",
                        b"Date",
                        b"Subject",
                        b"Content-Type",
                        b"Content-Transfer-Encoding",
                    ]
                ),
                st.binary(max_size=60),
            ),
            max_size=8,
        )
    )
    body = draw(st.binary(max_size=800))
    return b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n" + body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=3000), mangled_receipts(), receipt_like()))
def test_parse_never_raises(raw: bytes):
    result = parse_receipt(raw)
    assert result is None or result.kind in KINDS


# -- recording -------------------------------------------------------------------------


class World:
    def __init__(self, tmp_path: Path):
        self.db: Database = open_db(tmp_path / "db.sqlite3")
        self.blobs = BlobStore(tmp_path / "files", AESGCM.generate_key(bit_length=256))

    def dossier(self, parts: int = 1, status: str = "uncertain") -> tuple[str, list[str]]:
        """A dossier sent as `parts` messages (outbox rows written directly)."""
        dossier_id = create_dossier(
            self.db,
            user_id=7,
            chat_id=7,
            notice_id="b2-2025-rozzano",
            municipality="Rozzano",
            language="it",
            data={"name": FAMILY_NAME},
        )
        set_status(self.db, dossier_id, "inviata")
        ids = []
        for part in range(1, parts + 1):
            mid = f"<{dossier_id}.{part}of{parts}@pec.example.it>"
            ids.append(mid)
            self.db["outbox"].insert(
                {
                    "dossier_id": dossier_id,
                    "part": part,
                    "parts": parts,
                    "message_id": mid,
                    "recipient": PROTOCOL,
                    "blob": "0" * 64,
                    "status": status,
                    "attempts": 1,
                    "created_at": "2025-06-12T08:40:00+00:00",
                }
            )
        return dossier_id, ids

    def record(self, raw: bytes) -> str | None:
        parsed = parse_receipt(raw)
        assert parsed is not None
        return record_receipt(self.db, self.blobs, raw, parsed)

    def status(self, dossier_id: str) -> str:
        row = get_dossier(self.db, dossier_id)
        assert row is not None
        return row["status"]

    def statuses(self, dossier_id: str) -> list[str]:
        return [e["status"] for e in history(self.db, dossier_id)]

    def outbox_status(self, message_id: str) -> str:
        return self.db.execute(
            "SELECT status FROM outbox WHERE message_id = ?", [message_id]
        ).fetchone()[0]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_acceptance_of_every_part_makes_the_dossier_accettata_once(world: World):
    dossier_id, (one, two) = world.dossier(parts=2)
    assert world.record(receipt("accettazione", one)) == dossier_id
    assert world.status(dossier_id) == "inviata"  # one part of two
    assert world.record(receipt("accettazione", two)) == dossier_id
    assert world.status(dossier_id) == "accettata"
    world.record(receipt("accettazione", two))  # another copy of an acceptance
    world.record(receipt("presa-in-carico", one))
    assert world.statuses(dossier_id).count("accettata") == 1
    event = history(world.db, dossier_id)[-1]
    assert event["at"] == AT.isoformat()
    assert event["detail"]["provider"] == "Gestore PEC di prova"


def test_delivery_of_every_part_makes_the_dossier_consegnata(world: World):
    dossier_id, (one, two) = world.dossier(parts=2)
    for mid in (one, two):
        world.record(receipt("accettazione", mid))
    later = AT + dt.timedelta(minutes=3)
    world.record(receipt("avvenuta-consegna", one, at=AT + dt.timedelta(minutes=1)))
    assert world.status(dossier_id) == "accettata"
    world.record(receipt("avvenuta-consegna", two, at=later))
    assert world.status(dossier_id) == "consegnata"
    event = history(world.db, dossier_id)[-1]
    assert event["status"] == "consegnata"
    assert event["detail"] == {
        "recipient": PROTOCOL,
        "at": "2025-06-12T10:44:07+02:00",
        "provider": "Gestore PEC di prova",
    }
    row = get_dossier(world.db, dossier_id)
    assert row is not None and row["delivered_at"] == "2025-06-12T10:44:07+02:00"


def test_delivery_before_acceptance_still_ends_consegnata(world: World):
    dossier_id, (one, two) = world.dossier(parts=2)
    world.record(receipt("avvenuta-consegna", one))
    world.record(receipt("accettazione", two))
    assert world.status(dossier_id) == "accettata"  # a delivered part was accepted too
    world.record(receipt("avvenuta-consegna", two))
    assert world.status(dossier_id) == "consegnata"
    world.record(receipt("accettazione", one))  # late, out of order
    world.record(receipt("preavviso-errore-consegna", one))  # stale: part one was delivered
    assert world.status(dossier_id) == "consegnata"
    assert world.statuses(dossier_id)[-2:] == ["accettata", "consegnata"]


def test_the_same_receipt_twice_is_kept_once(world: World):
    dossier_id, (mid,) = world.dossier()
    raw = receipt("avvenuta-consegna", mid)
    assert world.record(raw) == dossier_id
    assert world.record(raw) == dossier_id
    kept = receipts_of(world.db, dossier_id)
    assert len(kept) == 1
    assert kept[0]["kind"] == "avvenuta-consegna"
    assert kept[0]["refers_to"] == mid
    assert kept[0]["at"] == AT.isoformat()
    assert kept[0]["recipient"] == PROTOCOL
    assert world.blobs.get(kept[0]["blob"]) == raw  # the proof, byte for byte
    assert world.statuses(dossier_id).count("consegnata") == 1


def test_a_receipt_without_message_id_is_kept_once_by_its_bytes(world: World):
    dossier_id, (mid,) = world.dossier()
    raw = receipt("accettazione", mid)
    start = raw.index(b"Message-ID:")
    raw = raw[:start] + raw[raw.index(b"\r\n", start) + 2 :]
    world.record(raw)
    world.record(raw)
    kept = receipts_of(world.db, dossier_id)
    assert len(kept) == 1 and kept[0]["message_id"].startswith("sha256:")


def test_an_error_receipt_puts_the_dossier_in_errore_with_the_text(world: World):
    dossier_id, (one, _two) = world.dossier(parts=2)
    world.record(receipt("accettazione", one))
    world.record(
        receipt(
            "errore-consegna",
            one,
            at=AT + dt.timedelta(hours=24),
            error="5.1.1 casella del destinatario inesistente",
        )
    )
    assert world.status(dossier_id) == "errore"
    event = history(world.db, dossier_id)[-1]
    assert event["detail"] == {
        "kind": "errore-consegna",
        "error": "5.1.1 casella del destinatario inesistente",
    }


def test_a_late_delivery_after_a_warning_still_ends_consegnata(world: World):
    dossier_id, (mid,) = world.dossier()
    world.record(receipt("accettazione", mid))
    world.record(receipt("preavviso-errore-consegna", mid, at=AT + dt.timedelta(hours=12)))
    assert world.status(dossier_id) == "errore"
    world.record(receipt("avvenuta-consegna", mid, at=AT + dt.timedelta(hours=13)))
    assert world.status(dossier_id) == "consegnata"


def test_a_message_accepted_after_a_refusal_counts_as_accepted(world: World):
    dossier_id, (mid,) = world.dossier()
    world.record(receipt("non-accettazione", mid, error="messaggio troppo grande"))
    assert world.status(dossier_id) == "errore"
    assert history(world.db, dossier_id)[-1]["detail"] == {
        "kind": "non-accettazione",
        "error": "messaggio troppo grande",
    }
    # the operator requeued it: the same message (same Message-ID) goes again
    world.record(receipt("accettazione", mid, at=AT + dt.timedelta(hours=1)))
    assert world.status(dossier_id) == "accettata"


def test_an_earlier_error_read_late_does_not_undo_an_acceptance(world: World):
    dossier_id, (mid,) = world.dossier()
    world.record(receipt("accettazione", mid, at=AT + dt.timedelta(hours=1)))
    world.record(receipt("non-accettazione", mid, at=AT))
    assert world.status(dossier_id) == "accettata"
    assert "errore" not in world.statuses(dossier_id)


def test_a_receipt_for_an_unknown_message_is_kept_unmatched(world: World):
    dossier_id, _ = world.dossier()
    raw = receipt("accettazione", "<not-ours@pec.example.it>")
    assert world.record(raw) is None
    rows = list(world.db.query("SELECT * FROM receipts"))
    assert len(rows) == 1
    assert rows[0]["dossier_id"] is None and rows[0]["refers_to"] == "<not-ours@pec.example.it>"
    assert world.status(dossier_id) == "inviata"


@pytest.mark.parametrize("before", ["uncertain", "sending"])
def test_an_acceptance_settles_an_uncertain_outbox_row_as_sent(world: World, before: str):
    _dossier_id, (mid,) = world.dossier(status=before)
    world.record(receipt("accettazione", mid))
    assert world.outbox_status(mid) == "sent"
    row = world.db.execute("SELECT sent_at FROM outbox WHERE message_id = ?", [mid]).fetchone()
    assert row[0] == AT.isoformat()


def test_an_error_receipt_leaves_the_outbox_row_alone(world: World):
    _dossier_id, (mid,) = world.dossier(status="uncertain")
    world.record(receipt("non-accettazione", mid))
    assert world.outbox_status(mid) == "uncertain"


def test_the_outbox_sees_the_acceptance(world: World):
    from storage.outbox import accepted_by_receipt

    _dossier_id, (mid,) = world.dossier()
    assert not accepted_by_receipt(world.db, mid)
    world.record(receipt("accettazione", mid))
    assert accepted_by_receipt(world.db, mid)


# -- IMAP ------------------------------------------------------------------------------


def imap_settings(server: ImapServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "imap_host": server.host,
        "imap_port": server.port,
        "imap_security": "tls",
        "imap_username": server.username,
        "imap_password": server.password,
        "imap_folder": server.folder,
        "imap_ca_file": server.ca_file,
        "imap_poll_seconds": 0.2,
    }
    values.update(overrides)
    return Settings(**values)


async def test_poll_records_receipts_and_leaves_other_mail_unread(
    world: World, imap_server: ImapServer, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    dossier_id, (mid,) = world.dossier()
    original = original_message(mid, SUBJECT, PROTOCOL)
    imap_server.append(receipt("accettazione", mid))
    imap_server.append(ordinary_mail())
    imap_server.append(
        receipt(
            "avvenuta-consegna", mid, at=AT + dt.timedelta(minutes=1), completa_original=original
        )
    )
    settings = imap_settings(imap_server)

    assert await imap.poll_once(settings, world.db, world.blobs) == 2
    assert world.status(dossier_id) == "consegnata"
    assert world.statuses(dossier_id)[-2:] == ["accettata", "consegnata"]
    assert world.outbox_status(mid) == "sent"
    flags = imap_server.flags()
    assert flags[1] >= {"\\Seen"} and flags[3] >= {"\\Seen"}
    assert "\\Seen" not in flags[2]  # the ordinary e-mail stays for the person at the desk

    assert await imap.poll_once(settings, world.db, world.blobs) == 0
    assert len(receipts_of(world.db, dossier_id)) == 2
    assert FAMILY_NAME not in caplog.text
    assert imap_server.password not in caplog.text and imap_server.username not in caplog.text


async def test_poll_over_starttls(world: World, imap_server: ImapServer):
    dossier_id, (mid,) = world.dossier()
    imap_server.append(receipt("accettazione", mid))
    settings = imap_settings(
        imap_server, imap_port=imap_server.starttls_port, imap_security="starttls"
    )
    assert await imap.poll_once(settings, world.db, world.blobs) == 1
    assert world.status(dossier_id) == "accettata"


async def test_a_receipt_not_recorded_stays_unread_for_the_next_poll(
    world: World, imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch
):
    dossier_id, (mid,) = world.dossier()
    imap_server.append(receipt("accettazione", mid))
    settings = imap_settings(imap_server)

    def broken(*_args: Any) -> str:
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(imap, "record_receipt", broken)
        assert await imap.poll_once(settings, world.db, world.blobs) == 0
    assert "\\Seen" not in imap_server.flags()[1]
    assert await imap.poll_once(settings, world.db, world.blobs) == 1
    assert world.status(dossier_id) == "accettata"


def test_fetch_new_and_mark_seen(imap_server: ImapServer):
    imap_server.append(receipt("accettazione"))
    imap_server.append(ordinary_mail())
    args = (
        imap_server.host,
        imap_server.port,
        "tls",
        imap_server.username,
        imap_server.password,
        "INBOX",
    )
    got = imap.fetch_new(*args, ca_file=imap_server.ca_file)
    assert [uid for uid, _ in got] == [b"1"]
    assert parse_receipt(got[0][1]) is not None
    assert imap_server.flags() == {1: set(), 2: set()}  # reading marked nothing
    imap.mark_seen(*args, [b"1"], ca_file=imap_server.ca_file)
    assert imap_server.flags() == {1: {"\\Seen"}, 2: set()}
    assert imap.fetch_new(*args, ca_file=imap_server.ca_file) == []


async def test_wrong_password_is_logged_without_secrets(
    world: World, imap_server: ImapServer, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    settings = imap_settings(imap_server, imap_password="sbagliata-davvero")
    assert await imap.poll_once(settings, world.db, world.blobs) == 0
    assert "AUTHENTICATIONFAILED" in caplog.text
    assert "sbagliata-davvero" not in caplog.text and imap_server.username not in caplog.text


async def test_a_server_that_is_down_is_logged_and_poll_returns_zero(
    world: World, caplog: pytest.LogCaptureFixture
):
    (port,) = free_ports(1)
    settings = Settings(
        imap_host="127.0.0.1",
        imap_port=port,
        imap_username="sportello@pec.example.it",
        imap_password="segreta",
    )
    caplog.set_level(logging.WARNING)
    assert await imap.poll_once(settings, world.db, world.blobs) == 0
    assert "not read" in caplog.text and "segreta" not in caplog.text


async def test_a_silent_server_times_out(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    monkeypatch.setattr(imap, "TIMEOUT", 0.5)
    settings = Settings(
        imap_host="127.0.0.1",
        imap_port=listener.getsockname()[1],
        imap_security="none",
        imap_username="u",
        imap_password="p",
    )
    try:
        started = time.monotonic()
        assert await imap.poll_once(settings, world.db, world.blobs) == 0
        assert time.monotonic() - started < 5
        assert "not read" in caplog.text
    finally:
        thread.join(timeout=2)
        for s in (*accepted, listener):
            s.close()


async def test_poll_forever_survives_a_down_server_and_stops(
    world: World, caplog: pytest.LogCaptureFixture
):
    (port,) = free_ports(1)
    settings = Settings(
        imap_host="127.0.0.1",
        imap_port=port,
        imap_username="u",
        imap_password="p",
        imap_poll_seconds=0.05,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(imap.poll_forever(settings, world.db, world.blobs, stop))
    await asyncio.sleep(0.8)
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert caplog.text.count("not read") >= 2


async def test_imap_off_does_nothing(world: World):
    settings = Settings(imap_host=None)
    assert await imap.poll_once(settings, world.db, world.blobs) == 0
    await asyncio.wait_for(
        imap.poll_forever(settings, world.db, world.blobs, asyncio.Event()), timeout=1
    )
