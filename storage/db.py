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


@migrations()
def m002_dossiers(db: Database) -> None:
    """Dossiers, their attachments (files live encrypted in the blob store), status history,
    the outbox of e-mail messages, and PEC receipts kept as proof."""
    db["dossiers"].create(
        {
            "id": str,  # "B2-7K3M9Q": short, readable on the phone and by the social worker
            "user_id": int,
            "chat_id": int,
            "notice_id": str,
            "municipality": str,
            "language": str,
            "status": str,  # bozza, pronta, in_invio, inviata, accettata, consegnata, errore
            "data": str,  # JSON: identity answers, the questionnaire answers, the checklist
            "created_at": str,
            "updated_at": str,
            "sent_at": str,
            "delivered_at": str,
            "purge_after": str,  # date: files are deleted then (retention)
            "purge_warned": int,
            "purged": int,
        },
        pk="id",
    )
    db["dossiers"].create_index(["user_id"])
    db["attachments"].create(
        {
            "id": int,
            "dossier_id": str,
            "item_id": str,
            "seq": int,
            "sha256": str,
            "kind": str,
            "mime": str,
            "pages": int,
            "size": int,
            "signed": int,
            "file_unique_id": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("dossier_id", "dossiers", "id")],
    )
    db["attachments"].create_index(["dossier_id", "sha256"], unique=True)
    db["attachments"].create_index(["dossier_id", "file_unique_id"])
    db["dossier_events"].create(
        {
            "id": int,
            "dossier_id": str,
            "status": str,
            "detail": str,  # JSON: values for the message to the family (dates, addresses)
            "at": str,
            "notified": int,  # told to the family in chat
        },
        pk="id",
        foreign_keys=[("dossier_id", "dossiers", "id")],
    )
    db["dossier_events"].create_index(["notified"])
    db["outbox"].create(
        {
            "id": int,
            "dossier_id": str,
            "part": int,  # 1-based: a dossier over the size budget travels as several messages
            "parts": int,
            "message_id": str,  # one Message-ID per message, fixed before the first attempt
            "recipient": str,
            "blob": str,  # the whole RFC 5322 message, encrypted in the blob store
            "status": str,  # pending, sending, sent, saved, uncertain, failed
            "attempts": int,
            "next_attempt_at": str,
            "last_error": str,
            "created_at": str,
            "sent_at": str,
        },
        pk="id",
        foreign_keys=[("dossier_id", "dossiers", "id")],
    )
    db["outbox"].create_index(["message_id"], unique=True)
    db["outbox"].create_index(["status", "next_attempt_at"])
    db["receipts"].create(
        {
            "id": int,
            "dossier_id": str,
            "message_id": str,  # the receipt's own Message-ID: the same receipt is kept once
            "refers_to": str,  # X-Riferimento-Message-ID: our message
            "kind": str,  # accettazione, avvenuta-consegna, errore-consegna, ...
            "at": str,  # when the PEC provider says it happened
            "recipient": str,
            "error": str,
            "blob": str,  # the receipt as received, encrypted: the legal proof
            "created_at": str,
        },
        pk="id",
    )
    db["receipts"].create_index(["message_id"], unique=True)


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
