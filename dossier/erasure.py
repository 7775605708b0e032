"""Erasing a family: the rows (`storage.erasure`), the encrypted files, the `.eml` copies
saved in the outbox folder, and the WAL."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from sqlite_utils import Database

from storage import erasure
from storage.blobs import BlobStore

log = logging.getLogger(__name__)


COUNTER_COPIES = "console"  # beside the outbox: the files the console wrote for a family


def counter_copies(data_dir: Path, dossier_id: str) -> Path:
    """The folder where `sportello console` writes one application's files (the form to
    sign, the family's copy): `console/B2-XXXXXX/` in the data folder."""
    from .delivery import safe_name

    return Path(data_dir) / COUNTER_COPIES / safe_name(dossier_id)


def remove_saved_messages(outbox_dir: Path | None, dossier_id: str) -> None:
    """The `.eml` files of a dossier saved when no mail server was configured, and the
    copies the console wrote for the family at the counter (beside the outbox)."""
    if outbox_dir is None:
        return
    from .delivery import safe_name

    for folder in (
        Path(outbox_dir) / safe_name(dossier_id),
        counter_copies(Path(outbox_dir).parent, dossier_id),
    ):
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


def erase_family(
    db: Database,
    blobs: BlobStore,
    user_id: int,
    outbox_dir: Path | None = None,
    *,
    drafts_only: bool = False,
) -> int:
    """Everything about this family, gone; returns how many dossiers went. With
    `drafts_only` (a conversation untouched for months), the conversation and the draft
    dossiers go, and an application already sent stays for retention."""
    shas, dossiers = erasure.forget_family(db, user_id, drafts_only=drafts_only)
    for sha in shas:
        blobs.delete(sha)
    for dossier_id in dossiers:
        remove_saved_messages(outbox_dir, dossier_id)
    erasure.checkpoint(db)
    log.info("a family's data was erased: %d dossier(s), %d file(s)", len(dossiers), len(shas))
    return len(dossiers)
