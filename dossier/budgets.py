"""What a file, a document and a dossier may weigh: Telegram's download limit, the byte
budget of one document and of the whole dossier, and what fits one PEC message."""

from __future__ import annotations

from typing import Any

from .refusals import (
    MSG_DOSSIER_BYTES,
    MSG_ITEM_BYTES,
    MSG_MESSAGE_BYTES,
    MSG_TOO_BIG,
    FileRefused,
    mb,
)

MAX_DOWNLOAD = 20 * 1024 * 1024  # Telegram bots cannot download files over 20 MB

# What one dossier may weigh (its clean copies), so that putting it together fits the
# assembly's process (450 MB) and a few PEC messages: a phone photo's clean copy is 1-4 MB,
# a 50-page scan 10-20 MB.
MAX_ITEM_BYTES = 40 * 1024 * 1024
MAX_DOSSIER_BYTES = 100 * 1024 * 1024
# What a photo page weighs in the assembled PDF at its smallest (`assemble.LEVELS`' last,
# 1200 px at quality 60: 100-250 KB for a page of text), rounded up; and room for the
# summary that travels in every message.
PHOTO_IN_MESSAGE = 300 * 1024
MANIFEST_ROOM = 64 * 1024


def too_big(size: int) -> FileRefused:
    return FileRefused(MSG_TOO_BIG, size_mb=mb(size), limit_mb=MAX_DOWNLOAD // (1024 * 1024))


def check_declared_size(file_size: int | None) -> None:
    """Before downloading: Telegram's declared size. Over MAX_DOWNLOAD raises "too_big".

    The message says the limit in MB and what to do (send it as a photo instead of a file,
    scan at lower quality, or split the PDF). An unknown size (None) passes: `inspect`
    checks the bytes again.
    """
    if file_size is not None and file_size > MAX_DOWNLOAD:
        raise too_big(file_size)


def bytes_over(rows: list[dict[str, Any]], item_id: str | None, size: int) -> FileRefused | None:
    """The refusal when a file of `size` bytes would take its item or the dossier over
    its byte budget; `rows` are the dossier's attachments (with `item_id` and `size`)."""
    total = sum(int(r["size"] or 0) for r in rows) + size
    if total > MAX_DOSSIER_BYTES:
        return FileRefused(
            MSG_DOSSIER_BYTES, size_mb=mb(total), limit_mb=MAX_DOSSIER_BYTES // (1024 * 1024)
        )
    if item_id is None:
        return None
    item = sum(int(r["size"] or 0) for r in rows if r["item_id"] == item_id) + size
    if item > MAX_ITEM_BYTES:
        return FileRefused(
            MSG_ITEM_BYTES, size_mb=mb(item), limit_mb=MAX_ITEM_BYTES // (1024 * 1024)
        )
    return None


def message_over(
    rows: list[dict[str, Any]], item_id: str, budget: int, title: str
) -> FileRefused | None:
    """The refusal when an item's files (`rows`: the dossier's attachments as they would
    be, with `item_id`, `kind`, `signed` and `size`) would not fit one PEC message.

    The assembly (`dossier.assemble`) makes one PDF per item from its photos (re-encoded
    smaller when needed) and its PDFs (as they are), and keeps each signed PDF or .p7m as
    a file of its own; a file over the message `budget` (attachment bytes) cannot be sent
    at all. So the item's merged PDF (PDFs at their size, photos at their smallest) and
    each signed file must fit."""
    merged = 0
    alone = 0
    for r in rows:
        if r["item_id"] != item_id:
            continue
        kind, size = str(r["kind"]), int(r["size"] or 0)
        if kind == "p7m" or (kind == "pdf" and r["signed"]):
            alone = max(alone, size)
        elif kind == "pdf":
            merged += size
        else:
            merged += min(size, PHOTO_IN_MESSAGE)
    room = budget - MANIFEST_ROOM
    worst = max(merged, alone)
    if worst <= room:
        return None
    return FileRefused(
        MSG_MESSAGE_BYTES, item=title, size_mb=mb(worst), limit_mb=room // (1024 * 1024)
    )
