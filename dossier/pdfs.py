"""What a PDF carries besides its pages, and a clean copy made of its pages only.

A PDF can run code (JavaScript, XFA scripts), open a network share or a web address when
it is opened (GoToR, URI, /OpenAction, /AA), start a program (Launch) and carry other
files (embedded files, file-attachment annotations). We look for all of it by walking
every object once, without recursion and within a budget of objects and time; names
written with #xx escapes are read decoded.

- A PDF **without** a digital signature is refused when it runs code, starts programs,
  opens remote files or carries files; whatever else it has besides its pages (links,
  automatic actions, XFA, forms) is dropped: the copy we keep and forward is rewritten
  from its pages alone (`clean_copy`).
- A **digitally signed** PDF is kept byte for byte (rewriting breaks the signature), so it
  is refused if it carries any of those things, links and automatic actions included.

Page trees are counted by hand before pypdf flattens them: a 1,000,000-page tree (one
page object referenced a million times) is refused after reading its first nodes.
"""

from __future__ import annotations

import io
import time
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    TextStringObject,
)

from .pdfscan import MAX_OBJECTS  # walked at most; counted in the bytes before the walk


class PdfProblem(Exception):
    """`kind`: too_many_pages, too_complex, unreadable."""

    def __init__(self, kind: str, **params: object) -> None:
        super().__init__(kind)
        self.kind = kind
        self.params = params


_SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:", "file:")

# What each finding is, by key name, by action type (/S) and by annotation subtype.
_KEYS = {
    "/JS": "script",
    "/JavaScript": "script",
    "/EmbeddedFiles": "file",
    "/EmbeddedFile": "file",
    "/EF": "file",
    "/RichMediaContent": "media",
    "/XFA": "xfa",
    "/AA": "automatic",
    "/OnInstantiate": "script",  # 3D JavaScript
    "/3DD": "media",
}
_NAMES = {
    "/JavaScript": "script",
    "/Launch": "launch",
    "/SubmitForm": "submit",
    "/ImportData": "submit",
    "/GoToR": "remote",
    "/GoToE": "remote",
    "/URI": "link",
    "/EmbeddedFile": "file",
    "/FileAttachment": "file",
    "/RichMedia": "media",
    "/RichMediaExecute": "media",
    "/Rendition": "media",
    "/Movie": "media",
    "/Sound": "media",
    "/Screen": "media",
    "/3D": "media",
    "/URL": "remote",  # a file specification that is a web address
    "/Thread": "action",  # article threads, possibly in another file
    "/Named": "action",  # menu commands: Print, SaveAs...
    "/Hide": "action",
    "/SetOCGState": "action",
    "/ResetForm": "action",
    "/GoTo3DView": "action",
    "/Trans": "action",
}
# Refused in any PDF: code, programs, remote files, files inside.
REFUSED_ALWAYS = frozenset({"script", "launch", "submit", "remote", "file", "media"})
# Refused in a signed PDF as well, since it is kept as it is: links to anything but a web
# page or an e-mail address, automatic actions (a web page opened with the file), XFA.
# Thread, Named and the other actions are dropped from a clean copy, refused in a kept one.
# A plain web link ("www.inps.it" in a footer, made a link by every office suite) opens
# nothing by itself: it is kept ("weblink"), in signed files too.
REFUSED_WHEN_SIGNED = REFUSED_ALWAYS | {"link", "automatic", "xfa", "action"}
_WEB_SCHEMES = ("https://", "http://", "mailto:")

_PAGE_KEYS = frozenset(
    {
        "/Type",
        "/Parent",
        "/MediaBox",
        "/CropBox",
        "/BleedBox",
        "/TrimBox",
        "/ArtBox",
        "/Rotate",
        "/Resources",
        "/Contents",
        "/UserUnit",
        "/Group",
    }
)
# Annotations that only show something (a filled-in field, a highlight, a stamp), and
# the keys that draw them; their actions (/A, /AA), files (/FS) and links are dropped.
_SHOWN_ANNOTATIONS = frozenset(
    {
        "/Text",
        "/FreeText",
        "/Line",
        "/Square",
        "/Circle",
        "/Polygon",
        "/PolyLine",
        "/Highlight",
        "/Underline",
        "/Squiggly",
        "/StrikeOut",
        "/Stamp",
        "/Caret",
        "/Ink",
        "/Widget",
    }
)
_ANNOTATION_KEYS = frozenset(
    {
        "/Type",
        "/Subtype",
        "/Rect",
        "/Contents",
        "/AP",
        "/AS",
        "/F",
        "/C",
        "/Border",
        "/BS",
        "/BE",
        "/CA",
        "/M",
        "/QuadPoints",
        "/InkList",
        "/Vertices",
        "/L",
        "/LE",
        "/IC",
        "/DA",
        "/Q",
        "/RD",
        "/MK",
    }
)


