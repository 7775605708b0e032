"""What reading the signed pages costs: time and peak memory of
`dossier.pagecode.recognise_file` in its bounded process (the limits of an upload check:
8 s, 450 MB): the QR codes read, each page of the form cut out upright (a photo
re-encoded, a PDF page split off) and its signature box looked at for ink; for phone
photos of a printed page (12, 48 Mpx; turned, askew, blurred), the signature page signed
and not, a cat, the form as a PDF, a 100-page scan, and a signed .p7m.

Run: python benchmarks/pagecode_bench.py
The memory is the job process's peak resident size beyond its start (ru_maxrss), the time
the caller's wall time, process start included (as benchmarks/hostile_bench.py measures).
Targets: a photo read in under 2 s and 300 MB; nothing over the upload check's limits.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dossier import bounded
from dossier.form import form_edition, made_form
from dossier.pagecode import recognise_file
from tests.documents import page_photo, signature_boxes
from tests.istanza_cases import case_form
from tests.test_file_checks import p7m
from tests.test_pagecode import cat_photo, page_image, phone_photo

MB = 1024 * 1024


def main() -> None:
    data = case_form("visconteo-sud-milano-2025")
    made = made_form(data)
    pdf, pages = made.pdf, made.pages
    edition = form_edition(data)
    signature = next(i for i in range(pages) if signature_boxes(pdf, i))
    page = page_image(pdf, 1)
    scan = page_image(pdf, 0, height=1754)
    out = io.BytesIO()
    scan.save(out, format="PDF", save_all=True, append_images=[scan] * 99, resolution=150)
    cases = [
        ("photo 4000x3000 (12 Mpx), turned 8°, blurred", phone_photo(page, 8, 1.5)),
        ("photo 4000x3000, turned 97°, blurred", phone_photo(page, 97, 2.0)),
        ("photo 8000x6000 (48 Mpx), turned 5°", phone_photo(page, 5, 1.0, size=(8000, 6000))),
        (
            "signature page 4000x3000, signed, askew",
            page_photo(pdf, signature, angle=-8, tilt=0.08, noise=14, shade=0.45, blur=1.0),
        ),
        (
            "signature page 4000x3000, not signed, askew",
            page_photo(pdf, signature, signed=False, angle=-8, tilt=0.08, noise=14, blur=1.0),
        ),
        ("cat photo 3000x4000 (no code)", cat_photo()),
        (f"the form as a PDF ({pages} pages, vector)", pdf),
        ("scan PDF, 100 pages at 150 dpi (8 read)", out.getvalue()),
        ("the form signed (.p7m)", p7m(pdf)),
    ]
    bounded.warm_up()
    print(f"{'file':48} {'outcome':10} {'pages':8} {'ink':10} {'time':>7} {'peak':>8}")
    for name, blob in cases:
        start = time.perf_counter()
        found, peak = bounded.run_measured(
            recognise_file, blob, "B2-7K3M9Q", edition, pages, made.layout
        )
        took = time.perf_counter() - start
        shown = ",".join(str(p) for p in found.pages) or "-"
        ink = ",".join({True: "yes", False: "NO"}.get(f.ink, "-") for f in found.found) or "-"
        print(f"{name:48} {found.outcome:10} {shown:8} {ink:10} {took:6.2f}s {peak / MB:6.0f} MB")


if __name__ == "__main__":
    main()
