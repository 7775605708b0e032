"""What a social worker typed in a form when her session had ended: kept for an hour
under a random token, given back once after the next login (the token travels in the
login page's `next` address), and only to the same staff member: a draft belongs to the
staff member of the ended session that sent it (a request without a session cookie of
ours keeps nothing). At most `PER_STAFF` drafts each."""

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
PER_STAFF = 5


def keep(
    db: Database, path: str, fields: list[tuple[str, str]], now: dt.datetime, staff_id: int
) -> str:
    """Store the fields (name, value) typed on the page at `path` by this staff member;
    returns the token."""
    fields = [(k, v) for k, v in fields[:MAX_FIELDS] if k != "csrf"]
    text = json.dumps(fields, ensure_ascii=False)[:MAX_CHARS]
    token = secrets.token_urlsafe(16)
    with db.atomic():
        db.execute("DELETE FROM form_drafts WHERE created_at < ?", [iso(now - KEEP)])
        db.execute(
            "DELETE FROM form_drafts WHERE staff_id = ? AND token NOT IN (SELECT token FROM "
            "form_drafts WHERE staff_id = ? ORDER BY created_at DESC LIMIT ?)",
            [staff_id, staff_id, PER_STAFF - 1],
        )
        db.table("form_drafts").insert(
            {
                "token": token,
                "path": path,
                "fields": text,
                "created_at": iso(now),
                "staff_id": staff_id,
            }
        )
    return token


def take(
    db: Database, token: str, path: str, now: dt.datetime, staff_id: int
) -> list[tuple[str, str]] | None:
    """The fields kept under `token` for the page at `path` by this staff member (then
    forgotten), or None."""
    if not token or len(token) > 64:
        return None
    rows = list(
        db.query(
            "SELECT fields FROM form_drafts WHERE token = ? AND path = ? AND created_at >= ? "
            "AND staff_id = ?",
            [token, path, iso(now - KEEP), staff_id],
        )
    )
    db.execute("DELETE FROM form_drafts WHERE token = ? AND staff_id = ?", [token, staff_id])
    if not rows:
        return None
    try:
        fields: Any = json.loads(rows[0]["fields"])
    except ValueError:
        return None
    return [(str(k), str(v)) for k, v in fields]
