"""Files a family sends, made in the test: phone photos of documents and PDFs."""

from __future__ import annotations

import datetime as dt
import io
import math
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


def signature_boxes(form_pdf: bytes, index: int) -> list[tuple[float, float, float, float]]:
    """The boxes to sign in on page `index` of the form, (x, y, width, height) in points
    from the top left: found in the PDF itself (the rectangles drawn of the signature
    box's size), not from the layout the form stored, so a wrong layout shows."""
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    from dossier.formpdf import SIGNATURE_BOX

    page = pypdfium2.PdfDocument(form_pdf)[index]
    height = page.get_height()
    width_pt, height_pt = (side / 25.4 * 72 for side in SIGNATURE_BOX)
    boxes = []
    for obj in page.get_objects():
        if obj.type != pdfium_c.FPDF_PAGEOBJ_PATH:
            continue
        left, bottom, right, top = obj.get_bounds()
        if abs(right - left - width_pt) < 2 and abs(top - bottom - height_pt) < 2:
            boxes.append((left, height - top, right - left, top - bottom))
    return boxes


def scribble(
    draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], seed: int = 0
) -> None:
    """A handwritten signature across `box` (pixels): loops and a flourish, in blue ink."""
    rng = random.Random(seed)
    x, y, w, h = box
    points = []
    for i in range(220):
        t = i / 219
        loop = math.sin(t * math.pi * 9 + rng.random() * 0.2)
        points.append(
            (
                x + w * (0.12 + 0.7 * t) + w * 0.03 * math.cos(t * math.pi * 9),
                y + h * (0.55 - 0.25 * loop * (1 - 0.4 * t)),
            )
        )
    width = max(2, round(h / 60))
    draw.line(points, fill=(25, 35, 120), width=width, joint="curve")
    draw.line(
        [(x + w * 0.2, y + h * 0.8), (x + w * 0.5, y + h * 0.72), (x + w * 0.75, y + h * 0.78)],
        fill=(25, 35, 120),
        width=width,
    )


