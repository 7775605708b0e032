"""Archives and programs riding in a PDF kept byte for byte (a digitally signed PDF, the
PDF inside a `.p7m`): looked for in every object the cross-reference lists, each
stream's decoded bytes and each long string (`payload_in_objects`).

Images are the big streams. A JPEG's bytes are in the file as they are (`payload_in` of
the whole file sees them). A Flate-compressed image (a scanner's grey or black-and-white
pages, img2pdf's PNGs) is inflated a chunk at a time (`CHUNK`), each chunk looked at
together with the end of the one before (`OVERLAP`), so a signature across the border of
two chunks is found and memory stays a few megabytes however big the picture. The
pixels of one file are inflated up to `MAX_IMAGE_BYTES` in all: a 600-dpi A4 colour page
is 100 MiB, a 50-page verbale scanned in black and white at 300 dpi 52 MiB, in grey at
150 dpi 104 MiB; a real grey scan at 300 dpi compressed with Flate reaches the 20 MB a
bot may download at about a dozen pages (8.3 MiB of pixels each). Past the ceiling, or
the deadline, the file is "too_complex" (refused kindly: the family sends photos of the
pages). Inflating (zlib-ng) and looking costs about 3 ms a MiB on the 2-core machine
(the worst such file, 124 MiB of pixels, is checked in 0.6-0.7 s), so the ceiling is
also what keeps it well inside the 2 s target, and a refusal found at the very end of
the pixels inside the 1 s one. An image whose
filters include one that only spells bytes out (hex, base-85, LZW, run lengths: no
scanner or camera writes one) is decoded whole by pypdf (its own ceilings on what it
inflates).

An image with a PNG predictor (img2pdf's PNGs) is looked at twice, and counts twice
against the ceiling: its inflated bytes, then its rows with the predictor undone by
Pillow's PNG decoder (`_png_unfiltered`).
Not undone: TIFF's predictor 2 and 16-bit colour rows (no scanner we know writes them);
their inflated bytes are looked at.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from typing import Any

from PIL.PngImagePlugin import PngImageFile
from pypdf import PdfReader
from pypdf.generic import (
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    StreamObject,
    TextStringObject,
)
from zlib_ng import zlib_ng

STRUCTURAL = frozenset({"/XRef", "/ObjStm"})

_SIGNATURES = (
    b"PK\x03\x04",
    b"MZ",
    b"\x7fELF",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"This program cannot be run",
)
_ZIP_METHODS = frozenset({0, 1, 6, 8, 9, 12, 14, 93, 95, 98, 99})
_PRINTABLE_NAME = re.compile(rb"[\x20-\x7e\x80-\xff]+")
_MIN_STRING = 64  # shorter strings hold no program or archive worth the name
MAX_SNIFFED = 150 * 1024 * 1024  # decoded bytes of streams other than images, in one file
MAX_IMAGE_BYTES = 128 * 1024 * 1024  # inflated pixels looked at in one file, at most (see above)
MAX_CANDIDATES = 100_000  # signatures looked at in one file (random bytes: 16 "MZ" a MB)
CHUNK = 1024 * 1024  # inflated at a time
IN_PIECE = 256 * 1024  # Flate input given to zlib at a time (see `_inflated`)
# Looked at again with the next chunk: a signature in the last OVERLAP bytes of a chunk is
# judged again with the next one, so every signature has at least this much after it
# (a program's PE header is a few hundred bytes after its MZ, a ZIP's name within 1 KB).
OVERLAP = 64 * 1024


def _is_payload(blob: bytes, at: int, tag: bytes) -> bool:
    """Whether the signature `tag` at `at` starts what it says (see `payload_in`)."""
    if tag == b"PK\x03\x04":
        head = blob[at + 4 : at + 30]
        if len(head) < 26:
            return False
        method = int.from_bytes(head[4:6], "little")
        name_length = int.from_bytes(head[22:24], "little")
        name = blob[at + 30 : at + 30 + name_length]
        return (
            method in _ZIP_METHODS
            and 0 < name_length <= 1024
            and len(name) == name_length
            and _PRINTABLE_NAME.fullmatch(name) is not None
        )
    if tag == b"MZ":
        where = blob[at + 0x3C : at + 0x40]
        pe = at + int.from_bytes(where, "little") if len(where) == 4 else -1
        return pe > at and blob[pe : pe + 4] == b"PE\x00\x00"
    if tag == b"\x7fELF":
        return blob[at + 4 : at + 5] in (b"\x01", b"\x02") and blob[at + 6 : at + 7] == b"\x01"
    return True


class TooComplex(Exception):
    """Past the deadline, more pixels than `MAX_IMAGE_BYTES` or more look-alike
    signatures than `MAX_CANDIDATES` to look at."""


class Budget:
    """What one file's sniffing may still spend: time, inflated pixels, and signatures
    looked at (a stream of "MZMZMZ…" would take a minute to look at one by one; no
    document holds a hundred thousand of them)."""

    def __init__(self, deadline: float = float("inf")) -> None:
        self.deadline = deadline
        self.image_bytes = 0
        self.candidates = 0

    def spend(self, size: int) -> None:
        self.image_bytes += size
        if self.image_bytes > MAX_IMAGE_BYTES or time.monotonic() > self.deadline:
            raise TooComplex

    def look(self) -> None:
        self.candidates += 1
        if self.candidates > MAX_CANDIDATES:
            raise TooComplex


def payload_in(blob: bytes, budget: Budget | None = None) -> str | None:
    """ "archive" or "program" when `blob` holds one (a ZIP local header that reads as
    one, a Windows program's MZ header pointing at its PE header or its DOS stub's
    words, an ELF header, a 7-Zip or RAR signature; the first in the bytes says which);
    else None. Checked for the structure, not two bytes alone, so compressed images and
    fonts do not match by chance. Each signature is looked for on its own (`bytes.find`,
    in C, from the first of its first byte: a scan's pixels often have none of them);
    TooComplex past `budget`'s candidates."""
    budget = budget or Budget()
    first: tuple[int, bytes] | None = None
    for tag in _SIGNATURES:
        lead = blob.find(tag[:1])  # one byte: memchr, ten times faster than the whole tag
        at = blob.find(tag, lead) if lead >= 0 else -1
        while at >= 0 and (first is None or at < first[0]):
            budget.look()
            if _is_payload(blob, at, tag):
                first = (at, tag)
                break
            at = blob.find(tag, at + 1)
    if first is None:
        return None
    return (
        "program" if first[1] in (b"MZ", b"\x7fELF", b"This program cannot be run") else "archive"
    )


def _strings_of(obj: Any) -> Iterator[bytes]:
    """The long strings written in an object itself (not those it refers to)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, DictionaryObject):
            stack.extend(dict.values(item))
        elif isinstance(item, list):
            stack.extend(list.__iter__(item))
        elif isinstance(item, (ByteStringObject, TextStringObject)):
            raw = item.original_bytes
            if len(raw) >= _MIN_STRING:
                yield raw


# Encodings that only spell bytes out (hex, base-85, LZW, run lengths): an image with one
# among its filters is decoded whole (no scanner or camera writes one), since its bytes
# in the file show nothing of what they spell.
_TEXT_ENCODINGS = frozenset(
    {"/ASCIIHexDecode", "/AHx", "/ASCII85Decode", "/A85", "/LZWDecode", "/LZW"}
    | {"/RunLengthDecode", "/RL"}
)
_FLATE = frozenset({"/FlateDecode", "/Fl"})


def _inflated(raw: bytes, budget: Budget) -> Iterator[bytes]:
    """A Flate stream's bytes, about a chunk (`CHUNK`) at a time; where the data breaks off
    or is not Flate, what came before it (a viewer shows nothing past it either).

    The input is given to zlib `IN_PIECE` bytes at a time: given whole, with a ceiling on
    what comes out, zlib hands back the rest of the input as a new copy on every call (an
    18 MB stream copied a hundred times: half the time went there). zlib-ng inflates the
    same bytes three times faster than the zlib Python is built with."""
    inflater = zlib_ng.decompressobj()
    view = memoryview(raw)
    held = bytearray()  # inflated, not yet handed on: chunks go out exactly CHUNK long
    for start in range(0, len(raw) + 1, IN_PIECE):
        pending: bytes | memoryview = view[start : start + IN_PIECE]
        while True:  # this piece, then what zlib still holds back of it
            broken = False
            try:
                out = inflater.decompress(pending, CHUNK)
            except Exception:  # zlib_ng.error: the data breaks off or is not Flate
                out, broken = b"", True
            if out:
                budget.spend(len(out))
                held += out
                while len(held) >= CHUNK:
                    yield bytes(held[:CHUNK])
                    del held[:CHUNK]
            if broken or inflater.eof:
                if held:
                    yield bytes(held)
                return
            pending = inflater.unconsumed_tail
            if len(out) < CHUNK and not pending:
                break
    if held:
        yield bytes(held)


def _sniff_chunks(chunks: Iterator[bytes], budget: Budget) -> str | None:
    """`payload_in` over a stream given in chunks: each chunk with the last `OVERLAP`
    bytes of the one before, so nothing is missed at a border."""
    tail = b""
    for chunk in chunks:
        window = tail + chunk
        found = payload_in(window, budget)
        if found:
            return found
        tail = window[-OVERLAP:]
    return None


def _resolved(value: Any) -> Any:
    """A value as it is, or what it refers to (`/Filter 9 0 R`: pypdf's `get` leaves the
    reference as it is, and an image whose filter hid behind one was never inflated)."""
    return value.get_object() if isinstance(value, IndirectObject) else value


def _listed(value: Any) -> list[Any]:
    value = _resolved(value)
    if isinstance(value, list):
        return [_resolved(v) for v in list.__iter__(value)]
    return [] if value is None else [value]


def _filters(stream: StreamObject) -> list[Any]:
    return _listed(stream.get("/Filter"))


def _predictor(parms: Any) -> int:
    """A filter's /Predictor (1: none); an unreadable one counts as one we cannot undo."""
    if not isinstance(parms, DictionaryObject):
        return 1
    try:
        return int(_resolved(parms.get("/Predictor", 1)))
    except (TypeError, ValueError):
        return 99


def _image_payload(stream: StreamObject, budget: Budget) -> tuple[str | None, int]:
    """What an image stream carries (see the module), and how many bytes other than
    inflated pixels were decoded to see it."""
    filters = _filters(stream)
    if any(f in _TEXT_ENCODINGS for f in filters):  # what it spells, decoded whole
        try:
            blob = stream.get_data()
        except Exception:
            blob = bytes(stream._data)
        return payload_in(blob, budget), len(blob)
    if filters and filters[0] in _FLATE:
        parms = _listed(stream.get("/DecodeParms"))
        predictors = [_predictor(p) for p in parms]
        if any(p > 1 for p in predictors[1:]) or (len(filters) > 1 and predictors[:1] > [1]):
            raise TooComplex  # a predictor after another filter: no scanner writes one
        raw = bytes(stream._data)
        inflated = [0]

        def counted() -> Iterator[bytes]:
            for chunk in _inflated(raw, budget):
                inflated[0] += len(chunk)
                yield chunk

        found = _sniff_chunks(counted(), budget)
        if found is None and predictors[:1] > [1]:
            found = _sniff_chunks(_png_unfiltered(parms[0], raw, inflated[0], budget), budget)
        return found, 0
    return None, 0  # a JPEG, JPEG 2000, fax or JBIG2 picture: its bytes are the file's


# A PNG predictor's bytes per pixel (what undoing it depends on) -> the PNG colour type
# with 8 bits a sample and as many bytes a pixel, whose decoder undoes it the same way
_PNG_TYPE_OF_BPP = {1: 0, 2: 4, 3: 2, 4: 6}
_PNG_STRIP = CHUNK  # unfiltered bytes handed on at a time, about


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib_ng.crc32(body, zlib_ng.crc32(kind)) & 0xFFFFFFFF
    return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")


def _png_unfiltered(parms: Any, raw: bytes, inflated: int, budget: Budget) -> Iterator[bytes]:
    """An image's bytes with its PNG predictor undone (`/DecodeParms /Predictor` 10-15:
    img2pdf's PNGs, some scanners; `parms`, the Flate filter's), a strip at a time.

    A predictor turns each row into its differences from the row above or the pixel to
    the left, so what the inflated bytes show is not what a viewer decodes: a program
    could ride in the pixels unseen. Undoing it byte by byte in Python takes seconds, so
    the Flate data is handed, as it is, to Pillow's PNG decoder (in C) inside a PNG whose
    header has the same bytes a row and a pixel: the filters depend on nothing else. A
    row of `Columns` pixels of `Colors` samples of `BitsPerComponent` bits is read as
    8-bit grey (one byte a pixel, bilevel and 4-bit grey included), grey and alpha (two
    bytes a pixel: 16-bit grey, two colours), RGB or RGBA (CMYK, 16-bit grey and alpha).
    What cannot be undone so (16-bit colour, 12 bits a pixel, TIFF's predictor 2) or
    what the decoder cannot read (a bad row filter, data cut short) is TooComplex: a
    signed file is kept byte for byte only when all of it was looked at. Rows come from
    what was inflated (`inflated` bytes); they count against the pixel ceiling again."""
    try:
        predictor = _predictor(parms)
        colors = int(_resolved(parms.get("/Colors", 1)))
        bits = int(_resolved(parms.get("/BitsPerComponent", 8)))
        columns = int(_resolved(parms.get("/Columns", 1)))
    except (TypeError, ValueError):
        raise TooComplex from None
    if predictor < 10 or not (0 < colors <= 4 and bits in (1, 2, 4, 8, 16) and columns > 0):
        raise TooComplex
    bpp = -(-colors * bits // 8)  # bytes a pixel, rounded up (the predictor's unit)
    row = -(-columns * colors * bits // 8)
    rows = inflated // (row + 1)
    if not rows:
        return  # not one whole row: nothing a viewer shows (the inflated look had it all)
    if bpp not in _PNG_TYPE_OF_BPP or row % bpp or row > 1 << 24:
        raise TooComplex
    # looked at a second time, so counted a second time against the pixel ceiling: such an
    # image may hold half the pixels of one without a predictor (64 MiB: seven grey pages
    # at 300 dpi), and the worst costs what the worst other one does
    budget.spend(rows * row)
    header = (row // bpp).to_bytes(4, "big") + rows.to_bytes(4, "big")
    header += bytes([8, _PNG_TYPE_OF_BPP[bpp], 0, 0, 0])
    png = b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", raw),
            _png_chunk(b"IEND", b""),
        )
    )
    try:
        image = PngImageFile(io.BytesIO(png))  # not Image.open: its pixel ceiling is photos'
        del png
        image.load()
    except Exception:  # a bad row filter, data cut short
        raise TooComplex from None
    if time.monotonic() > budget.deadline:
        raise TooComplex
    strip = max(1, _PNG_STRIP // row)
    for top in range(0, image.height, strip):
        yield image.crop((0, top, image.width, min(top + strip, image.height))).tobytes()


def _decoded(stream: StreamObject) -> bytes:
    try:
        return stream.get_data()
    except Exception:  # undecodable: a viewer shows nothing of it either
        return bytes(stream._data)


def payload_in_objects(reader: PdfReader, budget: Budget) -> str | None:
    """`payload_in` over every object the cross-reference lists: each stream's decoded
    bytes (an image's inflated pixels, a chunk at a time), each long string (a program
    written as a hex string). TooComplex past the budget's deadline, MAX_SNIFFED decoded
    bytes of other streams, MAX_IMAGE_BYTES of pixels or MAX_CANDIDATES signatures."""
    numbers = {n for table in reader.xref.values() for n in table} | set(reader.xref_objStm)
    sniffed = 0
    for number in sorted(numbers):
        if time.monotonic() > budget.deadline or sniffed > MAX_SNIFFED:
            raise TooComplex
        try:
            obj: Any = reader.get_object(number)
        except Exception:
            continue
        if isinstance(obj, StreamObject) and obj.get("/Type") not in STRUCTURAL:
            if obj.get("/Subtype") == "/Image":
                found, size = _image_payload(obj, budget)
                sniffed += size
            else:
                blob = _decoded(obj)
                sniffed += len(blob)
                found = payload_in(blob, budget)
            if found:
                return found
        for raw in _strings_of(obj):
            found = payload_in(raw, budget)
            if found:
                return found
    return None
