"""The QR code on every page of the form, and reading it back from a photo or a PDF.

Each page of the form carries `B2-7K3M9Q p2/3 K4QF`: the dossier, the page and the page
count, and a check of four letters computed from those and from the form's edition (a
digest of what the form declares: see `dossier.form.form_edition`). A page photographed
at the signing step is then known for what it is: page 2 of 3 of this dossier's current
form, a page of an older edition of it (the answers changed since it was printed), a
page of another dossier, or no page of ours at all (a cat).

Reading is heavy (decoding a phone photo, rendering a PDF page), so `read_marks` runs in
a bounded process (`dossier.bounded`): photos are decoded at a reduced size (JPEG draft
mode), PDF pages rendered at 150 dpi, a few pages at most.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import re
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

_PAYLOAD = re.compile(r"^(B2-[A-Z0-9]{4,16}) p(\d{1,3})/(\d{1,3}) ([A-Z2-7]{4})$")
# Tried in turn: most phone photos of a page are read at the first size; a page far
# from the camera needs more pixels.
SIDES = (1600, 2600, 4000)
PDF_DPI = 150
MAX_PDF_PAGES = 8  # a signed form is a few pages; more are not read


@dataclass(frozen=True)
class PageMark:
    """What one QR code of ours says."""

    dossier_id: str
    page: int
    total: int
    check: str


def check_letters(dossier_id: str, page: int, total: int, edition: str) -> str:
    digest = hashlib.sha256(f"{dossier_id}|{page}|{total}|{edition}".encode()).digest()
    return base64.b32encode(digest).decode()[:4]


def payload(dossier_id: str, page: int, total: int, edition: str) -> str:
    """The text of page `page`'s QR code: `B2-7K3M9Q p2/3 K4QF`."""
    return f"{dossier_id} p{page}/{total} {check_letters(dossier_id, page, total, edition)}"


def parse(text: str) -> PageMark | None:
    """A QR code's text, if it is one of ours."""
    m = _PAYLOAD.match(text.strip())
    if m is None:
        return None
    page, total = int(m.group(2)), int(m.group(3))
    if not 1 <= page <= total:
        return None
    return PageMark(m.group(1), page, total, m.group(4))


# --- reading ----------------------------------------------------------------------------


def _decode(image: object) -> list[str]:
    import zxingcpp

    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return [b.text for b in found if b.valid]


def _marks(texts: list[str]) -> list[PageMark]:
    out: list[PageMark] = []
    for text in texts:
        mark = parse(text)
        if mark is not None and mark not in out:
            out.append(mark)
    return out


def _from_image(data: bytes) -> list[PageMark]:
    from PIL import Image, ImageOps

    from .files import open_image

    with Image.open(io.BytesIO(data)) as header:  # the size only: no pixel decoded
        full = max(header.size)
    texts: list[str] = []
    tried: set[tuple[int, int]] = set()
    for side in SIDES:
        # JPEG is decoded at 1/2, 1/4... of its size: two sides may give the same pixels
        image = open_image(data, max_side=side)
        gray = image.convert("L")
        del image
        if gray.size in tried:
            continue
        tried.add(gray.size)
        texts = _decode(gray)
        if not texts:  # a dim or low-contrast photo
            texts = _decode(ImageOps.autocontrast(gray, cutoff=1))
        if texts or max(gray.size) >= full:  # read, or this was the whole picture
            break
    return _marks(texts)


def _from_pdf(data: bytes) -> list[PageMark]:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(data)
    try:
        marks: list[PageMark] = []
        for index in range(min(len(pdf), MAX_PDF_PAGES)):
            page = pdf[index]
            try:
                width, height = page.get_size()  # points
                # a page of a scan is an image at any size: cap the pixels, not the dpi
                scale = min(PDF_DPI / 72, 2200 / max(width, height, 1))
                bitmap = page.render(scale=scale, grayscale=True)
                image = bitmap.to_pil()
            finally:
                page.close()
            for mark in _marks(_decode(image)):
                if mark not in marks:
                    marks.append(mark)
        return marks
    finally:
        pdf.close()


def read_marks(data: bytes) -> list[PageMark]:
    """Every QR code of ours in a photo, a PDF or a signed `.p7m` (its content): none for
    a file that carries none or that cannot be read. Heavy: run it in a bounded process
    (`read_marks_bounded`)."""
    from .files import FileRefused, sniff
    from .pdfs import p7m_content

    kind = sniff(data)
    try:
        if kind == "p7m":
            content = p7m_content(data)
            return read_marks(content) if content and sniff(content) != "p7m" else []
        if kind == "pdf":
            return _from_pdf(data)
        if kind is not None:
            return _from_image(data)
    except FileRefused:
        return []
    except (OSError, ValueError) as error:  # a file the libraries cannot read
        log.info("page codes not read: %s", type(error).__name__)
        return []
    except Exception as error:  # pdfium's own errors, anything a decoder raises
        log.info("page codes not read: %s", type(error).__name__)
        return []
    return []


# --- what a file is, for the signing step -----------------------------------------------


@dataclass(frozen=True)
class Recognition:
    """What a file sent at the signing step is. `outcome`:

    - `pages`: pages of this dossier's current form (`pages`, e.g. [2]; `total` of them);
    - `old_edition`: pages of this dossier's form, printed before the answers changed;
    - `other_dossier`: pages of another dossier's form (`dossier_id` says which);
    - `none`: no code of ours could be read (a cat, a blurred photo, another document).
    """

    outcome: str
    pages: tuple[int, ...] = ()
    total: int = 0
    dossier_id: str | None = None
    marks: tuple[PageMark, ...] = field(default=(), repr=False)


def recognise(marks: list[PageMark], dossier_id: str, edition: str, total: int) -> Recognition:
    """Judge the codes read from one file against the dossier's current form (pure)."""
    ours = [m for m in marks if m.dossier_id == dossier_id]
    if not ours:
        others = [m for m in marks if m.dossier_id != dossier_id]
        if others:
            return Recognition("other_dossier", dossier_id=others[0].dossier_id, marks=tuple(marks))
        return Recognition("none", marks=tuple(marks))
    current = [
        m
        for m in ours
        if m.total == total and m.check == check_letters(dossier_id, m.page, total, edition)
    ]
    if not current:
        return Recognition("old_edition", dossier_id=dossier_id, marks=tuple(marks))
    pages = tuple(sorted({m.page for m in current}))
    return Recognition("pages", pages, total, dossier_id, tuple(marks))


def recognise_file(data: bytes, dossier_id: str, edition: str, total: int) -> Recognition:
    """`read_marks` then `recognise`: in one bounded process, only the verdict comes back."""
    return recognise(read_marks(data), dossier_id, edition, total)


async def recognise_bounded_async(
    data: bytes, dossier_id: str, edition: str, total: int
) -> Recognition:
    """`recognise_file` in a bounded process (time and memory of an upload check), for
    the event loop. A file too heavy to read is `none`."""
    from . import bounded

    try:
        return await bounded.run_async(recognise_file, data, dossier_id, edition, total)
    except bounded.Overrun as overrun:
        log.info("page code reading over its limit: %s", overrun.why)
        return Recognition("none")


def recognise_bounded(data: bytes, dossier_id: str, edition: str, total: int) -> Recognition:
    """`recognise_bounded_async` for plain callers (the console, the tests)."""
    from . import bounded

    try:
        return bounded.run(recognise_file, data, dossier_id, edition, total)
    except bounded.Overrun as overrun:
        log.info("page code reading over its limit: %s", overrun.why)
        return Recognition("none")
