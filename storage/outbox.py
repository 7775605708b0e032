"""The outbox: e-mail messages waiting to leave, and what became of each. All its SQL.

A row's status:

- `pending`: to send at `next_attempt_at`;
- `sending`: claimed by a worker, committed *before* the SMTP transaction starts;
  `next_attempt_at` then holds the time it went sending;
- `sent`: the mail server answered 250 to the message (or a PEC receipt proves it took it);
- `saved`: written as a .eml file, no mail server configured (not sent);
- `uncertain`: the worker died, or the connection broke, while the server had the message:
  it may or may not have taken it. `next_attempt_at` is when to send it again if no
  acceptance receipt has come by then (only when receipts are read);
- `failed`: given up (refused, out of time, or held back because another part of the same
  dossier failed); an operator can `requeue` it.

`created_at` is when the row was (re)queued: the retry window counts from there.
Timestamps are ISO 8601 in UTC, to the second, so they compare as strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from common.clock import iso, utcnow
from storage.blobs import BlobStore
from storage.dossiers import set_status

PENDING, SENDING, SENT, SAVED, UNCERTAIN, FAILED = (
    "pending",
    "sending",
    "sent",
    "saved",
    "uncertain",
    "failed",
)
DONE = (SENT, SAVED)
ACCEPTING_RECEIPTS = ("accettazione", "avvenuta-consegna")
HELD = "held: another part of this dossier did not go"
_MAX_ERROR = 500


def _error(text: str) -> str:
    return text[:_MAX_ERROR]


def _changed(db: Database, sql: str, params: Sequence[Any]) -> int:
    return db.execute(sql, list(params)).rowcount


# -- queueing --------------------------------------------------------------------------


def enqueue(
    db: Database,
    blobs: BlobStore,
    dossier_id: str,
    messages: list[tuple[str, bytes]],
    recipient: str,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Queue the messages of a dossier (part 1..n in order) and move it to `pronta`.

    Idempotent: the same Message-IDs again change nothing. A different set of messages
    for a dossier already queued is refused (ValueError): it would be a second application.
    """
    if not messages:
        raise ValueError("nothing to send")
    ids = [mid for mid, _ in messages]
    if len(set(ids)) != len(ids):
        raise ValueError("two messages with one Message-ID")
    stamp = iso(now or utcnow())
    existing = {r["message_id"] for r in rows_of(db, dossier_id)}
    if existing:
        if existing != set(ids):
            raise ValueError(f"dossier {dossier_id} is already queued with other messages")
        return
    parts = len(messages)
    with db.atomic():
        for part, (mid, raw) in enumerate(messages, start=1):
            if db.execute("SELECT 1 FROM outbox WHERE message_id = ?", [mid]).fetchone():
                raise ValueError("a Message-ID already queued for another dossier")
            digest = blobs.put(raw)  # content-addressed: a rolled-back retry rewrites it
            db.table("outbox").insert(
                {
                    "dossier_id": dossier_id,
                    "part": part,
                    "parts": parts,
                    "message_id": mid,
                    "recipient": recipient,
                    "blob": digest,
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": stamp,
                    "last_error": None,
                    "created_at": stamp,
                    "sent_at": None,
                }
            )
        set_status(db, dossier_id, "pronta", {"parts": parts}, at=stamp, forward_only=True)


def due(db: Database, now: dt.datetime, limit: int = 50) -> list[dict[str, Any]]:
    """Pending rows whose time has come, oldest first."""
    return list(
        db.query(
            "SELECT * FROM outbox WHERE status = ? AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at, dossier_id, part LIMIT ?",
            [PENDING, iso(now), limit],
        )
    )


def in_status(db: Database, status: str) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT * FROM outbox WHERE status = ? ORDER BY dossier_id, part",
            [status],
        )
    )


def every_message(db: Database) -> list[dict[str, Any]]:
    """Every message of the outbox, oldest first, without its bytes (the operator's list)."""
    return list(
        db.query(
            "SELECT id, dossier_id, part, parts, status, attempts, recipient, last_error "
            "FROM outbox ORDER BY id"
        )
    )


