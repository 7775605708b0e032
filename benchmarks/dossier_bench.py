"""Time to assemble a realistic dossier: 12 phone photos, 2 PDFs, the application form.

Run: python benchmarks/dossier_bench.py [--rounds 3]
It builds 12 synthetic phone photos (4000x3000 JPEG at quality 92, about 4 MB each: a sheet
of paper with text on a smooth, lit background with sensor-like noise), two text PDFs (2 and
4 pages) and the filled form, spreads them over 7 checklist items, then times `assemble`
(the first run and the best of --rounds). Generating the inputs is not timed.
Targets: at most 3 s on 2 cores, at most 10 MB of output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import sys
import time
from io import BytesIO
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFilter, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dossier.assemble import Item, Upload, assemble
from dossier.form import application_form_pdf
from dossier.formpdf import FONT_DIR
from tests.istanza_cases import case_form

TARGET_SECONDS = 3.0
TARGET_MB = 10.0
WIDTH, HEIGHT = 4000, 3000
MB = 1024 * 1024


def _noise_tiles() -> list[Image.Image]:
    return [Image.effect_noise((1024, 1024), 64) for _ in range(3)]


def _tiled(tile: Image.Image, dx: int, dy: int) -> Image.Image:
    out = Image.new("L", (WIDTH, HEIGHT))
    for x in range(-dx, WIDTH, tile.width):
        for y in range(-dy, HEIGHT, tile.height):
            out.paste(tile, (x, y))
    return out


def phone_photo(n: int, tiles: list[Image.Image]) -> bytes:
    """A photo-like 12 MP JPEG: gradients, a sheet with text, noise; ~4 MB at q92."""
    light = Image.radial_gradient("L").resize((WIDTH, HEIGHT)).point(lambda v: 255 - v // 2)
    ramp = Image.linear_gradient("L").rotate(30 * n, expand=False).resize((WIDTH, HEIGHT))
    img = Image.merge(
        "RGB",
        [
            Image.blend(light, ramp, 0.3),
            Image.blend(light, ramp, 0.2),
            Image.blend(light, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 0.4),
        ],
    )
    draw = ImageDraw.Draw(img)
    sheet = (500 + 20 * n, 250, 3500 - 10 * n, 2800)
    draw.rectangle(sheet, fill=(236, 232, 222))
    font = ImageFont.truetype(str(FONT_DIR / "DejaVuSans.ttf"), 46)
    y = sheet[1] + 120
    while y < sheet[3] - 120:
        words = " ".join(
            random.choice(
                (
                    "Comune",
                    "Rozzano",
                    "ISEE",
                    "verbale",
                    "invalidità",
                    "indennità",
                    "accompagnamento",
                    "2025",
                    "n.",
                    "€",
                )
            )
            for _ in range(9)
        )
        draw.text((sheet[0] + 120, y), words, fill=(40, 40, 60), font=font)
        y += 78
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    noise = [_tiled(t, 37 * n % 1024, 91 * n % 1024) for t in tiles]
    img = Image.blend(img, Image.merge("RGB", noise), 0.16)
    out = BytesIO()
    img.save(out, format="JPEG", quality=92)
    return out.getvalue()


def text_pdf(pages: int, title: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.set_font("DejaVu", size=11)
    for page in range(1, pages + 1):
        pdf.add_page()
        pdf.multi_cell(0, 6, f"{title} – pagina {page}\n" + "Testo del documento. " * 120)
    return bytes(pdf.output())


def sample_form() -> bytes:
    return application_form_pdf(case_form("visconteo-sud-milano-2025", dossier_id="B2-BENCH1"))


def upload(item_id: str, seq: int, kind: str, data: bytes) -> Upload:
    return Upload(item_id, seq, kind, data, hashlib.sha256(data).hexdigest())


def workload() -> tuple[list[Item], list[bytes], list[bytes]]:
    random.seed(2025)
    tiles = _noise_tiles()
    photos = [phone_photo(n, tiles) for n in range(12)]
    pdfs = [text_pdf(2, "Attestazione ISEE"), text_pdf(4, "Contratto di lavoro domestico")]
    layout = [
        ("id_card_beneficiary", "Carta d'identità del beneficiario", photos[0:2]),
        ("id_card_applicant", "Carta d'identità del richiedente", photos[2:4]),
        ("disability_report", "Verbale di invalidità", photos[4:8]),
        ("isee", "Attestazione ISEE", [pdfs[0]]),
        ("employment_contract", "Contratto dell'assistente familiare", [pdfs[1], *photos[8:9]]),
        ("payslips", "Buste paga", photos[9:12]),
    ]
    items = [Item("application", "Domanda", [upload("application", 1, "pdf", sample_form())])]
    for item_id, title, blobs in layout:
        uploads = [
            upload(item_id, seq, "pdf" if blob.startswith(b"%PDF") else "jpeg", blob)
            for seq, blob in enumerate(blobs, start=1)
        ]
        items.append(Item(item_id, title, uploads))
    return items, photos, pdfs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    items, photos, pdfs = workload()
    made = time.perf_counter() - start
    inputs = [u for item in items for u in item.uploads]
    total_in = sum(len(u.data) for u in inputs)
    print(f"cores: {os.cpu_count()}  (inputs generated in {made:.1f} s, not timed)")
    print(
        f"input: {len(inputs)} files, {total_in / MB:.1f} MB "
        f"({len(photos)} photos {WIDTH}x{HEIGHT}, average {sum(map(len, photos)) / len(photos) / MB:.2f} MB; "
        f"{len(pdfs)} PDFs; the form)"
    )
    times = []
    dossier = None
    for _ in range(max(1, args.rounds)):
        t0 = time.perf_counter()
        dossier = assemble(
            items,
            dossier_id="B2-BENCH1",
            notice_id="visconteo-sud-milano-2025",
            recipient="protocollo@pec.comune.example.it",
            created_at=dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC),
        )
        times.append(time.perf_counter() - t0)
    assert dossier is not None
    out = sum(f.size for f in dossier.files) + dossier.manifest.size
    best = min(times)
    print(f"assembly: first run {times[0]:.2f} s, best of {len(times)} {best:.2f} s")
    print(
        f"output: {len(dossier.files)} files + manifest, {out / MB:.2f} MB, "
        f"{sum(f.pages for f in dossier.files)} pages, {len(dossier.messages)} message(s)"
    )
    time_ok, size_ok = best <= TARGET_SECONDS, out / MB <= TARGET_MB
    print(f"target time  <= {TARGET_SECONDS:.0f} s : {'met' if time_ok else 'NOT met'}")
    print(f"target size  <= {TARGET_MB:.0f} MB: {'met' if size_ok else 'NOT met'}")


if __name__ == "__main__":
    main()
