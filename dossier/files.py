"""The check of one uploaded file, from its bytes.

Families send phone photos and PDF files (and sometimes signed `.p7m` files). Before a
file joins the dossier we make sure it is what it looks like, that it is whole, that a
person can read it, and that it carries nothing active. The kind comes from the content,
never from the file name.

Every refusal is a `FileRefused` with a short reason code and an Italian message marked
with `N_`; the caller translates it and fills it with `.format(**params)`. Any error from
the image and PDF libraries becomes a `FileRefused`: nothing else leaves `inspect`.
Logs carry reason codes, kinds and sizes only, never content or names.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import logging
import math
import re
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import accumulate
from typing import Any

import pillow_heif
from PIL import Image, ImageOps, ImageStat, JpegImagePlugin
from pypdf import PasswordType, PdfReader

from common.i18n import N_

from . import pdfscan
from .pdfs import (
    REFUSED_ALWAYS,
    REFUSED_WHEN_SIGNED,
    PdfProblem,
    clean_copy,
    findings,
    page_count,
    text_of,
)
from .signatures import (
    Signer,
    load_signed_data,
    p7m_signers,
    p7m_verified,
    pdf_signature_verifies,
    pdf_signers,
    tail_is_updates,
)

pillow_heif.register_heif_opener()

log = logging.getLogger(__name__)

# pypdf's warnings quote the bytes of the file they complain about (names, text), and
# Pillow's debug lines print EXIF values: personal data. Quiet them, unless the
# application has set their level itself.
for _name, _level in (("pypdf", logging.CRITICAL), ("PIL", logging.INFO)):
    if logging.getLogger(_name).level == logging.NOTSET:
        logging.getLogger(_name).setLevel(_level)

MAX_DOWNLOAD = 20 * 1024 * 1024  # Telegram bots cannot download files over 20 MB
MIN_IMAGE_SIDE = 400  # px, the shorter side; smaller cannot be read

# The decompression-bomb guard: Pillow warns over this many pixels and fails over twice
# as many; `_bomb_guard` turns the warning into an error too. Checked when the header is
# read, before any pixel is decoded.
MAX_IMAGE_PIXELS = 80_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# Our own ceilings, per kind, so that the worst image we take costs at most ~300 MB to
# open. A baseline JPEG is decoded at 1/2, 1/4 or 1/8 scale (Image.draft), so even a
# 108-megapixel phone photo is cheap; a progressive JPEG keeps every coefficient of the
# full picture in memory, and PNG, WebP and HEIC have no reduced decoding at all.
MAX_PIXELS = {  # measured: the worst of each costs under 300 MB and 2 s to check
    "jpeg": 80_000_000,  # decoded at 1/2 or 1/4 scale
    "jpeg_progressive": 50_000_000,  # all coefficients in memory: 3-4 bytes a pixel
    "jpeg_progressive_444": 40_000_000,  # no chroma subsampling: 6 bytes a pixel
    "png": 30_000_000,  # ~9 bytes a pixel to decode; an A4 page at 500 dpi is 24 Mpx
    "heic": 32_000_000,  # ~7 bytes a pixel; phones take 12 and 24 Mpx by default
    "webp": 16_000_000,  # ~16 bytes a pixel
}
# The copy we keep of a photo: re-encoded (so nothing rides along after the picture),
# upright, no metadata, at most this many pixels on the longer side.
CLEAN_SIDE = 4000
CLEAN_QUALITY = 90
DRAFT_TOLERANCE = 0.75  # a JPEG may be decoded down to this share of the side wanted
MAX_PDF_PAGES = 100  # per file: a 50-page verbale fits twice

BLANK_STDDEV = 6.0  # grayscale standard deviation on a thumbnail; below it, nearly uniform
# ...unless some ink stands out: a page with one signature line is nearly uniform too
_INK_CONTRAST = 48  # gray levels away from the median
_INK_SHARE = 1 / 5000  # of the thumbnail's pixels
_THUMBNAIL = (512, 512)
_ORIENTATION = 0x0112  # the EXIF tag
MIN_P7M_SIZE = 200
_EOF_WINDOW = 2048  # `%%EOF` must be within this many bytes of the end of a PDF

_MSG_EMPTY = N_("Il file è arrivato vuoto. Provate a mandarlo di nuovo.")
_MSG_TOO_BIG = N_(
    "Il file è troppo grande: pesa {size_mb} MB e il limite è {limit_mb} MB. "
    "Mandate il documento come foto e non come file, "
    "oppure fate la scansione con una qualità più bassa, "
    "oppure dividete il PDF in più parti."
)
_MSG_NOT_A_DOCUMENT = N_(
    "Questo file non è una foto né un PDF. "
    "Accettiamo solo foto, file PDF e file firmati digitalmente (.p7m). "
    "Mandate una foto del documento oppure il PDF."
)
_MSG_TRUNCATED = N_(
    "Il file è arrivato incompleto o rovinato. Provate a mandarlo di nuovo. "
    "Se non funziona, mandate una foto del documento."
)
_MSG_ENCRYPTED = N_("Il PDF è protetto da password. Mandate una copia senza password.")
_MSG_ACTIVE_CONTENT = N_(
    "Questo PDF contiene programmi o allegati nascosti e non possiamo accettarlo. "
    "Mandate una foto delle pagine, oppure salvate di nuovo il documento come PDF semplice."
)
_MSG_BOMB = N_(
    "L'immagine è troppo grande per essere aperta. "
    "Mandatela come foto e non come file, oppure fatene una con meno risoluzione."
)
_MSG_TOO_SMALL = N_(
    "La foto è troppo piccola e non si legge. "
    "Rifatela più da vicino, con il documento che riempie la foto."
)
_MSG_BLANK = N_(
    "La foto sembra vuota: tutta nera o tutta bianca. Rifatela con il documento ben inquadrato e con luce."
)
_MSG_UNREADABLE = N_(
    "Non riusciamo ad aprire questo file. "
    "Mandatelo di nuovo, oppure mandate una foto del documento."
)
_MSG_NO_PAGES = N_("Questo PDF non ha pagine. Mandate il PDF del documento, oppure una sua foto.")
_MSG_TOO_MANY_PAGES = N_(
    "Il PDF ha troppe pagine: per questo documento ne prendiamo al massimo {limit}. "
    "Mandate solo le pagine che servono, oppure dividete il PDF in più parti."
)
_MSG_TOO_COMPLEX = N_(
    "Questo file è troppo complicato da controllare. "
    "Mandate una foto del documento, oppure salvatelo di nuovo come PDF semplice."
)
_MSG_SIGNED_ACTIVE = N_(
    "Questo file ha la firma digitale, ma contiene anche collegamenti, azioni o allegati. "
    "Così non possiamo mandarlo al Comune. "
    "Firmate un PDF semplice, oppure mandate una foto delle pagine firmate."
)
_MSG_REPEATED_KEYS = N_(
    "Questo PDF è scritto in un modo che non riusciamo a controllare. "
    "Mandate una foto delle pagine, oppure salvatelo di nuovo come PDF. "
    "Se è firmato digitalmente, chiedete una nuova copia a chi l'ha firmato."
)
CHANGED_AFTER_SIGNING = N_(
    "Questo PDF è stato cambiato dopo la firma digitale, quindi per noi non vale come "
    "firmato: lo teniamo come un PDF normale. "
    "Se doveva essere firmato, mandate il file così come era dopo la firma."
)

# What one dossier may weigh (its clean copies), so that putting it together fits the
# assembly's process (450 MB) and a few PEC messages: a phone photo's clean copy is 1-4 MB,
# a 50-page scan 10-20 MB.
MAX_ITEM_BYTES = 40 * 1024 * 1024
MAX_DOSSIER_BYTES = 100 * 1024 * 1024
_MSG_ITEM_BYTES = N_(
    "Questo documento è troppo pesante: con questo file arriverebbe a {size_mb} MB e il "
    "limite per un documento è {limit_mb} MB. Mandate le pagine come foto e non come file, "
    "oppure un PDF più leggero (una scansione con qualità più bassa)."
)
_MSG_DOSSIER_BYTES = N_(
    "La domanda è troppo pesante: con questo file arriverebbe a {size_mb} MB e il limite "
    "è {limit_mb} MB. Mandate le pagine come foto e non come file, oppure PDF più leggeri. "
    "Per togliere un documento, toccate «Rifai un documento»."
)

_MSG_MESSAGE_BYTES = N_(
    "«{item}» non entra in una PEC: arriverebbe a {size_mb} MB, il massimo è {limit_mb} MB. "
    "Questo file non l'ho preso, gli altri restano. Mandate meno pagine, foto invece di "
    "file o una scansione più leggera; se no, portatelo ai servizi sociali del Comune."
)
_MSG_BUSY = N_(
    "Sto ancora controllando i file di prima: questo non l'ho preso. Mandatelo di nuovo "
    "tra un minuto."
)

REFUSAL_REASONS: dict[str, str] = {
    _MSG_EMPTY: "empty",
    _MSG_TOO_BIG: "too_big",
    _MSG_NOT_A_DOCUMENT: "not_a_document",
    _MSG_TRUNCATED: "truncated",
    _MSG_ENCRYPTED: "encrypted",
    _MSG_ACTIVE_CONTENT: "active_content",
    _MSG_BOMB: "bomb",
    _MSG_TOO_SMALL: "too_small",
    _MSG_BLANK: "blank",
    _MSG_UNREADABLE: "unreadable",
    _MSG_NO_PAGES: "unreadable",
    _MSG_TOO_MANY_PAGES: "too_many_pages",
    _MSG_TOO_COMPLEX: "too_complex",
    _MSG_SIGNED_ACTIVE: "active_content",
    _MSG_REPEATED_KEYS: "repeated_keys",
    _MSG_ITEM_BYTES: "too_heavy",
    _MSG_DOSSIER_BYTES: "too_heavy",
    _MSG_MESSAGE_BYTES: "too_heavy",
    _MSG_BUSY: "busy",
}
"""Every refusal message (msgid) and its reason code."""


class FileRefused(Exception):
    """A file we cannot take; `msgid` (Italian, N_-marked) says why and what to do; `params` fill it.

    `reason` is a short machine code, one of the values of `REFUSAL_REASONS`; a message not
    in that table counts as "unreadable".
    """

    msgid: str
    params: dict[str, object]
    reason: str

    def __init__(self, msgid: str, **params: object) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.params = dict(params)
        self.reason = REFUSAL_REASONS.get(msgid, "unreadable")

    def __str__(self) -> str:
        return self.reason

    def __reduce__(self) -> tuple[Any, ...]:  # crosses from the checking process intact
        return (_refused, (self.msgid, self.params))


def _refused(msgid: str, params: dict[str, object]) -> FileRefused:
    return FileRefused(msgid, **params)


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed every check, with what the dossier needs to know about it."""

    kind: str  # "jpeg" | "png" | "webp" | "heic" | "pdf" | "p7m"
    mime: str  # "image/jpeg", ..., "application/pdf", "application/pkcs7-mime"
    extension: str  # ".jpg", ".png", ".webp", ".heic", ".pdf", ".p7m"
    pages: int  # images: 1; PDF: page count; p7m: 1 (content not opened)
    size: int  # bytes
    sha256: str  # hex of the bytes as received
    signed: bool  # a .p7m (CAdES) or a PDF whose signatures verify (`dossier.signatures`)
    width: int | None = None  # images, after EXIF orientation
    height: int | None = None
    needs_password_removal: bool = False  # an encrypted PDF that opens with an empty password
    # The copy to keep and forward: a photo re-encoded (JPEG), a PDF without a signature
    # rewritten from its pages; a signed PDF or a p7m as received.
    clean: bytes = field(default=b"", repr=False, compare=False)
    text: str = field(default="", repr=False, compare=False)  # first pages, when asked
    # who issued each signer's certificate (`dossier.signatures.Signer`), for the staff
    signers: tuple[Signer, ...] = ()
    # a PDF whose signature verifies but that was changed after signing: kept as unsigned
    changed_after_signing: bool = False

    @property
    def kept_kind(self) -> str:
        """The kind of the clean copy: every photo is kept as a JPEG."""
        return "jpeg" if self.kind in _PIL_FORMATS else self.kind

    @property
    def kept_mime(self) -> str:
        return _MIME[self.kept_kind]


