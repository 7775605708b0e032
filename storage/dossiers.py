"""Dossiers, their attachments and their status history.

Status, in the order a dossier usually moves: bozza (gathering documents), pronta (signed
and confirmed, waiting for the outbox), in_invio, inviata (the mail server took it),
accettata (the PEC provider's acceptance receipt), consegnata (delivered to the protocol
inbox); errore at any point. Each change is an event, told to the family once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import unicodedata
from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import NotFoundError

from common.clock import iso, now_iso

from .records import Identity
from .rows import last_id

STATUSES = (
    "bozza",
    "pronta",
    "in_invio",
    "salvata",  # no mail server: saved to the outbox folder, NOT sent
    "inviata",
    "accettata",
    "consegnata",
    "integrazione_richiesta",  # the social services asked the family for more
    "integrata",  # the family sent what was asked
    "errore",
)
RANK = {s: i for i, s in enumerate(STATUSES)}
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I: read aloud over the phone


def fold_key(text: str) -> str:
    """What a search compares: lower case, no accents, no spaces, apostrophes or dashes
    ("De Luca", "deluca" and "DE LUCÀ" read the same; "D'Angelo" is "dangelo")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^0-9a-z]", "", bare)


def beneficiary_names(data: Mapping[str, Any]) -> tuple[str, str]:
    """The beneficiary's (family name, given name): the applicant's when they sign for
    themselves."""
    person = Identity.from_dict(data.get("identity")).beneficiary
    return person.family_name or "", person.given_name or ""


def index_columns(dossier_id: str, data: Mapping[str, Any]) -> dict[str, str]:
    """The columns the staff's search and sorting read: surnames, codici fiscali and the
    dossier code folded (`fold_key`), `|`-separated; the beneficiary's name to sort by."""
    ident = Identity.from_dict(data.get("identity"))
    parts = [
        ident.applicant.family_name,
        ident.cared_for.family_name,
        ident.applicant.tax_code,
        ident.cared_for.tax_code,
        dossier_id,
    ]
    family, given = beneficiary_names(data)
    return {
        "search_key": "|" + "|".join(fold_key(p) for p in parts if p) + "|",
        "sort_name": f"{family} {given}".strip().casefold(),
    }


def new_dossier_id() -> str:
    return "B2-" + "".join(secrets.choice(ALPHABET) for _ in range(6))


def create_dossier(
    db: Database,
    *,
    user_id: int,
    chat_id: int,
    notice_id: str,
    municipality: str,
    language: str,
    data: dict[str, Any],
    now: dt.datetime | None = None,
) -> str:
    """A new dossier in `bozza`; returns its id. `now`: the bot's moment (`--today`)."""
    now_text = iso(now) if now is not None else now_iso()
    with db.atomic():
        while True:
            dossier_id = new_dossier_id()
            if not db.table("dossiers").count_where("id = ?", [dossier_id]):
                break
        db.table("dossiers").insert(
            {
                "id": dossier_id,
                "user_id": user_id,
                "chat_id": chat_id,
                "notice_id": notice_id,
                "municipality": municipality,
                "language": language,
                "status": "bozza",
                "data": json.dumps(data, ensure_ascii=False),
                "created_at": now_text,
                "updated_at": now_text,
                "purge_warned": 0,
                "purged": 0,
                **index_columns(dossier_id, data),
            }
        )
    return dossier_id


def get_dossier(db: Database, dossier_id: str) -> dict[str, Any] | None:
    try:
        row = dict(db.table("dossiers").get(dossier_id))
    except NotFoundError:
        return None
    row["data"] = json.loads(row["data"] or "{}")
    return row


def dossiers_of(db: Database, user_id: int) -> list[dict[str, Any]]:
    rows = db.query("SELECT id FROM dossiers WHERE user_id = ? ORDER BY created_at DESC", [user_id])
    return [d for r in rows if (d := get_dossier(db, r["id"])) is not None]


# what has left us: the office that received it keeps it, whatever we erase
SENT = tuple(s for s in STATUSES if RANK["inviata"] <= RANK[s] < RANK["errore"])


