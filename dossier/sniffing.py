"""The kind of an upload, from its content (magic numbers), never from its name."""

from __future__ import annotations

import base64
import binascii
import re

PHOTO_KINDS = frozenset({"jpeg", "png", "webp", "heic"})  # what `sniff` calls a photo
_SIGNED_DATA_OID = bytes.fromhex("06092A864886F70D010702")
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"}
_NOT_HEIC_BRANDS = {b"avif", b"avis"}  # AVIF shares `mif1`; we cannot decode it
# Executables, archives (zip, so also .docx), Office binaries: never a document, even when
# a PDF is hidden inside.
_FOREIGN_MAGIC = (b"MZ", b"\x7fELF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\xca\xfe\xba\xbe")
_PEM = re.compile(rb"-----BEGIN [A-Z0-9 ]+-----|-----END [A-Z0-9 ]+-----")
_BASE64_TEXT = re.compile(rb"[A-Za-z0-9+/=\s]*")


def is_der_signed_data(data: bytes) -> bool:
    return data[:1] == b"\x30" and _SIGNED_DATA_OID in data[:64]


def _heic_brands(data: bytes) -> set[bytes]:
    if data[4:8] != b"ftyp":
        return set()
    box = int.from_bytes(data[:4], "big")
    end = min(max(box, 16), 16 + 4 * 64, len(data))
    brands = {data[8:12]}
    brands.update(data[i : i + 4] for i in range(16, end - 3, 4))
    return brands


def decode_base64_p7m(data: bytes, head_only: bool) -> bytes | None:
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
    return der if is_der_signed_data(der) else None


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
    if is_der_signed_data(data):
        return "p7m"
    if data.startswith(_FOREIGN_MAGIC):
        return None
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data and decode_base64_p7m(data, head_only=True) is not None:
        return "p7m"
    return None
