"""Users: the chosen language lives here, not in the conversation state."""

from __future__ import annotations

from sqlite_utils import Database

from common.clock import now_iso

from . import alerts


def get_language(db: Database, user_id: int) -> str | None:
    """The language the user chose, or None before they choose."""
    row = db.execute("SELECT language FROM users WHERE user_id = ?", [user_id]).fetchone()
    return row[0] if row else None


def set_language(db: Database, user_id: int, language: str) -> None:
    """Remember the user's language (kept when the questionnaire is cleared)."""
    now = now_iso()
    with db.atomic():
        db.table("users").upsert(
            {"user_id": user_id, "language": language, "updated_at": now}, pk="user_id"
        )
        db.execute(
            "UPDATE users SET created_at = ? WHERE user_id = ? AND created_at IS NULL",
            [now, user_id],
        )


def delete_user(db: Database, user_id: int) -> None:
    """Delete the user's language and every conversation (`storage.erasure.forget_family`
    deletes everything else too)."""
    with db.atomic():
        db.execute("DELETE FROM users WHERE user_id = ?", [user_id])
        db.execute("DELETE FROM fsm WHERE key LIKE ?", [f"%:{user_id}:%"])
    alerts.forget_user(db, user_id)  # subscriptions, reminders, messages not yet sent
