"""A page of the signed form in a photo or a scan, as the signing step reads it (in the
bounded process of an upload check): signed or not (ink in the signature box, found from
the QR code's corners), set upright and cut to the page. The photos are rendered from
the real form and photographed in the test: turned, seen askew, blurred, grainy, lit from
one side; the signature is a scribble drawn in the box found in the PDF itself."""

from __future__ import annotations

import io
from functools import lru_cache

import pypdfium2
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from dossier.form import form_edition, made_form
from dossier.pagecode import recognise_bounded
from dossier.pagephoto import INK_SHARE, Layout, ink_share, place
from tests.documents import (
    page_photo,
    qr_close_up,
    qr_on_a_blank_sheet,
    scanned_form,
    signature_boxes,
)
from tests.istanza_cases import case_form

NOTICE = "visconteo-sud-milano-2025"
DOSSIER = "B2-7K3M9Q"


@lru_cache
def form() -> tuple[bytes, int, str, dict]:
    data = case_form(NOTICE)
    made = made_form(data)
    return made.pdf, made.pages, form_edition(data), made.layout


def signature_pages() -> list[int]:
    """The indexes of the pages with a box to sign in, found in the PDF."""
    pdf, pages, _edition, _layout = form()
    return [i for i in range(pages) if signature_boxes(pdf, i)]


def read(data: bytes):
    _pdf, pages, edition, layout = form()
    return recognise_bounded(data, DOSSIER, edition, pages, layout)


def qr_of(image: Image.Image) -> tuple[str, tuple[float, float]]:
    """The code on a picture and where its centre is, as shares of the width and height."""
    found = zxingcpp.read_barcodes(image.convert("L"))
    assert found, "no code on the page"
    p = found[0].position
    x = sum(c.x for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)) / 4
    y = sum(c.y for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)) / 4
    return found[0].text, (x / image.width, y / image.height)


def test_the_layout_the_form_keeps_has_the_boxes_drawn_on_its_pages():
    """Where the form says its signature boxes are is where the PDF draws them."""
    pdf, _pages, _edition, layout = form()
    where = Layout.of(layout)
    assert where.label == "Firma della richiedente"  # Maria Rossi signs
    pages = signature_pages()
    assert pages and [p + 1 for p in pages] == sorted({s[0] for s in where.signatures})
    for index in pages:
        drawn = signature_boxes(pdf, index)  # points, with the line's width
        kept = where.boxes(index + 1)  # mm
        assert len(drawn) == len(kept)
        for (x, y, w, h), (kx, ky, kw, kh) in zip(drawn, kept, strict=True):
            mm = 25.4 / 72
            assert abs(x * mm - kx) < 0.5 and abs(y * mm - ky) < 0.5
            assert abs(w * mm - kw) < 0.5 and abs(h * mm - kh) < 0.5


def test_our_own_blank_box_holds_no_ink_and_a_signed_one_does():
    """The measure against our own rendering: the box as printed is empty."""
    pdf, _pages, _edition, layout = form()
    where = Layout.of(layout)
    index = signature_pages()[0]
    page = pypdfium2.PdfDocument(pdf)[index]
    blank = page.render(scale=1600 / page.get_height()).to_pil().convert("L")
    code = zxingcpp.read_barcodes(blank)[0].position
    corners = [
        (c.x, c.y) for c in (code.top_left, code.top_right, code.bottom_right, code.bottom_left)
    ]
    placement = place(corners, where)
    share = ink_share(blank, placement, where.boxes(index + 1)[0])
    assert share is not None and share < INK_SHARE / 10


PHOTOS = {  # how a phone sees the page: turned, askew, out of focus, grainy, lit unevenly
    "straight": {},
    "turned and blurred": {"angle": 183, "blur": 1.6},
    "askew, grainy, lit from one side": {
        "angle": -8,
        "tilt": 0.08,
        "noise": 14,
        "shade": 0.45,
        "blur": 1.0,
    },
    "sideways and seen from below": {"angle": 92, "tilt": 0.1, "noise": 8, "blur": 1.4},
    # the red team's fourth pass: in dim light it was taken for a close-up of the code
    "in dim light": {"angle": 3, "contrast": 0.3},
}


@pytest.mark.parametrize("how", list(PHOTOS))
def test_a_signed_page_has_ink_and_an_unsigned_one_has_none(how):
    pdf, _pages, _edition, _layout = form()
    index = signature_pages()[-1]
    signed = read(page_photo(pdf, index, signed=True, **PHOTOS[how]))
    assert signed.outcome == "pages" and [f.page for f in signed.found] == [index + 1]
    assert signed.found[0].ink is True
    unsigned = read(page_photo(pdf, index, signed=False, seed=3, **PHOTOS[how]))
    assert unsigned.outcome == "pages" and unsigned.found[0].ink is False


