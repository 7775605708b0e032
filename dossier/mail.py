"""The e-mail messages of one dossier, as RFC 5322 bytes ready for SMTP.

A dossier over the size budget travels as several messages; each carries the summary
(`riepilogo-istanza.json`) so the comune can put the parts together. Every message gets a
Message-ID fixed by the dossier and the part, `<B2-7K3M9Q.1of2@pec.example.it>`: a retry
sends the very same message, never a new application, and the PEC receipts name it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from typing import Protocol

from common.clock import ROME, utcnow

DOSSIER_HEADER = "X-Sportello-Dossier"
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")


class MailFile(Protocol):
    """What a message needs of a file (`dossier.assemble.OutFile` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def mime(self) -> str: ...


class MailDossier(Protocol):
    """What a message needs of an assembled dossier (`dossier.assemble.Dossier`)."""

    @property
    def dossier_id(self) -> str: ...
    @property
    def messages(self) -> Sequence[Sequence[MailFile]]: ...


def domain_of(address: str) -> str:
    """The domain of an address, with or without a display name: `Sportello <a@b.it>`."""
    _, addr = parseaddr(address)
    domain = addr.rpartition("@")[2].strip().lower()
    if not domain or not _DOMAIN.match(domain):
        raise ValueError("the sender has no usable domain for the Message-ID")
    return domain


def message_id(dossier_id: str, part: int, parts: int, domain: str) -> str:
    """`<{dossier_id}.{part}of{parts}@{domain}>`: the same for every attempt."""
    if not _LOCAL.match(dossier_id):
        raise ValueError("a dossier id must be plain ASCII letters, digits and dashes")
    if not _DOMAIN.match(domain):
        raise ValueError("not a domain for a Message-ID")
    if not 1 <= part <= parts:
        raise ValueError("part out of range")
    return f"<{dossier_id}.{part}of{parts}@{domain}>"


def _body(text: str, names: list[str], part: int, parts: int) -> str:
    lines = [text.rstrip(), ""]
    if parts > 1:
        lines.append(f"Questo è il messaggio {part} di {parts} della stessa istanza.")
    lines.append(f"Allegati a questo messaggio ({len(names)}): {', '.join(names)}.")
    return "\n".join(lines) + "\n"


def build_messages(
    dossier: MailDossier,
    *,
    sender: str,
    recipient: str,
    subject: str,
    body: str,
    reply_to: str | None = None,
    domain: str | None = None,
    date: dt.datetime | None = None,
) -> list[tuple[str, bytes]]:
    """One (Message-ID, message bytes with CRLF line ends) per e-mail of the dossier.

    `body` is the Italian text for the comune; a line listing this message's attachments
    is added to it. `domain` of the Message-ID defaults to the sender's; `date` to now.
    """
    groups = list(dossier.messages)
    if not groups:
        raise ValueError("a dossier needs at least one message")
    parts = len(groups)
    domain = (domain or domain_of(sender)).lower()
    when = format_datetime((date or utcnow()).astimezone(ROME))  # the time in Italy, with its offset
    out: list[tuple[str, bytes]] = []
    for part, files in enumerate(groups, start=1):
        if not files:
            raise ValueError("a message without attachments")
        mid = message_id(dossier.dossier_id, part, parts, domain)
        msg = EmailMessage(policy=SMTP)
        msg["From"] = sender
        msg["To"] = recipient
        if reply_to:
            msg["Reply-To"] = reply_to
        msg["Subject"] = subject if parts == 1 else f"{subject} (parte {part} di {parts})"
        msg["Date"] = when
        msg["Message-ID"] = mid
        msg[DOSSIER_HEADER] = dossier.dossier_id
        names = [f.name for f in files]
        msg.set_content(_body(body, names, part, parts), charset="utf-8", cte="quoted-printable")
        for f in files:
            maintype, _, subtype = f.mime.partition("/")
            if not maintype or not subtype:
                raise ValueError("an attachment without a MIME type")
            msg.add_attachment(
                bytes(f.data), maintype=maintype, subtype=subtype, filename=f.name, cte="base64"
            )
        out.append((mid, msg.as_bytes()))
    return out
