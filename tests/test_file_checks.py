"""What a family sees when it uploads one file: taken, or refused with a reason and what to do.

Every fixture is made here, in memory: photos with Pillow, PDFs with pypdf or by hand,
signed files with `cryptography`. Hostile files too.
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import re
import string
import struct
import time
import zipfile
import zlib
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFile, ImageFont
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript

from dossier import budgets, images, pdfcheck
from dossier.budgets import MAX_DOWNLOAD, check_declared_size
from dossier.files import CheckedFile, inspect
from dossier.images import MIN_IMAGE_SIDE, open_image
from dossier.refusals import REFUSAL_REASONS, FileRefused
from dossier.sniffing import sniff
from tests import hostile as hostile_pdfs
from tests.certs import self_signed

MB = 1024 * 1024


# --- fixtures: made here ----------------------------------------------------------------------


def document_image(size: tuple[int, int] = (1200, 900), mode: str = "RGB") -> Image.Image:
    """A page of a document: white paper, a dark frame, lines of 'text', a photo box."""
    width, height = size
    img = Image.new("RGB", size, (245, 243, 238))
    draw = ImageDraw.Draw(img)
    draw.rectangle((10, 10, width - 10, height - 10), outline=(20, 20, 20), width=6)
    step = max(height // 20, 12)
    for y in range(step * 2, height - step, step):
        draw.rectangle((width // 10, y, width - width // 4, y + step // 3), fill=(30, 30, 40))
    draw.rectangle((width * 3 // 4, step, width - 30, step * 6), fill=(120, 90, 70))
    return img.convert(mode) if mode != "RGB" else img


def encode(img: Image.Image, fmt: str, orientation: int | None = None, **options: object) -> bytes:
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    buf = io.BytesIO()
    img.save(buf, format=fmt, **options)
    return buf.getvalue()


def photo(size: tuple[int, int] = (1200, 900), orientation: int | None = None) -> bytes:
    return encode(document_image(size), "JPEG", orientation, quality=85)


def scanned_pdf(pages: int = 3) -> bytes:
    """A scan as a PDF (JPEG pages), the way Pillow and many scanner apps write it."""
    images = [document_image((1240, 1754)) for _ in range(pages)]
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", save_all=True, append_images=images[1:], resolution=150)
    return buf.getvalue()


def rewritten(data: bytes, change: Callable[[PdfWriter], None]) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    change(writer)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def hand_made_pdf(
    catalog_extra: str = "", page_extra: str = "", objects: tuple[str, ...] = ()
) -> bytes:
    """A one-page PDF written by hand, with exact cross-references.

    Objects 1-4 are the catalog, the page tree, the page and its contents; `objects` are
    numbered from 5 on. The extras go inside the catalog's and the page's dictionaries.
    """
    bodies = [
        f"<< /Type /Catalog /Pages 2 0 R {catalog_extra} >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R {page_extra} >>",
        "<< /Length 35 >>\nstream\nBT /F1 12 Tf 72 720 Td (B2) Tj ET\nendstream",
        *objects,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(bodies) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(bodies) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def p7m(content: bytes, encoding: serialization.Encoding = serialization.Encoding.DER) -> bytes:
    """A CAdES-like attached signature (CMS SignedData), as a .p7m file."""
    cert, key = self_signed("Firma di prova")
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(cert, key, hashes.SHA256())
        .sign(encoding, [pkcs7.PKCS7Options.Binary])
    )


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares `width` x `height` (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit gray
    rows = zlib.compress(b"\0" * (width + 1) * 64, 9)  # 64 rows of zeros; the rest is missing
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def refusal(data: bytes) -> FileRefused:
    with pytest.raises(FileRefused) as caught:
        inspect(data)
    assert caught.value.msgid.strip(), "a refusal must say why"
    return caught.value


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return scanned_pdf()


@pytest.fixture(scope="module")
def big_photo() -> bytes:
    """A 12-megapixel phone photo."""
    return photo((4000, 3000))


# --- photos -----------------------------------------------------------------------------------


def test_phone_photo_is_accepted_as_one_page() -> None:
    data = photo()
    checked = inspect(data)
    assert checked == CheckedFile(
        kind="jpeg",
        mime="image/jpeg",
        extension=".jpg",
        pages=1,
        size=len(data),
        sha256=checked.sha256,
        signed=False,
        width=1200,
        height=900,
    )
    assert re.fullmatch(r"[0-9a-f]{64}", checked.sha256)


@pytest.mark.parametrize(
    ("fmt", "kind", "mime", "extension"),
    [
        ("PNG", "png", "image/png", ".png"),
        ("WEBP", "webp", "image/webp", ".webp"),
        ("JPEG", "jpeg", "image/jpeg", ".jpg"),
    ],
)
def test_screenshots_and_other_photo_formats_are_accepted(
    fmt: str, kind: str, mime: str, extension: str
) -> None:
    checked = inspect(encode(document_image((800, 1000)), fmt))
    assert (checked.kind, checked.mime, checked.extension) == (kind, mime, extension)
    assert (checked.width, checked.height, checked.pages) == (800, 1000, 1)


def test_progressive_and_grayscale_photos_are_accepted() -> None:
    gray = encode(document_image(mode="L"), "JPEG", quality=80)
    progressive = encode(document_image(), "JPEG", quality=80, progressive=True)
    assert inspect(gray).kind == inspect(progressive).kind == "jpeg"


def test_photo_with_transparent_background_is_not_taken_for_blank() -> None:
    img = Image.new("RGBA", (900, 700), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    for y in range(60, 650, 40):
        draw.rectangle((80, y, 800, y + 14), fill=(0, 0, 0, 255))
    assert inspect(encode(img, "PNG")).kind == "png"


def test_sixteen_bit_scan_is_accepted() -> None:
    gradient = document_image(mode="L")
    wide = bytes(b for value in gradient.tobytes() for b in (value * 257).to_bytes(2, "little"))
    data = encode(Image.frombytes("I;16", gradient.size, wide), "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    assert inspect(data).kind == "png"


def test_sideways_photo_is_turned_upright() -> None:
    data = photo((1200, 900), orientation=6)  # stored landscape, taken in portrait
    checked = inspect(data)
    assert (checked.width, checked.height) == (900, 1200)
    upright = open_image(data)
    assert upright.size == (900, 1200)
    assert upright.mode == "RGB"


def test_photo_upside_down_keeps_its_size() -> None:
    checked = inspect(photo((1200, 900), orientation=3))
    assert (checked.width, checked.height) == (1200, 900)


def test_heic_photo_is_accepted() -> None:
    data = encode(document_image((1000, 800)), "HEIF", orientation=6, quality=60)
    assert sniff(data) == "heic"
    checked = inspect(data)
    assert (checked.kind, checked.mime, checked.extension) == ("heic", "image/heic", ".heic")
    # libheif turns the picture itself; the size is the upright one, turned once only
    assert (checked.width, checked.height) == (800, 1000)
    assert open_image(data).size == (800, 1000)


def test_heic_sniff_reads_the_ftyp_brands() -> None:
    def ftyp(major: bytes, *compatible: bytes) -> bytes:
        body = b"ftyp" + major + b"\0\0\0\0" + b"".join(compatible)
        return struct.pack(">I", len(body) + 4) + body + b"\0" * 32

    for brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
        assert sniff(ftyp(brand)) == "heic", brand
    assert sniff(ftyp(b"mif1", b"miaf", b"heic")) == "heic"
    assert sniff(ftyp(b"isom", b"mp42")) is None  # a video
    assert sniff(ftyp(b"avif", b"mif1")) is None  # AVIF: we cannot open it


def test_12_megapixel_photo_is_checked_quickly(big_photo: bytes) -> None:
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        checked = inspect(big_photo)
        timings.append(time.perf_counter() - start)
    assert (checked.width, checked.height) == (4000, 3000)
    # decoded once, checked and re-encoded as the clean copy (figures: hostile_bench.py)
    assert min(timings) < 1.0, timings


def test_tiny_photo_is_refused_as_too_small() -> None:
    refused = refusal(photo((MIN_IMAGE_SIDE - 1, 1000)))
    assert refused.reason == "too_small"
    assert refused.params == {"width": MIN_IMAGE_SIDE - 1, "height": 1000}


def test_smallest_readable_photo_is_accepted() -> None:
    assert inspect(photo((MIN_IMAGE_SIDE, MIN_IMAGE_SIDE))).width == MIN_IMAGE_SIDE


def test_black_photo_from_a_covered_lens_is_refused_as_blank() -> None:
    dark = Image.effect_noise((1600, 1200), 2).point(lambda v: v // 16).convert("RGB")
    refused = refusal(encode(dark, "JPEG"))
    assert refused.reason == "blank"
    assert "luce" in refused.msgid


def test_photo_of_an_empty_white_page_is_refused_as_blank() -> None:
    assert refusal(encode(Image.new("RGB", (1000, 1400), "white"), "PNG")).reason == "blank"


def test_page_with_only_a_signature_is_not_taken_for_blank() -> None:
    page = Image.new("RGB", (2480, 3508), "white")
    font = ImageFont.load_default(40)
    ImageDraw.Draw(page).text((1500, 3000), "Firma: Maria Rossi", font=font, fill="black")
    assert inspect(encode(page, "JPEG", quality=85)).height == 3508


def test_truncated_jpeg_is_refused(big_photo: bytes) -> None:
    for data in (big_photo, encode(document_image(), "JPEG", progressive=True)):
        cut = data[: int(len(data) * 0.7)]
        assert sniff(cut) == "jpeg"
        assert refusal(cut).reason == "truncated"


def test_truncated_png_and_heic_are_refused() -> None:
    png = encode(document_image(), "PNG")
    heic = encode(document_image(), "HEIF", quality=60)
    for data in (png, heic):
        assert refusal(data[: int(len(data) * 0.7)]).reason == "truncated"


def test_decompression_bomb_png_is_refused_without_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded: list[str] = []
    load = ImageFile.ImageFile.load

    def spy(self: ImageFile.ImageFile) -> object:
        decoded.append(self.format or "?")
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    for width, height in ((20_000, 20_000), (10_000, 9_000)):  # over the limit, and over twice
        data = png_declaring(width, height)
        assert len(data) < 20_000
        start = time.perf_counter()
        refused = refusal(data)
        assert refused.reason == "bomb", (width, height)
        assert time.perf_counter() - start < 0.5
        with pytest.raises(FileRefused) as caught:
            open_image(data)
        assert caught.value.reason == "bomb"
    assert decoded == []


def test_bomb_guard_holds_when_pillow_limit_is_lifted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # someone else switched Pillow's off
    assert refusal(png_declaring(10_000, 9_000)).reason == "bomb"


def test_images_are_opened_by_the_decoder_of_their_own_kind() -> None:
    # a GIF renamed .jpg is not a photo we take, whatever Pillow could open
    gif = encode(document_image(), "GIF")
    assert sniff(gif) is None
    assert refusal(gif).reason == "not_a_document"


# --- PDF --------------------------------------------------------------------------------------


def test_scanned_pdf_is_accepted_with_its_page_count(pdf: bytes) -> None:
    checked = inspect(pdf)
    assert (checked.kind, checked.mime, checked.extension) == ("pdf", "application/pdf", ".pdf")
    assert checked.pages == 3
    assert (checked.width, checked.height) == (None, None)
    assert checked.signed is False
    assert checked.needs_password_removal is False


def test_pdf_with_garbage_before_the_header_is_accepted() -> None:
    assert inspect(b"\r\n" * 100 + hand_made_pdf()).pages == 1


def test_truncated_pdf_is_refused(pdf: bytes) -> None:
    cut = pdf[: int(len(pdf) * 0.7)]
    assert sniff(cut) == "pdf"
    assert refusal(cut).reason == "truncated"


def test_truncated_pdf_with_an_end_marker_pasted_on_is_refused() -> None:
    # the end marker is there, but the pages are gone: the page count fails
    data = hand_made_pdf()
    cut = data[: data.index(b"2 0 obj")] + b"\n%%EOF\n"
    assert refusal(cut).reason in {"truncated", "unreadable"}


def test_pdf_without_pages_is_refused() -> None:
    writer = PdfWriter()
    buf = io.BytesIO()
    writer.write(buf)
    refused = refusal(buf.getvalue())
    assert refused.reason == "unreadable"
    assert "pagine" in refused.msgid


def test_encrypted_pdf_asks_for_a_copy_without_password(pdf: bytes) -> None:
    locked = rewritten(pdf, lambda w: w.encrypt("segreta", "proprietario", algorithm="AES-256"))
    refused = refusal(locked)
    assert refused.reason == "encrypted"
    assert refused.msgid == "Il PDF è protetto da password. Mandate una copia senza password."
    rc4 = rewritten(pdf, lambda w: w.encrypt("segreta", "proprietario", algorithm="RC4-128"))
    assert refusal(rc4).reason == "encrypted"


def test_pdf_locked_only_against_editing_is_accepted_and_flagged(pdf: bytes) -> None:
    owner_only = rewritten(pdf, lambda w: w.encrypt("", "proprietario", algorithm="AES-128"))
    checked = inspect(owner_only)
    assert checked.pages == 3
    assert checked.needs_password_removal is True


def test_pdf_with_javascript_is_refused(pdf: bytes) -> None:
    data = rewritten(pdf, lambda w: w.add_open_action(JavaScript("app.alert('ciao')")))
    assert refusal(data).reason == "active_content"


def test_pdf_with_an_attachment_is_refused(pdf: bytes) -> None:
    data = rewritten(pdf, lambda w: w.add_attachment("leggimi.exe", b"MZ\x90\x00"))
    assert refusal(data).reason == "active_content"


@pytest.mark.parametrize(
    ("where", "pdf_text"),
    [
        ("open action", {"catalog_extra": "/OpenAction 5 0 R"}),
        ("page action", {"page_extra": "/AA << /O 5 0 R >>"}),
        ("annotation", {"page_extra": "/Annots [6 0 R]"}),
        ("submit form", {"catalog_extra": "/OpenAction 7 0 R"}),
        ("import data", {"catalog_extra": "/OpenAction 8 0 R"}),
        ("rich media", {"page_extra": "/Annots [9 0 R]"}),
    ],
)
def test_pdf_with_hidden_active_content_is_refused(where: str, pdf_text: dict[str, str]) -> None:
    # names written with #xx escapes: the raw text never says /JavaScript or /Launch,
    # so only the walk through the objects can find them
    objects = (
        "<< /Type /Action /S /J#61vaScript /J#53 (app.alert(1)) >>",
        "<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A << /S /L#61unch /F (cmd.exe) >> >>",
        "<< /S /SubmitForm /F (https://example.org/raccolta) >>",
        "<< /S /ImportData /F (dati.fdf) >>",
        "<< /Type /Annot /Subtype /RichMedia /Rect [0 0 100 100] >>",
    )
    data = hand_made_pdf(objects=objects, **pdf_text)
    assert b"/JavaScript" not in data and b"/Launch" not in data
    assert refusal(data).reason == "active_content", where


def test_pdf_with_harmless_links_is_accepted() -> None:
    objects = ("<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /URI /URI (x) >> >>",)
    assert inspect(hand_made_pdf(page_extra="/Annots [5 0 R]", objects=objects)).pages == 1


def test_pdf_whose_objects_point_at_each_other_is_walked_once() -> None:
    # a long chain and a cycle: no recursion limit, no endless loop
    chain = tuple(f"<< /Next {n + 1} 0 R /Back {n - 1} 0 R >>" for n in range(5, 3005))
    data = hand_made_pdf(catalog_extra="/Chain 5 0 R", objects=(*chain, "<< /Next 5 0 R >>"))
    assert inspect(data).pages == 1
    hidden = (*chain[:-1], "<< /S /J#61vaScript /J#53 (x) >>")
    assert refusal(hand_made_pdf(catalog_extra="/Chain 5 0 R", objects=hidden)).reason == (
        "active_content"
    )


def test_signed_pdf_is_kept_as_it_is_only_when_its_signature_verifies() -> None:
    signed = hostile_pdfs.signed_pdf()
    checked = inspect(signed)
    assert (checked.signed, checked.pages, checked.clean == signed) == (True, 1, True)
    # the same signature dictionary over bytes changed after signing: a fake signature
    forged = inspect(hostile_pdfs.signed_pdf(forge=True))
    assert forged.signed is False
    assert b"/ByteRange" not in forged.clean  # the clean copy, rebuilt from the pages
    # a signature dictionary that signs nothing (what the red team glued onto our form)
    fake = (
        "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
        "/ByteRange [0 10 20 30] /Contents <00> >>"
    )
    field = "<< /FT /Sig /T (Firma) /V 5 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] >>"
    data = hand_made_pdf(
        catalog_extra="/AcroForm << /Fields [6 0 R] /SigFlags 3 >>",
        page_extra="/Annots [6 0 R]",
        objects=(fake, field),
    )
    assert inspect(data).signed is False


def test_signed_pdf_with_something_glued_after_it_is_refused() -> None:
    zip_tail = b"PK\x03\x04" + b"payload" * 50
    assert refusal(hostile_pdfs.signed_pdf(after=zip_tail)).reason == "signed_tail"
    # an incremental update after the signature is what signing tools add (the Document
    # Security Store of long-term validation): it stays signed
    assert inspect(hostile_pdfs.with_dss(hostile_pdfs.signed_pdf())).signed is True


def test_p7m_without_a_verifiable_signer_is_taken_as_its_content(pdf: bytes) -> None:
    from asn1crypto import cms

    info = cms.ContentInfo.load(p7m(pdf))
    info["content"]["signer_infos"] = cms.SignerInfos([])
    unsigned = info.dump(force=True)
    checked = inspect(unsigned)
    assert (checked.kind, checked.signed) == ("pdf", False)  # the PDF inside, clean copy
    assert checked.clean != unsigned
    # bytes after the p7m's DER: refused
    assert refusal(p7m(pdf) + b"PK\x03\x04" + b"x" * 300).reason == "truncated"


def test_pdf_with_an_empty_signature_field_is_not_signed() -> None:
    field = "<< /FT /Sig /T (Firma) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] >>"
    data = hand_made_pdf(
        catalog_extra="/AcroForm << /Fields [5 0 R] >>",
        page_extra="/Annots [5 0 R]",
        objects=(field,),
    )
    assert inspect(data).signed is False


# --- signed files (.p7m) ----------------------------------------------------------------------


def test_signed_p7m_is_taken_as_it_is(pdf: bytes) -> None:
    data = p7m(pdf)
    assert sniff(data) == "p7m"
    checked = inspect(data)
    assert checked.kind == "p7m"
    assert checked.mime == "application/pkcs7-mime"
    assert checked.extension == ".p7m"
    assert (checked.pages, checked.signed, checked.size) == (3, True, len(data))  # the PDF's
    assert checked.clean == data  # kept byte for byte: the signature must still verify


def test_signed_p7m_in_base64_is_taken_too() -> None:
    content = hand_made_pdf()
    pem = p7m(content, serialization.Encoding.PEM)
    plain = base64.encodebytes(p7m(content))
    for data in (pem, plain):
        assert sniff(data) == "p7m"
        checked = inspect(data)
        assert (checked.kind, checked.signed) == ("p7m", True)


def test_cut_p7m_is_refused_as_truncated(pdf: bytes) -> None:
    data = p7m(pdf)
    assert refusal(data[:150]).reason == "truncated"
    assert refusal(data[: len(data) // 2]).reason == "truncated"


# --- not documents ----------------------------------------------------------------------------


def docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"MZ\x90\x00" + b"\0" * 60 + b"%PDF-1.4\n" + b"\0" * 400, id="windows exe"),
        pytest.param(b"\x7fELF\x02\x01\x01" + b"\0" * 100 + b"%PDF-1.4", id="linux exe"),
        pytest.param(docx(), id="word docx"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, id="word doc"),
        pytest.param("Carta d'identità di Rossi Maria\n".encode() * 20, id="text"),
        pytest.param(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", id="gif"),
        pytest.param(b"<html><body>documento</body></html>", id="html"),
    ],
)
def test_executable_renamed_pdf_is_refused_as_not_a_document(data: bytes) -> None:
    assert sniff(data) is None
    refused = refusal(data)
    assert refused.reason == "not_a_document"
    assert "foto" in refused.msgid and "PDF" in refused.msgid and ".p7m" in refused.msgid


def test_zero_byte_file_is_refused() -> None:
    refused = refusal(b"")
    assert refused.reason == "empty"
    assert sniff(b"") is None


def test_25_mb_file_is_refused_before_download() -> None:
    with pytest.raises(FileRefused) as caught:
        check_declared_size(25 * MB)
    refused = caught.value
    assert refused.reason == "too_big"
    assert refused.params == {"size_mb": 25, "limit_mb": 20}
    shown = refused.msgid.format(**refused.params)
    assert "20 MB" in shown and "foto" in shown and "PDF" in shown
    check_declared_size(None)
    check_declared_size(MAX_DOWNLOAD)
    with pytest.raises(FileRefused):
        check_declared_size(MAX_DOWNLOAD + 1)


def test_25_mb_of_bytes_is_refused_without_being_read() -> None:
    data = b"%PDF-1.4\n" + b"\0" * (25 * MB)
    start = time.perf_counter()
    refused = refusal(data)
    assert refused.reason == "too_big"
    assert refused.params["limit_mb"] == 20
    assert time.perf_counter() - start < 0.2


def test_same_file_twice_has_the_same_sha256(pdf: bytes) -> None:
    first, second = inspect(pdf), inspect(bytes(pdf))
    assert first.sha256 == second.sha256
    assert inspect(pdf + b"\n").sha256 != first.sha256


# --- messages ---------------------------------------------------------------------------------

ENGLISH = re.compile(
    r"\b(the|please|send|again|cannot|can't|file is|too|small|large|big|photo|picture|"
    r"without|with|your|error|empty|blank|image|open|page|pages)\b",
    re.IGNORECASE,
)


def many_signatures(count: int) -> bytes:
    """A page with `count` signature fields, each with its own (made-up) signature."""
    signature = (
        "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
        "/ByteRange [0 10 20 30] /Contents <00> >>"
    )
    fields = [
        f"<< /FT /Sig /T (Firma{n}) /V {6 + n} 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] >>"
        for n in range(count)
    ]
    numbers = " ".join(f"{6 + count + n} 0 R" for n in range(count))
    return hostile_pdfs.one_page_pdf(
        catalog_extra=f"/AcroForm << /Fields [{numbers}] /SigFlags 3 >>",
        page_extra=f"/Annots [{numbers}]",
        objects=(*[signature] * count, *fields),
    )


def every_refusal(pdf: bytes) -> list[FileRefused]:
    """One refusal at least for each message, made the way a user would meet it."""
    zip_stream = hostile_pdfs.stream(hostile_pdfs.zip_with_exe()).decode("latin-1")
    hostile = [
        b"",
        b"MZ" + b"\0" * 200,
        photo()[:5000],
        rewritten(pdf, lambda w: w.encrypt("segreta")),
        rewritten(pdf, lambda w: w.add_open_action(JavaScript("x"))),
        png_declaring(20_000, 20_000),
        photo((300, 300)),
        encode(Image.new("RGB", (800, 800)), "JPEG"),
        b"%PDF-1.7\n" + b"x" * 300 + b"\n%%EOF\n",
        hand_made_pdf().replace(b"/Count 1", b"/Count 0").replace(b"[3 0 R]", b"[]     "),
    ]
    refusals = []
    for data in hostile:
        with pytest.raises(FileRefused) as caught:
            inspect(data)
        refusals.append(caught.value)
    for data, options in (
        (hostile_pdfs.many_pages_pdf(500), {}),
        (hostile_pdfs.signed_pdf(page_extra="/AA << /O << /S /URI /URI (http://x) >> >>"), {}),
        (pdf, {"seconds": -1.0}),  # out of time
        (hostile_pdfs.one_page_pdf(catalog_extra="/Lang (it) /Lang (en)"), {}),  # a key twice
        # kept byte for byte (signed), but carrying a ZIP, a stream nothing reaches, or
        # bytes after its end
        (hostile_pdfs.signed_pdf(after=b"PK\x03\x04" + b"x" * 300), {}),
        (hostile_pdfs.signed_pdf(objects=(hostile_pdfs.stream(b"x" * 500).decode(),)), {}),
        (hostile_pdfs.signed_pdf(objects=(zip_stream,)), {}),
        (many_signatures(6), {}),  # more signatures than any certificate has
    ):
        with pytest.raises(FileRefused) as caught:
            inspect(data, **options)  # type: ignore[arg-type]
        refusals.append(caught.value)
    with pytest.raises(FileRefused) as caught:
        check_declared_size(MAX_DOWNLOAD * 2)
    refusals.append(caught.value)
    # the byte budgets of a checklist item and of a dossier
    item_rows = [{"item_id": "isee", "size": budgets.MAX_ITEM_BYTES}]
    refusals.append(budgets.bytes_over(item_rows, "isee", 1))  # type: ignore[arg-type]
    dossier_rows = [{"item_id": "x", "size": budgets.MAX_DOSSIER_BYTES}]
    refusals.append(budgets.bytes_over(dossier_rows, "isee", 1))  # type: ignore[arg-type]
    assert budgets.bytes_over(item_rows, "other", 1) is None
    # a document whose PDF would not fit one PEC message
    mb = 1024 * 1024
    rows = [{"item_id": "isee", "kind": "pdf", "signed": 0, "size": 10 * mb}]
    heavy = budgets.message_over([*rows, {**rows[0], "size": 9 * mb}], "isee", 18 * mb, "ISEE")
    refusals.append(heavy)  # type: ignore[arg-type]
    photos = [{"item_id": "isee", "kind": "jpeg", "signed": 0, "size": 3 * mb}] * 20
    assert budgets.message_over(rows + photos, "isee", 18 * mb, "ISEE") is None
    # the families' queue full: the check is not even started
    import asyncio

    from dossier import bounded
    from dossier.uploads import bounded_check_async

    limit, bounded.QUEUE_LIMIT = bounded.QUEUE_LIMIT, 0
    try:
        refusals.append(asyncio.run(bounded_check_async(pdf)))  # type: ignore[arg-type]
    finally:
        bounded.QUEUE_LIMIT = limit
    return refusals


def test_every_refusal_message_is_italian_and_fills_its_placeholders(pdf: bytes) -> None:
    refusals = every_refusal(pdf)
    assert {r.msgid for r in refusals} == set(REFUSAL_REASONS), "each message met at least once"
    assert {r.reason for r in refusals} == {
        "too_big",
        "empty",
        "not_a_document",
        "truncated",
        "encrypted",
        "active_content",
        "bomb",
        "too_small",
        "blank",
        "unreadable",
        "too_many_pages",
        "too_complex",
        "too_heavy",
        "busy",
        "repeated_keys",
        "signed_zip",
        "signed_hidden",
        "signed_tail",
        "too_many_signatures",
    }
    for refused in refusals:
        assert refused.reason == REFUSAL_REASONS[refused.msgid]
        fields = {name for _, name, _, _ in string.Formatter().parse(refused.msgid) if name}
        assert fields <= set(refused.params), refused.msgid
        shown = refused.msgid.format(**refused.params)
        assert "{" not in shown and "}" not in shown
        assert not ENGLISH.search(shown), shown
        assert re.search(r"\b(il|la|le|non|di|una|un|con|oppure)\b", shown), shown
        assert shown.endswith("."), shown
        assert len(shown) < 300, shown


def test_unknown_message_counts_as_unreadable() -> None:
    refused = FileRefused("Altro problema: {cosa}.", cosa="x")
    assert (refused.reason, refused.params) == ("unreadable", {"cosa": "x"})


def test_refusals_log_no_content_of_the_file(caplog: pytest.LogCaptureFixture) -> None:
    secret = "RSSMRA40A41F205X"
    caplog.set_level(logging.DEBUG)  # everything, from every library
    broken_pdf = hand_made_pdf(catalog_extra=f"/Title ({secret}) /Bad [1 2 >>").replace(
        b"/Count 1", f"/Count {secret}".encode()
    )
    for data in (f"Codice fiscale {secret}".encode(), broken_pdf, b"%PDF-1.4 " + secret.encode()):
        with contextlib.suppress(FileRefused):
            inspect(data)
    assert any(r.name == "dossier.files" for r in caplog.records)
    assert secret not in caplog.text


# --- nothing but FileRefused ------------------------------------------------------------------

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def assert_only_refused(data: bytes) -> None:
    try:
        checked = inspect(data)
    except FileRefused as refused:
        assert refused.reason in set(REFUSAL_REASONS.values())
        assert refused.msgid
    else:
        assert checked.size == len(data)
        assert checked.kind in {"jpeg", "png", "webp", "heic", "pdf", "p7m"}


SEEDS = {
    "pdf": hand_made_pdf(
        catalog_extra="/OpenAction 5 0 R /Names << /Dests 6 0 R >>",
        objects=("<< /S /GoTo /D [3 0 R /Fit] >>", "<< /Names [(a) [3 0 R /Fit]] >>"),
    ),
    "scan": scanned_pdf(1),
    "jpeg": photo((480, 420), orientation=6),
    "png": encode(document_image((420, 420)), "PNG"),
    "webp": encode(document_image((420, 420)), "WEBP"),
    "heic": encode(document_image((420, 420)), "HEIF", quality=30),
    "p7m": p7m(hand_made_pdf()),
}


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete", "copy"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[at:]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif action == "copy" and data:
            start = draw(st.integers(0, len(data) - 1))
            data[at:at] = data[start : start + draw(st.integers(1, 256))]
    return bytes(data)


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_are_only_ever_refused(data: bytes) -> None:
    assert_only_refused(data)


@FUZZ
@given(
    st.sampled_from(
        [b"%PDF-1.7\n", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBP"]
    ),
    st.binary(max_size=2048),
)
def test_random_bytes_behind_a_real_header_are_only_ever_refused(head: bytes, tail: bytes) -> None:
    assert_only_refused(head + tail)


@settings(FUZZ, max_examples=400)
@given(mutated())
def test_damaged_pdfs_and_photos_are_only_ever_refused(data: bytes) -> None:
    assert_only_refused(data)


def test_inspect_turns_any_library_error_into_a_refusal(
    monkeypatch: pytest.MonkeyPatch, pdf: bytes
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise MemoryError("simulated")

    monkeypatch.setattr(pdfcheck, "PdfReader", boom)
    assert refusal(pdf).reason in {"truncated", "unreadable"}
    monkeypatch.setattr(images.ImageStat, "Stat", boom)
    assert refusal(photo()).reason == "too_complex"  # out of memory: over the ceiling

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated")

    monkeypatch.setattr(images.ImageStat, "Stat", broken)
    assert refusal(photo()).reason == "unreadable"
