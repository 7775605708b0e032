"""The SQLite file: opening it, and its schema as sqlite-utils migrations."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database, Migrations

migrations = Migrations("sportello")


@migrations()
def m001_users_and_conversations(db: Database) -> None:
    """Users (their language) and conversation state (aiogram FSM), as JSON."""
    db["users"].create(
        {"user_id": int, "language": str, "created_at": str, "updated_at": str},
        pk="user_id",
    )
    db["fsm"].create({"key": str, "state": str, "data": str, "updated_at": str}, pk="key")


def open_db(path: Path | str) -> Database:
    """Open (creating if needed) the database at `path`, WAL mode, schema up to date."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    migrations.apply(db)
    return db
