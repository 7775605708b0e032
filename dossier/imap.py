"""Reading PEC receipts from the operator's mailbox over IMAP (stdlib imaplib).

Only unread messages that carry an `X-Ricevuta` header are downloaded (their headers are
looked at first, so the ordinary mail in the mailbox is never fetched whole), always with
BODY.PEEK so that reading marks nothing. A receipt is marked \\Seen only once it has been
recorded: a crash in between reads it again next time, and recording is idempotent.
Messages that are not receipts stay unread and untouched, for the person at the desk.

Logs name the server and counts, never addresses, subjects or contents.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import imaplib
import logging
import re
import ssl
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.clock import utcnow
from dossier.pec import parse_receipt
from dossier.receipts import record_receipt

if TYPE_CHECKING:
    from sqlite_utils import Database

    from common.settings import Settings
    from storage.blobs import BlobStore

log = logging.getLogger(__name__)

TIMEOUT = 30.0  # seconds for every network operation: a silent server must not hang us
MAX_MESSAGE_BYTES = 80 * 1024 * 1024  # larger messages are left alone
MAX_BATCH_BYTES = 100 * 1024 * 1024  # downloaded per poll at most (one message always fits)
UID_CHUNK = 200  # UIDs per FETCH/STORE command line
MAX_BACKOFF_SECONDS = 900.0

_UID = re.compile(rb"\bUID (\d+)", re.IGNORECASE)
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)", re.IGNORECASE)
_RICEVUTA = re.compile(rb"(?im)^x-ricevuta[ \t]*:")
_ATOM = re.compile(r"^[A-Za-z0-9_.\-/]+$")


class ImapError(Exception):
    """The IMAP server answered something else than OK."""


def _quote_mailbox(name: str) -> str:
    if _ATOM.match(name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(response: tuple[str, Any], what: str) -> list[Any]:
    typ, data = response
    if typ != "OK":
        raise ImapError(f"{what} answered {typ}")
    return list(data or [])


def _literals(data: Sequence[Any]) -> list[tuple[bytes, bytes]]:
    """(response text, literal) pairs of a FETCH answer. The text is the line before the
    literal plus what follows it, since servers put UID and RFC822.SIZE on either side."""
    found = []
    for i, item in enumerate(data):
        if isinstance(item, tuple) and len(item) == 2:
            head, literal = item
            tail = data[i + 1] if i + 1 < len(data) and isinstance(data[i + 1], bytes) else b""
            found.append((bytes(head) + b" " + tail, bytes(literal)))
    return found


def _chunks(items: Sequence[bytes], size: int = UID_CHUNK) -> Iterable[Sequence[bytes]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Mailbox:
    """One IMAP session on one folder: open(), fetch_new(), mark_seen(), close()."""

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        username: str,
        password: str,
        folder: str = "INBOX",
        ca_file: Path | str | None = None,
        timeout: float | None = None,
    ):
        if security not in ("tls", "starttls", "none"):
            raise ValueError(f"unknown IMAP security {security!r}")
        self.host, self.port, self.security = host, port, security
        self.username, self._password = username, password
        self.folder, self.ca_file = folder, ca_file
        self.timeout = TIMEOUT if timeout is None else timeout
        self._imap: imaplib.IMAP4 | None = None

    def __enter__(self) -> Mailbox:
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    def open(self) -> None:
        if self.security == "tls":
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                self.host, self.port, ssl_context=self._context(), timeout=self.timeout
            )
        else:
            imap = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
        self._imap = imap
        if self.security == "starttls":
            _check(imap.starttls(ssl_context=self._context()), "STARTTLS")
        user, password = self.username, self._password
        if user.isascii() and password.isascii():
            _check(imap.login(user, password), "LOGIN")
        else:  # LOGIN is ASCII only; SASL PLAIN carries UTF-8
            secret = f"\0{user}\0{password}".encode()
            _check(imap.authenticate("PLAIN", lambda _challenge: secret), "AUTHENTICATE")
        _check(imap.select(_quote_mailbox(self.folder)), "SELECT")

    @property
    def imap(self) -> imaplib.IMAP4:
        if self._imap is None:
            raise ImapError("not connected")
        return self._imap

    def _receipt_uids(self) -> list[tuple[bytes, int]]:
        """(uid, size) of the unread messages that have an X-Ricevuta header."""
        found = _check(self.imap.uid("SEARCH", None, "UNSEEN"), "SEARCH")
        uids = [u for u in b" ".join(x for x in found if isinstance(x, bytes)).split() if u]
        candidates = []
        for chunk in _chunks(uids):
            data = _check(
                self.imap.uid(
                    "FETCH",
                    b",".join(chunk).decode(),
                    "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (X-RICEVUTA)])",
                ),
                "FETCH",
            )
            for meta, headers in _literals(data):
                uid, size = _UID.search(meta), _SIZE.search(meta)
                if uid and _RICEVUTA.search(headers):
                    candidates.append((uid.group(1), int(size.group(1)) if size else 0))
        return candidates

    def _fetch_one(self, uid: bytes) -> bytes | None:
        data = _check(self.imap.uid("FETCH", uid.decode(), "(BODY.PEEK[])"), "FETCH")
        for meta, literal in _literals(data):
            got = _UID.search(meta)
            if b"BODY[]" in meta.upper() and (got is None or got.group(1) == uid):
                return literal
        return None

    def fetch_new(self) -> list[tuple[bytes, bytes]]:
        """(uid, raw message) of unread messages that look like PEC receipts, without
        marking them read; at most MAX_BATCH_BYTES per call (the rest comes next time)."""
        messages: list[tuple[bytes, bytes]] = []
        total = 0
        for uid, size in self._receipt_uids():
            if size > MAX_MESSAGE_BYTES:
                log.warning("IMAP message of %d bytes skipped: over the size limit", size)
                continue
            if messages and total + size > MAX_BATCH_BYTES:
                break
            raw = self._fetch_one(uid)
            if raw is not None:
                messages.append((uid, raw))
                total += len(raw)
        return messages

    def mark_seen(self, uids: Sequence[bytes]) -> None:
        for chunk in _chunks(list(uids)):
            _check(
                self.imap.uid("STORE", b",".join(chunk).decode(), "+FLAGS.SILENT", r"(\Seen)"),
                "STORE",
            )

    def close(self) -> None:
        imap, self._imap = self._imap, None
        if imap is None:
            return
        try:
            imap.logout()
        except Exception:  # the connection is going away anyway
            with contextlib.suppress(Exception):
                imap.shutdown()


def fetch_new(
    host: str,
    port: int,
    security: str,
    username: str,
    password: str,
    folder: str,
    ca_file: Path | str | None = None,
) -> list[tuple[bytes, bytes]]:
    """(uid, raw) of the unread receipts in `folder`, left unread. Blocking."""
    with Mailbox(host, port, security, username, password, folder, ca_file) as box:
        return box.fetch_new()


def mark_seen(
    host: str,
    port: int,
    security: str,
    username: str,
    password: str,
    folder: str,
    uids: Sequence[bytes],
    ca_file: Path | str | None = None,
) -> None:
    """Flag `uids` of `folder` as \\Seen. Blocking."""
    if not uids:
        return
    with Mailbox(host, port, security, username, password, folder, ca_file) as box:
        box.mark_seen(uids)


def _describe(exc: BaseException) -> str:
    """What went wrong, without the server's free text (it may echo the login)."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    if isinstance(exc, ImapError):
        return str(exc)
    if isinstance(exc, imaplib.IMAP4.abort):
        return "IMAP connection lost"
    if isinstance(exc, imaplib.IMAP4.error):
        code = re.search(r"\[([A-Z][A-Z0-9-]*)", str(exc))
        return f"IMAP refused [{code.group(1)}]" if code else "IMAP refused"
    return type(exc).__name__


