"""From accepted uploads to the files of the dossier, split into e-mails that fit.

Every checklist item becomes one PDF (photos as A4 pages, PDFs appended whole); digitally
signed files (p7m, PDFs with a signature) are kept byte for byte as files of their own, so
the signature still verifies. A JSON manifest, `riepilogo-istanza.json`, lists every file
with its SHA-256 and travels in every message. When the dossier is over the size budget,
photo pages are re-encoded smaller; if it is still over, the files are spread over several
messages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

import pillow_heif
from fpdf import FPDF
from PIL import Image, ImageOps
from pypdf import PdfReader, PdfWriter

from common.clock import ROME

from .images import MAX_PIXELS, open_image

pillow_heif.register_heif_opener()

log = logging.getLogger(__name__)

GENERATOR = "Sportello B2"
MANIFEST_NAME = "riepilogo-istanza.json"
PHOTO_KINDS = frozenset({"jpeg", "png", "webp", "heic"})
PDF_MIME = "application/pdf"
P7M_MIME = "application/pkcs7-mime"
JSON_MIME = "application/json"

# Photo re-encoding levels, tried in order while the dossier is over budget.
LEVELS: tuple[tuple[int, int], ...] = ((2200, 80), (1600, 70), (1200, 60))
# A JPEG is decoded at 1/2, 1/4 or 1/8 scale (much faster) when the result still has a
# longer side of at least this share of max_side: e.g. a 4000 px photo at max_side 2200
# decodes at 2000 px.
DRAFT_TOLERANCE = 0.9

_A4 = (210.0, 297.0)  # mm
_PAGE_MARGIN = 8.0  # mm
_SLUG_MAX = 60
_BYTERANGE = re.compile(rb"/ByteRange\s*\[")


@dataclass
class Upload:
    item_id: str  # checklist item, e.g. "id_card_beneficiary"
    seq: int  # order of arrival within the item
    kind: str  # "jpeg" | "png" | "webp" | "heic" | "pdf" | "p7m"
    data: bytes  # decrypted bytes as received (b"" when read from `source`)
    sha256: str  # with `source`: the blob's name
    signed: bool | None = None  # the check verified its signature; None: look at the bytes
    # Where the bytes are, when not in `data`: read (and decrypted) in the process that
    # assembles, one file at a time when it is needed (a `storage.blobs.BlobReader`).
    source: Any = field(default=None, repr=False)

    def content(self) -> bytes:
        if self.data or self.source is None:
            return self.data
        return bytes(self.source.get(self.sha256))

    @property
    def is_signed_pdf(self) -> bool:
        if self.kind != "pdf":
            return False
        return self.signed if self.signed is not None else is_signed_pdf(self.content())


@dataclass
class Item:
    id: str
    title: str  # Italian, e.g. "Carta d'identità del beneficiario"
    uploads: list[Upload]


@dataclass
class OutFile:
    name: str  # e.g. "02-carta-d-identita-del-beneficiario.pdf"
    data: bytes
    mime: str
    item_id: str | None
    sha256: str
    size: int
    pages: int  # 0 when unknown (a p7m whose content cannot be read)


@dataclass
class Dossier:
    dossier_id: str
    files: list[OutFile]  # the application first, then items in checklist order
    manifest: OutFile  # "riepilogo-istanza.json"
    messages: list[list[OutFile]]  # attachments per e-mail; the manifest is in every one
    created_at: dt.datetime | None = None  # the manifest's moment, also the e-mails' Date


class TooLarge(Exception):
    """One single file is over the budget even after re-encoding; `item_id` and `size` tell which."""

    def __init__(self, item_id: str | None, size: int, budget: int, name: str = "") -> None:
        super().__init__(
            f"file {name or '?'} of item {item_id!r} is {size} bytes: "
            f"it cannot fit a message of {budget} bytes with the manifest"
        )
        self.item_id = item_id
        self.size = size
        self.budget = budget
        self.name = name

    def __reduce__(self) -> tuple[object, ...]:  # crosses from the bounded process intact
        return (TooLarge, (self.item_id, self.size, self.budget, self.name))


# --- photos ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Photo:
    jpeg: bytes
    width: int
    height: int


def _draft_request(size: tuple[int, int], max_side: int) -> tuple[int, int] | None:
    """The size to pass to `draft` so libjpeg decodes at 1/2, 1/4 or 1/8 scale, if any."""
    longer = max(size)
    for scale in (8, 4, 2):
        if longer / scale >= max_side * DRAFT_TOLERANCE:
            return (max(1, size[0] // scale), max(1, size[1] // scale))
    return None


def _flatten(img: Image.Image) -> Image.Image:
    """RGB, transparent parts on white."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        img = img.point(lambda v: v / 256).convert("L")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def photo_jpeg(data: bytes, *, max_side: int, quality: int) -> _Photo:
    """Decode a photo, apply its EXIF orientation, make it RGB, fit max_side, JPEG it.

    Metadata (EXIF, GPS position) is not carried over.
    """
    with Image.open(BytesIO(data)) as src:
        kind = (src.format or "").lower()
    if kind not in ("jpeg", "mpo"):  # no reduced decoding: the check's ceilings apply
        img = open_image(data, max_side=max_side)
    else:
        with Image.open(BytesIO(data)) as src:
            if src.width * src.height > MAX_PIXELS["jpeg"]:
                raise ValueError("over the ceiling of pixels")
            request = _draft_request(src.size, max_side)
            if request:
                src.draft("RGB", request)
            img = ImageOps.exif_transpose(src)  # loads; a new image even without rotation
        img = _flatten(img)
    if max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
    out = BytesIO()
    img.save(out, format="JPEG", quality=quality, subsampling="4:2:0")
    return _Photo(out.getvalue(), img.width, img.height)


