"""The family's copy of a sent application, from the messages the outbox keeps: the very
files that left, in their order, the summary once at the end. Nothing is assembled again
(pressing «Mandami la copia» five times used to put the whole dossier together five
times); the messages are read and decrypted in a bounded process, like an assembly."""

from __future__ import annotations

import email
import email.policy
import logging
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage import outbox
from storage.blobs import BlobError

from . import bounded
from .assemble import MANIFEST_NAME

log = logging.getLogger(__name__)
COPY_SECONDS = 30.0  # reading back a few messages of at most the PEC budget each


@dataclass(frozen=True)
class CopyFile:
    name: str
    data: bytes


def attachments_of(source: Any, blobs: list[str]) -> list[CopyFile]:
    """The attachments of the stored messages `blobs` (in their order), the summary that
    every message carries kept once, last. Run in a bounded process: `source` reads the
    blobs (`storage.blobs.BlobReader`)."""
    files: list[CopyFile] = []
    manifest: CopyFile | None = None
    for blob in blobs:
        message = email.message_from_bytes(source.get(blob), policy=email.policy.default)
        for part in message.iter_attachments():
            name = part.get_filename() or ""
            data = part.get_content()
            if isinstance(data, str):
                data = data.encode()
            if name == MANIFEST_NAME:
                manifest = CopyFile(name, data)
            else:
                files.append(CopyFile(name, data))
    return [*files, manifest] if manifest is not None else files


async def sent_copy(db: Database, reader: Any, dossier_id: str) -> list[CopyFile] | None:
    """The files of the application as it was queued for the PEC; None when there are no
    stored messages (never queued, or deleted after the retention period)."""
    rows = outbox.rows_of(db, dossier_id)
    if not rows:
        return None
    try:
        files = await bounded.run_async(
            attachments_of, reader, [r["blob"] for r in rows], seconds=COPY_SECONDS
        )
    except (BlobError, bounded.Overrun, ValueError) as exc:  # a blob gone, or too heavy
        log.info("copy of %s not read back: %s", dossier_id, type(exc).__name__)
        return None
    return files or None
