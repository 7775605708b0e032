"""A PDF kept byte for byte, read again the way the staff's viewer reads it (pdfium: the
back-office preview, and Chrome's viewer): pypdf's walk and pdfium must see the same
file. Any parser differential (a cross-reference read two ways, an object listed twice)
shows up here as pdfium seeing something pypdf's walk did not: more or fewer pages,
an attachment, document JavaScript, an XFA form, a file-attachment or media annotation,
a link that launches a program or opens another file. pypdf's walk already refuses all
of those, so pdfium finding one means the two read different files: refused as
"ambiguous". Cheap: pdfium parses a page's dictionary, not its drawing, to list its
annotations (a few milliseconds for a 100-page scan).
"""

from __future__ import annotations

import ctypes
from typing import Any

_MEDIA = ("FILEATTACHMENT", "SCREEN", "MOVIE", "SOUND", "RICHMEDIA", "THREED")
_WEB = (b"https://", b"http://", b"mailto:")


def _media_kinds(raw: Any) -> frozenset[int]:
    return frozenset(getattr(raw, f"FPDF_ANNOT_{name}") for name in _MEDIA)


def _link_problem(raw: Any, doc: Any, annot: Any) -> str | None:
    """What a link annotation does that a kept file may not: launch a program, open
    another file, a link to anything but a web page or an e-mail address."""
    link = raw.FPDFAnnot_GetLink(annot)
    if not link:
        return None
    action = raw.FPDFLink_GetAction(link)
    if not action:
        return None
    kind = raw.FPDFAction_GetType(action)
    if kind in (raw.PDFACTION_LAUNCH, raw.PDFACTION_REMOTEGOTO, raw.PDFACTION_EMBEDDEDGOTO):
        return "link action"
    if kind == raw.PDFACTION_URI:
        size = raw.FPDFAction_GetURIPath(doc, action, None, 0)
        buffer = ctypes.create_string_buffer(max(int(size), 1))
        raw.FPDFAction_GetURIPath(doc, action, buffer, size)
        address = buffer.value.strip().lower()
        if not address.startswith(_WEB):
            return "link"
    return None


def viewer_sees(data: bytes, pages: int) -> str | None:
    """What pdfium sees in `data` that pypdf's walk (`pages` pages, nothing refused)
    did not, or None when they agree. A file pdfium cannot open is "unreadable"."""
    import pypdfium2
    import pypdfium2.raw as raw

    try:
        pdf = pypdfium2.PdfDocument(data)
    except Exception:  # pdfium's own errors
        return "unreadable"
    try:
        doc = pdf.raw
        if len(pdf) != pages:
            return "pages"
        if raw.FPDFDoc_GetAttachmentCount(doc) > 0:
            return "attachment"
        if raw.FPDFDoc_GetJavaScriptActionCount(doc) > 0:
            return "script"
        if raw.FPDF_GetFormType(doc) in (raw.FORMTYPE_XFA_FULL, raw.FORMTYPE_XFA_FOREGROUND):
            return "xfa"
        media = _media_kinds(raw)
        for index in range(pages):
            page = raw.FPDF_LoadPage(doc, index)
            if not page:
                return "unreadable"
            try:
                for n in range(raw.FPDFPage_GetAnnotCount(page)):
                    annot = raw.FPDFPage_GetAnnot(page, n)
                    try:
                        kind = raw.FPDFAnnot_GetSubtype(annot)
                        if kind in media:
                            return "annotation"
                        if kind == raw.FPDF_ANNOT_LINK:
                            problem = _link_problem(raw, doc, annot)
                            if problem:
                                return problem
                    finally:
                        raw.FPDFPage_CloseAnnot(annot)
            finally:
                raw.FPDF_ClosePage(page)
        return None
    finally:
        pdf.close()