_MIME = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "heic": "image/heic",
    "pdf": "application/pdf",
    "p7m": "application/pkcs7-mime",
}
_EXTENSION = {
    "jpeg": ".jpg",
    "png": ".png",
    "webp": ".webp",
    "heic": ".heic",
    "pdf": ".pdf",
    "p7m": ".p7m",
}
# Pillow format names per kind: a file sniffed as one kind is opened by that decoder only.
_PIL_FORMATS = {
    "jpeg": ["JPEG", "MPO"],
    "png": ["PNG"],
    "webp": ["WEBP"],
    "heic": ["HEIF"],
}


def _mb(size: int) -> int:
    return math.ceil(size / (1024 * 1024))


def _too_big(size: int) -> FileRefused:
    return FileRefused(_MSG_TOO_BIG, size_mb=_mb(size), limit_mb=MAX_DOWNLOAD // (1024 * 1024))


def check_declared_size(file_size: int | None) -> None:
    """Before downloading: Telegram's declared size. Over MAX_DOWNLOAD raises "too_big".

    The message says the limit in MB and what to do (send it as a photo instead of a file,
    scan at lower quality, or split the PDF). An unknown size (None) passes: `inspect`
    checks the bytes again.
    """
    if file_size is not None and file_size > MAX_DOWNLOAD:
        raise _too_big(file_size)


def bytes_over(rows: list[dict[str, Any]], item_id: str | None, size: int) -> FileRefused | None:
    """The refusal when a file of `size` bytes would take its item or the dossier over
    its byte budget; `rows` are the dossier's attachments (with `item_id` and `size`)."""
    total = sum(int(r["size"] or 0) for r in rows) + size
    if total > MAX_DOSSIER_BYTES:
        return FileRefused(
            _MSG_DOSSIER_BYTES, size_mb=_mb(total), limit_mb=MAX_DOSSIER_BYTES // (1024 * 1024)
        )
    if item_id is None:
        return None
    item = sum(int(r["size"] or 0) for r in rows if r["item_id"] == item_id) + size
    if item > MAX_ITEM_BYTES:
        return FileRefused(
            _MSG_ITEM_BYTES, size_mb=_mb(item), limit_mb=MAX_ITEM_BYTES // (1024 * 1024)
        )
    return None


# --- sniffing -------------------------------------------------------------------------------

# What a photo page weighs in the assembled PDF at its smallest (`assemble.LEVELS`' last,
# 1200 px at quality 60: 100-250 KB for a page of text), rounded up; and room for the
# summary that travels in every message.
PHOTO_IN_MESSAGE = 300 * 1024
MANIFEST_ROOM = 64 * 1024


def message_over(
    rows: list[dict[str, Any]], item_id: str, budget: int, title: str
) -> FileRefused | None:
    """The refusal when an item's files (`rows`: the dossier's attachments as they would
    be, with `item_id`, `kind`, `signed` and `size`) would not fit one PEC message.

    The assembly (`dossier.assemble`) makes one PDF per item from its photos (re-encoded
    smaller when needed) and its PDFs (as they are), and keeps each signed PDF or .p7m as
    a file of its own; a file over the message `budget` (attachment bytes) cannot be sent
    at all. So the item's merged PDF (PDFs at their size, photos at their smallest) and
    each signed file must fit."""
    merged = 0
    alone = 0
    for r in rows:
        if r["item_id"] != item_id:
            continue
        kind, size = str(r["kind"]), int(r["size"] or 0)
        if kind == "p7m" or (kind == "pdf" and r["signed"]):
            alone = max(alone, size)
        elif kind == "pdf":
            merged += size
        else:
            merged += min(size, PHOTO_IN_MESSAGE)
    room = budget - MANIFEST_ROOM
    worst = max(merged, alone)
    if worst <= room:
        return None
    return FileRefused(
        _MSG_MESSAGE_BYTES, item=title, size_mb=_mb(worst), limit_mb=room // (1024 * 1024)
    )


_SIGNED_DATA_OID = bytes.fromhex("06092A864886F70D010702")
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"}
_NOT_HEIC_BRANDS = {b"avif", b"avis"}  # AVIF shares `mif1`; we cannot decode it
# Executables, archives (zip, so also .docx), Office binaries: never a document, even when
# a PDF is hidden inside.
_FOREIGN_MAGIC = (b"MZ", b"\x7fELF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\xca\xfe\xba\xbe")
_PEM = re.compile(rb"-----BEGIN [A-Z0-9 ]+-----|-----END [A-Z0-9 ]+-----")
_BASE64_TEXT = re.compile(rb"[A-Za-z0-9+/=\s]*")


def _is_der_signed_data(data: bytes) -> bool:
    return data[:1] == b"\x30" and _SIGNED_DATA_OID in data[:64]


def _heic_brands(data: bytes) -> set[bytes]:
    if data[4:8] != b"ftyp":
        return set()
    box = int.from_bytes(data[:4], "big")
    end = min(max(box, 16), 16 + 4 * 64, len(data))
    brands = {data[8:12]}
    brands.update(data[i : i + 4] for i in range(16, end - 3, 4))
    return brands


def _decode_base64_p7m(data: bytes, head_only: bool) -> bytes | None:
    """The DER bytes of a base64 or PEM p7m, or None if the text is not one.

    With `head_only`, only the start is decoded: enough to recognise it.
    """
    text = _PEM.sub(b"", data[:1024] if head_only else data)
    if head_only:
        text = text.split(b"-", 1)[0]  # an END line cut by the 1024 bytes
    if not _BASE64_TEXT.fullmatch(text):
        return None
    text = b"".join(text.split())
    if head_only:
        text = text[: min(len(text) // 4 * 4, 128)]
    try:
        der = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return der if _is_der_signed_data(der) else None


def sniff(data: bytes) -> str | None:
    """The kind from the content (magic numbers), never from the name; None if not ours.

    jpeg, png, webp, heic (ftyp brands heic/heix/hevc/heim/heis/mif1/msf1), pdf (`%PDF-`
    within the first 1024 bytes), p7m (DER SignedData, or the same encoded in base64/PEM).
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    brands = _heic_brands(data)
    if brands:
        return "heic" if brands & _HEIC_BRANDS and not brands & _NOT_HEIC_BRANDS else None
    if _is_der_signed_data(data):
        return "p7m"
    if data.startswith(_FOREIGN_MAGIC):
        return None
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data and _decode_base64_p7m(data, head_only=True) is not None:
        return "p7m"
    return None


# --- inspect --------------------------------------------------------------------------------


def inspect(
    data: bytes, *, max_pages: int = MAX_PDF_PAGES, text_pages: int = 0, seconds: float = 5.0
) -> CheckedFile:
    """Check one file completely and make its clean copy; raise FileRefused with a reason
    and a kind message otherwise.

    `max_pages`: the most pages a PDF may have (the signed form takes only a few more than
    its own). `text_pages`: also read the text of that many first pages of a PDF.
    `seconds`: the PDF walk gives up ("too_complex") after this long.
    """
    size = len(data)
    if size == 0:
        raise _refuse(FileRefused(_MSG_EMPTY), None, size)
    if size > MAX_DOWNLOAD:
        raise _refuse(_too_big(size), None, size)
    kind = sniff(data)
    if kind is None:
        raise _refuse(FileRefused(_MSG_NOT_A_DOCUMENT), None, size)
    deadline = time.monotonic() + seconds
    text = ""
    width = height = None
    needs_password_removal = changed = False
    signers: tuple[Signer, ...] = ()
    try:
        if kind == "pdf":
            pdf = _check_pdf(data, max_pages, text_pages, deadline)
            pages, signed, clean, text = pdf.pages, pdf.signed, pdf.clean, pdf.text
            needs_password_removal, signers = pdf.needs_password_removal, pdf.signers
            changed = pdf.changed_after_signing
        elif kind == "p7m":
            content = _p7m_clean_content(data)
            if content is not None:  # no signature we can verify, or a photo: its clean copy
                inner = inspect(
                    content, max_pages=max_pages, text_pages=text_pages, seconds=seconds
                )
                return replace(inner, size=size, sha256=hashlib.sha256(data).hexdigest())
            pages = _check_p7m(data, max_pages, deadline)
            signed, clean, signers = True, data, tuple(p7m_signers(_p7m_der(data)))
        else:
            width, height, clean = _check_image(data, kind)
            pages, signed = 1, False
    except FileRefused as refused:
        raise _refuse(refused, kind, size) from None
    except MemoryError as error:  # over the worker's memory ceiling
        raise _refuse(FileRefused(_MSG_TOO_COMPLEX), kind, size, error) from None
    except Exception as error:  # any library failure is a file we cannot read
        raise _refuse(FileRefused(_MSG_UNREADABLE), kind, size, error) from None
    return CheckedFile(
        kind=kind,
        mime=_MIME[kind],
        extension=_EXTENSION[kind],
        pages=pages,
        size=size,
        sha256=hashlib.sha256(data).hexdigest(),
        signed=signed,
        width=width,
        height=height,
        needs_password_removal=needs_password_removal,
        clean=clean,
        text=text,
        signers=signers,
        changed_after_signing=changed,
    )


def check(
    data: bytes, max_pages: int = MAX_PDF_PAGES, text_pages: int = 0
) -> CheckedFile | FileRefused:
    """`inspect` as a value (what the bounded process hands back), in this process."""
    try:
        return inspect(data, max_pages=max_pages, text_pages=text_pages)
    except FileRefused as refusal:
        return refusal


def _refuse(
    refused: FileRefused, kind: str | None, size: int, error: BaseException | None = None
) -> FileRefused:
    """Log a refusal without anything personal: reason, kind, size, error class."""
    log.info(
        "file refused: reason=%s kind=%s size=%d%s",
        refused.reason,
        kind or "-",
        size,
        f" error={type(error).__name__}" if error is not None else "",
    )
    return refused


# --- images ---------------------------------------------------------------------------------


@contextmanager
def _bomb_guard() -> Iterator[None]:
    """Pillow's decompression-bomb warning becomes an error; other warnings are quiet."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _open(data: bytes, kind: str) -> Image.Image:
    """Open the header only: the bomb guard and our ceilings run here, before any pixel
    is decoded."""
    try:
        img = Image.open(io.BytesIO(data), formats=_PIL_FORMATS[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise FileRefused(_MSG_BOMB) from None
    except Exception:  # the header itself cannot be read
        raise FileRefused(_MSG_UNREADABLE) from None
    # Again with our own limit: the warnings filter is process-wide (another thread may
    # reset it) and Image.MAX_IMAGE_PIXELS is anybody's to change.
    ceiling = MAX_PIXELS.get(kind, MAX_IMAGE_PIXELS)
    if kind == "jpeg" and (img.info.get("progressive") or img.info.get("progression")):
        ceiling = MAX_PIXELS["jpeg_progressive"]
        if JpegImagePlugin.get_sampling(img) not in (1, 2):  # 4:4:4: twice the colour
            ceiling = MAX_PIXELS["jpeg_progressive_444"]
    if img.width * img.height > min(ceiling, MAX_IMAGE_PIXELS):
        img.close()
        raise FileRefused(_MSG_BOMB)
    return img


def _orientation(img: Image.Image) -> int | None:
    """The EXIF orientation of a loaded image; a broken EXIF block counts as none."""
    try:
        value = img.getexif().get(_ORIENTATION)
    except Exception:
        return None
    return value if isinstance(value, int) else None


def _on_white(img: Image.Image) -> Image.Image:
    """RGB; transparent parts become white paper, not black."""
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        page = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        page.alpha_composite(rgba)
        return page.convert("RGB")
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        # 16-bit and float grays: stretch their own range to 8 bits
        img = img.convert("F")
        low, high = img.getextrema()  # type: ignore[misc]
        scale = 255 / (high - low) if high > low else 0.0
        img = img.point(lambda v: (v - low) * scale).convert("L")
    return img.convert("RGB")


def _decoded(img: Image.Image, kind: str, max_side: int) -> tuple[Image.Image, int | None]:
    """The pixels and the EXIF orientation. Decoded at a reduced size where the format
    allows it (JPEG: 1/2, 1/4, 1/8 while the longer side keeps at least `max_side`),
    then brought down to `max_side` (the full-size pixels are freed at once). Every byte
    is still read, so truncation shows."""
    width, height = img.size
    if kind == "jpeg" and max(width, height) > max_side:
        # a JPEG of 6000-8000 px decodes at 1/2 (3000-4000 px) rather than in full: the
        # full-size pixels of a 50 Mpx photo are 150 MB more
        scale = max_side * DRAFT_TOLERANCE / max(width, height)
        img.draft("RGB", (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))))
    try:
        img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise FileRefused(_MSG_BOMB) from None
    except MemoryError:
        raise
    except Exception:
        raise FileRefused(_MSG_TRUNCATED) from None
    orientation = _orientation(img)  # PNG keeps its EXIF after the pixels
    factor = math.ceil(max(img.size) / max_side)
    if factor > 1:
        small = img.reduce(factor)
        img.close()  # the full-size pixels go now, not when the file is closed
        return small, orientation
    return img, orientation


def _upright(pixels: Image.Image, orientation: int | None) -> Image.Image:
    if orientation in (None, 1):
        return pixels
    pixels.getexif()[_ORIENTATION] = orientation
    return ImageOps.exif_transpose(pixels)


def _check_image(data: bytes, kind: str) -> tuple[int, int, bytes]:
    """The upright width and height of a whole, readable, not blank image, and its clean
    copy (an upright RGB JPEG, no metadata, no bytes after the picture)."""
    with _bomb_guard(), _open(data, kind) as img:
        width, height = img.size  # as stored; turned below
        if min(width, height) < MIN_IMAGE_SIDE:  # turning does not change the shorter side
            raise FileRefused(_MSG_TOO_SMALL, width=width, height=height)
        pixels, orientation = _decoded(img, kind, CLEAN_SIDE)
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        page = _on_white(_upright(pixels, orientation))
        del pixels
    if _looks_blank(page):
        raise FileRefused(_MSG_BLANK)
    out = io.BytesIO()
    page.save(out, format="JPEG", quality=CLEAN_QUALITY, subsampling="4:2:0")
    return width, height, out.getvalue()


def _looks_blank(img: Image.Image) -> bool:
    """Nearly uniform (a covered lens, an empty page), with no ink standing out."""
    gray = img.convert("L")
    gray.thumbnail(_THUMBNAIL)
    if ImageStat.Stat(gray).stddev[0] >= BLANK_STDDEV:
        return False
    histogram = gray.histogram()
    total = sum(histogram)
    median = next(level for level, seen in enumerate(accumulate(histogram)) if seen * 2 >= total)
    ink = sum(c for level, c in enumerate(histogram) if abs(level - median) > _INK_CONTRAST)
    return ink < total * _INK_SHARE


def open_image(data: bytes, max_side: int | None = None) -> Image.Image:
    """Decode an image already accepted by `inspect`, upright and in RGB.

    EXIF orientation is applied (ImageOps.exif_transpose), transparency becomes white,
    the decompression-bomb guard and the ceilings per kind are on; with `max_side`, the
    picture is decoded at a reduced size where possible and brought down to it. Raises
    FileRefused, like `inspect`, if the bytes are not an image we take.
    """
    kind = sniff(data)
    if kind not in _PIL_FORMATS:
        raise _refuse(FileRefused(_MSG_NOT_A_DOCUMENT), kind, len(data))
    try:
        with _bomb_guard(), _open(data, kind) as img:
            pixels, orientation = _decoded(img, kind, max_side or max(img.size))
            return _on_white(_upright(pixels, orientation))
    except FileRefused as refused:
        raise _refuse(refused, kind, len(data)) from None
    except Exception as error:
        raise _refuse(FileRefused(_MSG_UNREADABLE), kind, len(data), error) from None


# --- PDF ------------------------------------------------------------------------------------

_ACTIVE_BYTES = (b"/JavaScript", b"/Launch")
_PROBLEMS = {"too_complex": _MSG_TOO_COMPLEX, "unreadable": _MSG_UNREADABLE}


def _pdf_refusal(problem: PdfProblem) -> FileRefused:
    if problem.kind == "too_many_pages":
        return FileRefused(_MSG_TOO_MANY_PAGES, limit=problem.params.get("limit", 0))
    return FileRefused(_PROBLEMS.get(problem.kind, _MSG_UNREADABLE))


# Dictionaries and arrays nested deeper than this are no document's (a form nests a
# dozen): pypdf would read them recursively, for seconds, before failing.
MAX_NESTING = 200
_STREAM = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)
_NESTING = re.compile(rb"<<|>>|\[|\]")


def _too_deep(data: bytes) -> bool:
    """Whether the PDF's objects (outside streams) nest deeper than MAX_NESTING: a scan
    of the bytes, before any parser is given them."""
    depth = 0
    for text in _STREAM.split(data):
        for token in _NESTING.findall(text):
            if token in (b"<<", b"["):
                depth += 1
                if depth > MAX_NESTING:
                    return True
            elif depth:
                depth -= 1
    return False


def _open_pdf(data: bytes) -> tuple[PdfReader, bool]:
    """The reader, decrypted with the empty password if need be; and whether it was."""
    if b"%%EOF" not in data[-_EOF_WINDOW:]:  # cut off before its end
        raise FileRefused(_MSG_TRUNCATED)
    if pdfscan.objects_in_bytes(data) > pdfscan.MAX_OBJECTS or _too_deep(data):
        raise FileRefused(_MSG_TOO_COMPLEX)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except Exception:  # whole (it has its end) but broken
        raise FileRefused(_MSG_UNREADABLE) from None
    if pdfscan.objects_in_xref(reader) > pdfscan.MAX_OBJECTS:
        raise FileRefused(_MSG_TOO_COMPLEX)
    if not reader.is_encrypted:
        return reader, False
    try:
        opened = reader.decrypt("")
    except Exception:  # an unknown security handler: a password or a certificate
        opened = PasswordType.NOT_DECRYPTED
    if opened == PasswordType.NOT_DECRYPTED:
        raise FileRefused(_MSG_ENCRYPTED)
    return reader, True


def _pdf_pages(reader: PdfReader, max_pages: int, deadline: float) -> int:
    try:
        counted = page_count(reader, max_pages, deadline)
    except PdfProblem as problem:
        if problem.kind == "too_many_pages":
            raise FileRefused(_MSG_TOO_MANY_PAGES, limit=max_pages) from None
        raise _pdf_refusal(problem) from None
    try:
        pages = len(reader.pages)
    except Exception:
        raise FileRefused(_MSG_UNREADABLE) from None
    if pages == 0 or counted == 0:
        raise FileRefused(_MSG_NO_PAGES)
    if pages > max_pages:
        raise FileRefused(_MSG_TOO_MANY_PAGES, limit=max_pages)
    return pages


@dataclass(frozen=True)
class _Pdf:
    pages: int
    signed: bool
    needs_password_removal: bool
    clean: bytes
    text: str
    signers: tuple[Signer, ...] = ()
    changed_after_signing: bool = False


def _walk(data: bytes, reader: PdfReader, deadline: float) -> tuple[set[str], list[Any], set[Any]]:
    """What the PDF carries (`findings`), its signature dictionaries, the objects reached."""
    if any(marker in data for marker in _ACTIVE_BYTES):
        raise FileRefused(_MSG_ACTIVE_CONTENT)
    reached: set[tuple[int, int]] = set()
    try:
        found, signatures = findings(reader, deadline, reached)
    except PdfProblem as problem:
        raise _pdf_refusal(problem) from None
    return found, signatures, reached


def _kept_whole(reader: PdfReader, data: bytes, reached: set[Any], *, whole: bool) -> None:
    """A PDF kept byte for byte carries nothing besides what its pages and signatures use
    (`dossier.pdfscan.kept_problems`)."""
    problem = pdfscan.kept_problems(reader, data, reached, whole=whole)
    if problem is not None:
        log.info("kept PDF refused: %s", problem)
        raise FileRefused(_MSG_SIGNED_ACTIVE)


def _check_pdf(data: bytes, max_pages: int, text_pages: int, deadline: float) -> _Pdf:
    """Pages, signed, needs_password_removal, the clean copy, the first pages' text."""
    with pdfscan.repeated_keys() as repeated:
        reader, needs_password_removal = _open_pdf(data)
        pages = _pdf_pages(reader, max_pages, deadline)
        found, signatures, reached = _walk(data, reader, deadline)
        if repeated:
            raise FileRefused(_MSG_REPEATED_KEYS)
        signers = _signatures_hold(data, signatures) if signatures else None
        if signatures and signers is None:
            log.info("PDF signature does not verify: kept as a clean copy")
        changed = (
            signers is not None
            and _updated_after_a_signature(data, signatures)
            and _changed_after_signing(data)
        )
        if changed:
            log.info("PDF changed after signing: kept as a clean copy")
            signers = None
        signed = signers is not None
        if found & REFUSED_ALWAYS:
            raise FileRefused(_MSG_SIGNED_ACTIVE if signed else _MSG_ACTIVE_CONTENT)
        if signed and found & REFUSED_WHEN_SIGNED:
            raise FileRefused(_MSG_SIGNED_ACTIVE)
        if signed:
            _kept_whole(reader, data, reached, whole=False)
        text = text_of(reader, text_pages) if text_pages else ""
        if signed:
            if repeated:  # in an object read since (one nothing reaches)
                raise FileRefused(_MSG_REPEATED_KEYS)
            return _Pdf(pages, True, needs_password_removal, data, text, tuple(signers or ()))
        clean = clean_copy(reader)
        if repeated:
            raise FileRefused(_MSG_REPEATED_KEYS)
    if time.monotonic() > deadline:
        raise FileRefused(_MSG_TOO_COMPLEX)
    return _Pdf(pages, False, needs_password_removal, clean, text, (), changed)


def _updated_after_a_signature(data: bytes, signatures: list[Any]) -> bool:
    """Bytes follow what one of the signatures covers (incremental updates): what they
    change is to be analysed. A file its only signature covers whole has none."""
    ends = [int(s["/ByteRange"][2]) + int(s["/ByteRange"][3]) for s in signatures]
    return min(ends) < len(data.rstrip(b"\r\n\x00 \t\f"))


def _changed_after_signing(data: bytes) -> bool:
    from .signedpdf import changed_after_signing  # pyHanko: a second to import, when needed

    return changed_after_signing(data)


# --- p7m ------------------------------------------------------------------------------------


def _der_length(der: bytes) -> int | None:
    """The whole length of the outer DER element, or None if indefinite (BER) or unreadable."""
    if len(der) < 2:
        return None
    first = der[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(der) < 2 + count:
        return None
    return 2 + count + int.from_bytes(der[2 : 2 + count], "big")


def _p7m_der(data: bytes) -> bytes:
    """The DER of a p7m (decoded from base64 if need be): one whole SignedData, nothing
    after it; else "truncated" (cut, or something glued on)."""
    der = data if _is_der_signed_data(data) else _decode_base64_p7m(data, head_only=False)
    if der is None or len(der) < MIN_P7M_SIZE:
        raise FileRefused(_MSG_TRUNCATED)
    declared = _der_length(der)
    if declared is not None and declared != len(der):
        raise FileRefused(_MSG_TRUNCATED)
    if load_signed_data(der) is None:
        raise FileRefused(_MSG_TRUNCATED)
    return der


def _p7m_clean_content(data: bytes, depth: int = 0) -> bytes | None:
    """The content to check as a plain upload (and keep as its clean copy): of a p7m
    whose signature does not verify (no signer, a forged one), or that signs a photo (a
    re-encoded photo is what we keep of any photo). None when the p7m is kept as it is.
    Raises FileRefused when it is no whole p7m."""
    content, verified = p7m_verified(_p7m_der(data))
    if content is None:
        raise FileRefused(_MSG_TRUNCATED)
    if not verified:
        log.info("p7m signature does not verify: its content is checked instead")
        return content
    kind = sniff(content)
    if kind in _PIL_FORMATS:
        return content
    if kind == "p7m" and depth < 2:  # signed twice: a signature around a signed file
        return _p7m_clean_content(content, depth + 1)
    return None


def _signatures_hold(data: bytes, signatures: list[Any]) -> list[Signer] | None:
    """Who issued the signers' certificates, when every signature dictionary of the PDF
    verifies (`dossier.signatures`); else None. A signed PDF with anything but
    incremental updates after the bytes it covers is refused."""
    end = 0
    signers: list[Signer] = []
    for signature in signatures:
        try:
            byte_range = [int(n) for n in signature["/ByteRange"]]
            contents = bytes(signature["/Contents"])
        except Exception:
            return None
        if not pdf_signature_verifies(data, byte_range, contents):
            return None
        end = max(end, byte_range[2] + byte_range[3])
        signers += [s for s in pdf_signers(contents) if s not in signers]
    if not tail_is_updates(data, end):  # something glued on after the signed file
        raise FileRefused(_MSG_TRUNCATED)
    return signers


def _check_p7m(data: bytes, max_pages: int, deadline: float, depth: int = 0) -> int:
    """Kept as it is (its signature verified, `_p7m_clean_content` said so), so what it
    signs is checked like a signed PDF: whole, carrying nothing but pages, nothing after
    its `%%EOF`, no ZIP anywhere. Returns its pages."""
    if pdfscan.carries_zip(data):
        log.info("kept p7m refused: zip")
        raise FileRefused(_MSG_SIGNED_ACTIVE)
    content, _verified = p7m_verified(_p7m_der(data))
    if content is None:
        raise FileRefused(_MSG_TRUNCATED)
    kind = sniff(content)
    if kind == "p7m" and depth < 2:  # signed twice: a signature around a signed file
        return _check_p7m(content, max_pages, deadline, depth + 1)
    if kind != "pdf":
        raise FileRefused(_MSG_NOT_A_DOCUMENT)
    with pdfscan.repeated_keys() as repeated:
        reader, _encrypted = _open_pdf(content)
        pages = _pdf_pages(reader, max_pages, deadline)
        if any(m in content for m in _ACTIVE_BYTES):
            raise FileRefused(_MSG_SIGNED_ACTIVE)
        found, _signatures, reached = _walk(content, reader, deadline)
        if found & REFUSED_WHEN_SIGNED:
            raise FileRefused(_MSG_SIGNED_ACTIVE)
        _kept_whole(reader, content, reached, whole=True)
        if repeated:
            raise FileRefused(_MSG_REPEATED_KEYS)
    return pages