def page_count(reader: PdfReader, limit: int, deadline: float) -> int:
    """The pages of the tree, counted by hand up to `limit` (more raises too_many_pages,
    a cycle or a broken node raises unreadable), before pypdf flattens it."""
    root = reader.trailer["/Root"].get_object()
    top = root.get("/Pages") if isinstance(root, DictionaryObject) else None
    if top is None:
        raise PdfProblem("unreadable")
    declared = top.get_object().get("/Count")
    if isinstance(declared, int) and declared > limit:
        raise PdfProblem("too_many_pages", pages=int(declared))
    count = nodes = 0
    seen_nodes: set[int] = set()
    stack: list[Any] = [top]
    while stack:
        ref = stack.pop()
        if isinstance(ref, IndirectObject):
            key = ref.idnum
            node = ref.get_object()
        else:
            key, node = id(ref), ref
        if not isinstance(node, DictionaryObject):
            raise PdfProblem("unreadable")
        kids = node.get("/Kids")
        if kids is not None or node.get("/Type") == "/Pages":
            if key in seen_nodes:
                raise PdfProblem("unreadable")  # a page tree that loops
            seen_nodes.add(key)
            nodes += 1
            if nodes > limit + 50 or time.monotonic() > deadline:
                raise PdfProblem("too_complex")
            kids = kids.get_object() if kids is not None else ArrayObject()
            if not isinstance(kids, ArrayObject):
                raise PdfProblem("unreadable")
            if count + len(kids) > limit * 4 + 100:
                raise PdfProblem("too_many_pages", pages=count + len(kids))
            stack.extend(reversed(list(list.__iter__(kids))))
        else:
            count += 1
            if count > limit:
                raise PdfProblem("too_many_pages", pages=max(count, int(declared or 0)))
    return count


def _web_address(uri: Any) -> bool:
    """A web page or an e-mail address, written plainly (no spaces, no control bytes)."""
    if isinstance(uri, IndirectObject):
        uri = uri.get_object()
    if not isinstance(uri, str):
        return False
    text = uri.strip().lower()
    return text.startswith(_WEB_SCHEMES) and text.isprintable() and " " not in text


def _opens_a_uri(reader: PdfReader) -> bool:
    """The document's /OpenAction is a URI action (or a chain with one)."""
    try:
        root = reader.trailer["/Root"].get_object()
        if not isinstance(root, DictionaryObject):
            return False
        action = root.get("/OpenAction")
        for _ in range(8):  # /Next chains, bounded
            action = action.get_object() if action is not None else None
            if not isinstance(action, DictionaryObject):
                return False
            if action.get("/S") == "/URI":
                return True
            action = action.get("/Next")
    except Exception:  # a broken catalog is judged by the walk
        return False
    return False


def findings(
    reader: PdfReader, deadline: float, reached: set[tuple[int, int]] | None = None
) -> tuple[set[str], list[DictionaryObject]]:
    """What the PDF carries besides pages (see `_KEYS`, `_NAMES`), and its signature
    dictionaries (those with a /ByteRange; none if it claims no signature). Every object
    reachable from the trailer, once; `reached` (if given) is filled with their numbers."""
    found: set[str] = set()
    signatures: list[DictionaryObject] = []
    seen: set[tuple[int, int]] = set() if reached is None else reached
    stack: list[Any] = [reader.trailer]
    steps = 0
    if _opens_a_uri(reader):
        found.add("automatic")  # a web page opened as the file is
    while stack:
        obj = stack.pop()
        steps += 1
        if steps % 4096 == 0 and time.monotonic() > deadline:
            raise PdfProblem("too_complex")
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            if len(seen) > MAX_OBJECTS:
                raise PdfProblem("too_complex")
            obj = reader.get_object(obj)
        if isinstance(obj, DictionaryObject):  # also streams: their dictionary
            for key, value in dict.items(obj):
                if key in _KEYS:
                    found.add(_KEYS[key])
                if key == "/S" and value == "/URI":  # a link: to where?
                    found.add("weblink" if _web_address(obj.get("/URI")) else "link")
                    continue
                if (
                    key == "/URI"
                    and isinstance(value, str)
                    and value.strip().lower().startswith(_SCRIPT_SCHEMES)
                ):
                    found.add("script")
                stack.append(value)
            if "/ByteRange" in obj and "/Contents" in obj:
                signatures.append(obj)
        elif isinstance(obj, ArrayObject):
            stack.extend(list.__iter__(obj))
        elif isinstance(obj, NameObject) and obj in _NAMES:
            found.add(_NAMES[obj])
    return found, signatures


