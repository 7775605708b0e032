"""Files at rest, encrypted: uploads, assembled messages and PEC receipts.

Each blob is AES-256-GCM with a random nonce. Its name is an HMAC-SHA256 of the plain
bytes, keyed with a key derived from the file key: the same bytes get the same name (they
are kept once), but without the key nobody can tell from the names, or from the database,
whether a document they know is stored. The name is also the associated data, so a file
swapped on disk fails to decrypt. The key comes from settings (`SPORTELLO_FILE_KEY`);
with none set, one is made once and kept in the data folder, readable by its owner only.

Blobs written before names were keyed (plain SHA-256) are renamed once, with every
reference in the database, by `rekey_names`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE = 12


class BlobError(Exception):
    """A blob is missing, or does not decrypt with this key."""


def write_once(path: Path, text: str) -> None:
    """Make `path` hold `text`, readable by its owner only, unless it exists already. It is
    written whole beside it, then linked into place: never a half-written file, and two
    processes starting together keep the same one (the second one's is dropped)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(text)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


def load_or_create_key(path: Path) -> bytes:
    """The key in `path` (urlsafe base64 of 32 bytes), created with mode 0600 if missing."""
    key = AESGCM.generate_key(bit_length=256)
    write_once(path, base64.urlsafe_b64encode(key).decode() + "\n")
    return decode_key(path.read_text().strip())


def decode_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.encode())
    except ValueError as exc:
        raise ValueError("SPORTELLO_FILE_KEY must be 32 bytes in urlsafe base64") from exc
    if len(key) != 32:
        raise ValueError("SPORTELLO_FILE_KEY must be 32 bytes in urlsafe base64")
    return key


class BlobStore:
    """Content-addressed, encrypted files under one folder: the same bytes are kept once."""

    def __init__(self, root: Path, key: bytes):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._aead = AESGCM(key)
        self._key = key
        self._names = hmac.new(key, b"sportello-b2 blob names", hashlib.sha256).digest()

    def reader(self) -> BlobReader:
        """What another process needs to read these blobs itself (the bounded assembly):
        the folder and the key, so the files are decrypted there, not here."""
        return BlobReader(str(self.root), self._key)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.bin"

    def name_of(self, data: bytes) -> str:
        """The blob name of these bytes: HMAC-SHA256 with the names key, hex."""
        return hmac.new(self._names, data, hashlib.sha256).hexdigest()

    def put(self, data: bytes) -> str:
        """Store `data`; return its name (keyed hash, hex). The same bytes again: a no-op."""
        digest = self.name_of(data)
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        nonce = os.urandom(NONCE)
        sealed = nonce + self._aead.encrypt(nonce, data, digest.encode())
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(sealed)
        os.replace(tmp, target)  # never a half-written blob under the real name
        return digest

    def get(self, sha256: str) -> bytes:
        try:
            sealed = self.path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise BlobError(f"blob {sha256[:12]} is missing") from exc
        try:
            return self._aead.decrypt(sealed[:NONCE], sealed[NONCE:], sha256.encode())
        except InvalidTag as exc:
            raise BlobError(f"blob {sha256[:12]} does not decrypt with this key") from exc

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)


@dataclass(frozen=True)
class BlobReader:
    """The blobs of one folder, read (and decrypted) one at a time where they are used."""

    root: str
    key: bytes

    def get(self, name: str) -> bytes:
        return BlobStore(Path(self.root), self.key).get(name)

    def __repr__(self) -> str:  # never the key in a log or a traceback
        return f"BlobReader({self.root!r})"


_REFERENCES = (("attachments", "sha256"), ("outbox", "blob"), ("receipts", "blob"))


def rekey_names(db: Any, blobs: BlobStore) -> int:
    """Rename the blobs still named by the plain SHA-256 of their bytes to keyed names,
    updating every row that refers to them; once (a row in `meta` remembers). Returns
    how many were renamed."""
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    done = db.execute("SELECT value FROM meta WHERE key = 'blob_names'").fetchone()
    if done and done[0] == "hmac":
        return 0
    names = {
        r[0]
        for table, column in _REFERENCES
        for r in db.execute(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")
    }
    renamed = 0
    for old in sorted(names):
        try:
            data = blobs.get(old)
        except BlobError:
            continue  # gone already, or written under the new scheme
        if hashlib.sha256(data).hexdigest() != old:
            continue
        new = blobs.put(data)
        with db.atomic():
            for table, column in _REFERENCES:
                db.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", [new, old])
        blobs.delete(old)
        renamed += 1
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('blob_names', 'hmac')")
    db.conn.commit()
    return renamed
