"""Subscriptions ("tell me when my comune's notice opens"), deadline reminders, and the
durable queue of messages to families that both fill.

The queue is a table: a message is enqueued once (a unique key, so planning twice tells
nobody twice), marked `sending` just before it goes and `sent` after; one caught
`sending` by a crash is not sent again (`uncertain`): a family must never get the same
alert twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from common.clock import now_iso

# -- subscriptions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    id: int
    user_id: int
    chat_id: int
    comune: str
    code: str  # the comune's ISTAT code, for buttons
    created_at: str


def subscribe(db: Database, user_id: int, chat_id: int, comune: str, code: str) -> bool:
    """Subscribe; False when this user already follows this comune."""
    with db.atomic():
        cursor = db.execute(
            "INSERT OR IGNORE INTO subscriptions (user_id, chat_id, comune, code, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [user_id, chat_id, comune, code, now_iso()],
        )
    return cursor.rowcount == 1


def subscriptions_of(db: Database, user_id: int) -> list[Subscription]:
    rows = db.query("SELECT * FROM subscriptions WHERE user_id = ? ORDER BY id", [user_id])
    return [Subscription(**r) for r in rows]


def unsubscribe(db: Database, user_id: int, subscription_id: int) -> bool:
    with db.atomic():
        cursor = db.execute(
            "DELETE FROM subscriptions WHERE id = ? AND user_id = ?", [subscription_id, user_id]
        )
    return cursor.rowcount == 1


def untold(db: Database, comune: str, notice_id: str) -> list[Subscription]:
    """Subscribers of `comune` not yet told that `notice_id` is open."""
    rows = db.query(
        "SELECT s.* FROM subscriptions s WHERE s.comune = ? AND NOT EXISTS "
        "(SELECT 1 FROM alerts_told t WHERE t.subscription_id = s.id AND t.notice_id = ?) "
        "ORDER BY s.id",
        [comune, notice_id],
    )
    return [Subscription(**r) for r in rows]


# -- reminders ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    id: int
    user_id: int
    chat_id: int
    notice_id: str
    comune: str
    documents: list[str]  # what the result asked to prepare, for a family with no dossier
    stopped: int
    created_at: str


def want_reminders(
    db: Database, user_id: int, chat_id: int, notice_id: str, comune: str, documents: list[str]
) -> int:
    """Remind this family before `notice_id` closes (kept once per user and notice)."""
    with db.atomic():
        db.execute(
            "INSERT INTO reminders (user_id, chat_id, notice_id, comune, documents, stopped, "
            "created_at) VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT (user_id, notice_id) DO "
            "UPDATE SET chat_id = excluded.chat_id, comune = excluded.comune, "
            "documents = excluded.documents",
            [user_id, chat_id, notice_id, comune, json.dumps(documents), now_iso()],
        )
    row = db.execute(
        "SELECT id FROM reminders WHERE user_id = ? AND notice_id = ?", [user_id, notice_id]
    ).fetchone()
    return int(row[0])


def _reminder(row: dict[str, Any]) -> Reminder:
    return Reminder(**{**row, "documents": json.loads(row["documents"] or "[]")})


def active_reminders(db: Database) -> list[Reminder]:
    return [_reminder(r) for r in db.query("SELECT * FROM reminders WHERE stopped = 0")]


def reminders_of(db: Database, user_id: int) -> list[Reminder]:
    rows = db.query(
        "SELECT * FROM reminders WHERE user_id = ? AND stopped = 0 ORDER BY id", [user_id]
    )
    return [_reminder(r) for r in rows]


def stop_reminders(db: Database, user_id: int, reminder_id: int) -> bool:
    with db.atomic():
        cursor = db.execute(
            "UPDATE reminders SET stopped = 1 WHERE id = ? AND user_id = ? AND stopped = 0",
            [reminder_id, user_id],
        )
    return cursor.rowcount == 1


# -- the queue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    id: int
    chat_id: int
    text: str
    buttons: list[list[list[str]]]  # rows of [label, callback data]
    attempts: int


def enqueue(
    db: Database,
    key: str,
    chat_id: int,
    text: str,
    buttons: list[list[list[str]]] | None = None,
    told: tuple[int, str] | None = None,
) -> bool:
    """Queue one message, once per `key`; `told` = (subscription, notice) records the
    alert in the same transaction. False when that key was queued before."""
    with db.atomic():
        cursor = db.execute(
            "INSERT OR IGNORE INTO outgoing (key, chat_id, text, buttons, status, attempts, "
            "not_before, created_at) VALUES (?, ?, ?, ?, 'pending', 0, '', ?)",
            [key, chat_id, text, json.dumps(buttons or []), now_iso()],
        )
        if told is not None:
            db.execute(
                "INSERT OR IGNORE INTO alerts_told (subscription_id, notice_id, at) "
                "VALUES (?, ?, ?)",
                [told[0], told[1], now_iso()],
            )
    return cursor.rowcount == 1


def enqueue_many(db: Database, rows: list[dict[str, Any]]) -> int:
    """Many messages in one transaction (10,000 subscribers of a comune): each row has the
    arguments of `enqueue`. Returns how many were new."""
    new = 0
    with db.atomic():
        for r in rows:
            cursor = db.execute(
                "INSERT OR IGNORE INTO outgoing (key, chat_id, text, buttons, status, attempts, "
                "not_before, created_at) VALUES (?, ?, ?, ?, 'pending', 0, '', ?)",
                [r["key"], r["chat_id"], r["text"], json.dumps(r.get("buttons") or []), now_iso()],
            )
            new += cursor.rowcount
            if r.get("told"):
                db.execute(
                    "INSERT OR IGNORE INTO alerts_told (subscription_id, notice_id, at) "
                    "VALUES (?, ?, ?)",
                    [r["told"][0], r["told"][1], now_iso()],
                )
    return new


def due(db: Database, now: str, limit: int) -> list[Outgoing]:
    """Pending messages that may go now, oldest first."""
    rows = db.query(
        "SELECT id, chat_id, text, buttons, attempts FROM outgoing WHERE status = 'pending' "
        "AND not_before <= ? ORDER BY id LIMIT ?",
        [now, limit],
    )
    return [Outgoing(**{**r, "buttons": json.loads(r["buttons"])}) for r in rows]


def mark(db: Database, ids: list[int], status: str) -> None:
    """`sending` just before a batch goes, `sent` after."""
    if not ids:
        return
    marks = ",".join("?" for _ in ids)
    with db.atomic():
        extra = ", sent_at = ?" if status == "sent" else ""
        params: list[Any] = [status, *([now_iso()] if extra else []), *ids]
        db.execute(f"UPDATE outgoing SET status = ?{extra} WHERE id IN ({marks})", params)


def retry_later(db: Database, message_id: int, error: str, not_before: str, give_up: bool) -> None:
    with db.atomic():
        db.execute(
            "UPDATE outgoing SET status = ?, attempts = attempts + 1, last_error = ?, "
            "not_before = ? WHERE id = ?",
            ["failed" if give_up else "pending", error[:200], not_before, message_id],
        )


def recover(db: Database) -> int:
    """After a crash: a message caught `sending` may have gone; it is not sent again."""
    with db.atomic():
        cursor = db.execute("UPDATE outgoing SET status = 'uncertain' WHERE status = 'sending'")
    return cursor.rowcount


def pending_count(db: Database) -> int:
    return int(db.execute("SELECT COUNT(*) FROM outgoing WHERE status = 'pending'").fetchone()[0])


def forget_user(db: Database, user_id: int, chat_id: int | None = None) -> None:
    """Everything here about one user: subscriptions, reminders, messages not yet sent."""
    with db.atomic():
        db.execute(
            "DELETE FROM alerts_told WHERE subscription_id IN "
            "(SELECT id FROM subscriptions WHERE user_id = ?)",
            [user_id],
        )
        db.execute("DELETE FROM subscriptions WHERE user_id = ?", [user_id])
        db.execute("DELETE FROM reminders WHERE user_id = ?", [user_id])
        db.execute(
            "DELETE FROM outgoing WHERE chat_id = ? AND status IN ('pending', 'failed')",
            [chat_id if chat_id is not None else user_id],
        )
