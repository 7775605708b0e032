"""The check of one uploaded file, from its bytes.

Families send phone photos and PDF files (and sometimes signed `.p7m` files). Before a
file joins the dossier we make sure it is what it looks like, that it is whole, that a
person can read it, and that it carries nothing active. The kind comes from the content,
never from the file name (`dossier.sniffing`). The work is done by kind: photos in
`dossier.images`, PDFs in `dossier.pdfcheck`, `.p7m` files in `dossier.p7m`; what a file
may weigh in `dossier.budgets`; the refusals and their messages in `dossier.refusals`.

Every refusal is a `FileRefused`; any error from the image and PDF libraries becomes
one: nothing else leaves `inspect`.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace

from .budgets import MAX_DOWNLOAD, too_big
from .images import check_image
from .p7m import check_p7m, p7m_clean_content, p7m_der
from .pdfcheck import MAX_PDF_PAGES, check_pdf
from .refusals import (
    MSG_EMPTY,
    MSG_NOT_A_DOCUMENT,
    MSG_TOO_COMPLEX,
    MSG_UNREADABLE,
    FileRefused,
    logged,
)
from .signatures import Signer, p7m_signers
from .sniffing import PHOTO_KINDS, sniff


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
        return "jpeg" if self.kind in PHOTO_KINDS else self.kind

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
        raise logged(FileRefused(MSG_EMPTY), None, size)
    if size > MAX_DOWNLOAD:
        raise logged(too_big(size), None, size)
    kind = sniff(data)
    if kind is None:
        raise logged(FileRefused(MSG_NOT_A_DOCUMENT), None, size)
    deadline = time.monotonic() + seconds
    text = ""
    width = height = None
    needs_password_removal = changed = False
    signers: tuple[Signer, ...] = ()
    try:
        if kind == "pdf":
            pdf = check_pdf(data, max_pages, text_pages, deadline)
            pages, signed, clean, text = pdf.pages, pdf.signed, pdf.clean, pdf.text
            needs_password_removal, signers = pdf.needs_password_removal, pdf.signers
            changed = pdf.changed_after_signing
        elif kind == "p7m":
            content = p7m_clean_content(data)
            if content is not None:  # no signature we can verify, or a photo: its clean copy
                inner = inspect(
                    content, max_pages=max_pages, text_pages=text_pages, seconds=seconds
                )
                return replace(inner, size=size, sha256=hashlib.sha256(data).hexdigest())
            pages = check_p7m(data, max_pages, deadline)
            signed, clean, signers = True, data, tuple(p7m_signers(p7m_der(data)))
        else:
            width, height, clean = check_image(data, kind)
            pages, signed = 1, False
    except FileRefused as refused:
        raise logged(refused, kind, size) from None
    except MemoryError as error:  # over the worker's memory ceiling
        raise logged(FileRefused(MSG_TOO_COMPLEX), kind, size, error) from None
    except Exception as error:  # any library failure is a file we cannot read
        raise logged(FileRefused(MSG_UNREADABLE), kind, size, error) from None
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