def _photo_pages(photos: Sequence[_Photo]) -> bytes:
    """One A4 page per photo (portrait or landscape like the photo), the JPEG embedded as is."""
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_creator(GENERATOR)
    pdf.set_producer(GENERATOR)
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    for photo in photos:
        landscape = photo.width > photo.height
        page_w, page_h = (_A4[1], _A4[0]) if landscape else _A4
        pdf.add_page(orientation="L" if landscape else "P")
        scale = min(
            (page_w - 2 * _PAGE_MARGIN) / photo.width, (page_h - 2 * _PAGE_MARGIN) / photo.height
        )
        w, h = photo.width * scale, photo.height * scale
        pdf.image(BytesIO(photo.jpeg), x=(page_w - w) / 2, y=(page_h - h) / 2, w=w, h=h)
    return bytes(pdf.output())


# --- PDFs ------------------------------------------------------------------------------


def is_signed_pdf(data: bytes) -> bool:
    """Whether a PDF carries a digital signature (a signature dictionary's /ByteRange)."""
    return _BYTERANGE.search(data) is not None


def _open_pdf(data: bytes) -> PdfReader:
    reader = PdfReader(BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise ValueError("the PDF is protected by a password")
    return reader


def _pdf_pages(data: bytes) -> int:
    try:
        return len(_open_pdf(data).pages)
    except Exception:
        return 0


def _p7m_pages(data: bytes) -> int:
    """Pages of the PDF inside a p7m, best effort (0 when it cannot be read)."""
    start, end = data.find(b"%PDF-"), data.rfind(b"%%EOF")
    if start < 0 or end < start:
        return 0
    try:
        return len(PdfReader(BytesIO(data[start : end + 5]), strict=False).pages)
    except Exception:
        return 0


def _compose(uploads: Sequence[Upload], photos: dict[int, _Photo]) -> tuple[bytes, int]:
    """One PDF from uploads in order; `photos` maps an upload's index to its encoded photo."""
    if not photos and len(uploads) == 1:
        data = uploads[0].content()
        reader = _open_pdf(data)
        if not reader.is_encrypted:  # a plain PDF alone: as it came
            return data, len(reader.pages)
    ordered = [photos[i] for i in range(len(uploads)) if i in photos]
    photo_pdf = _photo_pages(ordered) if ordered else b""
    if len(ordered) == len(uploads):
        return photo_pdf, len(ordered)
    writer = PdfWriter()
    photo_reader = PdfReader(BytesIO(photo_pdf)) if ordered else None
    next_photo = 0
    for i, upload in enumerate(uploads):
        if i in photos:
            assert photo_reader is not None
            writer.add_page(photo_reader.pages[next_photo])
            next_photo += 1
        else:
            for page in _open_pdf(upload.content()).pages:
                writer.add_page(page)
    writer.add_metadata({"/Producer": GENERATOR})
    out = BytesIO()
    writer.write(out)
    return out.getvalue(), len(writer.pages)


def _encode_photos(
    uploads: Sequence[Upload], max_side: int, quality: int, pool: Executor | None
) -> dict[int, _Photo]:
    wanted = [i for i, u in enumerate(uploads) if u.kind in PHOTO_KINDS]

    def encode(i: int) -> _Photo:
        return photo_jpeg(uploads[i].content(), max_side=max_side, quality=quality)

    mapper: Callable[..., Iterable[_Photo]] = pool.map if pool and len(wanted) > 1 else map
    return dict(zip(wanted, mapper(encode, wanted), strict=True))


def item_pdf(
    uploads: list[Upload], *, max_side: int = 2200, quality: int = 80
) -> tuple[bytes, int]:
    """One PDF for one checklist item: each photo becomes an A4-fitted page (EXIF orientation applied, RGB, downscaled so the longer side is at most max_side, JPEG at `quality`), PDFs appended whole in seq order (if encrypted with an empty password, decrypt with "" first). Returns (pdf bytes, page count)."""
    ordered = sorted(uploads, key=lambda u: u.seq)
    if not ordered:
        raise ValueError("an item without uploads has no PDF")
    unknown = {u.kind for u in ordered} - PHOTO_KINDS - {"pdf"}
    if unknown:
        raise ValueError(f"cannot put {sorted(unknown)} into a PDF")
    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        photos = _encode_photos(ordered, max_side, quality, pool)
    return _compose(ordered, photos)


def _workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


# --- the dossier -----------------------------------------------------------------------


def slugify(text: str, fallback: str = "documento") -> str:
    """Plain ASCII, lower case, hyphens: "Carta d'identità" -> "carta-d-identita"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > _SLUG_MAX:
        cut = slug[:_SLUG_MAX]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut
    return slug or fallback


@dataclass
class _Part:
    """One output file of an item before it gets its name: merged uploads or a kept file."""

    item: Item
    uploads: list[Upload]  # in seq order
    standalone: bool  # kept byte for byte (p7m or signed PDF)
    data: bytes = b""
    pages: int = 0

    @property
    def has_photos(self) -> bool:
        return any(u.kind in PHOTO_KINDS for u in self.uploads)


def _parts(items: Sequence[Item]) -> list[_Part]:
    parts: list[_Part] = []
    for item in items:
        ordered = sorted(item.uploads, key=lambda u: u.seq)
        merged: _Part | None = None
        for upload in ordered:
            if upload.kind == "p7m" or upload.is_signed_pdf:
                parts.append(_Part(item, [upload], standalone=True))
            elif upload.kind in PHOTO_KINDS or upload.kind == "pdf":
                if merged is None:
                    merged = _Part(item, [], standalone=False)
                    parts.append(merged)
                merged.uploads.append(upload)
            else:
                raise ValueError(f"item {item.id!r}: unknown upload kind {upload.kind!r}")
    return parts


def _build(
    parts: Sequence[_Part], level: tuple[int, int], pool: Executor, *, only_photos: bool
) -> None:
    """(Re)build the PDFs of merged parts at a photo level, photos of all parts in parallel."""
    todo = [p for p in parts if not p.standalone and (p.has_photos or not only_photos)]
    jobs = [(p, i) for p in todo for i, u in enumerate(p.uploads) if u.kind in PHOTO_KINDS]
    max_side, quality = level
    encoded = pool.map(
        lambda job: photo_jpeg(
            job[0].uploads[job[1]].content(), max_side=max_side, quality=quality
        ),
        jobs,
    )
    photos: dict[int, dict[int, _Photo]] = {}
    for (part, i), photo in zip(jobs, encoded, strict=True):
        photos.setdefault(id(part), {})[i] = photo
    for part in todo:
        part.data, part.pages = _compose(part.uploads, photos.get(id(part), {}))


def _out_file(name: str, data: bytes, mime: str, item_id: str | None, pages: int) -> OutFile:
    return OutFile(
        name=name,
        data=data,
        mime=mime,
        item_id=item_id,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        pages=pages,
    )


def _files(parts: Sequence[_Part]) -> list[OutFile]:
    files = []
    for number, part in enumerate(parts, start=1):
        slug = slugify(part.item.title, fallback=slugify(part.item.id))
        upload = part.uploads[0]
        if part.standalone and upload.kind == "p7m":
            name, mime = f"{number:02d}-{slug}.pdf.p7m", P7M_MIME
        else:
            name, mime = f"{number:02d}-{slug}.pdf", PDF_MIME
        files.append(_out_file(name, part.data, mime, part.item.id, part.pages))
    return files


def _manifest(
    files: Sequence[OutFile],
    placement: Sequence[int],
    titles: dict[str, str],
    *,
    dossier_id: str,
    notice_id: str,
    recipient: str,
    created_at: dt.datetime,
) -> OutFile:
    body = {
        "dossier_id": dossier_id,
        "notice_id": notice_id,
        "recipient": recipient,
        "created_at": created_at.astimezone(ROME).isoformat(),  # as read in Italy
        "generator": GENERATOR,
        "messages": max(placement, default=1),
        "files": [
            {
                "name": f.name,
                "item": f.item_id,
                "title": titles.get(f.item_id or "", ""),
                "size": f.size,
                "sha256": f.sha256,
                "pages": f.pages,
                "message": message,
            }
            for f, message in zip(files, placement, strict=True)
        ],
    }
    data = (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return _out_file(MANIFEST_NAME, data, JSON_MIME, None, 0)


def _first_fit(sizes: Sequence[int], capacity: int) -> list[int]:
    """1-based message number of each file: each goes into the first message with room."""
    free: list[int] = []
    placement = []
    for size in sizes:
        for n, room in enumerate(free):
            if size <= room:
                free[n] -= size
                placement.append(n + 1)
                break
        else:
            free.append(capacity - size)
            placement.append(len(free))
    return placement


def assemble(
    items: list[Item],
    *,
    dossier_id: str,
    notice_id: str,
    recipient: str,
    created_at: dt.datetime,
    budget: int = 25 * 1024 * 1024,
) -> Dossier:
    """Every item becomes one PDF; p7m uploads (digitally signed files) are kept byte for byte as their own files (name ending .pdf.p7m); an item whose uploads are all PDFs with a signature (caller passes kind "pdf") is also kept byte for byte when it is a single upload, so a digital signature is not broken. Then the manifest. Then the size budget: if the total is over `budget`, re-encode photo pages smaller (e.g. max_side 1600 q 70, then 1200 q 60) and rebuild; if still over, split the files across several messages, each message (with the manifest) under budget, in order, first-fit; a single file over budget raises TooLarge.

    Items come in checklist order, the application (form or signed application) first.
    Any signed PDF is kept as its own file, also when the item has other uploads: merging
    would break its signature. `budget` counts attachment bytes as they are (before the
    base64 of e-mail).
    """
    if created_at.tzinfo is None or created_at.utcoffset() is None:
        raise ValueError("created_at must carry a UTC offset")
    titles = {item.id: item.title for item in items}
    parts = _parts(items)
    for part in parts:
        if part.standalone:
            upload = part.uploads[0]
            part.data = upload.content()
            part.pages = _p7m_pages(part.data) if upload.kind == "p7m" else _pdf_pages(part.data)

    def manifest_for(files: Sequence[OutFile], placement: Sequence[int]) -> OutFile:
        return _manifest(
            files,
            placement,
            titles,
            dossier_id=dossier_id,
            notice_id=notice_id,
            recipient=recipient,
            created_at=created_at,
        )

    level_used = 0
    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        for level_used, level in enumerate(LEVELS):
            _build(parts, level, pool, only_photos=level_used > 0)
            files = _files(parts)
            manifest = manifest_for(files, [1] * len(files))
            total = sum(f.size for f in files) + manifest.size
            if total <= budget or not any(p.has_photos for p in parts if not p.standalone):
                break

    placement = [1] * len(files)
    if total > budget:
        reserve = manifest.size
        while True:
            for f in files:
                if f.size + reserve > budget:
                    raise TooLarge(f.item_id, f.size, budget, f.name)
            placement = _first_fit([f.size for f in files], budget - reserve)
            manifest = manifest_for(files, placement)
            if manifest.size <= reserve:
                break
            reserve = manifest.size
    messages: list[list[OutFile]] = [[] for _ in range(max(placement, default=1))]
    for f, message in zip(files, placement, strict=True):
        messages[message - 1].append(f)
    for attachments in messages:
        attachments.append(manifest)
    log.info(
        "dossier %s: %d files, %d bytes, %d message(s), photo level %d",
        dossier_id,
        len(files),
        sum(f.size for f in files),
        len(messages),
        level_used,
    )
    return Dossier(
        dossier_id=dossier_id,
        files=files,
        manifest=manifest,
        messages=messages,
        created_at=created_at,
    )