def sent_by(db: Database, user_id: int) -> bool:
    """This family has an application already sent (it stays with the office)."""
    marks = ", ".join("?" for _ in SENT)
    row = db.execute(
        f"SELECT 1 FROM dossiers WHERE user_id = ? AND status IN ({marks}) LIMIT 1",
        [user_id, *SENT],
    ).fetchone()
    return row is not None


def last_sent(db: Database, user_id: int) -> str | None:
    """The id of this family's newest application that has left their hands (queued to
    the protocol inbox, saved for it, sent, or in trouble on the way), if any."""
    row = db.execute(
        "SELECT id FROM dossiers WHERE user_id = ? AND status != 'bozza' "
        "ORDER BY created_at DESC LIMIT 1",
        [user_id],
    ).fetchone()
    return row[0] if row is not None else None


def save_data(db: Database, dossier_id: str, data: dict[str, Any]) -> None:
    db.table("dossiers").update(
        dossier_id,
        {
            "data": json.dumps(data, ensure_ascii=False),
            "updated_at": now_iso(),
            **index_columns(dossier_id, data),
        },
    )


def set_status(
    db: Database,
    dossier_id: str,
    status: str,
    detail: dict[str, Any] | None = None,
    *,
    at: str | None = None,
    forward_only: bool = False,
) -> bool:
    """Move a dossier to `status` and record an event for the family.

    With `forward_only`, a status earlier than the current one is ignored (receipts can
    arrive out of order: a delivery before its acceptance). Returns True if it changed.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    now = now_iso()
    with db.atomic():
        row = db.execute("SELECT status FROM dossiers WHERE id = ?", [dossier_id]).fetchone()
        if row is None:
            raise KeyError(dossier_id)
        current = row[0]
        if current == status:
            return False
        if forward_only and current != "errore" and RANK[status] < RANK[current]:
            return False
        changes: dict[str, Any] = {"status": status, "updated_at": now}
        if status == "inviata":
            changes["sent_at"] = at or now
        if status == "consegnata":
            changes["delivered_at"] = at or now
        db.table("dossiers").update(dossier_id, changes)
        db.table("dossier_events").insert(
            {
                "dossier_id": dossier_id,
                "status": status,
                "detail": json.dumps(detail or {}, ensure_ascii=False),
                "at": at or now,
                "notified": 0,
            }
        )
    return True


def events_to_tell(db: Database, limit: int = 100) -> list[dict[str, Any]]:
    """Status changes not yet told to the family, oldest first, with the chat to tell."""
    rows = db.query(
        """SELECT e.id, e.dossier_id, e.status, e.detail, e.at, d.chat_id, d.user_id,
                  d.language, d.municipality, d.notice_id
           FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id
           WHERE e.notified = 0 ORDER BY e.id LIMIT ?""",
        [limit],
    )
    return [{**r, "detail": json.loads(r["detail"] or "{}")} for r in rows]


def mark_told(db: Database, event_id: int) -> None:
    db.table("dossier_events").update(event_id, {"notified": 1})


def history(db: Database, dossier_id: str) -> list[dict[str, Any]]:
    rows = db.query(
        "SELECT status, detail, at FROM dossier_events WHERE dossier_id = ? ORDER BY id",
        [dossier_id],
    )
    return [{**r, "detail": json.loads(r["detail"] or "{}")} for r in rows]


# -- attachments ---------------------------------------------------------------------


def add_attachment(
    db: Database,
    dossier_id: str,
    *,
    item_id: str,
    sha256: str,
    kind: str,
    mime: str,
    pages: int,
    size: int,
    signed: bool = False,
    file_unique_id: str | None = None,
    signers: list[dict[str, Any]] | None = None,
    form_page: int | None = None,
    ink: bool | None = None,
    now: dt.datetime | None = None,
) -> tuple[dict[str, Any], bool]:
    """File one upload under a checklist item. The same bytes twice in one dossier are
    kept once: returns (the attachment, True if it is new). `signers`: who issued the
    certificates of a signed file (`dossier.signatures.Signer.as_dict`); a page of the
    signed form comes with its page number and whether its box showed ink."""
    with db.atomic():
        existing = list(
            db.query(
                "SELECT * FROM attachments WHERE dossier_id = ? AND sha256 = ?",
                [dossier_id, sha256],
            )
        )
        if existing:
            return existing[0], False
        seq = db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM attachments WHERE dossier_id = ? AND item_id = ?",
            [dossier_id, item_id],
        ).fetchone()[0]
        table = db.table("attachments").insert(
            {
                "dossier_id": dossier_id,
                "item_id": item_id,
                "seq": seq,
                "sha256": sha256,
                "kind": kind,
                "mime": mime,
                "pages": pages,
                "size": size,
                "signed": int(signed),
                "signers": json.dumps(signers, ensure_ascii=False) if signers else None,
                "file_unique_id": file_unique_id,
                "created_at": iso(now) if now is not None else now_iso(),
                "form_page": form_page,
                "ink": None if ink is None else int(ink),
            }
        )
        return dict(db.table("attachments").get(last_id(table))), True


def attachment_by_unique_id(
    db: Database, dossier_id: str, file_unique_id: str
) -> dict[str, Any] | None:
    """An upload already filed: Telegram sends the same file again (a retried update)."""
    rows = list(
        db.query(
            "SELECT * FROM attachments WHERE dossier_id = ? AND file_unique_id = ?",
            [dossier_id, file_unique_id],
        )
    )
    return rows[0] if rows else None


def attachments(db: Database, dossier_id: str) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT * FROM attachments WHERE dossier_id = ? ORDER BY item_id, seq",
            [dossier_id],
        )
    )


def move_attachment(db: Database, attachment_id: int, item_id: str) -> None:
    """File an upload under another item (the family said which document it is)."""
    row = db.table("attachments").get(attachment_id)
    seq = db.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM attachments WHERE dossier_id = ? AND item_id = ?",
        [row["dossier_id"], item_id],
    ).fetchone()[0]
    db.table("attachments").update(attachment_id, {"item_id": item_id, "seq": seq})


def remove_attachments(db: Database, dossier_id: str, item_id: str) -> list[str]:
    """Take back every upload of one item; returns their SHA-256s (to delete the blobs
    no other attachment uses)."""
    with db.atomic():
        rows = list(
            db.query(
                "SELECT id, sha256 FROM attachments WHERE dossier_id = ? AND item_id = ?",
                [dossier_id, item_id],
            )
        )
        db.execute(
            "DELETE FROM attachments WHERE dossier_id = ? AND item_id = ?", [dossier_id, item_id]
        )
    return [r["sha256"] for r in rows]


def remove_attachment(db: Database, dossier_id: str, attachment_id: int) -> str | None:
    """Take back one upload of this dossier (a wrong file, a wrong page); its SHA-256
    (to delete the blob when no other attachment uses it), None when it is not here."""
    with db.atomic():
        rows = list(
            db.query(
                "SELECT sha256 FROM attachments WHERE id = ? AND dossier_id = ?",
                [attachment_id, dossier_id],
            )
        )
        if not rows:
            return None
        db.execute(
            "DELETE FROM attachments WHERE id = ? AND dossier_id = ?", [attachment_id, dossier_id]
        )
    return str(rows[0]["sha256"])


def blob_in_use(db: Database, sha256: str) -> bool:
    return bool(
        db.execute(
            "SELECT 1 FROM attachments WHERE sha256 = ? UNION SELECT 1 FROM outbox WHERE blob = ? "
            "UNION SELECT 1 FROM receipts WHERE blob = ? LIMIT 1",
            [sha256, sha256, sha256],
        ).fetchone()
    )


def add_event(
    db: Database,
    dossier_id: str,
    kind: str,
    detail: dict[str, Any] | None = None,
    *,
    at: str | None = None,
    tell: bool = True,
) -> None:
    """A message for the family that is not a status change (a retention warning), at
    `at` (the caller's clock; now by default). With `tell=False` it is only recorded (the
    back-office shows it), the family is not told."""
    db.table("dossier_events").insert(
        {
            "dossier_id": dossier_id,
            "status": kind,
            "detail": json.dumps(detail or {}, ensure_ascii=False),
            "at": at or now_iso(),
            "notified": 0 if tell else 1,
        }
    )


def delivered_and_kept(db: Database) -> list[dict[str, Any]]:
    """Delivered dossiers whose files are still kept (delivery times carry the PEC
    provider's offset, so the caller compares them as datetimes, not as text)."""
    return list(
        db.query(
            "SELECT id, delivered_at, purge_warned FROM dossiers "
            "WHERE delivered_at IS NOT NULL AND purged = 0"
        )
    )


def mark_purge_warned(db: Database, dossier_id: str) -> None:
    db.table("dossiers").update(dossier_id, {"purge_warned": 1})


def purge_files(db: Database, dossier_id: str) -> list[str]:
    """Forget a dossier's uploads and sent messages (receipts stay: they are the proof of
    delivery). Returns the blobs no longer used by anything."""
    with db.atomic():
        shas = [
            r["sha256"]
            for r in db.query("SELECT sha256 FROM attachments WHERE dossier_id = ?", [dossier_id])
        ]
        shas += [
            r["blob"]
            for r in db.query("SELECT blob FROM outbox WHERE dossier_id = ?", [dossier_id])
            if r["blob"]
        ]
        db.execute("DELETE FROM attachments WHERE dossier_id = ?", [dossier_id])
        db.execute("UPDATE outbox SET blob = NULL WHERE dossier_id = ?", [dossier_id])
        db.table("dossiers").update(dossier_id, {"purged": 1, "updated_at": now_iso()})
    return [s for s in shas if not blob_in_use(db, s)]


def forget_user(db: Database, user_id: int) -> list[str]:
    """Delete every dossier of a user (the family asked to delete their data), with its
    files, messages and receipts. Returns the blobs no longer used by anything."""
    with db.atomic():
        ids = [r["id"] for r in db.query("SELECT id FROM dossiers WHERE user_id = ?", [user_id])]
        shas: list[str] = []
        for dossier_id in ids:
            for table, column in (
                ("attachments", "sha256"),
                ("outbox", "blob"),
                ("receipts", "blob"),
            ):
                shas += [
                    r[column]
                    for r in db.query(
                        f"SELECT {column} FROM {table} WHERE dossier_id = ?", [dossier_id]
                    )
                    if r[column]
                ]
            for table in ("attachments", "outbox", "receipts", "dossier_events"):
                db.execute(f"DELETE FROM {table} WHERE dossier_id = ?", [dossier_id])
            db.execute("DELETE FROM dossiers WHERE id = ?", [dossier_id])
    return [s for s in set(shas) if not blob_in_use(db, s)]


def record_protocol(db: Database, dossier_id: str, number: str, date: str) -> None:
    """The comune's protocol number and date (ISO) for a dossier, written by staff."""
    db.table("dossiers").update(
        dossier_id, {"protocol_number": number, "protocol_date": date, "updated_at": now_iso()}
    )


def dossiers_for_comuni(db: Database, comuni: list[str]) -> list[dict[str, Any]]:
    """Every dossier past the draft stage in these comuni, newest first (for staff)."""
    if not comuni:
        return []
    marks = ", ".join("?" for _ in comuni)
    rows = db.query(
        f"SELECT id FROM dossiers WHERE municipality IN ({marks}) AND status != 'bozza' "
        "ORDER BY created_at DESC",
        list(comuni),
    )
    return [d for r in rows if (d := get_dossier(db, r["id"])) is not None]


def retire_before(db: Database, dossier_id: str, item_id: str, before_id: int) -> int:
    """File an item's uploads older than upload `before_id` under `<item>:sostituito`
    (replaced by a newer copy, kept as they were). Returns how many were set aside."""
    cursor = db.execute(
        "UPDATE attachments SET item_id = item_id || ':sostituito' "
        "WHERE dossier_id = ? AND item_id = ? AND id < ?",
        [dossier_id, item_id, before_id],
    )
    db.conn.commit()
    return cursor.rowcount


def attachment(db: Database, dossier_id: str, attachment_id: int) -> dict[str, Any] | None:
    """One attachment of this dossier (None when the id is of another dossier)."""
    rows = list(
        db.query(
            "SELECT * FROM attachments WHERE id = ? AND dossier_id = ?", [attachment_id, dossier_id]
        )
    )
    return rows[0] if rows else None
