"""`.p7m` files (CAdES): a whole SignedData, whether its signature verifies, and, when it
is kept as received, what it signs checked like a signed PDF."""

from __future__ import annotations

import logging

from . import pdfscan
from .pdfcheck import ACTIVE_BYTES, kept_whole, open_pdf, pdf_pages, walk
from .pdfs import REFUSED_WHEN_SIGNED
from .refusals import (
    MSG_NOT_A_DOCUMENT,
    MSG_REPEATED_KEYS,
    MSG_SIGNED_ACTIVE,
    MSG_SIGNED_TAIL,
    MSG_SIGNED_ZIP,
    MSG_TRUNCATED,
    FileRefused,
)
from .signatures import load_signed_data, p7m_verified
from .sniffing import PHOTO_KINDS, decode_base64_p7m, is_der_signed_data, sniff

log = logging.getLogger(__name__)

MIN_P7M_SIZE = 200


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


def p7m_der(data: bytes) -> bytes:
    """The DER of a p7m (decoded from base64 if need be): one whole SignedData, nothing
    after it; else "truncated" (cut, or something glued on)."""
    der = data if is_der_signed_data(data) else decode_base64_p7m(data, head_only=False)
    if der is None or len(der) < MIN_P7M_SIZE:
        raise FileRefused(MSG_TRUNCATED)
    declared = _der_length(der)
    if declared is not None and declared != len(der):
        raise FileRefused(MSG_TRUNCATED)
    if load_signed_data(der) is None:
        raise FileRefused(MSG_TRUNCATED)
    return der


def p7m_clean_content(data: bytes, depth: int = 0) -> bytes | None:
    """The content to check as a plain upload (and keep as its clean copy): of a p7m
    whose signature does not verify (no signer, a forged one), or that signs a photo (a
    re-encoded photo is what we keep of any photo). None when the p7m is kept as it is.
    Raises FileRefused when it is no whole p7m."""
    content, verified = p7m_verified(p7m_der(data))
    if content is None:
        raise FileRefused(MSG_TRUNCATED)
    if not verified:
        log.info("p7m signature does not verify: its content is checked instead")
        return content
    kind = sniff(content)
    if kind in PHOTO_KINDS:
        return content
    if kind == "p7m" and depth < 2:  # signed twice: a signature around a signed file
        return p7m_clean_content(content, depth + 1)
    return None


def check_p7m(data: bytes, max_pages: int, deadline: float, depth: int = 0) -> int:
    """Kept as it is (its signature verified, `p7m_clean_content` said so), so what it
    signs is checked like a signed PDF: whole, carrying nothing but pages, nothing after
    its `%%EOF`, no ZIP anywhere. Returns its pages."""
    if pdfscan.carries_zip(data):
        log.info("kept p7m refused: zip")
        raise FileRefused(MSG_SIGNED_ZIP)
    content, _verified = p7m_verified(p7m_der(data))
    if content is None:
        raise FileRefused(MSG_TRUNCATED)
    kind = sniff(content)
    if kind == "p7m" and depth < 2:  # signed twice: a signature around a signed file
        return check_p7m(content, max_pages, deadline, depth + 1)
    if kind != "pdf":
        raise FileRefused(MSG_NOT_A_DOCUMENT)
    if b"%%EOF" in content and not pdfscan.ends_at_eof(content):  # whole, bytes glued on
        log.info("kept p7m refused: tail")
        raise FileRefused(MSG_SIGNED_TAIL)
    with pdfscan.repeated_keys() as repeated:
        reader, _encrypted = open_pdf(content)
        pages = pdf_pages(reader, max_pages, deadline)
        if any(m in content for m in ACTIVE_BYTES):
            raise FileRefused(MSG_SIGNED_ACTIVE)
        found, _signatures, reached = walk(content, reader, deadline)
        if found & REFUSED_WHEN_SIGNED:
            raise FileRefused(MSG_SIGNED_ACTIVE)
        kept_whole(reader, content, reached, whole=True, deadline=deadline, pages=pages)
        if repeated:
            raise FileRefused(MSG_REPEATED_KEYS)
    return pages
