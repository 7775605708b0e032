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
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

    from .pagephoto import Layout

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


@dataclass(frozen=True)
class Seen:
    """A code of ours read in a picture, with its corners there (pixels: top left, top
    right, bottom right, bottom left of the code as printed)."""

    mark: PageMark
    corners: tuple[tuple[float, float], ...]


def _decode(image: object) -> list[Seen]:
    import zxingcpp

    seen: list[Seen] = []
    for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        mark = parse(code.text) if code.valid else None
        if mark is None:
            continue
        p = code.position
        corners = tuple(
            (float(c.x), float(c.y))
            for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
        )
        seen.append(Seen(mark, corners))
    return seen


def _marks(seen: list[Seen]) -> list[PageMark]:
    out: list[PageMark] = []
    for one in seen:
        if one.mark not in out:
            out.append(one.mark)
    return out


def _image_seen(data: bytes) -> tuple[list[Seen], Image.Image | None]:
    """The codes of a photo, and the grey picture they were read in."""
    from PIL import Image, ImageOps

    from .images import open_image

    with Image.open(io.BytesIO(data)) as header:  # the size only: no pixel decoded
        full = max(header.size)
    seen: list[Seen] = []
    tried: set[tuple[int, int]] = set()
    gray = None
    for side in SIDES:
        # JPEG is decoded at 1/2, 1/4... of its size: two sides may give the same pixels
        image = open_image(data, max_side=side)
        gray = image.convert("L")
        del image
        if gray.size in tried:
            continue
        tried.add(gray.size)
        seen = _decode(gray)
        if not seen:  # a dim or low-contrast photo (the corners are the same)
            seen = _decode(ImageOps.autocontrast(gray, cutoff=1))
        if seen or max(gray.size) >= full:  # read, or this was the whole picture
            break
    return seen, gray


def _pdf_seen(data: bytes) -> tuple[list[tuple[list[Seen], Image.Image]], int]:
    """The codes of each page of a PDF read (at most `MAX_PDF_PAGES`) with the page's
    grey rendering, and the PDF's page count."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(data)
    try:
        pages: list[tuple[list[Seen], Image.Image]] = []
        for index in range(min(len(pdf), MAX_PDF_PAGES)):
            width, height = pdf[index].get_size()  # points
            # a page of a scan is an image at any size: cap the pixels, not the dpi
            image = _grey(pdf, index, min(PDF_DPI / 72, 2200 / max(width, height, 1)))
            pages.append((_decode(image), image))
        return pages, len(pdf)
    finally:
        pdf.close()


def _grey(pdf: Any, index: int, scale: float) -> Image.Image:
    page = pdf[index]
    try:
        return page.render(scale=scale, grayscale=True).to_pil().convert("L")
    finally:
        page.close()


def page_images(data: bytes, px_per_mm: float) -> list[Image.Image]:
    """Each page of a PDF (our own form) rendered grey at `px_per_mm`."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(data)
    try:
        return [_grey(pdf, index, px_per_mm * 25.4 / 72) for index in range(len(pdf))]
    finally:
        pdf.close()


def _from_image(data: bytes) -> list[PageMark]:
    return _marks(_image_seen(data)[0])


def _from_pdf(data: bytes) -> list[PageMark]:
    return _marks([one for seen, _image in _pdf_seen(data)[0] for one in seen])


def read_marks(data: bytes) -> list[PageMark]:
    """Every QR code of ours in a photo, a PDF or a signed `.p7m` (its content): none for
    a file that carries none or that cannot be read. Heavy: run it in a bounded process
    (`read_marks_bounded`)."""
    from .pdfs import p7m_content
    from .refusals import FileRefused
    from .sniffing import sniff

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
class FoundPage:
    """One page of the current form in an upload, on its own and upright: a photo cut
    to the page (`kind` "jpeg", `dossier.pagephoto.upright`) or the PDF page alone,
    turned upright (`kind` "pdf"). `ink`: its signature box holds a signature (True),
    does not seem to (False); None for a page without a box, or a form whose boxes are
    not known."""

    page: int
    data: bytes = field(repr=False)
    kind: str
    ink: bool | None = None


