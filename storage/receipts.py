"""PEC receipts kept as proof: the queries. What a receipt means for the outbox and the
dossier (the state machine) is `dossier.receipts`.

Each receipt is kept once (by its own Message-ID, or by the SHA-256 of its bytes when it
has none), its bytes encrypted in the blob store. It is matched to our message through
`refers_to` (the outbox Message-ID), and so to a dossier; a receipt that matches nothing
is kept all the same, with no dossier.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlite_utils import Database

from common.clock import now_iso

# Outbox rows that an acceptance or a delivery settles as `sent` (as storage.outbox.mark_sent
# does): the provider has the message, the worker must not send it again.
PROVEN_SENT_FROM = ("sending", "uncertain")


def outbox_message(db: Database, message_id: str) -> dict[str, Any] | None:
    """Our outbox message with this Message-ID (given as `<id>`), stored with or without
    angle brackets."""
    rows = list(
        db.query(
            "SELECT * FROM outbox WHERE message_id IN (?, ?) ORDER BY id LIMIT 1",
            [message_id, message_id[1:-1]],
        )
    )
    return rows[0] if rows else None


def message_digest(message_id: str) -> str:
    """How an erased message is remembered: the SHA-256 of its Message-ID, no brackets."""
    return hashlib.sha256(message_id.strip().strip("<>").encode()).hexdigest()


def was_erased(db: Database, message_id: str) -> bool:
    """Whether this Message-ID was one of an application erased since."""
    row = db.execute(
        "SELECT 1 FROM erased_messages WHERE digest = ?", [message_digest(message_id)]
    ).fetchone()
    return row is not None


def keep(db: Database, key: str, dossier_id: str | None, fields: dict[str, Any]) -> None:
    """Keep a receipt under `key` (its Message-ID or `sha256:…`) once; a receipt kept
    before without a dossier gets this one."""
    existing = db.execute(
        "SELECT id, dossier_id FROM receipts WHERE message_id = ?", [key]
    ).fetchone()
    if existing is None:
        db.table("receipts").insert(
            {**fields, "dossier_id": dossier_id, "message_id": key, "created_at": now_iso()}
        )
    elif existing[1] is None and dossier_id is not None:
        db.table("receipts").update(existing[0], {"dossier_id": dossier_id})


def settle_sent(db: Database, outbox_id: int, at: str | None) -> None:
    """The provider has this message: an outbox row left sending or uncertain is sent."""
    marks = ", ".join("?" for _ in PROVEN_SENT_FROM)
    db.execute(
        f"UPDATE outbox SET status = 'sent', sent_at = COALESCE(sent_at, ?), last_error = NULL "
        f"WHERE id = ? AND status IN ({marks})",
        [at or now_iso(), outbox_id, *PROVEN_SENT_FROM],
    )


def of_parts(db: Database, dossier_id: str, parts: int) -> list[dict[str, Any]]:
    """Every message of the dossier's sending in `parts` parts, each with its receipts
    (one row per receipt; a message with none has one row with `kind` NULL)."""
    return list(
        db.query(
            """SELECT o.id AS outbox_id, COALESCE(o.part, 1) AS part, r.id, r.kind, r.at,
                      r.recipient, r.error, r.created_at
               FROM outbox o LEFT JOIN receipts r ON r.refers_to = o.message_id
               WHERE o.dossier_id = ? AND COALESCE(o.parts, 1) = ?""",
            [dossier_id, parts],
        )
    )


def receipts_of(db: Database, dossier_id: str) -> list[dict[str, Any]]:
    """The receipts of a dossier, in the order they were received."""
    return list(db.query("SELECT * FROM receipts WHERE dossier_id = ? ORDER BY id", [dossier_id]))
