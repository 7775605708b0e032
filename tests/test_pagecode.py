"""Signed pages recognised: the QR code printed on every page of the form is read back
from a phone photo of the printed page (rotated, a little blurred), from a PDF scan and
from a signed file, in the bounded process an upload check runs in; a cat is nobody's
page, and a page of another dossier is told apart."""

from __future__ import annotations

import io
from dataclasses import replace
from functools import lru_cache

import pypdfium2
import pytest
from PIL import Image, ImageDraw, ImageFilter

from dossier.form import application_form_pdf, form_edition, rendered_form
from dossier.pagecode import (
    check_letters,
    parse,
    payload,
    read_marks,
    recognise,
    recognise_bounded,
)
from tests.istanza_cases import case_form
from tests.test_file_checks import p7m

NOTICE = "visconteo-sud-milano-2025"


@lru_cache
def form() -> tuple[bytes, int, str]:
    data = case_form(NOTICE)
    pdf, pages, _blocks = rendered_form(data)
    return pdf, pages, form_edition(data)


def page_image(pdf: bytes, index: int, height: int = 2800) -> Image.Image:
    """A printed page as the camera sees it: rendered, `height` pixels tall."""
    page = pypdfium2.PdfDocument(pdf)[index]
    return page.render(scale=height / page.get_height()).to_pil().convert("RGB")


def phone_photo(page: Image.Image, angle: float, blur: float, size=(4000, 3000)) -> bytes:
    """The page lying on a wooden table, turned by `angle`, a little out of focus, saved
    as a phone saves it (JPEG, 4000 × 3000)."""
    table = Image.new("RGB", size, (120, 86, 52))
    turned = page.rotate(angle, expand=True, fillcolor=(120, 86, 52), resample=Image.BICUBIC)
    turned.thumbnail((size[0] - 60, size[1] - 60))
    table.paste(turned, ((size[0] - turned.width) // 2, (size[1] - turned.height) // 2))
    if blur:
        table = table.filter(ImageFilter.GaussianBlur(blur))
    out = io.BytesIO()
    table.save(out, format="JPEG", quality=85)
    return out.getvalue()


def cat_photo() -> bytes:
    """A ginger cat on a sofa, as far as a few ellipses go: no page, no code."""
    img = Image.new("RGB", (3000, 4000), (70, 90, 140))
    draw = ImageDraw.Draw(img)
    draw.ellipse((700, 1500, 2300, 3200), fill=(220, 140, 60))  # body
    draw.ellipse((1000, 800, 2000, 1800), fill=(230, 150, 70))  # head
    draw.polygon([(1050, 950), (1200, 500), (1400, 900)], fill=(230, 150, 70))  # ears
    draw.polygon([(1600, 900), (1800, 500), (1950, 950)], fill=(230, 150, 70))
    draw.ellipse((1250, 1150, 1350, 1250), fill=(40, 120, 40))  # eyes
    draw.ellipse((1650, 1150, 1750, 1250), fill=(40, 120, 40))
    for y in range(1600, 3200, 120):  # stripes
        draw.line((800, y, 2200, y + 40), fill=(180, 100, 40), width=30)
    out = io.BytesIO()
    img.filter(ImageFilter.GaussianBlur(1)).save(out, format="JPEG", quality=85)
    return out.getvalue()


def test_the_code_says_dossier_page_and_count_with_a_check():
    text = payload("B2-7K3M9Q", 2, 3, "abc")
    assert text.startswith("B2-7K3M9Q p2/3 ") and len(text.split()[-1]) == 4
    mark = parse(text)
    assert mark is not None and (mark.dossier_id, mark.page, mark.total) == ("B2-7K3M9Q", 2, 3)
    assert parse("B2-7K3M9Q p4/3 ABCD") is None  # page beyond the count
    assert parse("https://example.com/cat") is None
    assert check_letters("B2-7K3M9Q", 2, 3, "abc") != check_letters("B2-7K3M9Q", 2, 3, "abd")


@pytest.mark.parametrize(("angle", "blur"), [(0, 0), (8, 1.5), (97, 1.5), (183, 2.0), (-25, 1.5)])
def test_a_phone_photo_of_a_signed_page_is_recognised(angle, blur):
    pdf, pages, edition = form()
    photo = phone_photo(page_image(pdf, 1), angle, blur)
    found = recognise(read_marks(photo), "B2-7K3M9Q", edition, pages)
    assert found.outcome == "pages"
    assert found.pages == (2,) and found.total == pages


def test_the_photo_is_read_in_the_bounded_process_of_an_upload_check():
    """Decoded at a reduced size, within the memory and time of an upload check."""
    pdf, pages, edition = form()
    photo = phone_photo(page_image(pdf, 0), 6, 1.5)
    found = recognise_bounded(photo, "B2-7K3M9Q", edition, pages)
    assert found.outcome == "pages" and found.pages == (1,)


def test_a_cat_photo_is_nobody_s_page():
    _pdf, pages, edition = form()
    found = recognise_bounded(cat_photo(), "B2-7K3M9Q", edition, pages)
    assert found.outcome == "none" and found.pages == ()


def test_a_page_of_another_dossier_is_recognised_as_another():
    other = application_form_pdf(case_form(NOTICE, dossier_id="B2-Z9Z9Z9"))
    _pdf, pages, edition = form()
    found = recognise(
        read_marks(phone_photo(page_image(other, 0), 4, 1.0)), "B2-7K3M9Q", edition, pages
    )
    assert found.outcome == "other_dossier" and found.dossier_id == "B2-Z9Z9Z9"


def test_a_page_printed_before_the_answers_changed_is_an_old_edition():
    data = case_form(NOTICE)
    old = replace(data, applicant=replace(data.applicant, phone="333 000 0000"))
    old_pdf = application_form_pdf(old)
    _pdf, pages, edition = form()
    assert form_edition(old) != edition
    found = recognise(
        read_marks(phone_photo(page_image(old_pdf, 0), 3, 1.0)), "B2-7K3M9Q", edition, pages
    )
    assert found.outcome == "old_edition"
    # the date and the attachments are not part of the edition: yesterday's print is fine
    assert (
        form_edition(replace(data, documents=["altro"], date=data.date.replace(day=3))) == edition
    )


def test_the_whole_form_as_a_pdf_and_inside_a_signed_file_gives_every_page():
    pdf, pages, edition = form()
    found = recognise(read_marks(pdf), "B2-7K3M9Q", edition, pages)
    assert found.outcome == "pages" and found.pages == tuple(range(1, pages + 1))
    signed = p7m(pdf)
    found = recognise_bounded(signed, "B2-7K3M9Q", edition, pages)
    assert found.pages == tuple(range(1, pages + 1))


def test_a_scanned_pdf_of_two_signed_pages_gives_both():
    pdf, pages, edition = form()
    scans = [page_image(pdf, i, height=1754).rotate(1.5, fillcolor="white") for i in (0, 2)]
    out = io.BytesIO()
    scans[0].save(out, format="PDF", save_all=True, append_images=scans[1:], resolution=150)
    found = recognise_bounded(out.getvalue(), "B2-7K3M9Q", edition, pages)
    assert found.outcome == "pages" and found.pages == (1, 3)


def test_what_cannot_be_read_is_no_page_and_no_error():
    _pdf, pages, edition = form()
    for junk in (b"", b"%PDF-1.4 broken", b"\xff\xd8\xff\xe0 not really a jpeg"):
        assert recognise_bounded(junk, "B2-7K3M9Q", edition, pages).outcome == "none"