def _shown(annotation: Any) -> DictionaryObject | None:
    """A copy of an annotation with only what draws it, or None to drop it."""
    annotation = annotation.get_object() if annotation is not None else None
    if not isinstance(annotation, DictionaryObject):
        return None
    if annotation.get("/Subtype") not in _SHOWN_ANNOTATIONS:
        return None
    kept = DictionaryObject()
    for key, value in dict.items(annotation):
        if key in _ANNOTATION_KEYS:
            kept[NameObject(key)] = value
    return kept


# What a page's /Resources may hold (ISO 32000 7.8.3); anything else (a made-up key
# pointing at an executable) is dropped from the clean copy. XObjects: images and forms.
_RESOURCE_KINDS = frozenset(
    {
        "/Font",
        "/XObject",
        "/ExtGState",
        "/ColorSpace",
        "/Pattern",
        "/Shading",
        "/Properties",
        "/ProcSet",
    }
)
_XOBJECT_KINDS = frozenset({"/Image", "/Form"})
MAX_FORMS = 2_000  # form XObjects cleaned per copy (each may have resources of its own)


def _clean_resources(holder: Any, budget: list[int]) -> None:
    """Keep only the resource kinds pages use in `holder`'s /Resources (a page or a form
    XObject), only images and forms among its XObjects, and the same inside each form;
    without recursion, each form once."""
    stack = [holder]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        resources = node.get("/Resources")
        resources = resources.get_object() if resources is not None else None
        if not isinstance(resources, DictionaryObject):
            continue
        kept = DictionaryObject(
            (NameObject(k), v) for k, v in dict.items(resources) if k in _RESOURCE_KINDS
        )
        xobjects = kept.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else None
        if isinstance(xobjects, DictionaryObject):
            shown = DictionaryObject()
            for name, ref in dict.items(xobjects):
                target = ref.get_object() if ref is not None else None
                if not isinstance(target, DictionaryObject):
                    continue
                subtype = target.get("/Subtype")
                if subtype not in _XOBJECT_KINDS:
                    continue
                shown[NameObject(name)] = ref
                key = ref.idnum if isinstance(ref, IndirectObject) else id(target)
                if subtype == "/Form" and key not in seen:
                    seen.add(key)
                    budget[0] -= 1
                    if budget[0] < 0:
                        raise PdfProblem("too_complex")
                    stack.append(target)
            kept[NameObject("/XObject")] = shown
        node[NameObject("/Resources")] = kept


def clean_copy(reader: PdfReader) -> bytes:
    """A new PDF of the same pages and what they show, nothing else: no catalog extras
    (/OpenAction, /Names, /AcroForm, XFA), no page actions, no links, no file
    annotations, no metadata, no resources of kinds a page does not use. The same input
    always gives the same bytes."""
    writer = PdfWriter()
    budget = [MAX_FORMS]
    for page in reader.pages:
        for key in [k for k in dict.keys(page) if k not in _PAGE_KEYS and k != "/Annots"]:
            del page[key]
        _clean_resources(page, budget)
        annotations = page.get("/Annots")
        if annotations is not None:
            annotations = annotations.get_object()
            kept = [_shown(a) for a in (annotations if isinstance(annotations, list) else [])]
            shown = ArrayObject(a for a in kept if a is not None)
            if shown:
                page[NameObject("/Annots")] = shown
            else:
                del page["/Annots"]
        writer.add_page(page)
    writer.add_metadata({"/Producer": TextStringObject("Sportello B2")})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def text_of(reader: PdfReader, pages: int, limit: int = 20_000) -> str:
    """The text of the first `pages` pages (at most `limit` characters), "" if unreadable."""
    parts: list[str] = []
    try:
        for number in range(min(pages, len(reader.pages))):
            parts.append(reader.pages[number].extract_text() or "")
            if sum(map(len, parts)) >= limit:
                break
    except Exception:  # a scan, or a page pypdf cannot read as text
        pass
    return "".join(parts)[:limit]


def p7m_content(der: bytes) -> bytes | None:
    """The signed content of a CMS SignedData (a .p7m), or None if it carries none
    (a detached signature) or cannot be read."""
    from asn1crypto import cms

    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            return None
        content = info["content"]["encap_content_info"]["content"]
        return None if content.native is None else bytes(content.native)
    except Exception:
        return None