def get_row(db: Database, row_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM outbox WHERE id = ?", [row_id]))
    return rows[0] if rows else None


def rows_of(db: Database, dossier_id: str) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM outbox WHERE dossier_id = ? ORDER BY part", [dossier_id]))


def counts(db: Database) -> dict[str, int]:
    """How many rows in each status (for the operator)."""
    return {
        r["status"]: r["n"]
        for r in db.query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
    }


# -- transitions: each one a single UPDATE guarded by the status it leaves --------------


def mark_sending(
    db: Database, row_id: int, now: dt.datetime, *, from_status: str = PENDING
) -> bool:
    """Claim a row for one attempt (committed at once). False if another worker has it,
    or it is no longer in `from_status`: then do not send it."""
    if from_status not in (PENDING, UNCERTAIN):
        raise ValueError(from_status)
    return (
        _changed(
            db,
            "UPDATE outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ? "
            "WHERE id = ? AND status = ?",
            [SENDING, iso(now), row_id, from_status],
        )
        == 1
    )


def mark_sent(db: Database, row_id: int, now: dt.datetime) -> bool:
    return (
        _changed(
            db,
            "UPDATE outbox SET status = ?, sent_at = ?, last_error = NULL "
            "WHERE id = ? AND status IN (?, ?)",
            [SENT, iso(now), row_id, SENDING, UNCERTAIN],
        )
        == 1
    )


def mark_saved(db: Database, row_id: int, now: dt.datetime) -> bool:
    return (
        _changed(
            db,
            "UPDATE outbox SET status = ?, sent_at = ?, last_error = NULL "
            "WHERE id = ? AND status = ?",
            [SAVED, iso(now), row_id, SENDING],
        )
        == 1
    )


def mark_retry(db: Database, row_id: int, error: str, next_at: dt.datetime) -> bool:
    return (
        _changed(
            db,
            "UPDATE outbox SET status = ?, last_error = ?, next_attempt_at = ? "
            "WHERE id = ? AND status = ?",
            [PENDING, _error(error), iso(next_at), row_id, SENDING],
        )
        == 1
    )


def mark_failed(db: Database, row_id: int, error: str) -> bool:
    return (
        _changed(
            db,
            "UPDATE outbox SET status = ?, last_error = ? WHERE id = ? AND status IN (?, ?, ?)",
            [FAILED, _error(error), row_id, SENDING, UNCERTAIN, PENDING],
        )
        == 1
    )


def mark_uncertain(db: Database, row_id: int, error: str, resend_after: dt.datetime) -> bool:
    """A row left `sending`: the server may have the message. `resend_after`: when to send
    it again if no acceptance receipt has come (only when receipts are read)."""
    return (
        _changed(
            db,
            "UPDATE outbox SET status = ?, last_error = ?, next_attempt_at = ? "
            "WHERE id = ? AND status = ?",
            [UNCERTAIN, _error(error), iso(resend_after), row_id, SENDING],
        )
        == 1
    )


def hold_others(db: Database, dossier_id: str, except_id: int) -> int:
    """The dossier went wrong: its other pending parts wait for the operator (`failed`)."""
    return _changed(
        db,
        "UPDATE outbox SET status = ?, last_error = ? WHERE dossier_id = ? AND id != ? "
        "AND status = ?",
        [FAILED, HELD, dossier_id, except_id, PENDING],
    )


def accepted_by_receipt(db: Database, message_id: str) -> bool:
    """Did the PEC provider send an acceptance (or delivery) receipt for this message?"""
    bare = message_id.strip().strip("<>")
    return (
        db.execute(
            "SELECT 1 FROM receipts WHERE refers_to IN (?, ?) AND kind IN (?, ?) LIMIT 1",
            [f"<{bare}>", bare, *ACCEPTING_RECEIPTS],
        ).fetchone()
        is not None
    )


def requeue(db: Database, dossier_id: str, *, now: dt.datetime | None = None) -> int:
    """An operator sends a dossier again after checking: its `failed` and `uncertain` rows
    go back to `pending`, due now, with a fresh retry window. A row with an acceptance
    receipt is marked sent instead. Rows only saved to the outbox folder (no mail server
    was configured then) are sent for real now, and the dossier is `pronta` again.
    Returns how many rows will be sent."""
    stamp = now or utcnow()
    requeued = 0
    with db.atomic():
        saved = [r for r in rows_of(db, dossier_id) if r["status"] == SAVED]
        if saved:
            db.execute(
                "UPDATE outbox SET status = ?, attempts = 0, next_attempt_at = ?, created_at = ? "
                "WHERE dossier_id = ? AND status = ?",
                [PENDING, iso(stamp), iso(stamp), dossier_id, SAVED],
            )
            set_status(db, dossier_id, "pronta", {"requeued": True}, at=iso(stamp))
            requeued += len(saved)
        for row in rows_of(db, dossier_id):
            if row["status"] not in (FAILED, UNCERTAIN):
                continue
            if accepted_by_receipt(db, row["message_id"]):
                db.execute(
                    "UPDATE outbox SET status = ?, sent_at = COALESCE(sent_at, ?), "
                    "last_error = NULL WHERE id = ?",
                    [SENT, iso(stamp), row["id"]],
                )
                continue
            requeued += _changed(
                db,
                "UPDATE outbox SET status = ?, attempts = 0, next_attempt_at = ?, "
                "created_at = ? WHERE id = ? AND status IN (?, ?)",
                [PENDING, iso(stamp), iso(stamp), row["id"], FAILED, UNCERTAIN],
            )
        finish_if_done(db, dossier_id, stamp)
    return requeued


def finish_if_done(db: Database, dossier_id: str, now: dt.datetime) -> bool:
    """Every part gone: the dossier is `inviata` (told as saved, not sent, when a part was
    only written to the outbox folder). Never moves a dossier backwards. True if it moved."""
    rows = rows_of(db, dossier_id)
    if not rows or any(r["status"] not in DONE for r in rows):
        return False
    if any(r["status"] == SAVED for r in rows):
        return set_status(
            db, dossier_id, "salvata", {"saved_to_folder": True}, at=iso(now), forward_only=True
        )
    detail = {"recipient": rows[0]["recipient"]}
    return set_status(db, dossier_id, "inviata", detail, at=iso(now), forward_only=True)