def _mailbox(settings: Settings) -> Mailbox:
    password = settings.imap_password.get_secret_value() if settings.imap_password else ""
    return Mailbox(
        settings.imap_host or "",
        settings.imap_port,
        settings.imap_security,
        settings.imap_username or "",
        password,
        settings.imap_folder,
        settings.imap_ca_file,
    )


async def _poll(settings: Settings, db: Database, blobs: BlobStore) -> int | None:
    """Receipts recorded, or None when the mailbox could not be read."""
    if not settings.imap_host:
        return 0
    where = f"{settings.imap_host}:{settings.imap_port}"
    box = _mailbox(settings)
    recorded: list[bytes] = []
    try:
        try:
            await asyncio.to_thread(box.open)
            messages = await asyncio.to_thread(box.fetch_new)
        except Exception as exc:
            log.warning("PEC mailbox %s not read: %s; trying again later", where, _describe(exc))
            return None
        for uid, raw in messages:
            receipt = await asyncio.to_thread(parse_receipt, raw)
            if receipt is None:
                log.info(
                    "IMAP message %s has X-Ricevuta but is no receipt: left unread", uid.decode()
                )
                continue
            try:
                record_receipt(db, blobs, raw, receipt)
            except Exception as exc:
                log.warning("PEC receipt not recorded (%s); read again next time", _describe(exc))
                continue
            recorded.append(uid)
        if recorded:
            try:
                await asyncio.to_thread(box.mark_seen, recorded)
            except Exception as exc:  # recorded already: reading them again is harmless
                log.warning("PEC receipts not marked read on %s: %s", where, _describe(exc))
        if messages:
            log.info("PEC mailbox %s: %d receipt(s) recorded", where, len(recorded))
    finally:
        await asyncio.to_thread(box.close)
    return len(recorded)


async def poll_once(settings: Settings, db: Database, blobs: BlobStore) -> int:
    """Read the mailbox once: record the new receipts, mark them read. Returns how many
    were recorded; 0 when IMAP is off or the server cannot be reached (logged)."""
    return await _poll(settings, db, blobs) or 0


async def poll_forever(
    settings: Settings,
    db: Database,
    blobs: BlobStore,
    stop: asyncio.Event,
    on_poll: Callable[[dt.datetime], None] | None = None,
) -> None:
    """poll_once every `imap_poll_seconds` until `stop` is set. A server that is down is
    logged and tried again, less often while it stays down; nothing here raises."""
    if not settings.imap_host:
        return
    interval = max(float(settings.imap_poll_seconds), 0.1)
    failures = 0
    while not stop.is_set():
        try:
            done = await _poll(settings, db, blobs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a database hiccup: try again at the next round
            log.warning("PEC receipt poll failed: %s", _describe(exc))
            done = None
        failures = 0 if done is not None else failures + 1
        if done is not None and on_poll is not None:
            on_poll(utcnow())  # /healthz shows when receipts were last read
        delay = interval * 2 ** min(failures, 10) if failures else interval
        delay = min(delay, max(interval, MAX_BACKOFF_SECONDS))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