def page_photo(
    form_pdf: bytes,
    index: int,
    *,
    signed: bool = True,
    angle: float = 0,
    tilt: float = 0.0,
    blur: float = 0,
    noise: float = 0,
    shade: float = 0.0,
    contrast: float = 1.0,
    size: tuple[int, int] = (4000, 3000),
    seed: int = 0,
) -> bytes:
    """A phone photo of page `index` of the form, printed: signed in its signature box
    (if it has one, and `signed`), lying on a wooden table, turned by `angle` degrees,
    seen a little from below (`tilt`: the top of the page narrower by that share), out of
    focus (`blur`), grainy (`noise`, grey levels), lit from one side (`shade`: the left
    edge that much darker), in dim light (`contrast`: 0.3 keeps 30% of the difference
    between print and paper), saved as a phone saves it (JPEG)."""
    import pypdfium2
    from PIL import ImageChops, ImageFilter

    page = pypdfium2.PdfDocument(form_pdf)[index]
    scale = 2600 / page.get_height()
    img = page.render(scale=scale).to_pil().convert("RGB")
    if signed:
        draw = ImageDraw.Draw(img)
        for n, (x, y, w, h) in enumerate(signature_boxes(form_pdf, index)):
            scribble(draw, (x * scale, y * scale, w * scale, h * scale), seed + n)
    table_colour = (120, 86, 52)
    if tilt:
        w, h = img.size
        pull = tilt * w / 2
        img = img.transform(
            img.size,
            Image.Transform.QUAD,
            (-pull, 0, 0, h, w, h, w + pull, 0),
            resample=Image.Resampling.BICUBIC,
            fillcolor=table_colour,
        )
    turned = img.rotate(angle, expand=True, fillcolor=table_colour, resample=Image.BICUBIC)
    turned.thumbnail((size[0] - 60, size[1] - 60))
    table = Image.new("RGB", size, table_colour)
    table.paste(turned, ((size[0] - turned.width) // 2, (size[1] - turned.height) // 2))
    if shade:
        light = Image.linear_gradient("L").rotate(90).resize(size)  # dark on the left
        light = light.point(lambda v: round(255 * (1 - shade) + v * shade))
        table = ImageChops.multiply(table, Image.merge("RGB", [light] * 3))
    if blur:
        table = table.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        grain = Image.effect_noise(size, noise).convert("RGB")
        table = ImageChops.add(table, grain, offset=-128)
    if contrast != 1.0:
        from PIL import ImageEnhance

        table = ImageEnhance.Contrast(table).enhance(contrast)
    out = io.BytesIO()
    table.save(out, format="JPEG", quality=85)
    return out.getvalue()


def qr_close_up(form_pdf: bytes, index: int, around: float = 0.5, side: int = 800) -> bytes:
    """A photo of just the QR code of page `index` (a phone zoomed in on it): the code
    with `around` of its side around it, no more of the page; `side` pixels square."""
    import zxingcpp

    page = Image.open(io.BytesIO(page_photo(form_pdf, index, size=(3000, 4000))))
    corners = zxingcpp.read_barcodes(page.convert("L"))[0].position
    xs = [c.x for c in (corners.top_left, corners.top_right, corners.bottom_right)]
    ys = [c.y for c in (corners.top_left, corners.top_right, corners.bottom_right)]
    code = max(xs) - min(xs)
    box = (min(xs) - around * code, min(ys) - around * code)
    box += (max(xs) + around * code, max(ys) + around * code)
    out = io.BytesIO()
    page.crop(tuple(round(v) for v in box)).resize((side, side)).save(out, format="JPEG")
    return out.getvalue()


def qr_on_a_blank_sheet(
    form_pdf: bytes, index: int, *, signed: bool = False, lines: int = 0
) -> bytes:
    """A photo of a whole sheet of paper that holds page `index`'s QR code where the form
    prints it, and nothing else (the code cut out and glued on a blank sheet); `signed`:
    with a scribble in each of the page's signature boxes (the boxes not drawn), and
    `lines` strokes of a pen across the sheet (the red team's blank sheet made to pass)."""
    import pypdfium2

    page = pypdfium2.PdfDocument(form_pdf)[index]
    scale = 2600 / page.get_height()
    printed = page.render(scale=scale).to_pil().convert("RGB")
    mm = scale * 72 / 25.4  # pixels per millimetre
    code = tuple(round(v * mm) for v in (172, 269, 194, 291))  # the code, 2 mm around
    sheet = Image.new("RGB", printed.size, "white")
    sheet.paste(printed.crop(code), code[:2])
    draw = ImageDraw.Draw(sheet)
    if signed:
        for n, (x, y, w, h) in enumerate(signature_boxes(form_pdf, index)):
            scribble(draw, (x * scale, y * scale, w * scale, h * scale), n)
    pen = random.Random(index)
    for _ in range(lines):
        y = pen.uniform(20, 250) * mm
        draw.line((20 * mm, y, pen.uniform(60, 190) * mm, y + pen.uniform(-9, 9) * mm), "black", 4)
    table = Image.new("RGB", (sheet.width + 200, sheet.height + 200), (120, 86, 52))
    table.paste(sheet, (100, 100))
    out = io.BytesIO()
    table.save(out, format="JPEG", quality=85)
    return out.getvalue()


def scanned_form(
    form_pdf: bytes,
    pages: list[int],
    *,
    unsigned: tuple[int, ...] = (),
    turned: dict[int, float] | None = None,
) -> bytes:
    """A scan of the printed form as a PDF (one page image each, as a scanning app makes
    it): pages `pages` (indexes) in that order, signed except `unsigned`, each turned by
    `turned[index]` degrees (the whole sheet put in the scanner sideways)."""
    turned = turned or {}
    images = [
        Image.open(
            io.BytesIO(page_photo(form_pdf, i, signed=i not in unsigned, size=(1240, 1754), seed=i))
        ).rotate(turned.get(i, 0), expand=True)
        for i in pages
    ]
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


def signed_page_photo(form_pdf: bytes, index: int, angle: float = 0, blur: float = 0) -> bytes:
    """A phone photo of page `index` of the form the chat made, printed and signed in its
    box (`page_photo`), turned by `angle` on a table and a little out of focus (`blur`)."""
    return page_photo(form_pdf, index, angle=angle, blur=blur, size=(1800, 2300))


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
