"""The filled form and the dossier files, read back as the comune will read them."""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import json
import re
from email.message import EmailMessage
from email.policy import default as email_policy
from functools import lru_cache
from io import BytesIO

import pytest
from fpdf import FPDF
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from dossier.assemble import (
    MANIFEST_NAME,
    Item,
    TooLarge,
    Upload,
    assemble,
    item_pdf,
    slugify,
)
from dossier.form import application_form_pdf
from tests.istanza_cases import case_form

CREATED = dt.datetime(2025, 6, 2, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
MM = 72 / 25.4  # PDF points per millimetre

# --- helpers ---------------------------------------------------------------------------


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page, whitespace runs made single spaces."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(BytesIO(pdf)).pages]


def full_text(pdf: bytes) -> str:
    return " ".join(page_texts(pdf))


def upload(item_id: str, seq: int, kind: str, data: bytes) -> Upload:
    return Upload(item_id, seq, kind, data, hashlib.sha256(data).hexdigest())


def photo(
    size: tuple[int, int] = (400, 300),
    color: tuple[int, int, int] = (200, 30, 30),
    *,
    fmt: str = "JPEG",
    orientation: int | None = None,
    mode: str = "RGB",
) -> bytes:
    """A plain photo with a black mark in its stored top-left corner."""
    fill: tuple[int, ...] = color if mode == "RGB" else (*color, 0)
    img = Image.new(mode, size, fill)
    ImageDraw.Draw(img).rectangle((0, 0, size[0] // 4, size[1] // 4), fill=(0, 0, 0, 255))
    exif = Image.Exif()
    exif[0x010F] = "TelefonoDiProva"  # Make
    if orientation:
        exif[0x0112] = orientation
    out = BytesIO()
    extra = {"quality": 92} if fmt == "JPEG" else {}
    img.save(out, format=fmt, exif=exif.tobytes(), **extra)
    return out.getvalue()


@lru_cache
def _noise(width: int, height: int) -> Image.Image:
    return Image.merge("RGB", [Image.effect_noise((width, height), 90) for _ in range(3)])


@lru_cache
def noisy_photo(variant: int = 0, width: int = 3000, height: int = 2250) -> bytes:
    """A photo JPEG can hardly compress: big even after re-encoding. Variants differ."""
    img = _noise(width, height).copy()
    ImageDraw.Draw(img).rectangle((0, 0, 50 + 10 * variant, 50), fill=(0, 0, 0))
    out = BytesIO()
    img.save(out, format="JPEG", quality=95)
    return out.getvalue()


def text_pdf(pages: int, label: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_font("helvetica", size=14)
    for n in range(1, pages + 1):
        pdf.add_page()
        pdf.cell(0, 10, f"{label} {n}")
    return bytes(pdf.output())


def signed_pdf() -> bytes:
    """A PDF with a signature field whose value carries a /ByteRange (as signed PDFs do)."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    signature = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Sig"),
            NameObject("/Filter"): NameObject("/Adobe.PPKLite"),
            NameObject("/ByteRange"): ArrayObject([NumberObject(n) for n in (0, 10, 20, 30)]),
            NameObject("/Contents"): ByteStringObject(b"\0" * 32),
        }
    )
    field = DictionaryObject(
        {
            NameObject("/FT"): NameObject("/Sig"),
            NameObject("/T"): TextStringObject("Firma"),
            NameObject("/V"): writer._add_object(signature),
        }
    )
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
        {NameObject("/Fields"): ArrayObject([writer._add_object(field)])}
    )
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def page_images(pdf: bytes) -> list[Image.Image]:
    """The one image of each page, decoded."""
    images = []
    for page in PdfReader(BytesIO(pdf)).pages:
        (image,) = page.images
        images.append(image.image.convert("RGB"))
    return images


def is_portrait(page) -> bool:
    return float(page.mediabox.height) > float(page.mediabox.width)


def dossier_of(items: list[Item], **kwargs: object):
    args: dict[str, object] = {
        "dossier_id": "B2-7K3M9Q",
        "notice_id": "visconteo-sud-milano-2025",
        "recipient": "protocollo@pec.comune.rozzano.mi.it",
        "created_at": CREATED,
    }
    args.update(kwargs)
    return assemble(items, **args)  # type: ignore[arg-type]


def form_item() -> Item:
    return Item("application", "Domanda", [upload("application", 1, "pdf", form_pdf())])


@lru_cache
def form_pdf() -> bytes:
    return application_form_pdf(case_form("visconteo-sud-milano-2025"))


# --- one item, one PDF -----------------------------------------------------------------


def test_photos_become_one_page_each_in_seq_order():
    colors = [(220, 20, 20), (20, 200, 20), (20, 20, 220)]
    uploads = [
        upload("payslips", 3, "jpeg", photo(color=colors[2])),
        upload("payslips", 1, "png", photo(color=colors[0], fmt="PNG")),
        upload("payslips", 2, "webp", photo(color=colors[1], fmt="WEBP")),
    ]
    pdf, pages = item_pdf(uploads)
    assert pages == 3 == len(PdfReader(BytesIO(pdf)).pages)
    for image, color in zip(page_images(pdf), colors, strict=True):
        r, g, b = image.getpixel((image.width - 5, image.height - 5))
        assert max(abs(r - color[0]), abs(g - color[1]), abs(b - color[2])) < 40


def test_two_page_id_card_scan_becomes_one_pdf_with_two_pages():
    item = Item(
        "id_card_beneficiary",
        "Carta d'identità del beneficiario",
        [
            upload("id_card_beneficiary", 1, "jpeg", photo()),
            upload("id_card_beneficiary", 2, "jpeg", photo(color=(30, 30, 200))),
        ],
    )
    dossier = dossier_of([form_item(), item])
    assert [f.name for f in dossier.files] == [
        "01-domanda.pdf",
        "02-carta-d-identita-del-beneficiario.pdf",
    ]
    card = dossier.files[1]
    assert card.pages == 2 == len(PdfReader(BytesIO(card.data)).pages)
    assert card.mime == "application/pdf" and card.item_id == "id_card_beneficiary"


def test_sideways_photo_becomes_a_portrait_page():
    # stored 400x300 (landscape), EXIF says "rotate 90° clockwise to view": a portrait photo
    pdf, pages = item_pdf([upload("verbale", 1, "jpeg", photo(orientation=6))])
    page = PdfReader(BytesIO(pdf)).pages[0]
    assert pages == 1
    assert is_portrait(page)
    (image,) = page_images(pdf)
    assert image.size == (300, 400)
    # the mark of the stored top-left corner is now top-right
    assert sum(image.getpixel((image.width - 10, 10))) < 100
    assert sum(image.getpixel((10, 10))) > 150


def test_landscape_photo_gets_a_landscape_page():
    pdf, _ = item_pdf([upload("verbale", 1, "jpeg", photo(size=(800, 500)))])
    assert not is_portrait(PdfReader(BytesIO(pdf)).pages[0])


def test_big_photo_is_downscaled_and_loses_its_exif():
    original = photo(size=(4000, 3000))
    assert b"TelefonoDiProva" in original
    pdf, _ = item_pdf([upload("isee", 1, "jpeg", original)], max_side=2200, quality=80)
    (image,) = PdfReader(BytesIO(pdf)).pages[0].images
    assert 1800 <= max(image.image.size) <= 2200
    assert b"TelefonoDiProva" not in pdf and b"Exif\0\0" not in pdf


def test_transparent_png_is_flattened_on_white():
    pdf, _ = item_pdf([upload("isee", 1, "png", photo(fmt="PNG", mode="RGBA"))])
    (image,) = page_images(pdf)
    assert image.getpixel((image.width - 5, image.height - 5)) >= (245, 245, 245)


def test_heic_photo_from_an_iphone_becomes_a_page():
    out = BytesIO()
    Image.new("RGB", (300, 200), (10, 150, 10)).save(out, format="HEIF")
    pdf, pages = item_pdf([upload("isee", 1, "heic", out.getvalue())])
    assert pages == 1
    (image,) = page_images(pdf)
    assert image.size == (300, 200)
    assert image.getpixel((150, 100))[1] > 100


def test_three_page_pdf_plus_two_photos_gives_five_pages_in_seq_order():
    uploads = [
        upload("contract", 3, "jpeg", photo(color=(20, 20, 220))),
        upload("contract", 2, "pdf", text_pdf(3, "Contratto pagina")),
        upload("contract", 1, "jpeg", photo(color=(220, 20, 20))),
    ]
    pdf, pages = item_pdf(uploads)
    reader = PdfReader(BytesIO(pdf))
    assert pages == 5 == len(reader.pages)
    kinds = ["image" if page.images else page.extract_text().strip() for page in reader.pages]
    assert kinds == [
        "image",
        "Contratto pagina 1",
        "Contratto pagina 2",
        "Contratto pagina 3",
        "image",
    ]
    first, last = reader.pages[0].images[0].image, reader.pages[4].images[0].image
    assert first.convert("RGB").getpixel((390, 290))[0] > 150  # red first
    assert last.convert("RGB").getpixel((390, 290))[2] > 150  # blue last


def test_pdf_protected_by_an_empty_password_is_opened():
    writer = PdfWriter(clone_from=PdfReader(BytesIO(text_pdf(2, "ISEE pagina"))))
    writer.encrypt(user_password="", owner_password="proprietario", algorithm="AES-128")
    out = BytesIO()
    writer.write(out)
    pdf, pages = item_pdf([upload("isee", 1, "pdf", out.getvalue())])
    reader = PdfReader(BytesIO(pdf))
    assert pages == 2
    assert not reader.is_encrypted
    assert "ISEE pagina 2" in reader.pages[1].extract_text()


def test_single_plain_pdf_is_kept_as_it_came():
    original = text_pdf(2, "ISEE pagina")
    dossier = dossier_of([Item("isee", "Attestazione ISEE", [upload("isee", 1, "pdf", original)])])
    assert dossier.files[0].data == original
    assert dossier.files[0].pages == 2


# --- the dossier ------------------------------------------------------------------------


def test_p7m_stays_byte_identical():
    p7m = b"0\x82\x10\x00\x06\x09*\x86H\x86\xf7\r\x01\x07\x02" + bytes(range(256)) * 40
    items = [
        form_item(),
        Item(
            "signed_application",
            "Domanda firmata digitalmente",
            [upload("signed_application", 1, "p7m", p7m)],
        ),
    ]
    dossier = dossier_of(items)
    kept = dossier.files[1]
    assert kept.data == p7m
    assert kept.sha256 == hashlib.sha256(p7m).hexdigest()
    assert kept.name == "02-domanda-firmata-digitalmente.pdf.p7m"
    assert kept.mime == "application/pkcs7-mime"


def test_signed_pdf_is_kept_byte_for_byte():
    signed = signed_pdf()
    item = Item("delegation", "Delega firmata", [upload("delegation", 1, "pdf", signed)])
    dossier = dossier_of([form_item(), item])
    assert dossier.files[1].data == signed
    assert dossier.files[1].pages == 1


def test_signed_pdf_next_to_photos_is_not_merged():
    signed = signed_pdf()
    item = Item(
        "contract",
        "Contratto",
        [upload("contract", 1, "jpeg", photo()), upload("contract", 2, "pdf", signed)],
    )
    dossier = dossier_of([item])
    assert [f.name for f in dossier.files] == ["01-contratto.pdf", "02-contratto.pdf"]
    assert dossier.files[0].pages == 1
    assert dossier.files[1].data == signed


def test_file_names_are_numbered_ascii_slugs_in_checklist_order():
    items = [
        form_item(),
        Item("id", "Carta d'identità del beneficiario", [upload("id", 1, "jpeg", photo())]),
        Item("verbale", "Verbale di invalidità – INPS", [upload("verbale", 1, "png", photo())]),
        Item("empty", "Nessun file", []),
        Item("isee", "Attestazione ISEE", [upload("isee", 1, "pdf", text_pdf(1, "ISEE"))]),
    ]
    names = [f.name for f in dossier_of(items).files]
    assert names == [
        "01-domanda.pdf",
        "02-carta-d-identita-del-beneficiario.pdf",
        "03-verbale-di-invalidita-inps.pdf",
        "04-attestazione-isee.pdf",
    ]
    assert names == [f.name for f in dossier_of(items).files]  # same input, same names


@given(st.text(max_size=120))
def test_slugs_are_plain_ascii_lower_case_with_hyphens(title: str):
    slug = slugify(title)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
    assert len(slug) <= 60


def test_manifest_lists_every_file_and_its_sha256_survives_email():
    items = [
        form_item(),
        Item("id", "Carta d'identità del beneficiario", [upload("id", 1, "jpeg", photo())]),
        Item("isee", "Attestazione ISEE", [upload("isee", 1, "pdf", text_pdf(2, "ISEE"))]),
    ]
    dossier = dossier_of(items)
    assert dossier.manifest.name == MANIFEST_NAME
    assert all("segnatura" not in f.name for f in [*dossier.files, dossier.manifest])
    manifest = json.loads(dossier.manifest.data.decode("utf-8"))
    assert dossier.manifest.data.decode("utf-8").startswith('{\n  "dossier_id"')
    assert manifest["dossier_id"] == "B2-7K3M9Q"
    assert manifest["notice_id"] == "visconteo-sud-milano-2025"
    assert manifest["recipient"] == "protocollo@pec.comune.rozzano.mi.it"
    assert manifest["created_at"] == "2025-06-02T10:30:00+02:00"
    assert manifest["generator"] == "Sportello B2"
    assert manifest["messages"] == 1
    listed = manifest["files"]
    assert [entry["name"] for entry in listed] == [f.name for f in dossier.files]
    assert listed[1] == {
        "name": "02-carta-d-identita-del-beneficiario.pdf",
        "item": "id",
        "title": "Carta d'identità del beneficiario",
        "size": dossier.files[1].size,
        "sha256": dossier.files[1].sha256,
        "pages": 1,
        "message": 1,
    }
    # the files travel by e-mail; the manifest still matches what arrives
    (attachments,) = dossier.messages
    message = EmailMessage()
    message["Subject"] = "Pratica B2-7K3M9Q"
    message.set_content("Istanza Misura B2")
    for f in attachments:
        maintype, subtype = f.mime.split("/")
        message.add_attachment(f.data, maintype=maintype, subtype=subtype, filename=f.name)
    received = email.message_from_bytes(message.as_bytes(), policy=email_policy)
    arrived = {
        part.get_filename(): part.get_content()
        for part in received.iter_attachments()  # type: ignore[attr-defined]
    }
    assert set(arrived) == {f.name for f in dossier.files} | {MANIFEST_NAME}
    arrived_manifest = json.loads(arrived[MANIFEST_NAME])
    for entry in arrived_manifest["files"]:
        data = arrived[entry["name"]]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["size"]


def test_naive_creation_time_is_refused():
    with pytest.raises(ValueError):
        dossier_of([form_item()], created_at=dt.datetime(2025, 6, 2, 10, 30))


def test_big_noisy_photos_are_reencoded_to_fit_a_small_budget():
    budget = 3 * 1024 * 1024
    uploads = [upload("verbale", n, "jpeg", noisy_photo(n)) for n in range(1, 4)]
    full_size, _ = item_pdf(uploads)
    assert len(full_size) > budget  # the default encoding would not fit
    dossier = dossier_of([form_item(), Item("verbale", "Verbale", uploads)], budget=budget)
    assert len(dossier.messages) == 1
    assert sum(f.size for f in dossier.messages[0]) <= budget
    verbale = dossier.files[1]
    assert verbale.pages == 3
    sides = [max(page.images[0].image.size) for page in PdfReader(BytesIO(verbale.data)).pages]
    assert max(sides) <= 1600


def test_dossier_still_over_budget_is_split_into_messages_each_with_the_manifest():
    budget = 1024 * 1024
    items = [form_item()] + [
        Item(f"doc{n}", f"Documento {n}", [upload(f"doc{n}", 1, "jpeg", noisy_photo(n))])
        for n in range(1, 8)
    ]
    dossier = dossier_of(items, budget=budget)
    assert len(dossier.messages) >= 2
    manifest = json.loads(dossier.manifest.data)
    assert manifest["messages"] == len(dossier.messages)
    sent = []
    for number, attachments in enumerate(dossier.messages, start=1):
        assert dossier.manifest in attachments
        assert sum(f.size for f in attachments) <= budget
        for f in attachments:
            if f is not dossier.manifest:
                sent.append(f.name)
                (entry,) = [e for e in manifest["files"] if e["name"] == f.name]
                assert entry["message"] == number
    assert sorted(sent) == sorted(f.name for f in dossier.files)
    assert len(sent) == len(set(sent))
    assert dossier.messages[0][0].name == "01-domanda.pdf"
    for f in dossier.files[1:]:  # re-encoded at the smallest level before splitting
        assert max(PdfReader(BytesIO(f.data)).pages[0].images[0].image.size) <= 1200


def test_a_single_file_over_budget_raises_too_large():
    p7m = bytes(range(256)) * 8192  # 2 MiB, cannot be re-encoded
    items = [
        form_item(),
        Item("contract", "Contratto firmato", [upload("contract", 1, "p7m", p7m)]),
    ]
    with pytest.raises(TooLarge) as raised:
        dossier_of(items, budget=1024 * 1024)
    assert raised.value.item_id == "contract"
    assert raised.value.size == len(p7m)
