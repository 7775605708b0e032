"""Notices an operator published: each version's file text, who and when; withdrawals.

A notice is published by inserting a new version (the earlier ones stay, for the record);
the newest version of an id is the one in force unless it was withdrawn. `version()` is
one cheap query the running bot asks every few seconds to know whether to reload.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from common.clock import now_iso

from .rows import last_id


@dataclass(frozen=True)
class Published:
    row: int  # the version's row: grows with every publication
    notice_id: str
    version: int  # 1, 2, ... for this notice id
    text: str
    cases_text: str | None
    published_by: str
    published_at: str
    withdrawn_by: str | None
    withdrawn_at: str | None

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None


def _published(row: dict) -> Published:
    return Published(
        row=row["id"],
        notice_id=row["notice_id"],
        version=row["version"],
        text=row["text"],
        cases_text=row["cases_text"],
        published_by=row["published_by"],
        published_at=row["published_at"],
        withdrawn_by=row["withdrawn_by"],
        withdrawn_at=row["withdrawn_at"],
    )


def publish(
    db: Database,
    notice_id: str,
    text: str,
    by: str,
    cases_text: str | None = None,
    at: str | None = None,
) -> Published:
    """A new version of `notice_id`, in force from now; the earlier versions are kept."""
    with db.atomic():
        last = db.execute(
            "SELECT COALESCE(MAX(version), 0) FROM published_notices WHERE notice_id = ?",
            [notice_id],
        ).fetchone()[0]
        row_id = last_id(
            db.table("published_notices").insert(
                {
                    "notice_id": notice_id,
                    "version": last + 1,
                    "text": text,
                    "cases_text": cases_text,
                    "published_by": by,
                    "published_at": at or now_iso(),
                    "withdrawn_by": None,
                    "withdrawn_at": None,
                }
            )
        )
    return _published(db.table("published_notices").get(row_id))


def unpublish(db: Database, notice_id: str, by: str, at: str | None = None) -> Published | None:
    """Withdraw the version in force; None when the id has none in force."""
    current = in_force(db).get(notice_id)
    if current is None:
        return None
    db.execute(
        "UPDATE published_notices SET withdrawn_by = ?, withdrawn_at = ? WHERE id = ?",
        [by, at or now_iso(), current.row],
    )
    db.conn.commit()
    return _published(db.table("published_notices").get(current.row))


@dataclass(frozen=True)
class Families:
    """The families a withdrawal touches: dossiers being prepared and sent with the
    notice, and reminders waiting for its closing."""

    preparing: int
    sent: int
    reminders: int


def families_of(db: Database, notice_id: str) -> Families:
    def count(sql: str) -> int:
        return int(db.execute(sql, [notice_id]).fetchone()[0])

    return Families(
        preparing=count("SELECT COUNT(*) FROM dossiers WHERE notice_id = ? AND status = 'bozza'"),
        sent=count("SELECT COUNT(*) FROM dossiers WHERE notice_id = ? AND status != 'bozza'"),
        reminders=count("SELECT COUNT(*) FROM reminders WHERE notice_id = ? AND stopped = 0"),
    )


def in_force(db: Database) -> dict[str, Published]:
    """The newest version of each id, when it was not withdrawn."""
    rows = db.query(
        "SELECT * FROM published_notices p WHERE withdrawn_at IS NULL AND version = "
        "(SELECT MAX(version) FROM published_notices q WHERE q.notice_id = p.notice_id) "
        "ORDER BY notice_id"
    )
    return {r["notice_id"]: _published(r) for r in rows}


def latest(db: Database) -> list[Published]:
    """The newest version of every id ever published, in force or withdrawn."""
    rows = db.query(
        "SELECT * FROM published_notices p WHERE version = "
        "(SELECT MAX(version) FROM published_notices q WHERE q.notice_id = p.notice_id) "
        "ORDER BY notice_id"
    )
    return [_published(r) for r in rows]


def history(db: Database, notice_id: str) -> list[Published]:
    """Every version of one id, oldest first."""
    rows = db.query(
        "SELECT * FROM published_notices WHERE notice_id = ? ORDER BY version", [notice_id]
    )
    return [_published(r) for r in rows]


def version(db: Database) -> tuple[int, int]:
    """Changes whenever a notice is published or withdrawn: (newest row, withdrawals)."""
    row = db.execute(
        "SELECT COALESCE(MAX(id), 0), COUNT(withdrawn_at) FROM published_notices"
    ).fetchone()
    return int(row[0]), int(row[1])


# -- drafts: files under review in the back-office, not yet published -------------------

DRAFT_KEEP = dt.timedelta(days=7)


@dataclass(frozen=True)
class Draft:
    token: str
    name: str
    text: str
    cases_text: str | None
    origin: dict[str, Any]
    created_by: str
    created_at: str


def keep_draft(
    db: Database,
    name: str,
    text: str,
    by: str,
    now: dt.datetime,
    cases_text: str | None = None,
    origin: dict[str, Any] | None = None,
) -> Draft:
    """Keep a file for review under a random token; drafts older than a week go."""
    token = secrets.token_urlsafe(16)
    stamp = now.astimezone(dt.UTC).isoformat(timespec="seconds")
    with db.atomic():
        old = (now - DRAFT_KEEP).astimezone(dt.UTC).isoformat(timespec="seconds")
        db.execute("DELETE FROM notice_drafts WHERE created_at < ?", [old])
        db["notice_drafts"].insert(
            {
                "token": token,
                "name": name,
                "text": text,
                "cases_text": cases_text,
                "origin": json.dumps(origin or {}, ensure_ascii=False),
                "created_by": by,
                "created_at": stamp,
            }
        )
    found = draft(db, token)
    assert found is not None
    return found


def draft(db: Database, token: str) -> Draft | None:
    """The draft kept under `token`, or None (unknown, or gone after a week)."""
    if not token or len(token) > 64:
        return None
    rows = list(db.query("SELECT * FROM notice_drafts WHERE token = ?", [token]))
    if not rows:
        return None
    r = rows[0]
    return Draft(
        token=r["token"],
        name=r["name"],
        text=r["text"],
        cases_text=r["cases_text"],
        origin=json.loads(r["origin"] or "{}"),
        created_by=r["created_by"],
        created_at=r["created_at"],
    )
