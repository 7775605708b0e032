"""What a social worker typed in a form when her session had ended: kept for an hour
under a random token, given back once after the next login (the token travels in the
login page's `next` address)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from sqlite_utils import Database

from common.clock import iso

KEEP = dt.timedelta(hours=1)
MAX_FIELDS = 200
MAX_CHARS = 20_000


def keep(db: Database, path: str, fields: list[tuple[str, str]], now: dt.datetime) -> str:
    """Store the fields (name, value) typed on the page at `path`; returns the token."""
    fields = [(k, v) for k, v in fields[:MAX_FIELDS] if k != "csrf"]
    text = json.dumps(fields, ensure_ascii=False)[:MAX_CHARS]
    token = secrets.token_urlsafe(16)
    with db.atomic():
        db.execute("DELETE FROM form_drafts WHERE created_at < ?", [iso(now - KEEP)])
        db.table("form_drafts").insert(
            {"token": token, "path": path, "fields": text, "created_at": iso(now)}
        )
    return token


def take(db: Database, token: str, path: str, now: dt.datetime) -> list[tuple[str, str]] | None:
    """The fields kept under `token` for the page at `path` (then forgotten), or None."""
    if not token or len(token) > 64:
        return None
    rows = list(
        db.query(
            "SELECT fields FROM form_drafts WHERE token = ? AND path = ? AND created_at >= ?",
            [token, path, iso(now - KEEP)],
        )
    )
    db.execute("DELETE FROM form_drafts WHERE token = ?", [token])
    if not rows:
        return None
    try:
        fields: Any = json.loads(rows[0]["fields"])
    except ValueError:
        return None
    return [(str(k), str(v)) for k, v in fields]
