"""Guards on a PDF's structure that pypdf's reading alone does not give: how many objects
it has (counted in its bytes, before any parser walks them), dictionaries that repeat a
key, and, for a file kept byte for byte (a digitally signed PDF, the PDF inside a
`.p7m`), anything riding along besides what a page, the catalog or a signature uses.

- **Objects.** A PDF of 300,000 trivial objects is 17 MB and takes pypdf seconds to walk;
  no document a family sends has more than `MAX_OBJECTS` (a 100-page scan has a few
  hundred, a 100-page text PDF from an office suite a few thousand). Counted from the
  bytes (`endobj`, and the `/N` of each object stream) and again from the
  cross-reference once it is read, before the walk.
- **Repeated keys.** `<< /Names A /Names B >>`: pypdf keeps the first, pdfium (Chrome's
  viewer, the staff's preview) the last, so what we checked is not what is shown. No
  PDF writer makes such a dictionary; every PDF that has one is refused
  (`repeated_keys` collects pypdf's own warning while the file is read).
- **Kept as received** (`kept_problems`): no ZIP inside (a ZIP reader finds an archive in
  a PDF that ends with one, or that carries its headers), nothing after the last
  `%%EOF` but blanks (for the PDF in a `.p7m`; a signed PDF's tail is checked by
  `dossier.signatures.tail_is_updates`), no stream that nothing reaches from the
  trailer (a payload written into the file and listed in its cross-reference only; an
  appearance a later save replaced is not counted: it draws nothing), and
  nothing read two ways (`xref_disagrees`: a cross-reference listing one object twice,
  or under two generations, an object stream listing one object twice, or a
  cross-reference pypdf had to repair; a viewer would show another object than the one
  we checked).
"""

from __future__ import annotations

import io
import logging
import re
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pypdf import PdfReader
from pypdf.generic import DictionaryObject, StreamObject

from .payloads import STRUCTURAL, Budget, TooComplex, payload_in, payload_in_objects

MAX_OBJECTS = 10_000  # measured: a 100-page scan or text PDF has ~300; the walk ~1 s at 10,000

_OBJECT_STREAM = re.compile(rb"/Type\s*/ObjStm")
_COUNT = re.compile(rb"/N\s+(\d{1,9})")
_AROUND = 400  # bytes either side of `/Type /ObjStm` where its dictionary's /N is


def objects_in_bytes(data: bytes) -> int:
    """How many objects the bytes hold: each `endobj`, plus what each object stream says
    it holds (its /N). A scan of the bytes, in C: milliseconds for 20 MB."""
    count = data.count(b"endobj")
    for found in _OBJECT_STREAM.finditer(data):
        window = data[max(0, found.start() - _AROUND) : found.end() + _AROUND]
        declared = _COUNT.search(window)
        if declared is not None:
            count += int(declared.group(1))
    return count


def objects_in_xref(reader: PdfReader) -> int:
    """How many objects the cross-reference lists (read, not yet walked)."""
    listed = sum(len(table) for table in reader.xref.values())
    return listed + len(reader.xref_objStm)


# --- repeated keys ----------------------------------------------------------------------------

_REPEATED = "Multiple definitions in dictionary"
_PYPDF_DICTIONARIES = "pypdf.generic._data_structures"


