"""PDFs: the check of an uploaded PDF (whole, readable, not too big or too complex,
carrying nothing active), whether its digital signatures hold, and its clean copy.

A PDF without a signature that verifies is rewritten from its pages (`dossier.pdfs`); a
signed one is kept byte for byte, so it must carry nothing besides its pages
(`dossier.pdfscan`).
"""

from __future__ import annotations

import io
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from pypdf import PasswordType, PdfReader

from common.logs import quiet

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
from .pdfviewer import viewer_sees
from .refusals import (
    MSG_ACTIVE_CONTENT,
    MSG_ENCRYPTED,
    MSG_NO_PAGES,
    MSG_REPEATED_KEYS,
    MSG_SIGNED_ACTIVE,
    MSG_SIGNED_HIDDEN,
    MSG_SIGNED_TAIL,
    MSG_SIGNED_ZIP,
    MSG_TOO_COMPLEX,
    MSG_TOO_MANY_PAGES,
    MSG_TOO_MANY_SIGNATURES,
    MSG_TRUNCATED,
    MSG_UNREADABLE,
    FileRefused,
)
from .signatures import Signer, pdf_signature_verifies, pdf_signers, tail_is_updates

log = logging.getLogger(__name__)

# pypdf's warnings quote the bytes of the file they complain about (names, text)
quiet("pypdf", level=logging.CRITICAL)

MAX_PDF_PAGES = 100  # per file: a 50-page verbale fits twice
# A signed certificate or ISEE has one to three signatures; the check of what changed
# after each costs ~0.08 s per signature and grows with the updates after it (20
# signatures: 2.8 s of CPU), so more than this is refused before that check.
MAX_SIGNATURES = 5


_EOF_WINDOW = 2048  # `%%EOF` must be within this many bytes of the end of a PDF


ACTIVE_BYTES = (b"/JavaScript", b"/Launch")
_PROBLEMS = {"too_complex": MSG_TOO_COMPLEX, "unreadable": MSG_UNREADABLE}


def _pdf_refusal(problem: PdfProblem) -> FileRefused:
    if problem.kind == "too_many_pages":
        return FileRefused(MSG_TOO_MANY_PAGES, limit=problem.params.get("limit", 0))
    return FileRefused(_PROBLEMS.get(problem.kind, MSG_UNREADABLE))


# Dictionaries and arrays nested deeper than this are no document's (a form nests a
# dozen): pypdf would read them recursively, for seconds, before failing.
MAX_NESTING = 200
_STREAM_START = re.compile(rb"stream\r?\n")
_NESTING = re.compile(rb"<<|>>|\[|\]")


def _too_deep(data: bytes) -> bool:
    """Whether the PDF's objects (outside streams) nest deeper than MAX_NESTING: a scan
    of the bytes, before any parser is given them. A stream's body is skipped with
    `bytes.find` for its "endstream" (a lazy regular expression over an 18 MB image took
    a third of a second)."""
    depth = 0
    at = 0
    while at <= len(data):
        opening = _STREAM_START.search(data, at)
        body_end = data.find(b"endstream", opening.end()) if opening else -1
        text_end = opening.start() if opening and body_end >= 0 else len(data)
        for token in _NESTING.findall(data, at, text_end):
            if token in (b"<<", b"["):
                depth += 1
                if depth > MAX_NESTING:
                    return True
            elif depth:
                depth -= 1
        if body_end < 0:
            return False
        at = body_end + len(b"endstream")
    return False


def open_pdf(data: bytes) -> tuple[PdfReader, bool]:
    """The reader, decrypted with the empty password if need be; and whether it was."""
    if b"%%EOF" not in data[-_EOF_WINDOW:]:  # cut off before its end
        raise FileRefused(MSG_TRUNCATED)
    if (
        pdfscan.objects_in_bytes(data) > pdfscan.MAX_OBJECTS
        # each stream is an object: more "endstream" than objects are taken is no
        # document's (1.25 million in a string held the nesting scan for seconds)
        or data.count(b"endstream") > pdfscan.MAX_OBJECTS
        or _too_deep(data)
    ):
        raise FileRefused(MSG_TOO_COMPLEX)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except Exception:  # whole (it has its end) but broken
        raise FileRefused(MSG_UNREADABLE) from None
    if pdfscan.objects_in_xref(reader) > pdfscan.MAX_OBJECTS:
        raise FileRefused(MSG_TOO_COMPLEX)
    if not reader.is_encrypted:
        return reader, False
    try:
        opened = reader.decrypt("")
    except Exception:  # an unknown security handler: a password or a certificate
        opened = PasswordType.NOT_DECRYPTED
    if opened == PasswordType.NOT_DECRYPTED:
        raise FileRefused(MSG_ENCRYPTED)
    return reader, True


def pdf_pages(reader: PdfReader, max_pages: int, deadline: float) -> int:
    try:
        counted = page_count(reader, max_pages, deadline)
    except PdfProblem as problem:
        if problem.kind == "too_many_pages":
            raise FileRefused(MSG_TOO_MANY_PAGES, limit=max_pages) from None
        raise _pdf_refusal(problem) from None
    try:
        pages = len(reader.pages)
    except Exception:
        raise FileRefused(MSG_UNREADABLE) from None
    if pages == 0 or counted == 0:
        raise FileRefused(MSG_NO_PAGES)
    if pages > max_pages:
        raise FileRefused(MSG_TOO_MANY_PAGES, limit=max_pages)
    return pages


