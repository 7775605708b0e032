"""PEC receipts (ricevute): what the providers send back about a message we sent.

A receipt is an e-mail from the PEC provider with the header `X-Ricevuta: <kind>` and
`X-Riferimento-Message-ID: <our Message-ID>`. Its body is S/MIME clear-signed
(`multipart/signed`): inside, a human text, the machine-readable `daticert.xml` and, for a
"completa" delivery receipt, the original message as `postacert.eml` (DPR 68/2005, technical
rules of DM 2 novembre 2005).

`parse_receipt` reads the kind from the header, then the details from `daticert.xml`,
which wins over the headers when both say something (the provider signs the XML). The XML
is parsed with defusedxml: the usual `<!DOCTYPE postacert SYSTEM "daticert.dtd">` is
accepted, entity declarations are not (a receipt whose XML is refused still counts, from
its headers alone). The signature is not verified here.

`parse_receipt` never raises: anything that is not a PEC receipt (an ordinary reply, a
transport envelope, spam, garbage) gives None. Nothing here logs content.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from typing import Any
from xml.etree.ElementTree import Element, ParseError
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

log = logging.getLogger(__name__)

ACCETTAZIONE = "accettazione"
NON_ACCETTAZIONE = "non-accettazione"
PRESA_IN_CARICO = "presa-in-carico"
AVVENUTA_CONSEGNA = "avvenuta-consegna"
ERRORE_CONSEGNA = "errore-consegna"
PREAVVISO_ERRORE_CONSEGNA = "preavviso-errore-consegna"
RILEVAZIONE_VIRUS = "rilevazione-virus"

KINDS = (
    ACCETTAZIONE,
    NON_ACCETTAZIONE,
    PRESA_IN_CARICO,
    AVVENUTA_CONSEGNA,
    ERRORE_CONSEGNA,
    PREAVVISO_ERRORE_CONSEGNA,
    RILEVAZIONE_VIRUS,
)
ERROR_KINDS = frozenset(
    {NON_ACCETTAZIONE, ERRORE_CONSEGNA, PREAVVISO_ERRORE_CONSEGNA, RILEVAZIONE_VIRUS}
)

# The dossier status a receipt of each kind moves towards (None: no change).
STATUS_FOR_KIND: dict[str, str | None] = {
    ACCETTAZIONE: "accettata",
    AVVENUTA_CONSEGNA: "consegnata",
    NON_ACCETTAZIONE: "errore",
    ERRORE_CONSEGNA: "errore",
    RILEVAZIONE_VIRUS: "errore",
    PREAVVISO_ERRORE_CONSEGNA: "errore",
    PRESA_IN_CARICO: None,
}

MAX_DATICERT_BYTES = 1 << 20  # a real daticert.xml is a few kilobytes
MAX_DEPTH = 8  # MIME nesting looked into (the receipt's own structure is 3 deep)
MAX_PARTS = 200
ROME = "Europe/Rome"  # the technical rules' default when a provider leaves out `zona`

_SUBJECT_PREFIX = re.compile(r"^[A-ZÀ-Ú][A-ZÀ-Ú .'-]{1,80}:\s*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_MSGID_OK = re.compile(r"^[^\s<>]{1,900}$")


@dataclass
class Receipt:
    """One PEC receipt, as far as it can be read.

    kind: one of KINDS. refers_to: the Message-ID of our message, `<...>` form. at: when the
    provider says it happened (aware). recipient: the address it speaks of (`consegna`; for
    an acceptance, the addressees). error: the provider's error text or code. message_id:
    the receipt's own Message-ID. provider: `gestore-emittente`. subject: the subject of
    our original message.
    """

    kind: str
    refers_to: str | None
    at: dt.datetime | None
    recipient: str | None
    error: str | None
    message_id: str | None
    provider: str | None
    subject: str | None


def parse_receipt(raw: bytes) -> Receipt | None:
    """The receipt in `raw`, or None when `raw` is not a PEC receipt. Never raises."""
    try:
        return _parse(raw)
    except Exception as exc:  # garbage must never stop the mailbox poller
        log.debug("not a readable PEC receipt (%s)", type(exc).__name__)
        return None


# -- headers ---------------------------------------------------------------------------


def _clean(text: str | None, limit: int = 1000) -> str | None:
    """One line of text: control characters and runs of blanks become one space."""
    if text is None:
        return None
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text[:limit] or None


def _header(msg: Message, name: str) -> str | None:
    """The first `name` header, RFC 2047 words decoded, as one clean line."""
    value = msg.get(name)
    if value is None:
        return None
    raw = str(value)
    try:
        decoded = str(make_header(decode_header(raw)))
    except Exception:  # an unknown charset, broken encoded words
        decoded = raw
    return _clean(decoded)


def normalize_message_id(value: str | None) -> str | None:
    """`<id>` form of a Message-ID written with or without angle brackets, or None."""
    if value is None:
        return None
    text = "".join(value.split())
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if not _MSGID_OK.match(text) or not text.isprintable():
        return None
    return f"<{text}>"


def _header_date(msg: Message) -> dt.datetime | None:
    value = _header(msg, "Date")
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo is not None else None


# -- MIME ------------------------------------------------------------------------------


def _parts(msg: Message) -> Iterator[Message]:
    """Every part of the receipt, depth-first, without entering attached messages (the
    original in `postacert.eml` is ours, not the provider's)."""
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth = stack.pop()
        seen += 1
        yield part
        if depth >= MAX_DEPTH or part.get_content_maintype() == "message":
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend((p, depth + 1) for p in reversed(payload) if isinstance(p, Message))


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return None
    return name.strip().lower() if isinstance(name, str) else None


def _daticert_bytes(msg: Message) -> bytes | None:
    """The bytes of `daticert.xml`: the part so named, else the first XML part."""
    fallback: bytes | None = None
    for part in _parts(msg):
        if part.is_multipart():
            continue
        named = _filename(part) == "daticert.xml"
        if not named and part.get_content_type() not in ("application/xml", "text/xml"):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or len(data) > MAX_DATICERT_BYTES:
            continue
        if named:
            return data
        if fallback is None:
            fallback = data
    return fallback


# -- daticert.xml ----------------------------------------------------------------------


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _children(element: Element | None, name: str) -> list[Element]:
    if element is None:
        return []
    return [child for child in element if _local(child.tag) == name]


def _child(element: Element | None, name: str) -> Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _text(element: Element | None, name: str) -> str | None:
    child = _child(element, name)
    return _clean("".join(child.itertext())) if child is not None else None


def _load_daticert(data: bytes) -> Element | None:
    try:
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError, ValueError, LookupError) as exc:
        log.info("daticert.xml refused (%s): reading the receipt headers only", type(exc).__name__)
        return None
    return root if _local(root.tag) == "postacert" else None


