"""Erasure: everything stored about one family goes, in one transaction, then the WAL is
checkpointed and truncated so that no copy of the deleted rows stays in `-wal`.

What goes: their dossiers with attachments, messages, receipts, status events, the
social services' integration requests, home assessments and unsent staff forms; their conversation state, language and the raw
updates of the crash journal; their alert subscriptions, reminders and unsent alerts. The audit log keeps what happened (who of the staff did
what, when) but no longer says about which dossier. The database runs with
`secure_delete=ON` (see `storage.db.open_db`), so freed pages are zeroed, not left for
anyone who reads the file.

Conversations untouched for `INACTIVE_DAYS` are erased the same way, after a warning in
chat `WARN_DAYS` before (`inactive`, `mark_warned`).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from typing import Any

from sqlite_utils import Database

from common.clock import iso, utcnow

from . import alerts, receipts
from .db import database_file

log = logging.getLogger(__name__)

INACTIVE_DAYS = 180
WARN_DAYS = 7
UNANSWERED = dt.timedelta(days=1)  # a /start with no consent: nothing to warn about


def forget_family(
    db: Database, user_id: int, *, drafts_only: bool = False
) -> tuple[list[str], list[str]]:
    """Delete every row about this Telegram user; returns (the blobs nothing else uses,
    the ids of the dossiers deleted: their `.eml` folders go too). With `drafts_only`
    (a conversation expired), only draft dossiers go: an application sent keeps its
    dossier, files and receipts until retention deletes them."""
    only = " AND status = 'bozza'" if drafts_only else ""
    with db.atomic():
        ids = [
            r[0] for r in db.execute(f"SELECT id FROM dossiers WHERE user_id = ?{only}", [user_id])
        ]
        shas: set[str] = set()
        for dossier_id in ids:
            for table, column in (
                ("attachments", "sha256"),
                ("outbox", "blob"),
                ("receipts", "blob"),
            ):
                shas.update(
                    r[0]
                    for r in db.execute(
                        f"SELECT {column} FROM {table} WHERE dossier_id = ?", [dossier_id]
                    )
                    if r[0]
                )
            for (message_id,) in db.execute(
                "SELECT message_id FROM outbox WHERE dossier_id = ? AND message_id IS NOT NULL",
                [dossier_id],
            ).fetchall():  # a PEC receipt arriving later is dropped, not kept
                db.execute(
                    "INSERT OR IGNORE INTO erased_messages (digest, erased_at) VALUES (?, ?)",
                    [receipts.message_digest(message_id), utcnow().isoformat()],
                )
            for table in (
                "attachments",
                "outbox",
                "receipts",
                "dossier_events",
                "integration_requests",
                "assessments",
            ):
                db.execute(f"DELETE FROM {table} WHERE dossier_id = ?", [dossier_id])
            # a social worker's form kept across a new login, about this dossier
            db.execute("DELETE FROM form_drafts WHERE path LIKE ?", [f"%{dossier_id}%"])
            db.execute(
                "UPDATE audit_log SET dossier_id = NULL, detail = '{\"erased\": true}' "
                "WHERE dossier_id = ?",
                [dossier_id],
            )
            db.execute("DELETE FROM dossiers WHERE id = ?", [dossier_id])
        db.execute("DELETE FROM users WHERE user_id = ?", [user_id])
        db.execute("DELETE FROM fsm WHERE key LIKE ?", [f"%:{user_id}:%"])
        # the update being handled (this erasure's own) keeps its row, emptied: it holds
        # the chat's line until its turn ends, so the family's next message waits
        db.execute(
            "UPDATE update_journal SET data = NULL WHERE user_id = ? AND done = 0 AND held = 1",
            [user_id],
        )
        # every other row goes, those still waiting their turn too (`held` NULL: a file
        # waiting for a checking slot, an update queued behind another of the chat), so
        # nothing of theirs is handled after the erasure, nor replayed after a crash
        db.execute(
            "DELETE FROM update_journal WHERE user_id = ? AND NOT (done = 0 AND held IS 1)",
            [user_id],
        )
        db.execute("DELETE FROM expiry_warnings WHERE user_id = ?", [user_id])
        alerts.forget_user(db, user_id)  # subscriptions, reminders, messages not yet sent
    in_use = {
        r[0]
        for r in db.execute(
            "SELECT sha256 FROM attachments UNION SELECT blob FROM outbox "
            "UNION SELECT blob FROM receipts"
        )
    }
    return sorted(shas - in_use), ids


OWED_WAIT = 0.2  # seconds a checkpoint waits for a reader or writer before it is owed


def _truncate(db: Database) -> bool:
    """`wal_checkpoint(TRUNCATE)` on a connection of its own that waits little (the
    process's connection waits 5 s for a lock, on the event loop): True when it went
    through, the WAL copied into the file and emptied."""
    path = database_file(db)
    if path is None:  # in memory: no WAL on disk
        return True
    conn = sqlite3.connect(path, timeout=OWED_WAIT, isolation_level=None)
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.OperationalError:  # locked by a writer
        return False
    finally:
        conn.close()
    return not busy


def checkpoint(db: Database) -> bool:
    """Copy the WAL into the database file and truncate it to nothing: the deleted rows'
    old pages live on in `-wal` until then. When a reader (a back-office export, another
    process) blocks it, a mark says one is owed, and `settle_owed` tries again (the
    background jobs, every few seconds, and at start) until one goes through."""
    if db.conn.in_transaction:
        db.conn.commit()
    if _truncate(db):
        if db.execute("SELECT 1 FROM checkpoints_owed").fetchone():
            db.execute("DELETE FROM checkpoints_owed")
        return True
    db.execute("INSERT OR IGNORE INTO checkpoints_owed (id, since) VALUES (1, ?)", [iso(utcnow())])
    log.warning("WAL checkpoint after an erasure was blocked by a reader: owed, tried again")
    return False


def settle_owed(db: Database) -> bool | None:
    """The checkpoint an erasure owes, tried again: None when none is owed, else whether
    it went through now."""
    if not db.execute("SELECT 1 FROM checkpoints_owed").fetchone():
        return None
    done = checkpoint(db)
    if done:
        log.info("the WAL checkpoint owed after an erasure went through")
    return done


def checkpoint_owed(db: Database) -> str | None:
    """Since when a checkpoint is owed (ISO time), or None."""
    row = db.execute("SELECT since FROM checkpoints_owed").fetchone()
    return row[0] if row else None


def inactive(db: Database, now: dt.datetime) -> tuple[list[dict[str, Any]], list[int]]:
    """Families to warn (untouched for INACTIVE_DAYS - WARN_DAYS, not warned yet) with the
    chat to warn in, and families to erase (untouched for INACTIVE_DAYS, or a /start
    without consent a day old). Untouched: their conversation state, language and draft
    dossiers all older; a family with an application past the draft stage keeps it
    (retention deletes its files), only the conversation and drafts go."""
    warn_before = iso(now - dt.timedelta(days=INACTIVE_DAYS - WARN_DAYS))
    erase_before = iso(now - dt.timedelta(days=INACTIVE_DAYS))
    rows = db.execute(
        """SELECT user_id, MAX(at) AS last, MAX(chat) AS chat, MAX(answers) AS answers FROM (
             SELECT CAST(substr(key, instr(key, ':') + 1) AS INTEGER) AS chat,
                    CAST(substr(substr(key, instr(key, ':') + 1),
                         instr(substr(key, instr(key, ':') + 1), ':') + 1) AS INTEGER) AS user_id,
                    updated_at AS at,
                    CASE WHEN json_valid(data) AND json_type(data, '$.answers') = 'object'
                              AND json_extract(data, '$.answers') != '{}'
                         THEN 1 ELSE 0 END AS answers
             FROM fsm
             UNION ALL SELECT NULL, user_id, updated_at, 1 FROM users
             UNION ALL SELECT chat_id, user_id, updated_at, 1 FROM dossiers WHERE status = 'bozza'
           ) GROUP BY user_id"""
    ).fetchall()
    warned = {r[0] for r in db.execute("SELECT user_id FROM expiry_warnings")}
    back = [r[0] for r in rows if r[0] in warned and r[1] is not None and r[1] >= warn_before]
    for user_id in back:  # they came back: a new silence gets a new warning
        db.execute("DELETE FROM expiry_warnings WHERE user_id = ?", [user_id])
        warned.discard(user_id)
    to_warn: list[dict[str, Any]] = []
    to_erase: list[int] = []
    blank_before = iso(now - UNANSWERED)
    for user_id, last, chat, answers in rows:
        if last is None or user_id is None:
            continue
        if last < erase_before or (not answers and last < blank_before):
            to_erase.append(int(user_id))
        elif last < warn_before and answers and user_id not in warned and chat:
            language = db.execute(
                "SELECT language FROM users WHERE user_id = ?", [user_id]
            ).fetchone()
            to_warn.append(
                {
                    "user_id": int(user_id),
                    "chat_id": int(chat),
                    "language": language[0] if language else "it",
                }
            )
    return to_warn, to_erase


def mark_warned(db: Database, user_id: int, now: dt.datetime) -> None:
    db.table("expiry_warnings").upsert({"user_id": user_id, "warned_at": iso(now)}, pk="user_id")
