"""What may change in a signed PDF after it was signed: pyHanko's difference analysis.

A signature covers the file as it was when signed; anyone may append an incremental
update afterwards, and a viewer shows the file with the update (a page's text replaced,
"shadow attacks"). So a PDF counts as signed only when, for every signature, the updates
after it do nothing but what signing and archiving do: add a Document Security Store
(certificates, OCSP answers and CRLs, /VRI), a document timestamp, or another signature
(its field, its value, its widget). A signature after the first must also draw nothing:
its widget's box has no area (pyHanko rates a new signature whose box covers the page
with other text as form filling, and a viewer shows that text instead of the page).
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


def _drawn(field: Any) -> bool:
    """Whether a signature field has a widget a viewer draws: a box of some area (or
    none given: a viewer may guess one)."""
    kids = field.get("/Kids")
    widgets = [field] if "/Rect" in field or kids is None else list(kids)
    for widget in widgets:
        rect = widget.get_object().get("/Rect")
        try:
            x1, y1, x2, y2 = (float(v) for v in rect)
        except Exception:
            return True
        if abs(x2 - x1) * abs(y2 - y1) > 0:
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
        if any(_drawn(s.sig_field) for s in signatures if s is not first):
            log.info("signed PDF with a visible signature after the first: counted as changed")
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