class _Collector(logging.Filter):
    """pypdf's warning about a repeated key, for the thread that asked (`repeated_keys`).
    A filter on pypdf's logger of dictionaries: it takes each record and lets none through
    (pypdf's warnings quote the file's bytes: personal data)."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        found = getattr(self.local, "found", None)
        if found is not None and str(record.msg).startswith(_REPEATED):
            args = record.args if isinstance(record.args, dict) else {}
            found.append(str(args.get("key", "?")))
        return False


_collector = _Collector()


def _install() -> None:
    logger = logging.getLogger(_PYPDF_DICTIONARIES)
    if _collector not in logger.filters:
        logger.addFilter(_collector)
        logger.setLevel(logging.WARNING)  # its warnings reach the filter, and stop there


@contextmanager
def repeated_keys() -> Iterator[list[str]]:
    """The names of the keys a dictionary repeated, among those pypdf read meanwhile in
    this thread (pypdf keeps the first of the two, and says so in a warning)."""
    _install()
    found: list[str] = []
    previous = getattr(_collector.local, "found", None)
    _collector.local.found = found
    try:
        yield found
    finally:
        _collector.local.found = previous


# --- kept as received -------------------------------------------------------------------------

_ZIP_LOCAL = b"PK\x03\x04"
_ZIP_END = b"PK\x05\x06"
_LAST_EOF = re.compile(rb"%%EOF[\r\n\x00 \t\f]*\Z")


def carries_zip(data: bytes) -> bool:
    """A ZIP reader would find an archive in these bytes, or they carry a ZIP's local
    header and its end-of-central-directory record."""
    if _ZIP_LOCAL in data and _ZIP_END in data:
        return True
    try:
        return zipfile.is_zipfile(io.BytesIO(data))
    except Exception:
        return False


def ends_at_eof(data: bytes) -> bool:
    """Nothing after the last `%%EOF` but blanks."""
    return _LAST_EOF.search(data[-4096:]) is not None


_STRUCTURAL = STRUCTURAL


_FIRST_OBJECT = re.compile(rb"(\d{1,10})\s+(\d{1,5})\s+obj\b")
_LINEARIZED_WITHIN = 1024  # the linearization dictionary opens the file (ISO 32000 F.2)


def _hint_stream_offsets(
    reader: PdfReader, data: bytes, candidates: list[tuple[int, int, int]]
) -> set[int]:
    """Where a linearized file's hint streams are (its /Linearized dictionary's /H). Only
    a real linearization dictionary counts: the file's first object, whose /L is the
    length of the file as first written (ending at a `%%EOF`); one written anywhere else
    would exempt any stream it names."""
    first = _FIRST_OBJECT.search(data, 0, _LINEARIZED_WITHIN)
    if first is None:
        return set()
    for number, generation, offset in candidates:
        if (number, generation) != (int(first.group(1)), int(first.group(2))):
            continue
        if offset != first.start():
            return set()
        obj = reader.get_object(number) if generation == 0 else None
        if not isinstance(obj, DictionaryObject) or "/Linearized" not in obj:
            return set()
        length, hints = obj.get("/L"), obj.get("/H")
        if not isinstance(length, int) or not 0 < length <= len(data):
            return set()
        if not data[:length].rstrip(b"\r\n\x00 \t\f").endswith(b"%%EOF"):
            return set()
        if isinstance(hints, list):
            return {int(v) for v in list(hints)[::2] if isinstance(v, int)}
    return set()


def unreached_streams(reader: PdfReader, data: bytes, reached: set[tuple[int, int]]) -> int:
    """How many streams the cross-reference lists that nothing reaches from the trailer:
    not the cross-reference and object streams, not a linearized file's hints (plain
    streams: no /Type, no /Subtype), not a form XObject (/Subtype /Form with a /BBox):
    signing a file into a signature box it already had replaces the box's empty
    appearance, which stays listed and reached by nothing. Such a leftover draws
    nothing; its bytes are still sniffed for programs and archives
    (`payload_in_objects`)."""
    candidates: list[tuple[int, int, int]] = []
    for generation, table in reader.xref.items():
        free = reader.xref_free_entry.get(generation, {})
        for number, offset in table.items():
            if not free.get(number) and (number, generation) not in reached:
                candidates.append((number, generation, offset))
    if not candidates:
        return 0
    hints = _hint_stream_offsets(reader, data, candidates)
    unreached = 0
    for number, _generation, offset in candidates:
        try:
            obj: Any = reader.get_object(number)
        except Exception:  # not even readable: it is not what a page shows
            unreached += 1
            continue
        if not isinstance(obj, StreamObject):
            continue
        if obj.get("/Type") in _STRUCTURAL:
            continue
        if offset in hints and "/Type" not in obj and "/Subtype" not in obj:
            continue
        if obj.get("/Subtype") == "/Form" and "/BBox" in obj:
            continue  # an appearance replaced by a later save (a field once empty, signed)
        unreached += 1
    return unreached


def _packed_numbers(reader: PdfReader, number: int) -> list[int] | None:
    """The object numbers an object stream's header lists, in order; None if it cannot
    be read as one."""
    try:
        packed: Any = reader.get_object(number)
        count, first = int(packed["/N"]), int(packed["/First"])
        tokens = packed.get_data()[:first].split()
        numbers = [int(t) for t in tokens[: 2 * count : 2]]
    except Exception:
        return None
    return numbers if len(numbers) == count else None


_XREF_TOKEN = re.compile(rb"\d+|[nf]")


def _table_lists_twice(stream: Any, at: int) -> bool:
    """Whether the cross-reference table at `at` (just after its `x`) lists an object
    in use twice: its subsections read as pypdf reads them, up to `trailer`."""
    stream.seek(at)
    text = stream.read(25 * (MAX_OBJECTS + 100)).split(b"trailer", 1)[0]
    tokens = _XREF_TOKEN.findall(text[3:] if text.startswith(b"ref") else text)
    seen: set[int] = set()
    i = 0
    while i + 1 < len(tokens):
        if not (tokens[i].isdigit() and tokens[i + 1].isdigit()):
            return False  # not a table we can read: pypdf's own reading decides
        start, count = int(tokens[i]), int(tokens[i + 1])
        i += 2
        for k in range(count):
            entry = tokens[i : i + 3]
            i += 3
            if len(entry) < 3:
                return False
            if entry[2] == b"n":
                if start + k in seen:
                    return True
                seen.add(start + k)
    return False


class _Listing(PdfReader):
    """pypdf's reading of the cross-reference that notes an object number one section
    lists twice (a table, or a cross-reference stream's /Index): pypdf keeps the first
    entry, pdfium the last."""

    twice = False

    def _read_standard_xref_table(self, stream: Any) -> None:
        at = stream.tell()
        self.twice = self.twice or _table_lists_twice(stream, at)
        stream.seek(at)
        super()._read_standard_xref_table(stream)

    def _read_xref_subsections(
        self, idx_pairs: list[int], get_entry: Any, used_before: Any
    ) -> None:
        seen: set[int] = set()
        for start, size in self._pairs(idx_pairs):
            if len(seen) + size > MAX_OBJECTS * 10:
                self.twice = True  # more than any document: not read further
                return
            numbers = set(range(start, start + size))
            if seen & numbers:
                self.twice = True
            seen |= numbers
        super()._read_xref_subsections(idx_pairs, get_entry, used_before)


def _listed_two_ways(reader: PdfReader) -> bool:
    """An object number the cross-reference lists under two generations, or both as an
    object of its own and inside an object stream: pypdf follows a reference's
    generation, pdfium looks objects up by number alone and takes the newest."""
    seen: set[int] = set()
    for generation, table in reader.xref.items():
        if generation == 65535:
            continue
        numbers = set(table)
        if seen & numbers:
            return True
        seen |= numbers
    return bool(seen & set(reader.xref_objStm))


def xref_disagrees(reader: PdfReader, data: bytes) -> bool:
    """Whether pypdf may have read an object other than the one a viewer shows: the
    cross-reference lists one object twice (in one section, under two generations, or
    both alone and packed), an object stream lists one object number twice (pypdf keeps
    the first copy, pdfium and pdf.js the one the cross-reference points at), the
    cross-reference's index into an object stream holds another object, or pypdf
    repaired the cross-reference while reading (an object not where the cross-reference
    says, looked for in the bytes instead)."""
    listed = _Listing(io.BytesIO(data), strict=False)  # the cross-reference as written
    if listed.twice or _listed_two_ways(listed):
        return True
    if listed.xref != reader.xref or listed.xref_objStm != reader.xref_objStm:
        return True
    headers: dict[int, list[int] | None] = {}
    for number, (packed, index) in reader.xref_objStm.items():
        if packed not in headers:
            headers[packed] = _packed_numbers(reader, packed)
        numbers = headers[packed]
        if numbers is None or not 0 <= index < len(numbers) or numbers[index] != number:
            return True
    return any(len(set(numbers or ())) != len(numbers or ()) for numbers in headers.values())


def kept_problems(
    reader: PdfReader,
    data: bytes,
    reached: set[tuple[int, int]],
    *,
    whole: bool,
    deadline: float = float("inf"),
) -> str | None:
    """Why a PDF kept byte for byte cannot be (a short code), or None. `whole`: nothing
    may follow the last `%%EOF` (the PDF inside a `.p7m`)."""
    if carries_zip(data):
        return "zip"
    budget = Budget(deadline)
    try:
        found = payload_in(data, budget)
        if found:
            return found
        if whole and not ends_at_eof(data):
            return "tail"
        if xref_disagrees(reader, data):
            return "ambiguous"
        if unreached_streams(reader, data, reached):
            return "unreached_stream"
        return payload_in_objects(reader, budget)
    except TooComplex:
        return "too_complex"