@dataclass(frozen=True)
class Recognition:
    """What a file sent at the signing step is. `outcome`:

    - `pages`: pages of this dossier's current form (`pages`, e.g. [2]; `total` of them),
      each on its own in `found` when the file was read for them (`recognise_file`);
      `skipped`: pages of a PDF that are not (no code of ours, or of an older form);
    - `old_edition`: pages of this dossier's form, printed before the answers changed;
    - `other_dossier`: pages of another dossier's form (`dossier_id` says which);
    - `close_up`: codes of this dossier's current form (`pages`), but not the pages
      around them (a close-up of the code alone: `pagephoto.page_in_view`);
    - `none`: no code of ours could be read (a cat, a blurred photo, another document).
    """

    outcome: str
    pages: tuple[int, ...] = ()
    total: int = 0
    dossier_id: str | None = None
    marks: tuple[PageMark, ...] = field(default=(), repr=False)
    found: tuple[FoundPage, ...] = field(default=(), repr=False)
    skipped: int = 0


def _current(mark: PageMark, dossier_id: str, edition: str, total: int) -> bool:
    return (
        mark.dossier_id == dossier_id
        and mark.total == total
        and mark.check == check_letters(dossier_id, mark.page, total, edition)
    )


def recognise(marks: list[PageMark], dossier_id: str, edition: str, total: int) -> Recognition:
    """Judge the codes read from one file against the dossier's current form (pure)."""
    ours = [m for m in marks if m.dossier_id == dossier_id]
    if not ours:
        others = [m for m in marks if m.dossier_id != dossier_id]
        if others:
            return Recognition("other_dossier", dossier_id=others[0].dossier_id, marks=tuple(marks))
        return Recognition("none", marks=tuple(marks))
    current = [m for m in ours if _current(m, dossier_id, edition, total)]
    if not current:
        return Recognition("old_edition", dossier_id=dossier_id, marks=tuple(marks))
    pages = tuple(sorted({m.page for m in current}))
    return Recognition("pages", pages, total, dossier_id, tuple(marks))


def _photo_pages(
    data: bytes, seen: list[Seen], gray: Image.Image, layout: Layout
) -> list[FoundPage]:
    """Each page in a photo cut out upright (`pagephoto.upright`), its box looked at."""
    from .images import CLEAN_QUALITY, CLEAN_SIDE, open_image
    from .pagephoto import has_ink, place, upright

    whole = open_image(data, max_side=CLEAN_SIDE)  # as big as a clean copy, no bigger
    sx, sy = whole.width / gray.width, whole.height / gray.height
    pages: dict[int, FoundPage] = {}
    for one in seen:
        placement = place(one.corners, layout)
        ink = has_ink(gray, placement, layout.boxes(one.mark.page))
        out = io.BytesIO()
        page = upright(whole, placement.scaled(sx, sy), layout)
        page.save(out, format="JPEG", quality=CLEAN_QUALITY, subsampling="4:2:0")
        pages[one.mark.page] = FoundPage(one.mark.page, out.getvalue(), "jpeg", ink)
    return [pages[p] for p in sorted(pages)]


def _pdf_pages(
    data: bytes, read: list[tuple[list[Seen], Image.Image]], total: int, layout: Layout
) -> tuple[list[FoundPage], int]:
    """Each page of the form in a PDF, alone in a PDF of its own and turned upright (a
    quarter turn, no pixel touched); the last copy of a page in the file counts. With the
    number of the file's pages that are none of the form's."""
    from pypdf import PdfReader, PdfWriter

    from .pagephoto import has_ink, place

    chosen: dict[int, tuple[int, bool | None, int]] = {}
    for index, (seen, image) in enumerate(read):
        for one in seen:
            placement = place(one.corners, layout)
            ink = has_ink(image, placement, layout.boxes(one.mark.page))
            chosen[one.mark.page] = (index, ink, placement.quarter_turns)
    reader = PdfReader(io.BytesIO(data))
    found = []
    for page in sorted(chosen):
        index, ink, turns = chosen[page]
        writer = PdfWriter()
        writer.add_page(reader.pages[index])
        if turns:
            writer.pages[0].rotate((4 - turns) % 4 * 90)  # clockwise, back upright
        out = io.BytesIO()
        writer.write(out)
        found.append(FoundPage(page, out.getvalue(), "pdf", ink))
    used = {index for index, _ink, _turns in chosen.values()}
    return found, total - len(used)