_DAY = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
_ZONE = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")


def _zone(text: str | None) -> dt.tzinfo | None:
    match = _ZONE.match(text or "")
    if match:
        sign, hours, minutes = match.groups()
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes))
        if offset >= dt.timedelta(hours=24) or int(minutes) >= 60:
            return None
        return dt.timezone(-offset if sign == "-" else offset)
    if text and text.strip():
        return None  # a zone we cannot read: better no time than a wrong one
    try:
        return ZoneInfo(ROME)
    except Exception:
        return None


def _when(dati: Element | None) -> dt.datetime | None:
    data = _child(dati, "data")
    if data is None:
        return None
    day = _DAY.match(_text(data, "giorno") or "")
    time = _TIME.match(_text(data, "ora") or "")
    zone = _zone(data.get("zona"))
    if not day or not time or zone is None:
        return None
    d, m, y = (int(x) for x in day.groups())
    hh, mm, ss = (int(x or 0) for x in time.groups())
    try:
        return dt.datetime(y, m, d, hh, mm, ss, tzinfo=zone)
    except ValueError:
        return None


# -- the receipt -----------------------------------------------------------------------


def _parse(raw: bytes) -> Receipt | None:
    if not isinstance(raw, bytes | bytearray | memoryview):
        return None
    msg = BytesParser(policy=compat32).parsebytes(bytes(raw))
    header_kind = (_header(msg, "X-Ricevuta") or "").strip().lower()
    if not header_kind:
        return None  # an ordinary message, or a transport envelope (X-Trasporto)

    root: Element | None = None
    data = _daticert_bytes(msg)
    if data is not None:
        root = _load_daticert(data)

    xml_kind = (root.get("tipo") or "").strip().lower() if root is not None else ""
    if xml_kind in KINDS:
        kind = xml_kind
    elif header_kind in KINDS:
        kind = header_kind
    else:
        return None

    header_subject = _header(msg, "Subject")
    receipt = Receipt(
        kind=kind,
        refers_to=normalize_message_id(_header(msg, "X-Riferimento-Message-ID")),
        at=_header_date(msg),
        recipient=None,
        error=None,
        message_id=normalize_message_id(_header(msg, "Message-ID")),
        provider=None,
        subject=_SUBJECT_PREFIX.sub("", header_subject, count=1) if header_subject else None,
    )
    if root is None:
        return receipt

    intestazione = _child(root, "intestazione")
    dati = _child(root, "dati")
    receipt.refers_to = normalize_message_id(_text(dati, "msgid")) or receipt.refers_to
    receipt.at = _when(dati) or receipt.at
    receipt.provider = _text(dati, "gestore-emittente")
    receipt.subject = _text(intestazione, "oggetto") or receipt.subject
    consegna = _text(dati, "consegna")
    addressees = [
        text
        for d in _children(intestazione, "destinatari")
        if (text := _clean("".join(d.itertext())))
    ]
    receipt.recipient = consegna or (", ".join(addressees)[:1000] if addressees else None)
    code = (root.get("errore") or "").strip().lower()
    receipt.error = _text(dati, "errore-esteso") or (
        _clean(code) if code and code != "nessuno" else None
    )
    return receipt
