"""What may change in a signed PDF after it was signed: pyHanko's difference analysis.

A signature covers the file as it was when signed; anyone may append an incremental
update afterwards, and a viewer shows the file with the update (a page's text replaced,
"shadow attacks"). So a PDF counts as signed only when, for every signature, the updates
after it do nothing but what signing and archiving do: add a Document Security Store
(certificates, OCSP answers and CRLs, /VRI), a document timestamp, or another signature
(its field, its value, its widget). A signature after the first must also hide nothing:
its widget's box has no area, or lies where the page as first signed shows no print
and covers at most a quarter of it (pyHanko rates a new signature whose box covers the
page with other text as form filling, and a viewer shows that text instead of the page).
Anything else, or a file pyHanko cannot read, and the PDF counts as unsigned: its clean copy is kept and the family is told why
(`dossier.files`). Imported only when a signed PDF arrives (pyHanko takes a second).
"""

from __future__ import annotations

import io
import logging
from typing import Any

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    DiffResult,
    ModificationLevel,
)
from pyhanko.sign.fields import enumerate_sig_fields

from common.logs import quiet

log = logging.getLogger(__name__)

# pyHanko logs what it finds wrong with a file at WARNING, with object paths
quiet("pyhanko", level=logging.CRITICAL)

_ONLY_ARCHIVING = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
# Signing, a second signature, long-term validation and timestamps make a handful of
# revisions; the difference analysis goes over every one after each signature, so a file
# with more counts as changed without it.
MAX_REVISIONS = 20


MAX_BOX_SHARE = 0.25  # of its page: a later signature's box larger than this hides it
PRINTED = 0.005  # of a box's area printed in the signed revision: the box would hide print
_DARK = 200  # grey level under which a pixel of the rendered page is print


def _widgets(field: Any) -> list[tuple[Any, int | None]]:
    """A signature field's widgets, each with its object number (None: not known)."""
    if "/Rect" in field or "/Kids" not in field:
        ref = getattr(field, "container_ref", None)
        return [(field, getattr(ref, "idnum", None))]
    return [(kid.get_object(), getattr(kid, "idnum", None)) for kid in field.raw_get("/Kids")]


def _annotated_pages(data: bytes) -> dict[int, list[int]]:
    """Which pages list each annotation (by object number) in their /Annots: where a
    viewer draws it (a widget's /P may name another page)."""
    from pypdf import PdfReader

    where: dict[int, list[int]] = {}
    for index, page in enumerate(PdfReader(io.BytesIO(data), strict=False).pages):
        annotations = page.get("/Annots")
        annotations = annotations.get_object() if annotations is not None else []
        for annotation in annotations if isinstance(annotations, list) else []:
            number = getattr(annotation, "idnum", None)
            if number is not None:
                where.setdefault(number, []).append(index)
    return where


def _print_under(pages: list[Any], page: int | None, box: tuple[float, ...]) -> bool:
    """Whether the signed revision (`pages`: each rendered grey, one pixel a point)
    shows print inside `box` (PDF points) on `page` (None: on any page), or the box is
    over `MAX_BOX_SHARE` of it: a box drawn there would hide what was signed."""
    x1, x2 = min(box[0], box[2]), max(box[0], box[2])
    y1, y2 = min(box[1], box[3]), max(box[1], box[3])
    for index in range(len(pages)) if page is None else [page]:
        if not 0 <= index < len(pages):
            return True
        image = pages[index]
        if (x2 - x1) * (y2 - y1) > MAX_BOX_SHARE * image.width * image.height:
            return True
        crop = image.crop(
            (round(x1), round(image.height - y2), round(x2), round(image.height - y1))
        )
        if crop.width * crop.height == 0:
            continue
        dark = crop.point(lambda v: 255 if v < _DARK else 0).histogram()[255]
        if dark > PRINTED * crop.width * crop.height:
            return True
    return False


def _hides_print(data: bytes, first: Any, later: list[Any]) -> bool:
    """Whether a signature after the first has a widget a viewer draws over print of
    the page as first signed (or over most of the page, or where we cannot tell): its
    box may carry any text on a white background (the red team's "TESTO AGGIUNTO DOPO LA
    FIRMA" covering the page). A second signer's box on a blank part of the page, as a
    doctor and a patient each sign in their own box, hides nothing."""
    boxes = []
    for signature in later:
        for widget, number in _widgets(signature.sig_field):
            try:
                box = tuple(float(v) for v in widget.get("/Rect"))
            except Exception:
                return True  # no box given: a viewer may guess one
            if len(box) != 4:
                return True
            if abs(box[2] - box[0]) * abs(box[3] - box[1]) > 0:
                boxes.append((number, box))
    if not boxes:
        return False
    from .pagecode import page_images  # pdfium: as the staff's viewer draws the page

    where = _annotated_pages(data)
    start, length = int(first.byte_range[2]), int(first.byte_range[3])
    signed = page_images(data[: start + length], 72 / 25.4)  # one pixel a point
    for number, box in boxes:
        pages: list[int | None] = list(where.get(number, [])) if number is not None else []
        if any(_print_under(signed, page, box) for page in pages or [None]):
            return True
    return False


def changed_after_signing(data: bytes) -> bool:
    """Whether an update after any of the PDF's signatures changed more than signatures,
    document timestamps and the DSS (or the file cannot be analysed: then it counts as
    changed)."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.xrefs.total_revisions > MAX_REVISIONS:
            log.info(
                "signed PDF with %d revisions: counted as changed", reader.xrefs.total_revisions
            )
            return True
        signatures = reader.embedded_signatures
        if not signatures:
            return True
        signature_fields = {name for name, _value, _ref in enumerate_sig_fields(reader)}
        first = min(signatures, key=lambda s: s.signed_revision)
        if _hides_print(data, first, [s for s in signatures if s is not first]):
            log.info("signed PDF with a later signature drawn over the page: counted as changed")
            return True
        for signature in signatures:
            signature.compute_integrity_info(DEFAULT_DIFF_POLICY)
            result = signature.diff_result
            if not isinstance(result, DiffResult):  # a SuspiciousModification
                return True
            if result.modification_level in _ONLY_ARCHIVING:
                continue
            if result.modification_level == ModificationLevel.FORM_FILLING and (
                result.changed_form_fields <= signature_fields
            ):
                continue  # another signature filled its own field
            return True
    except Exception as error:  # a file pyHanko cannot follow: not one we keep as signed
        log.info("signed PDF not analysable: %s", type(error).__name__)
        return True
    return False
