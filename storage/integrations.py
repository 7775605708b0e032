"""Integration requests: the social services ask a family for missing or unreadable
documents. Stored first, then told to the family in chat by the bot (an event, retried
until Telegram takes it), answered when the family sends what was asked."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlite_utils import Database

from common.clock import now_iso

from .dossiers import add_event, set_status
from .rows import last_id


def request_integration(
    db: Database,
    dossier_id: str,
    *,
    staff_id: int,
    items: list[str],
    note: str,
    due_on: str | None = None,
) -> int:
    """Store a request and the event that tells the family; returns the request id.
    The dossier becomes `integrazione_richiesta`. `due_on` (ISO date) is the deadline the
    family is told."""
    now = now_iso()
    if open_request(db, dossier_id) is not None:
        raise ValueError("this dossier already has a request the family has not answered")
    with db.atomic():
        request_id = last_id(
            db.table("integration_requests").insert(
                {
                    "dossier_id": dossier_id,
                    "staff_id": staff_id,
                    "items": json.dumps(items),
                    "note": note,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "due_on": due_on,
                }
            )
        )
        db.execute(
            "UPDATE dossiers SET status = 'consegnata' WHERE id = ? AND status = 'integrata'",
            [dossier_id],
        )  # a second request after an answer: the dossier asks again
        set_status(
            db,
            dossier_id,
            "integrazione_richiesta",
            {"request": request_id, "items": items, "note": note, "due_on": due_on},
        )
    return request_id


def add_items(db: Database, request_id: int, items: list[str], note: str) -> list[str]:
    """Ask for more documents in a request still open; the family is told the new ones
    (an event). Returns the items added (those not asked already)."""
    with db.atomic():
        row = db.table("integration_requests").get(request_id)
        if row["status"] == "answered":
            raise ValueError("the family has answered this request already")
        asked = json.loads(row["items"] or "[]")
        known = {str(i).partition(":")[0] for i in asked}
        new = [i for i in items if str(i).partition(":")[0] not in known]
        if not new:
            return []
        db.table("integration_requests").update(request_id, {"items": json.dumps(asked + new)})
        add_event(
            db,
            row["dossier_id"],
            "integrazione_aggiunta",
            {"request": request_id, "items": new, "note": note, "due_on": row["due_on"]},
        )
    return new


def to_remind(db: Database, today: dt.date, days_before: int) -> list[dict[str, Any]]:
    """Requests told to the family, not answered, not reminded yet, whose deadline is at
    most `days_before` days away (or past)."""
    limit = (today + dt.timedelta(days=days_before)).isoformat()
    rows = db.query(
        "SELECT * FROM integration_requests WHERE status = 'sent' AND reminded_at IS NULL "
        "AND due_on IS NOT NULL AND due_on <= ? ORDER BY id",
        [limit],
    )
    return [{**r, "items": json.loads(r["items"] or "[]")} for r in rows]


def remind(db: Database, request: dict[str, Any]) -> None:
    """Record the reminder event for the family, once."""
    with db.atomic():
        changed = db.execute(
            "UPDATE integration_requests SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL",
            [now_iso(), request["id"]],
        ).rowcount
        if changed:
            add_event(
                db,
                request["dossier_id"],
                "integrazione_promemoria",
                {"request": request["id"], "items": request["items"], "due_on": request["due_on"]},
            )


def mark_told(db: Database, request_id: int) -> None:
    db.table("integration_requests").update(request_id, {"status": "sent", "sent_at": now_iso()})


def dossier_of_request(db: Database, request_id: int) -> str | None:
    """The dossier a request belongs to; None if there is no such request."""
    row = db.execute(
        "SELECT dossier_id FROM integration_requests WHERE id = ?", [request_id]
    ).fetchone()
    return None if row is None else str(row[0])


def open_request(db: Database, dossier_id: str) -> dict[str, Any] | None:
    """The newest request not answered yet, with its items decoded."""
    rows = list(
        db.query(
            "SELECT * FROM integration_requests WHERE dossier_id = ? AND status != 'answered' "
            "ORDER BY id DESC LIMIT 1",
            [dossier_id],
        )
    )
    if not rows:
        return None
    return {**rows[0], "items": json.loads(rows[0]["items"] or "[]")}


def requests_of(db: Database, dossier_id: str) -> list[dict[str, Any]]:
    rows = db.query(
        "SELECT * FROM integration_requests WHERE dossier_id = ? ORDER BY id", [dossier_id]
    )
    return [{**r, "items": json.loads(r["items"] or "[]")} for r in rows]


def answer(db: Database, request_id: int, dossier_id: str) -> None:
    """The family sent what was asked: the dossier goes back to the social worker."""
    with db.atomic():
        db.table("integration_requests").update(
            request_id, {"status": "answered", "answered_at": now_iso()}
        )
        set_status(db, dossier_id, "integrata", {"request": request_id})