@pytest.mark.parametrize("around", [0.3, 1.0, 2.5])
def test_a_close_up_of_a_pages_code_alone_is_not_the_page(around):
    """The red team's close-ups: the QR code of each page with a little of the page
    around it (not the page), read, but no page counted, with or without a box."""
    pdf, pages, _edition, _layout = form()
    for index in range(pages):
        found = read(qr_close_up(pdf, index, around))
        assert (found.outcome, found.pages, found.found) == ("close_up", (index + 1,), ())


def test_the_code_cut_out_and_put_on_a_blank_sheet_is_not_the_page():
    """The whole sheet is in the photo, but nothing printed on it besides the code."""
    pdf, pages, _edition, _layout = form()
    for index in range(pages):
        found = read(qr_on_a_blank_sheet(pdf, index))
        assert (found.outcome, found.found) == ("close_up", ())


@pytest.mark.parametrize("lines", [0, 15])
def test_a_blank_sheet_with_the_code_and_a_scribble_is_not_the_page(lines):
    """The red team's: the code glued where the form prints it, a scribble in the box
    (and `lines` pen strokes across the sheet): print where none is on the form, none
    where the form prints its text."""
    pdf, pages, _edition, layout = form()
    assert len(Layout.of(layout).printed) == pages
    for index in range(pages):
        found = read(qr_on_a_blank_sheet(pdf, index, signed=True, lines=lines))
        assert (found.outcome, found.found) == ("close_up", ()), index


def test_a_page_with_its_margins_and_heading_cut_off_still_counts():
    """A photo taken close: the page's margins outside it, and its top 4 cm (a quarter
    of the page's area gone); the code, 8 mm from the bottom edge, still in."""
    pdf, _pages, _edition, _layout = form()
    photo = Image.open(io.BytesIO(page_photo(pdf, 0, size=(3000, 4000))))
    mm = 2600 / 297  # `page_photo` renders the page 2600 px tall, centred
    left = (photo.width - 210 * mm) / 2
    top = (photo.height - 297 * mm) / 2
    cut = (left + 14 * mm, top + 40 * mm, left + 205 * mm, top + 292 * mm)
    out = io.BytesIO()
    photo.crop(tuple(round(v) for v in cut)).save(out, format="JPEG", quality=85)
    found = read(out.getvalue())
    assert found.outcome == "pages" and [f.page for f in found.found] == [1]


def test_a_page_without_a_box_is_not_looked_at():
    pdf, _pages, _edition, _layout = form()
    found = read(page_photo(pdf, 0, angle=3))
    assert [(f.page, f.ink) for f in found.found] == [(1, None)]


@pytest.mark.parametrize("angle", [90, -90, 180, 7])
def test_a_photo_turned_on_the_table_comes_back_upright_and_cut_to_the_page(angle):
    """Kept upright, portrait, the code at the bottom right; the table mostly gone."""
    pdf, _pages, _edition, _layout = form()
    photo = page_photo(pdf, 1, angle=angle, blur=0.8)
    found = read(photo)
    assert [f.page for f in found.found] == [2] and found.found[0].kind == "jpeg"
    page = Image.open(io.BytesIO(found.found[0].data))
    assert page.height > page.width
    assert 0.69 < page.width / page.height < 0.76  # A4 with its margins, not the photo
    text, (x, y) = qr_of(page)
    assert text.startswith(f"{DOSSIER} p2/")
    assert x > 0.75 and y > 0.8


def test_a_scan_gives_each_page_alone_upright_and_says_which_are_signed():
    pdf, pages, _edition, _layout = form()
    signature = signature_pages()[0]
    scan = scanned_form(pdf, list(range(pages)), unsigned=(signature,), turned={1: 90})
    found = read(scan)
    assert found.outcome == "pages" and found.skipped == 0
    assert [f.page for f in found.found] == list(range(1, pages + 1))
    for f in found.found:
        assert f.kind == "pdf" and len(PdfReader(io.BytesIO(f.data)).pages) == 1
        assert f.ink is ((f.page - 1) != signature if f.page - 1 in signature_pages() else None)
        shown = pypdfium2.PdfDocument(f.data)[0].render(scale=1).to_pil()
        assert shown.height > shown.width  # page 2 was scanned sideways: turned back
        text, (_x, y) = qr_of(shown)
        assert f" p{f.page}/" in text and y > 0.8


def test_a_scan_with_a_page_that_is_not_the_form_says_how_many_were_left_out():
    pdf, _pages, _edition, _layout = form()
    first = pypdfium2.PdfDocument(scanned_form(pdf, [0]))[0].render(scale=150 / 72).to_pil()
    letter = Image.new("RGB", first.size, "white")  # a covering letter, no code on it
    scan = io.BytesIO()
    first.save(scan, format="PDF", save_all=True, append_images=[letter], resolution=150)
    found = read(scan.getvalue())
    assert [f.page for f in found.found] == [1] and found.skipped == 1
