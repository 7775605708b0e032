"""Retention: a dossier's files are deleted a set number of days after delivery
(`SPORTELLO_RETENTION_DAYS`, default 30); the family is told a few days before.
PEC receipts are kept: they prove the application arrived."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from sqlite_utils import Database

from common.clock import iso
from storage import dossiers as store
from storage.blobs import BlobStore
from storage.erasure import checkpoint

from .erasure import remove_saved_messages

log = logging.getLogger(__name__)
WARN_DAYS = 3


def apply_retention(
    db: Database, blobs: BlobStore, now: dt.datetime, days: int, outbox_dir: Path | None = None
) -> tuple[int, int]:
    """Warn the families whose files go soon, delete those whose time is up (their
    uploads, sent messages and `.eml` copies in `outbox_dir`). Returns (warned, purged)."""
    warned = purged = 0
    soon = now - dt.timedelta(days=max(days - WARN_DAYS, 0))
    due = now - dt.timedelta(days=days)
    for row in store.delivered_and_kept(db):
        delivered = dt.datetime.fromisoformat(row["delivered_at"])
        if delivered.tzinfo is None:
            delivered = delivered.replace(tzinfo=dt.UTC)
        if delivered > soon:
            continue
        if delivered <= due:
            for sha in store.purge_files(db, row["id"]):
                blobs.delete(sha)
            remove_saved_messages(outbox_dir, row["id"])
            store.add_event(db, row["id"], "purged", at=iso(now))
            purged += 1
        elif not row["purge_warned"]:
            left = days - (now - delivered).days
            store.add_event(db, row["id"], "purge_warning", {"days": max(left, 1)}, at=iso(now))
            store.mark_purge_warned(db, row["id"])
            warned += 1
    if purged:
        checkpoint(db)
    if warned or purged:
        log.info("retention: %d warned, %d purged", warned, purged)
    return warned, purged
