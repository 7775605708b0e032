"""What the worst files cost: peak memory and time of the upload check, alone and four at
once, for the worst image and PDF the service accepts and the worst it refuses; then a
staff preview and the assembly of a dossier made of the worst accepted files.

Run: python benchmarks/hostile_bench.py
Every file is made here (see tests/hostile.py). Each measurement goes through the real
path, `dossier.bounded` (a process per job, two at once): the memory is the job process's
peak resident size beyond its start (ru_maxrss), the time is the caller's wall time
(process start included). Four at once: four callers submit together; only two run at
a time, so the memory at any moment is at most the two largest peaks.
Targets: accepted <= 300 MB and 2 s; refused <= 300 MB and 1 s; four at once <= 1 GB.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pillow_heif
from PIL import Image

from dossier import bounded
from dossier.assemble import Item, Upload, assemble, photo_jpeg
from dossier.files import CheckedFile
from dossier.uploads import check
from tests import hostile

pillow_heif.register_heif_opener()
MB = 1024 * 1024


def scanned_pdf(pages: int, side: int, budget: int = 19 * MB) -> bytes:
    """A scan: `pages` noisy JPEG pages of `side` x 1.41 `side` px, as heavy as fits
    `budget` (the 20 MB a bot may download)."""
    noise = Image.effect_noise((side, int(side * 1.41)), 40).convert("RGB")
    page = Image.blend(hostile.page_image(noise.size), noise, 0.25)
    for quality in (85, 75, 60, 45, 30, 20):
        out = io.BytesIO()
        page.save(out, "PDF", save_all=True, append_images=[page] * (pages - 1), quality=quality)
        if out.tell() <= budget:
            return out.getvalue()
    raise ValueError("no quality fits")


def cases() -> list[tuple[str, str, bytes]]:
    """(group, name, bytes)."""
    heic = hostile.encoded(hostile.page_image((6530, 4900)), "HEIF", quality=50)
    signed = hostile.signed_again(hostile.one_page_pdf(), 20)
    return [
        (
            "accepted image",
            "PNG RGBA 5477x5477 (30 Mpx, the ceiling)",
            hostile.png_rgba(5477, 5477),
        ),
        ("accepted image", "HEIC 6530x4900 (32 Mpx)", heic),
        (
            "accepted image",
            "JPEG progressive 8160x6120 (50 Mpx)",
            hostile.jpeg_page(8160, 6120, True),
        ),
        (
            "accepted image",
            "JPEG progressive 7000x7000 q95 (49 Mpx, red team)",
            hostile.encoded(hostile.page_image((7000, 7000)), "JPEG", quality=95, progressive=True),
        ),
        (
            "accepted image",
            "JPEG progressive 4:4:4 7300x5475 (40 Mpx, ceiling)",
            hostile.encoded(
                hostile.page_image((7300, 5475)),
                "JPEG",
                quality=95,
                progressive=True,
                subsampling=0,
            ),
        ),
        (
            "refused image",
            "JPEG progressive 4:4:4 8160x6120 (red team)",
            hostile.encoded(
                hostile.page_image((8160, 6120)),
                "JPEG",
                quality=95,
                progressive=True,
                subsampling=0,
            ),
        ),
        (
            "accepted image",
            "WebP 4000x4000 (16 Mpx)",
            hostile.encoded(hostile.page_image((4000, 4000)), "WEBP"),
        ),
        ("accepted image", "JPEG 10300x7740 (80 Mpx)", hostile.jpeg_page(10300, 7740)),
        ("refused image", "PNG RGBA 8940x8940 (issue 9, 350 KB)", hostile.png_rgba(8940, 8940)),
        ("refused image", "JPEG declaring 60000x60000", hostile.jpeg_declaring(60000, 60000)),
        ("refused image", "PNG RGBA 5478x5478 (just over)", hostile.png_rgba(5478, 5478)),
        ("accepted PDF", "scan, 100 pages (the limit), 19 MB", scanned_pdf(100, 1240)),
        ("accepted PDF", "verbale, 50 pages, 19 MB", scanned_pdf(50, 1654)),
        ("refused PDF", "1,000,000 pages (one page object)", hostile.many_pages_pdf(1_000_000)),
        ("refused PDF", "200,000 pages, /Count says 1", hostile.lying_count_pdf(200_000)),
        ("refused PDF", "XFA + JavaScript link + file annotation", hostile.javascript_link()),
        ("accepted PDF", "a page whose text inflates to 300 MB", hostile.flate_bomb_pdf(300)),
        (
            "accepted PDF",
            "9,500 trivial objects (just under the ceiling)",
            hostile.many_objects_pdf(9_500),
        ),
        (
            "refused PDF",
            "60,000 trivial objects (red team: 2-6 s)",
            hostile.many_objects_pdf(60_000),
        ),
        (
            "refused PDF",
            "300,000 trivial objects, 17 MB (red team)",
            hostile.many_objects_pdf(300_000),
        ),
        ("refused PDF", "signed, /Names twice (the second an exe)", _repeated("/Names")),
        (
            "accepted PDF",
            "signed by a tool + DSS update (difference analysis)",
            hostile.with_dss(hostile.pades_signed(_rewritten(scanned_pdf(20, 1240, 8 * MB)))),
        ),
        ("accepted PDF", "signed 5 times in a row (the most signatures taken)", signed[4]),
        (
            "accepted PDF",
            "signed, Flate grey scan: 15 pages at 300 dpi (124 MiB of pixels)",
            flate_scan_signed(15),
        ),
        (
            "refused PDF",
            "signed, Flate grey pages rendered: 16 at 300 dpi (over 128 MiB)",
            flate_scan_signed(16, noise=0),
        ),
        ("refused PDF", "signed, Flate image: 1 GiB of zeros (a bomb)", flate_bomb_image_signed()),
        (
            "refused PDF",
            "signed, Flate image: a program 120 MiB in",
            flate_scan_signed(14, tail=hostile.PROGRAM),
        ),
        (
            "accepted PDF",
            "signed, PNG-predicted grey scan: 7 pages at 300 dpi (img2pdf)",
            predicted_scan_signed(7),
        ),
        (
            "refused PDF",
            "signed, PNG-predicted scan: a program 58 MiB in",
            predicted_scan_signed(7, tail=hostile.PROGRAM),
        ),
        (
            "refused PDF",
            "signed, PNG-predicted grey scan: 8 pages (over the ceiling)",
            predicted_scan_signed(8),
        ),
        ("refused PDF", "signed 20 times in a row (red team: 4.5 s)", signed[19]),
    ]


def _flate_image(packed: bytes, width: int, height: int) -> str:
    head = (
        f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
        f"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode "
        f"/Length {len(packed)} >>\nstream\n"
    )
    return (head.encode() + packed + b"\nendstream").decode("latin-1")


def flate_scan_signed(pages: int, tail: bytes = b"", noise: float = 0.05) -> bytes:
    """A signed PDF whose image is `pages` grey 300-dpi A4 pages of a slightly noisy
    scan (`noise` 0: a page rendered by a program), compressed with Flate (as a
    scanner's grey or img2pdf's PNG), one image tall; `tail` after the pixels."""
    import zlib

    grain = Image.effect_noise((2480, 3508), 6).convert("L")
    page = Image.blend(hostile.page_image(grain.size).convert("L"), grain, noise).tobytes()
    packer = zlib.compressobj(6)
    packed = b"".join(packer.compress(page) for _ in range(pages))
    packed += packer.compress(tail.ljust(2480 * (-(-len(tail) // 2480)), b"\x00"))
    packed += packer.flush()
    height = 3508 * pages + -(-len(tail) // 2480)
    image = _flate_image(packed, 2480, height)
    return hostile.signed_pdf(catalog_extra="/PieceInfo 8 0 R", objects=(image,))


def predicted_scan_signed(pages: int, tail: bytes = b"") -> bytes:
    """As `flate_scan_signed`, but written as img2pdf writes a PNG: the PNG's own
    compressed rows, each behind the row filter the encoder chose (`/Predictor 15`), so
    the pixels are looked at twice (inflated, then with the filters undone)."""
    grain = Image.effect_noise((2480, 3508), 6).convert("L")
    page = Image.blend(hostile.page_image(grain.size).convert("L"), grain, 0.05).tobytes()
    rows = -(-len(tail) // 2480)
    height = 3508 * pages + rows
    pixels = page * pages + tail.ljust(2480 * rows, b"\x00")
    png = io.BytesIO()
    Image.frombytes("L", (2480, height), pixels).save(png, "PNG", compress_level=6)
    data, at, packed = png.getvalue(), 8, []
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        if data[at + 4 : at + 8] == b"IDAT":
            packed.append(data[at + 8 : at + 8 + length])
        at += 12 + length
    body = b"".join(packed)
    head = (
        f"<< /Type /XObject /Subtype /Image /Width 2480 /Height {height} "
        f"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode "
        f"/DecodeParms << /Predictor 15 /Colors 1 /Columns 2480 >> /Length {len(body)} >>\nstream\n"
    )
    image = (head.encode() + body + b"\nendstream").decode("latin-1")
    return hostile.signed_pdf(catalog_extra="/PieceInfo 8 0 R", objects=(image,))


def flate_bomb_image_signed() -> bytes:
    import zlib

    packer = zlib.compressobj(9)
    block = bytes(MB)
    packed = b"".join(packer.compress(block) for _ in range(1024)) + packer.flush()
    image = _flate_image(packed, 32768, 32768)
    return hostile.signed_pdf(catalog_extra="/PieceInfo 8 0 R", objects=(image,))


def _rewritten(pdf: bytes) -> bytes:
    """The scan as pypdf writes it (Pillow's cross-reference is one pyHanko won't sign)."""
    from pypdf import PdfReader, PdfWriter

    out = io.BytesIO()
    PdfWriter(clone_from=PdfReader(io.BytesIO(pdf))).write(out)
    return out.getvalue()


def _repeated(key: str) -> bytes:
    return next(d for name, d in hostile.repeated_key_pdfs().items() if key in name)


def measure(data: bytes) -> tuple[str, float, float]:
    start = time.perf_counter()
    try:
        result, peak = bounded.run_measured(check, data)
        outcome = (
            f"accepted ({result.pages} p.)"
            if isinstance(result, CheckedFile)
            else (f"refused: {result.reason}")
        )
    except bounded.Overrun as overrun:
        outcome, peak = f"refused: over the {overrun.why} limit", 0
    return outcome, time.perf_counter() - start, peak / MB


def main() -> None:
    print(f"{'case':55} {'outcome':28} {'time':>7} {'peak':>8}")
    worst: dict[str, tuple[float, float]] = {}
    made = cases()
    check(hostile.jpeg_page(500, 500))  # imports, once
    bounded.run(check, hostile.jpeg_page(500, 500))  # the fork server, once
    for group, name, data in made:
        outcome, seconds, peak = measure(data)
        print(f"{name[:55]:55} {outcome[:28]:28} {seconds:6.2f}s {peak:6.0f} MB")
        t, m = worst.get(group, (0.0, 0.0))
        worst[group] = (max(t, seconds), max(m, peak))
    print()
    for group, (seconds, peak) in worst.items():
        target = (2.0, 300) if group.startswith("accepted") else (1.0, 300)
        ok = "ok" if seconds <= target[0] and peak <= target[1] else "OVER"
        print(
            f"worst {group:15} {seconds:5.2f} s {peak:5.0f} MB  (target {target[0]} s, {target[1]} MB) {ok}"
        )
    print()
    for group in ("accepted image", "refused image", "accepted PDF", "refused PDF"):
        data = next(d for g, _n, d in made if g == group)
        start = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            runs = list(pool.map(lambda d: bounded.run_measured(check, d), [data] * 4))
        seconds = time.perf_counter() - start
        peaks = sorted((p / MB for _r, p in runs), reverse=True)
        at_once = sum(peaks[: bounded.CONCURRENT])
        ok = "ok" if at_once <= 1024 else "OVER"
        print(
            f"four at once, {group:15} {seconds:5.2f} s, peaks {', '.join(f'{p:.0f}' for p in peaks)} MB;"
            f" at most {at_once:.0f} MB at any moment (target 1 GB) {ok}"
        )
    print()
    photo = bounded.run(check, made[0][2]).clean
    start = time.perf_counter()
    _preview, peak = bounded.run_measured(photo_jpeg, photo, max_side=1200, quality=80)
    print(
        f"staff preview of the worst accepted photo: {time.perf_counter() - start:.2f} s, {peak / MB:.0f} MB"
    )
    clean = [bounded.run(check, d).clean for g, _n, d in made if g == "accepted image"][:5]
    uploads = [Upload("photos", n, "jpeg", c, str(n)) for n, c in enumerate(clean * 3)]
    scan = next(d for _g, name, d in made if name.startswith("scan, 100 pages"))
    pdf = bounded.run(check, scan).clean
    items = [
        Item("photos", "Foto", uploads),
        Item("verbale", "Verbale", [Upload("verbale", 1, "pdf", pdf, "p")]),
    ]
    start = time.perf_counter()
    built, peak = bounded.run_measured(
        assemble,
        items,
        dossier_id="B2-BENCH1",
        notice_id="x",
        recipient="p@example.it",
        created_at=dt.datetime.now(dt.UTC),
        seconds=bounded.ASSEMBLY_SECONDS,
    )
    size = sum(f.size for f in built.files) / MB
    print(
        f"assembly of {len(uploads)} worst photos + a 100-page scan: "
        f"{time.perf_counter() - start:.2f} s, {peak / MB:.0f} MB peak, "
        f"{size:.1f} MB out in {len(built.messages)} message(s)"
    )


if __name__ == "__main__":
    main()
