"""Where the service keeps its files: beside the database file. No aiogram here: the
console, the CLI's jobs and the bot all find the same folder and the same key."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlite_utils import Database

from common.settings import Settings
from storage.blobs import BlobStore, decode_key, load_or_create_key, rekey_names
from storage.db import database_file

log = logging.getLogger(__name__)


def data_folder(db: Database, settings: Settings) -> Path:
    """The folder of the database file (SPORTELLO_DATA_DIR): files, keys and the outbox
    folder live beside it."""
    path = database_file(db)
    return path.parent if path else settings.sportello_data_dir


def blob_store_beside(db: Database, settings: Settings) -> BlobStore:
    """The encrypted files live next to the database file (var/files beside
    var/sportello.sqlite3), with the key from settings or made once beside them."""
    folder = data_folder(db, settings)
    if settings.sportello_file_key is not None:
        key = decode_key(settings.sportello_file_key.get_secret_value())
    else:
        key = load_or_create_key(folder / "files.key")
    blobs = BlobStore(folder / "files", key)
    renamed = rekey_names(db, blobs)
    if renamed:
        log.info("%d stored files renamed to keyed names", renamed)
    return blobs