@dataclass(frozen=True)
class CheckedPdf:
    pages: int
    signed: bool
    needs_password_removal: bool
    clean: bytes
    text: str
    signers: tuple[Signer, ...] = ()
    changed_after_signing: bool = False


def walk(data: bytes, reader: PdfReader, deadline: float) -> tuple[set[str], list[Any], set[Any]]:
    """What the PDF carries (`findings`), its signature dictionaries, the objects reached."""
    if any(marker in data for marker in ACTIVE_BYTES):
        raise FileRefused(MSG_ACTIVE_CONTENT)
    reached: set[tuple[int, int]] = set()
    try:
        found, signatures = findings(reader, deadline, reached)
    except PdfProblem as problem:
        raise _pdf_refusal(problem) from None
    return found, signatures, reached


KEPT_PROBLEMS = {  # `pdfscan.kept_problems`' codes
    "zip": MSG_SIGNED_ZIP,
    "tail": MSG_SIGNED_TAIL,
    "unreached_stream": MSG_SIGNED_HIDDEN,
    "ambiguous": MSG_REPEATED_KEYS,  # read one way by us, another by a viewer
    "archive": MSG_SIGNED_ZIP,  # a ZIP, 7-Zip or RAR archive in a stream or a string
    "program": MSG_SIGNED_HIDDEN,  # a Windows or Linux program there
    "too_complex": MSG_TOO_COMPLEX,
}


def kept_whole(
    reader: PdfReader,
    data: bytes,
    reached: set[Any],
    *,
    whole: bool,
    deadline: float,
    pages: int,
) -> None:
    """A PDF kept byte for byte carries nothing besides what its pages and signatures use
    (`dossier.pdfscan.kept_problems`), and the staff's viewer reads the same file
    (`dossier.pdfviewer.viewer_sees`: `pages` pages, nothing we refuse): each problem
    refused with its own message."""
    problem = pdfscan.kept_problems(reader, data, reached, whole=whole, deadline=deadline)
    if problem is not None:
        log.info("kept PDF refused: %s", problem)
        raise FileRefused(KEPT_PROBLEMS.get(problem, MSG_SIGNED_ACTIVE))
    seen = viewer_sees(data, pages)
    if seen is not None:
        log.info("kept PDF refused: the viewer sees another file (%s)", seen)
        raise FileRefused(MSG_REPEATED_KEYS)


def check_pdf(data: bytes, max_pages: int, text_pages: int, deadline: float) -> CheckedPdf:
    """Pages, signed, needs_password_removal, the clean copy, the first pages' text."""
    with pdfscan.repeated_keys() as repeated:
        reader, needs_password_removal = open_pdf(data)
        pages = pdf_pages(reader, max_pages, deadline)
        found, signatures, reached = walk(data, reader, deadline)
        if repeated:
            raise FileRefused(MSG_REPEATED_KEYS)
        if len(signatures) > MAX_SIGNATURES:
            raise FileRefused(MSG_TOO_MANY_SIGNATURES, count=len(signatures), limit=MAX_SIGNATURES)
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
            raise FileRefused(MSG_SIGNED_ACTIVE if signed else MSG_ACTIVE_CONTENT)
        if signed and found & REFUSED_WHEN_SIGNED:
            raise FileRefused(MSG_SIGNED_ACTIVE)
        if signed:
            kept_whole(reader, data, reached, whole=False, deadline=deadline, pages=pages)
        text = text_of(reader, text_pages) if text_pages else ""
        if signed:
            if repeated:  # in an object read since (one nothing reaches)
                raise FileRefused(MSG_REPEATED_KEYS)
            return CheckedPdf(pages, True, needs_password_removal, data, text, tuple(signers or ()))
        clean = clean_copy(reader)
        if repeated:
            raise FileRefused(MSG_REPEATED_KEYS)
    if time.monotonic() > deadline:
        raise FileRefused(MSG_TOO_COMPLEX)
    return CheckedPdf(pages, False, needs_password_removal, clean, text, (), changed)


def _updated_after_a_signature(data: bytes, signatures: list[Any]) -> bool:
    """Bytes follow what one of the signatures covers (incremental updates): what they
    change is to be analysed. A file its only signature covers whole has none."""
    ends = [int(s["/ByteRange"][2]) + int(s["/ByteRange"][3]) for s in signatures]
    return min(ends) < len(data.rstrip(b"\r\n\x00 \t\f"))


def _changed_after_signing(data: bytes) -> bool:
    from .signedpdf import changed_after_signing  # pyHanko: a second to import, when needed

    return changed_after_signing(data)


def _signatures_hold(data: bytes, signatures: list[Any]) -> list[Signer] | None:
    """Who issued the signers' certificates, when every signature dictionary of the PDF
    verifies (`dossier.signatures`); else None. A signed PDF with anything but
    incremental updates after the bytes it covers is refused ("signed_tail")."""
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
        raise FileRefused(MSG_SIGNED_TAIL)
    return signers