def _in_view(seen: list[Seen], gray: Image.Image, layout: Layout) -> list[Seen]:
    """The codes whose page the picture shows around them (`pagephoto.page_in_view`)."""
    from .pagephoto import page_in_view, place

    return [s for s in seen if page_in_view(gray, place(s.corners, layout), layout, s.mark.page)]


def recognise_file(
    data: bytes,
    dossier_id: str,
    edition: str,
    total: int,
    layout: dict[str, Any] | None = None,
) -> Recognition:
    """`read_marks` then `recognise`, and each page of the current form found taken out
    on its own, upright, its signature box looked at (`FoundPage`; `layout`: where the
    code and the boxes are, `FormPDF.layout`). In one bounded process: only the verdict
    and the pages come back. A photo or a PDF: a signed file is kept whole, unread."""
    from .pagephoto import Layout
    from .refusals import FileRefused
    from .sniffing import sniff

    kind = sniff(data)
    if kind not in ("pdf", "jpeg", "png", "webp", "heic"):
        return recognise(read_marks(data), dossier_id, edition, total)
    where = Layout.of(layout)
    try:
        if kind == "pdf":
            read, count = _pdf_seen(data)
            seen = [one for page, _image in read for one in page]
        else:
            seen, gray = _image_seen(data)
        verdict = recognise(_marks(seen), dossier_id, edition, total)
        if verdict.outcome != "pages":
            return verdict
        if kind == "pdf":
            read = [
                ([s for s in page if _current(s.mark, dossier_id, edition, total)], image)
                for page, image in read
            ]
            whole = [(_in_view(page, image, where), image) for page, image in read]
            if not any(page for page, _image in whole):
                return replace(verdict, outcome="close_up")
            found, skipped = _pdf_pages(data, whole, count, where)
            return replace(verdict, found=tuple(found), skipped=skipped)
        assert gray is not None
        current = [s for s in seen if _current(s.mark, dossier_id, edition, total)]
        current = _in_view(current, gray, where)
        if not current:
            return replace(verdict, outcome="close_up")
        return replace(verdict, found=tuple(_photo_pages(data, current, gray, where)))
    except FileRefused:
        return Recognition("none")
    except Exception as error:  # pdfium's own errors, anything a decoder raises
        log.info("page codes not read: %s", type(error).__name__)
        return Recognition("none")


async def recognise_bounded_async(
    data: bytes,
    dossier_id: str,
    edition: str,
    total: int,
    layout: dict[str, Any] | None = None,
) -> Recognition:
    """`recognise_file` in a bounded process (time and memory of an upload check), for
    the event loop. A file too heavy to read is `none`."""
    from . import bounded

    try:
        return await bounded.run_async(recognise_file, data, dossier_id, edition, total, layout)
    except bounded.Overrun as overrun:
        log.info("page code reading over its limit: %s", overrun.why)
        return Recognition("none")


def recognise_bounded(
    data: bytes,
    dossier_id: str,
    edition: str,
    total: int,
    layout: dict[str, Any] | None = None,
) -> Recognition:
    """`recognise_bounded_async` for plain callers (the console, the tests)."""
    from . import bounded

    try:
        return bounded.run(recognise_file, data, dossier_id, edition, total, layout)
    except bounded.Overrun as overrun:
        log.info("page code reading over its limit: %s", overrun.why)
        return Recognition("none")
