"""The SQLite file: opening it, and its schema as sqlite-utils migrations."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

from sqlite_utils import Database, Migrations

from common.counter import FIRST

migrations = Migrations("sportello")


@migrations()
def m001_users_and_conversations(db: Database) -> None:
    """Users (their language) and conversation state (aiogram FSM), as JSON."""
    db.table("users").create(
        {"user_id": int, "language": str, "created_at": str, "updated_at": str},
        pk="user_id",
    )
    db.table("fsm").create({"key": str, "state": str, "data": str, "updated_at": str}, pk="key")


@migrations()
def m002_dossiers(db: Database) -> None:
    """Dossiers, their attachments (files live encrypted in the blob store), status history,
    the outbox of e-mail messages, and PEC receipts kept as proof."""
    db.table("dossiers").create(
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
    db.table("dossiers").create_index(["user_id"])
    db.table("attachments").create(
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
    db.table("attachments").create_index(["dossier_id", "sha256"], unique=True)
    db.table("attachments").create_index(["dossier_id", "file_unique_id"])
    db.table("dossier_events").create(
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
    db.table("dossier_events").create_index(["notified"])
    db.table("outbox").create(
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
    db.table("outbox").create_index(["message_id"], unique=True)
    db.table("outbox").create_index(["status", "next_attempt_at"])
    db.table("receipts").create(
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
    db.table("receipts").create_index(["message_id"], unique=True)


@migrations()
def m003_backoffice_and_webhook(db: Database) -> None:
    """Staff accounts and their sessions, failed logins (lockout), the audit log, the
    protocol number of a dossier, integration requests to families, and the Telegram
    updates already handled by the webhook."""
    db.table("staff").create(
        {
            "id": int,
            "email": str,  # lower case, unique
            "password_hash": str,  # argon2id
            "comuni": str,  # JSON list of comune names, as the notices spell them
            "is_admin": int,
            "active": int,
            "created_at": str,
        },
        pk="id",
    )
    db.table("staff").create_index(["email"], unique=True)
    db.table("staff_sessions").create(
        {
            "token_hash": str,  # SHA-256 of the cookie value: a stolen DB gives no session
            "staff_id": int,
            "csrf": str,
            "created_at": str,
            "expires_at": str,
        },
        pk="token_hash",
        foreign_keys=[("staff_id", "staff", "id")],
    )
    db.table("login_attempts").create(
        {"id": int, "email": str, "ok": int, "at": str, "remote": str}, pk="id"
    )
    db.table("login_attempts").create_index(["email", "at"])
    db.table("audit_log").create(
        {
            "id": int,
            "at": str,
            "staff_id": int,
            "staff_email": str,
            "action": str,  # login, view_list, view_dossier, download_file, download_zip, ...
            "dossier_id": str,
            "detail": str,  # JSON
        },
        pk="id",
    )
    db.table("audit_log").create_index(["dossier_id"])
    db.table("dossiers").add_column("protocol_number", str)
    db.table("dossiers").add_column("protocol_date", str)
    db.table("integration_requests").create(
        {
            "id": int,
            "dossier_id": str,
            "staff_id": int,
            "items": str,  # JSON list of checklist item ids (missing or unreadable)
            "note": str,
            "status": str,  # pending (stored, not yet told), sent (told), answered
            "attempts": int,
            "next_attempt_at": str,
            "last_error": str,
            "created_at": str,
            "sent_at": str,
            "answered_at": str,
        },
        pk="id",
        foreign_keys=[("dossier_id", "dossiers", "id")],
    )
    db.table("integration_requests").create_index(["status", "next_attempt_at"])
    db.table("seen_updates").create({"update_id": int, "at": str}, pk="update_id")


@migrations()
def m004_social_worker_desk(db: Database) -> None:
    """The social worker's desk: a folded search key and sort name per dossier, the
    outcome after the protocol, who the dossier is assigned to; the home assessment
    (ADL, IADL, CBI) of the ranking; a deadline and a reminder for integration requests;
    what was typed in a form when the session had ended (kept for the next login)."""
    from .dossiers import index_columns

    for column in ("search_key", "sort_name", "outcome", "outcome_reason", "outcome_at"):
        db.table("dossiers").add_column(column, str)
    db.table("dossiers").add_column("outcome_position", int)
    db.table("dossiers").add_column("assigned_to", int)
    for row in list(db.query("SELECT id, data FROM dossiers")):
        db.table("dossiers").update(
            row["id"], index_columns(row["id"], json.loads(row["data"] or "{}"))
        )
    db.table("dossiers").create_index(["municipality", "status"])
    db.table("assessments").create(
        {
            "dossier_id": str,
            "adl": int,  # functions kept, on the notice's ADL scale
            "iadl": int,  # functions kept, on the notice's IADL scale
            "cbi": float,  # points of the CBI scale, as the social services computed them
            "staff_id": int,
            "at": str,
        },
        pk="dossier_id",
        foreign_keys=[("dossier_id", "dossiers", "id")],
    )
    db.table("integration_requests").add_column("due_on", str)  # ISO date: the family's deadline
    db.table("integration_requests").add_column("reminded_at", str)
    db.table("form_drafts").create(
        {"token": str, "path": str, "fields": str, "created_at": str}, pk="token"
    )
    db.table("audit_log").create_index(["staff_id"])
    db.table("audit_log").create_index(["at"])


@migrations()
def m005_logins_by_address(db: Database) -> None:
    """Login throttling looks up attempts by client address."""
    db.table("login_attempts").create_index(["remote", "at"])
    db.table("login_attempts").create_index(["email", "ok", "at"])


@migrations()
def m006_journal_and_expiry(db: Database) -> None:
    """The crash journal of Telegram updates (raw JSON until handled), and the families
    warned that their untouched conversation will be deleted."""
    db.table("update_journal").create(
        {
            "update_id": int,
            "user_id": int,
            "data": str,  # the update as Telegram sent it; emptied once handled
            "received_at": str,
            "done": int,
            "attempts": int,
        },
        pk="update_id",
    )
    db.table("update_journal").create_index(["done"])
    db.table("update_journal").create_index(["user_id"])
    db.table("expiry_warnings").create({"user_id": int, "warned_at": str}, pk="user_id")
    db.table("integration_requests").create_index(["dossier_id"])


@migrations()
def m007_published_notices(db: Database) -> None:
    """Notices an operator published (`sportello notice publish`): every version's file
    text, who published it and when, and its withdrawal."""
    db.table("published_notices").create(
        {
            "id": int,
            "notice_id": str,
            "version": int,  # 1, 2, ... per notice id; earlier versions are kept
            "text": str,  # the notice file, as published
            "cases_text": str,  # the cases file beside it, when there was one
            "published_by": str,
            "published_at": str,
            "withdrawn_by": str,
            "withdrawn_at": str,
        },
        pk="id",
    )
    db.table("published_notices").create_index(["notice_id", "version"], unique=True)


@migrations()
def m008_alerts(db: Database) -> None:
    """Subscriptions to a comune's next notice, which alerts were told, deadline reminders,
    and the durable queue of messages to families (sent within Telegram's limits)."""
    db.table("subscriptions").create(
        {
            "id": int,
            "user_id": int,
            "chat_id": int,
            "comune": str,  # as ISTAT and the notices write it
            "code": str,  # ISTAT code, for the buttons
            "created_at": str,
        },
        pk="id",
    )
    db.table("subscriptions").create_index(["user_id", "comune"], unique=True)
    db.table("subscriptions").create_index(["comune"])
    db.table("alerts_told").create(
        {"subscription_id": int, "notice_id": str, "at": str},
        pk=("subscription_id", "notice_id"),
    )
    db.table("reminders").create(
        {
            "id": int,
            "user_id": int,
            "chat_id": int,
            "notice_id": str,
            "comune": str,
            "documents": str,  # JSON: what the result asked to prepare
            "stopped": int,
            "created_at": str,
        },
        pk="id",
    )
    db.table("reminders").create_index(["user_id", "notice_id"], unique=True)
    db.table("outgoing").create(
        {
            "id": int,
            "key": str,  # unique: the same alert or reminder is queued once
            "chat_id": int,
            "text": str,  # HTML, in the family's language
            "buttons": str,  # JSON rows of [label, callback data]
            "status": str,  # pending, sending, sent, uncertain, failed
            "attempts": int,
            "not_before": str,
            "last_error": str,
            "created_at": str,
            "sent_at": str,
        },
        pk="id",
    )
    db.table("outgoing").create_index(["key"], unique=True)
    db.table("outgoing").create_index(["status", "not_before"])


@migrations()
def m009_notice_drafts(db: Database) -> None:
    """Notice files an admin uploaded or derived in the back-office, kept for review
    (problems, preview, download) before they are published; a few days only."""
    db["notice_drafts"].create(
        {
            "token": str,  # random: the draft's address
            "name": str,  # the file name shown and downloaded
            "text": str,
            "cases_text": str,
            "origin": str,  # JSON: derived from which notice, what to look at
            "created_by": str,
            "created_at": str,
        },
        pk="token",
    )
    db["notice_drafts"].create_index(["created_at"])


@migrations()
def m010_leases(db: Database) -> None:
    """Several processes on one file (two workers, or the old and the new one during a
    restart): leases for a chat's lock, the background jobs and the processes alive, and
    which process is handling each journalled update."""
    db.table("leases").create({"name": str, "owner": str, "expires_at": float}, pk="name")
    db.table("update_journal").add_column("owner", str)


@migrations()
def m011_drafts_of_a_session(db: Database) -> None:
    """A form kept after a session ended belongs to that session's staff member; drafts
    from before (nobody's) are dropped."""
    db.execute("DELETE FROM form_drafts")
    db.table("form_drafts").add_column("staff_id", int)


@migrations()
def m012_erased_messages(db: Database) -> None:
    """The Message-IDs of applications erased, hashed: a PEC receipt arriving for one of
    them afterwards is dropped, not kept with the application inside it."""
    db.table("erased_messages").create({"digest": str, "erased_at": str}, pk="digest")


@migrations()
def m013_signer_certificates_and_searches_unsaid(db: Database) -> None:
    """Who issued each signed file's certificates (JSON, for the staff: offline we cannot
    check them against the EU trust list); and the audit log no longer keeps what staff
    searched for (a surname, a codice fiscale), only that they searched."""
    db.table("attachments").add_column("signers", str)
    db.execute(
        "UPDATE audit_log SET detail = json_set(detail, '$.filters.cerca', json('true')) "
        "WHERE action = 'view_list' AND json_valid(detail) "
        "AND json_type(detail, '$.filters.cerca') = 'text'"
    )


@migrations()
def m014_signed_form_pages(db: Database) -> None:
    """Each page of the signed form is a file of its own, known by its page number (one
    per number: a newer photo of a page replaces the older), with whether its signature
    box showed ink (1, 0; NULL for a page without a box, or any other file)."""
    db.table("attachments").add_column("form_page", int)
    db.table("attachments").add_column("ink", int)


@migrations()
def m015_updates_in_line(db: Database) -> None:
    """An update's journal row is also its chat's place in line across processes (see
    `storage.journal`): the chat it belongs to and until when its process holds it, found
    by one small index of the open rows. The index of every row by status and by user
    went: each update wrote four more pages for them (the journal is pruned daily, so
    erasing a family's rows reads a day of it)."""
    db.table("update_journal").add_column("chat", str)
    db.table("update_journal").add_column("expires_at", float)
    db.execute("DROP INDEX IF EXISTS idx_update_journal_done")
    db.execute("DROP INDEX IF EXISTS idx_update_journal_user_id")
    db.execute(
        "CREATE INDEX update_journal_open ON update_journal (chat, update_id) WHERE done = 0"
    )
    # the chats' lease rows of before: those expired (a process still running the older
    # version keeps its own until it stops)
    db.execute("DELETE FROM leases WHERE name LIKE 'chat:%' AND expires_at < ?", [time.time()])
    # an application in progress is the conversation's aiogram state (bot.states): also
    # for one stored before that was so, so that no state always means no application
    db.execute(
        "UPDATE fsm SET state = 'Paperwork:' || json_extract(data, '$.paper.stage') "
        "WHERE state IS NULL AND json_valid(data) "
        "AND json_extract(data, '$.paper.dossier') IS NOT NULL "
        "AND json_extract(data, '$.paper.stage') "
        "IN ('identity', 'documents', 'signing', 'integration', 'sent')"
    )


@migrations()
def m016_held_updates_and_checkpoints_owed(db: Database) -> None:
    """An update being handled is marked held in its journal row, so a chat's update
    arriving out of order waits for it too (`storage.journal.waiting_on`); and an erasure
    whose WAL checkpoint a reader blocked leaves a mark until one succeeds
    (`storage.erasure.checkpoint_owed`)."""
    db.table("update_journal").add_column("held", int)
    db.table("checkpoints_owed").create({"id": int, "since": str}, pk="id")


@migrations()
def m017_families_at_the_counter(db: Database) -> None:
    """Each family at the counter (`sportello console`) has an id of its own
    (`common.counter`); the order they were opened in says which one is open. The console
    of before kept one family as user 0 (keys `console:0:0…`): it becomes the first."""
    db.table("counter_families").create({"user_id": int, "opened": int}, pk="user_id")
    legacy = db.execute(
        "SELECT EXISTS (SELECT 1 FROM fsm WHERE key LIKE 'console:0:0%') "
        "OR EXISTS (SELECT 1 FROM dossiers WHERE user_id = 0)"
    ).fetchone()[0]
    if legacy:
        db.execute("INSERT INTO counter_families (user_id, opened) VALUES (?, 1)", [FIRST])
        db.execute("UPDATE dossiers SET user_id = ?, chat_id = ? WHERE user_id = 0", [FIRST, FIRST])
        db.execute(
            "UPDATE fsm SET key = ? || substr(key, 12) WHERE key LIKE 'console:0:0%'",
            [f"console:{FIRST}:{FIRST}"],
        )
        db.execute("UPDATE users SET user_id = ? WHERE user_id = 0", [FIRST])


@migrations()
def m018_known_devices(db: Database) -> None:
    """The browsers that logged in to a staff account (`storage.lockout`): the SHA-256 of
    the token their cookie holds, per e-mail."""
    db.table("known_devices").create(
        {"token_hash": str, "email": str, "at": str}, pk=("token_hash", "email")
    )


def open_db(path: Path | str) -> Database:
    """Open (creating if needed) the database at `path`, WAL mode, schema up to date."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    db.execute("PRAGMA secure_delete=ON")  # deleted rows are zeroed, not left in free pages
    with immediate(db):  # two processes starting together: one migrates, the other waits
        migrations.apply(db)
    return db


def database_file(db: Database) -> Path | None:
    """The file of the database, or None when it lives in memory."""
    path = db.execute("PRAGMA database_list").fetchone()[2]
    return Path(path) if path else None


def immediate(db: Database) -> _Immediate:
    """One write transaction, taken at its start (BEGIN IMMEDIATE): what it reads cannot
    be changed by another process before it writes, so a read-then-write is safe with
    several processes on the file (a deferred BEGIN would fail with "database is locked"
    when another process wrote in between). Inside a transaction already: a savepoint.
    Never hold one across an `await`: the connection is shared by the whole process."""
    return _Immediate(db)


class _Immediate:
    """`immediate` as a plain context manager: two per update, so it costs little."""

    __slots__ = ("db", "savepoint")

    def __init__(self, db: Database):
        self.db = db
        self.savepoint: contextlib.AbstractContextManager[Database] | None = None

    def __enter__(self) -> Database:
        if self.db.conn.in_transaction:
            self.savepoint = self.db.atomic()
            return self.savepoint.__enter__()
        self.db.conn.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> bool:
        if self.savepoint is not None:
            return bool(self.savepoint.__exit__(kind, *rest))  # type: ignore[arg-type]
        if kind is not None:
            self.db.rollback()
            return False
        try:
            self.db.conn.execute("COMMIT")
        except BaseException:
            self.db.rollback()
            raise
        return False
