"""Sending the queued messages: over SMTP from the operator's PEC mailbox, or, with no mail
server configured, as .eml files in the outbox folder.

Exactly once. A row is marked `sending` and committed before the SMTP transaction; after
the server's final 250 it is `sent`. A row found `sending` at start-up (the process died
in between) becomes `uncertain`: the server may or may not have the message. With PEC
receipts read, the provider's acceptance receipt settles it (sent, no second message);
without one after `uncertain_grace`, the same message (same Message-ID) goes again.
Without receipts nothing is sent again by itself: the dossier goes to `errore`
("uncertain") and the operator checks the mailbox's sent folder, then requeues it.

Logs carry dossier ids, parts, attempts and SMTP codes only: never addresses, names or
message content.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
import ssl
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import aiosmtplib
from sqlite_utils import Database

from common.clock import Clock, iso, parse_iso, utcnow
from storage import outbox
from storage.blobs import BlobError, BlobStore
from storage.dossiers import add_event, set_status

if TYPE_CHECKING:
    from common.settings import Settings

log = logging.getLogger(__name__)

RETRYING = "riprova"  # an event for the family: the mailbox did not answer, next try at

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


# -- errors ----------------------------------------------------------------------------


class DeliveryError(Exception):
    """A message did not go. `code` is the SMTP reply code, when there was one."""

    def __init__(self, text: str, code: int | None = None):
        super().__init__(text)
        self.code = code


class TransientError(DeliveryError):
    """Not taken, may work later: no connection, a timeout, a 4xx reply, a login refused."""


class PermanentError(DeliveryError):
    """Refused for good: a 5xx reply to MAIL, RCPT or DATA."""


class UncertainError(DeliveryError):
    """The connection broke while the server had the whole message: maybe it took it."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}".strip()
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _refusal(exc: BaseException) -> DeliveryError:
    """A reply to MAIL, RCPT or DATA: 5xx is final, anything else may pass later."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        code = min(codes) if codes else None
        kind = PermanentError if codes and code is not None and code >= 500 else TransientError
        return kind(_describe(exc), code)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        kind = PermanentError if exc.code >= 500 else TransientError
        return kind(_describe(exc), exc.code)
    return TransientError(_describe(exc))


# -- mailers ---------------------------------------------------------------------------


class Mailer(Protocol):
    """Takes one message. `saves_only`: it writes files, nothing leaves (rows `saved`)."""

    saves_only: bool

    async def deliver(
        self,
        raw: bytes,
        *,
        sender: str,
        recipient: str,
        dossier_id: str,
        part: int,
        message_id: str,
    ) -> None: ...


class SmtpMailer:
    """One SMTP connection per message: SMTPS ("tls"), STARTTLS or plain ("none")."""

    saves_only = False

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: str = "tls",
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | str | None = None,
        timeout: float = 30.0,
        local_hostname: str | None = None,
    ):
        if security not in ("tls", "starttls", "none"):
            raise ValueError(f"unknown SMTP security {security!r}")
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.ca_file = Path(ca_file) if ca_file else None
        self.timeout = timeout
        self.local_hostname = local_hostname

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpMailer:
        if not settings.smtp_host:
            raise ValueError("no SMTP_HOST configured")
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=password,
            ca_file=settings.smtp_ca_file,
        )

    def tls_context(self) -> ssl.SSLContext:
        """Certificates and host names checked; against `ca_file` alone when one is given."""
        if self.ca_file is not None:
            return ssl.create_default_context(cafile=str(self.ca_file))
        return ssl.create_default_context()

    def _client(self) -> aiosmtplib.SMTP:
        tls = self.security != "none"
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.security == "tls",
            start_tls=self.security == "starttls",
            tls_context=self.tls_context() if tls else None,
            timeout=self.timeout,
            local_hostname=self.local_hostname,
        )

    async def send(self, raw: bytes, sender: str, recipient: str) -> None:
        """Send one message; returns once the server answered 250 to its data.

        Raises TransientError (try later), PermanentError (5xx: refused for good) or
        UncertainError (the link broke after the message was handed over)."""
        client = self._client()
        try:
            try:
                await client.connect()
                if self.username:
                    await client.login(self.username, self.password or "")
            except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
                # a refused login or a bad certificate is the operator's to fix: retried
                raise TransientError(_describe(exc), getattr(exc, "code", None)) from exc
            try:
                await client.mail(sender)
                await client.rcpt(recipient)
            except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused) as exc:
                raise _refusal(exc) from exc
            except (aiosmtplib.SMTPException, OSError) as exc:
                raise TransientError(_describe(exc)) from exc
            try:
                await client.data(raw)
            except aiosmtplib.SMTPResponseException as exc:
                raise _refusal(exc) from exc  # a reply: the server did not take it
            except (aiosmtplib.SMTPException, OSError) as exc:
                raise UncertainError(_describe(exc)) from exc
        finally:
            await self._close(client)

    @staticmethod
    async def _close(client: aiosmtplib.SMTP) -> None:
        if not client.is_connected:
            return
        try:
            await asyncio.wait_for(client.quit(), timeout=5)
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()

    async def deliver(
        self,
        raw: bytes,
        *,
        sender: str,
        recipient: str,
        dossier_id: str,
        part: int,
        message_id: str,
    ) -> None:
        await self.send(raw, sender, recipient)


def safe_name(text: str) -> str:
    """A file-name-safe form of a Message-ID or dossier id."""
    cleaned = _UNSAFE.sub("_", text.strip().strip("<>")).strip("._")
    return cleaned or "message"


class FolderMailer:
    """No mail server: each message becomes `{folder}/{dossier_id}/{part:02d}-{id}.eml`.
    Written through a temporary file and `os.replace`; writing again overwrites it."""

    saves_only = True

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)

    def path_for(self, dossier_id: str, part: int, message_id: str) -> Path:
        return self.folder / safe_name(dossier_id) / f"{part:02d}-{safe_name(message_id)}.eml"

    def write(self, raw: bytes, dossier_id: str, part: int, message_id: str) -> Path:
        target = self.path_for(dossier_id, part, message_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        return target

    async def deliver(
        self,
        raw: bytes,
        *,
        sender: str,
        recipient: str,
        dossier_id: str,
        part: int,
        message_id: str,
    ) -> None:
        await asyncio.to_thread(self.write, raw, dossier_id, part, message_id)


# -- the worker ------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """After a failed attempt: wait `delays[n-1]` after the n-th, then `then_every`; give up
    once `give_up_after` has passed since the row was queued (and at least every delay in
    `delays` was tried, so a bot that was down for days still tries a few times)."""

    delays: tuple[dt.timedelta, ...] = (
        dt.timedelta(minutes=1),
        dt.timedelta(minutes=5),
        dt.timedelta(minutes=15),
        dt.timedelta(hours=1),
        dt.timedelta(hours=3),
    )
    then_every: dt.timedelta = dt.timedelta(hours=6)
    give_up_after: dt.timedelta = dt.timedelta(hours=48)

    def next_attempt(
        self, attempts: int, queued_at: dt.datetime, now: dt.datetime
    ) -> dt.datetime | None:
        """When to try again after `attempts` failed attempts; None: give up."""
        deadline = queued_at + self.give_up_after
        if now >= deadline and attempts > len(self.delays):
            return None
        delay = self.delays[attempts - 1] if 0 < attempts <= len(self.delays) else self.then_every
        nxt = now + delay
        return min(nxt, deadline) if now < deadline else nxt


class Outbox:
    """The worker that sends what the outbox holds. One per process."""

    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        mailer: Mailer,
        *,
        sender: str,
        clock: Clock = utcnow,
        receipts_enabled: bool = False,
        uncertain_grace: dt.timedelta = dt.timedelta(minutes=10),
        retry: RetryPolicy | None = None,
        batch: int = 50,
    ):
        self.db = db
        self.blobs = blobs
        self.mailer = mailer
        self.sender = parseaddr(sender)[1] or sender  # the envelope: the bare address
        self.clock = clock
        self.receipts_enabled = receipts_enabled
        self.uncertain_grace = uncertain_grace
        self.retry = retry or RetryPolicy()
        self.batch = batch
        self._wake = asyncio.Event()

    @classmethod
    def from_settings(
        cls, settings: Settings, db: Database, blobs: BlobStore, **kwargs: Any
    ) -> Outbox:
        """SMTP when SMTP_HOST is set, else the outbox folder; receipts when IMAP_HOST is."""
        mailer: Mailer
        if settings.smtp_host:
            mailer = SmtpMailer.from_settings(settings)
        else:
            mailer = FolderMailer(settings.outbox_dir)
        kwargs.setdefault("receipts_enabled", settings.imap_host is not None)
        return cls(db, blobs, mailer, sender=settings.smtp_from, **kwargs)

    def _stamp(self, now: dt.datetime | None) -> dt.datetime:
        return now if now is not None else self.clock()

    def wake(self) -> None:
        """Something was queued: look now rather than at the next interval."""
        self._wake.set()

    # -- start-up ----------------------------------------------------------------------

    def recover(self, now: dt.datetime | None = None) -> int:
        """Rows a dead worker left `sending` become `uncertain`. Returns how many.

        Without receipts (and with a real mail server) every uncertain dossier is put in
        `errore` and the operator is told to check; nothing is sent again by itself."""
        found = 0
        for row in outbox.in_status(self.db, outbox.SENDING):
            since = parse_iso(row["next_attempt_at"])
            if outbox.mark_uncertain(
                self.db, row["id"], "interrupted while sending", since + self.uncertain_grace
            ):
                found += 1
                log.warning(
                    "outbox: dossier %s part %d/%d was being sent when the worker stopped",
                    row["dossier_id"],
                    row["part"],
                    row["parts"],
                )
        if not self._resolves_uncertain:
            stamp = self._stamp(now)
            for row in outbox.in_status(self.db, outbox.UNCERTAIN):
                self._give_up_uncertain(row, stamp)
        return found

    @property
    def _resolves_uncertain(self) -> bool:
        return self.receipts_enabled or self.mailer.saves_only

    def _give_up_uncertain(self, row: dict[str, Any], now: dt.datetime) -> None:
        outbox.hold_others(self.db, row["dossier_id"], row["id"])
        set_status(self.db, row["dossier_id"], "errore", {"reason": "uncertain"}, at=iso(now))
        log.error(
            "outbox: dossier %s part %d/%d (Message-ID %s) may or may not have reached the "
            "mail server, and no PEC receipts are read to tell. Check the sent folder of the "
            "PEC mailbox: if it is not there, send it again with: sportello outbox --requeue DOSSIER",
            row["dossier_id"],
            row["part"],
            row["parts"],
            row["message_id"],
        )

    # -- one round ---------------------------------------------------------------------

    async def run_once(self, now: dt.datetime | None = None) -> int:
        """Send what is due (and settle uncertain rows). Returns how many rows it handled."""
        handled = 0
        if self._resolves_uncertain:
            for row in outbox.in_status(self.db, outbox.UNCERTAIN):
                handled += await self._settle_uncertain(row, now)
        for row in outbox.due(self.db, self._stamp(now), self.batch):
            handled += await self._attempt(row, outbox.PENDING, now)
        return handled

    async def _settle_uncertain(self, row: dict[str, Any], now: dt.datetime | None) -> int:
        if self.mailer.saves_only:  # writing the file again is harmless
            return await self._attempt(row, outbox.UNCERTAIN, now)
        stamp = self._stamp(now)
        if outbox.accepted_by_receipt(self.db, row["message_id"]):
            if outbox.mark_sent(self.db, row["id"], stamp):
                log.info(
                    "outbox: dossier %s part %d/%d was taken before the stop (receipt found)",
                    row["dossier_id"],
                    row["part"],
                    row["parts"],
                )
                outbox.finish_if_done(self.db, row["dossier_id"], stamp)
                return 1
            return 0
        if parse_iso(row["next_attempt_at"]) <= stamp:
            log.warning(
                "outbox: no acceptance receipt for dossier %s part %d/%d: sending it again",
                row["dossier_id"],
                row["part"],
                row["parts"],
            )
            return await self._attempt(row, outbox.UNCERTAIN, now)
        return 0

    async def _attempt(self, row: dict[str, Any], from_status: str, now: dt.datetime | None) -> int:
        dossier_id, part, parts = row["dossier_id"], row["part"], row["parts"]
        started = self._stamp(now)
        if not outbox.mark_sending(self.db, row["id"], started, from_status=from_status):
            return 0  # another worker has it
        attempt = row["attempts"] + 1
        if (
            self.receipts_enabled
            and row["attempts"]
            and outbox.accepted_by_receipt(self.db, row["message_id"])
        ):
            # an earlier attempt did get through (its receipt came late): not again
            stamp = self._stamp(now)
            outbox.mark_sent(self.db, row["id"], stamp)
            log.info("outbox: dossier %s part %d/%d already accepted", dossier_id, part, parts)
            outbox.finish_if_done(self.db, dossier_id, stamp)
            return 1
        if not self.mailer.saves_only:
            set_status(
                self.db,
                dossier_id,
                "in_invio",
                {"parts": parts},
                at=iso(started),
                forward_only=True,
            )
        try:
            raw = self.blobs.get(row["blob"])
        except BlobError as exc:
            log.error("outbox: dossier %s part %d/%d: %s", dossier_id, part, parts, exc)
            self._fail(row, str(exc), {"reason": "send_failed"}, self._stamp(now))
            return 1
        try:
            await self.mailer.deliver(
                raw,
                sender=self.sender,
                recipient=row["recipient"],
                dossier_id=dossier_id,
                part=part,
                message_id=row["message_id"],
            )
        except PermanentError as exc:
            log.error(
                "outbox: dossier %s part %d/%d refused by the mail server (code %s)",
                dossier_id,
                part,
                parts,
                exc.code,
            )
            self._fail(row, str(exc), {"reason": "refused", "code": exc.code}, self._stamp(now))
        except UncertainError as exc:
            log.warning(
                "outbox: dossier %s part %d/%d: the connection broke after the message was "
                "handed over",
                dossier_id,
                part,
                parts,
            )
            outbox.mark_uncertain(self.db, row["id"], str(exc), started + self.uncertain_grace)
            if not self._resolves_uncertain:
                self._give_up_uncertain(row, self._stamp(now))
        except Exception as exc:
            text = str(exc) if isinstance(exc, DeliveryError) else _describe(exc)
            stamp = self._stamp(now)
            queued = parse_iso(row["created_at"])
            next_at = self.retry.next_attempt(attempt, queued, stamp)
            if next_at is None:
                log.error(
                    "outbox: dossier %s part %d/%d not sent after %d attempts: giving up",
                    dossier_id,
                    part,
                    parts,
                    attempt,
                )
                self._fail(row, text, {"reason": "send_failed"}, stamp)
            else:
                log.warning(
                    "outbox: dossier %s part %d/%d attempt %d failed (%s%s), next at %s",
                    dossier_id,
                    part,
                    parts,
                    attempt,
                    type(exc).__name__,
                    f" {exc.code}" if isinstance(exc, DeliveryError) and exc.code else "",
                    iso(next_at),
                )
                outbox.mark_retry(self.db, row["id"], text, next_at)
                code = exc.code if isinstance(exc, DeliveryError) else None
                detail = {"next_at": iso(next_at), "attempt": attempt, "error": text}
                if code:
                    detail["code"] = code
                if parts > 1:
                    detail |= {"part": part, "parts": parts}
                # every try is recorded on the outbox's clock (the back-office lists
                # them); the family hears it once, with the next try
                add_event(
                    self.db,
                    dossier_id,
                    RETRYING,
                    detail,
                    at=iso(stamp),
                    tell=attempt == 1 and part == 1,
                )
        else:
            stamp = self._stamp(now)
            if self.mailer.saves_only:
                outbox.mark_saved(self.db, row["id"], stamp)
                log.info(
                    "outbox: dossier %s part %d/%d saved to the folder", dossier_id, part, parts
                )
            else:
                outbox.mark_sent(self.db, row["id"], stamp)
                log.info(
                    "outbox: dossier %s part %d/%d sent (attempt %d)",
                    dossier_id,
                    part,
                    parts,
                    attempt,
                )
            outbox.finish_if_done(self.db, dossier_id, stamp)
        return 1

    def _fail(
        self, row: dict[str, Any], error: str, detail: dict[str, Any], now: dt.datetime
    ) -> None:
        with self.db.atomic():
            outbox.mark_failed(self.db, row["id"], error)
            outbox.hold_others(self.db, row["dossier_id"], row["id"])
            set_status(self.db, row["dossier_id"], "errore", detail, at=iso(now))

    # -- the loop ----------------------------------------------------------------------

    async def run_forever(self, stop: asyncio.Event, interval: float = 5) -> None:
        """`recover()`, then a round every `interval` seconds (or at `wake()`) until `stop`.
        A round in progress finishes before it returns: no message is cut half-way."""
        self.recover()
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("outbox: a round failed")
            waits = [
                asyncio.ensure_future(stop.wait()),
                asyncio.ensure_future(self._wake.wait()),
            ]
            try:
                await asyncio.wait(waits, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
            self._wake.clear()
