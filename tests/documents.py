"""Files a family sends, made in the test: phone photos of documents and PDFs."""

from __future__ import annotations

import datetime as dt
import io
import random

from fpdf import FPDF
from PIL import Image, ImageDraw
from pypdf import PdfWriter
from pypdf.actions import JavaScript


def document_photo(seed: int = 0, size: tuple[int, int] = (1200, 1600)) -> bytes:
    """A photo of a printed page: paper, lines of 'text', some noise. A JPEG like a phone's."""
    rng = random.Random(seed)
    img = Image.new("RGB", size, (235, 232, 225))
    draw = ImageDraw.Draw(img)
    for y in range(120, size[1] - 120, 38):
        x = 100
        while x < size[0] - 160:
            w = rng.randint(30, 140)
            draw.rectangle([x, y, x + w, y + 14], fill=(40, 40, 50))
            x += w + rng.randint(12, 30)
    draw.text((100, 60), f"DOCUMENTO {seed}", fill=(0, 0, 0))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85)
    return out.getvalue()


def signed_page_photo(form_pdf: bytes, index: int, angle: float = 0, blur: float = 0) -> bytes:
    """A phone photo of page `index` of the form the chat made, printed and signed: the
    page rendered (pypdfium2), a scribble where the signature goes, turned by `angle` on a
    table and a little out of focus (`blur`), saved as a JPEG."""
    import pypdfium2
    from PIL import ImageFilter

    page = pypdfium2.PdfDocument(form_pdf)[index]
    img = page.render(scale=2000 / page.get_height()).to_pil().convert("RGB")
    draw = ImageDraw.Draw(img)
    draw.line(
        [(img.width * 0.55, img.height * 0.8), (img.width * 0.8, img.height * 0.78)],
        fill=(20, 30, 120),
        width=4,
    )
    table = Image.new("RGB", (img.width + 300, img.height + 200), (120, 86, 52))
    turned = img.rotate(angle, expand=True, fillcolor=(120, 86, 52), resample=Image.BICUBIC)
    turned.thumbnail((table.width - 40, table.height - 40))
    table.paste(turned, ((table.width - turned.width) // 2, (table.height - turned.height) // 2))
    if blur:
        table = table.filter(ImageFilter.GaussianBlur(blur))
    out = io.BytesIO()
    table.save(out, format="JPEG", quality=85)
    return out.getvalue()


def signed_form_photos(form_pdf: bytes) -> list[bytes]:
    """A photo of every page of the form, signed (`signed_page_photo`)."""
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(form_pdf)).pages)
    return [signed_page_photo(form_pdf, i, angle=2 * (i % 2) - 1, blur=0.8) for i in range(pages)]


def pdf_document(pages: int = 1, text: str = "Attestazione") -> bytes:
    """A text PDF, `text` on every page (two with different texts are different files)."""
    pdf = FPDF(unit="pt", format="A4")
    pdf.set_creation_date(dt.datetime(2025, 6, 2, tzinfo=dt.UTC))
    pdf.set_font("Helvetica", size=14)
    for number in range(pages):
        pdf.add_page()
        pdf.text(72, 100, f"{text} - pagina {number + 1}")
    pdf.set_title(text)
    return bytes(pdf.output())


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="segreta", owner_password="segreta")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_javascript() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_open_action(JavaScript("app.alert('ciao');"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
