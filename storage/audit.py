"""The audit log of the back-office: who looked at, downloaded or changed what, and when.

One row per view, download and change (logins too; failed ones with the e-mail typed,
one row an hour per e-mail with the number of attempts).
This is where personal data about access belongs; application logs carry none of it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlite_utils import Database

from common.clock import utcnow

from .rows import last_id
from .staff import Staff

ACTIONS = {
    "login": "Accesso",
    "login_failed": "Accesso non riuscito",
    "login_locked": "Accesso bloccato (troppi tentativi)",
    "logout": "Uscita",
    "view_list": "Elenco pratiche",
    "view_dossier": "Apertura pratica",
    "view_preview": "Anteprima di un file",
    "download_file": "Scaricamento di un file",
    "download_zip": "Scaricamento della pratica (ZIP)",
    "record_protocol": "Registrazione del protocollo",
    "request_integration": "Richiesta di integrazione",
    "access_denied": "Accesso negato a una pratica",
    "view_audit": "Consultazione del registro",
    "export_audit": "Esportazione del registro",
    "record_assessment": "Scale della visita domiciliare",
    "record_outcome": "Esito della domanda",
    "team_note": "Nota interna",
    "assign": "Assegnazione",
    "add_to_integration": "Documenti aggiunti alla richiesta",
    "download_archive": "Scaricamento di più pratiche (ZIP)",
    "export_ranking": "Esportazione della graduatoria",
    "view_ranking": "Graduatoria",
    "check_notice": "Prova di un file di avviso",
    "derive_notice": "Nuovo avviso da uno esistente",
    "download_notice": "Scaricamento di un file di avviso",
    "publish_notice": "Pubblicazione di un avviso",
    "unpublish_notice": "Ritiro di un avviso",
}


def log(
    db: Database,
    staff: Staff | str | None,
    action: str,
    dossier_id: str | None = None,
    detail: dict[str, Any] | None = None,
    *,
    at: dt.datetime | None = None,
) -> int:
    """Record one action. `staff` is the staff member, or the e-mail typed at a failed
    login (no account behind it, maybe)."""
    when = (at or utcnow()).astimezone(dt.UTC)
    email: str | None
    if isinstance(staff, Staff):
        staff_id, email = staff.id, staff.email
    else:
        staff_id, email = None, staff
    row = db.table("audit_log").insert(
        {
            "at": when.isoformat(timespec="seconds"),
            "staff_id": staff_id,
            "staff_email": email,
            "action": action,
            "dossier_id": dossier_id,
            "detail": json.dumps(detail or {}, ensure_ascii=False),
        }
    )
    return last_id(row)


STRANGER_ROWS_PER_HOUR = 120
_STRANGER_ACTIONS = ("login_failed", "login_locked")
STRANGER_WINDOW = dt.timedelta(hours=1)


def log_stranger(db: Database, email: str, action: str, *, at: dt.datetime) -> int | None:
    """A failed or refused login (nobody logged in), aggregated: one row per e-mail typed
    and action an hour, counting the attempts (`detail`: count, first and last time), so
    a stranger trying passwords in a loop adds one row, not one per try. At most
    STRANGER_ROWS_PER_HOUR such rows an hour (strangers typing ever new e-mails); the
    attempts themselves are in `login_attempts`, pruned after two days. Returns the row,
    None when not recorded."""
    when = at.astimezone(dt.UTC).isoformat(timespec="seconds")
    since = (at - STRANGER_WINDOW).astimezone(dt.UTC).isoformat(timespec="seconds")
    with db.atomic():
        same = db.execute(
            "SELECT id, detail FROM audit_log WHERE at > ? AND action = ? AND staff_id IS NULL "
            "AND staff_email IS ? ORDER BY id DESC LIMIT 1",
            [since, action, email],
        ).fetchone()
        if same is not None:
            try:
                detail = json.loads(same[1] or "{}")
            except ValueError:
                detail = {}
            detail["count"] = int(detail.get("count") or 1) + 1
            detail["last"] = when
            db.execute(
                "UPDATE audit_log SET detail = ? WHERE id = ?",
                [json.dumps(detail, ensure_ascii=False), same[0]],
            )
            return int(same[0])
        recent = db.execute(
            f"SELECT COUNT(*) FROM audit_log WHERE at > ? AND action IN "
            f"({', '.join('?' for _ in _STRANGER_ACTIONS)}) AND staff_id IS NULL",
            [since, *_STRANGER_ACTIONS],
        ).fetchone()[0]
        if recent >= STRANGER_ROWS_PER_HOUR:
            return None
        return log(db, email, action, detail={"count": 1, "last": when}, at=at)


def _filters(
    *,
    dossier_id: str | None,
    comuni: list[str] | tuple[str, ...] | None,
    staff_id: int | None,
    by_staff: str | None,
    actions: tuple[str, ...] | None,
    since: str | None,
    until: str | None,
) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if dossier_id is not None:
        where.append("a.dossier_id = ?")
        params.append(dossier_id)
    if comuni is not None:
        marks = ", ".join("?" for _ in comuni) or "NULL"
        where.append(f"(d.municipality IN ({marks}) OR (a.dossier_id IS NULL AND a.staff_id = ?))")
        params += [*comuni, staff_id]
    if by_staff:
        where.append("a.staff_email = ?")
        params.append(by_staff)
    if actions:
        where.append(f"a.action IN ({', '.join('?' for _ in actions)})")
        params += list(actions)
    if since:
        where.append("a.at >= ?")
        params.append(since)
    if until:
        where.append("a.at < ?")
        params.append(until)
    return (" WHERE " + " AND ".join(where) if where else ""), params


def entries(
    db: Database,
    *,
    dossier_id: str | None = None,
    limit: int = 200,
    offset: int = 0,
    comuni: list[str] | tuple[str, ...] | None = None,
    staff_id: int | None = None,
    by_staff: str | None = None,
    actions: tuple[str, ...] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    """The newest entries first, `detail` decoded, each with the dossier's comune.

    With `comuni`, only entries about dossiers of those comuni, plus the entries of
    `staff_id` about no dossier (their own logins and list views). `by_staff` (an
    e-mail), `actions`, `since` and `until` (ISO moments, UTC) narrow it further.
    """
    where, params = _filters(
        dossier_id=dossier_id,
        comuni=comuni,
        staff_id=staff_id,
        by_staff=by_staff,
        actions=actions,
        since=since,
        until=until,
    )
    sql = (
        "SELECT a.*, d.municipality FROM audit_log a LEFT JOIN dossiers d ON d.id = a.dossier_id"
        + where
        + " ORDER BY a.id DESC LIMIT ? OFFSET ?"
    )
    params += [limit, offset]
    return [{**r, "detail": json.loads(r["detail"] or "{}")} for r in db.query(sql, params)]


def count(
    db: Database,
    *,
    dossier_id: str | None = None,
    comuni: list[str] | tuple[str, ...] | None = None,
    staff_id: int | None = None,
    by_staff: str | None = None,
    actions: tuple[str, ...] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> int:
    """How many entries `entries` would list without a limit."""
    where, params = _filters(
        dossier_id=dossier_id,
        comuni=comuni,
        staff_id=staff_id,
        by_staff=by_staff,
        actions=actions,
        since=since,
        until=until,
    )
    sql = "SELECT COUNT(*) FROM audit_log a LEFT JOIN dossiers d ON d.id = a.dossier_id" + where
    return int(db.execute(sql, params).fetchone()[0])


def staff_emails(db: Database) -> list[str]:
    """Everyone who appears in the log (for the filter by staff member)."""
    rows = db.execute(
        "SELECT DISTINCT staff_email FROM audit_log WHERE staff_id IS NOT NULL ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows if r[0]]


def notes(db: Database, dossier_id: str) -> list[dict[str, Any]]:
    """The team's internal notes on a dossier, oldest first (never shown to the family)."""
    rows = db.query(
        "SELECT at, staff_email, detail FROM audit_log WHERE dossier_id = ? "
        "AND action = 'team_note' ORDER BY id",
        [dossier_id],
    )
    return [{**r, "detail": json.loads(r["detail"] or "{}")} for r in rows]
