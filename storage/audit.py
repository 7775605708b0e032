"""The audit log of the back-office: who looked at, downloaded or changed what, and when.

One row per view, download and change (logins too, failed ones with the e-mail typed).
This is where personal data about access belongs; application logs carry none of it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlite_utils import Database

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
    when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    if isinstance(staff, Staff):
        staff_id, email = staff.id, staff.email
    else:
        staff_id, email = None, staff
    row = db["audit_log"].insert(
        {
            "at": when.isoformat(timespec="seconds"),
            "staff_id": staff_id,
            "staff_email": email,
            "action": action,
            "dossier_id": dossier_id,
            "detail": json.dumps(detail or {}, ensure_ascii=False),
        }
    )
    return int(row.last_pk)


def entries(
    db: Database,
    *,
    dossier_id: str | None = None,
    limit: int = 200,
    comuni: list[str] | tuple[str, ...] | None = None,
    staff_id: int | None = None,
) -> list[dict[str, Any]]:
    """The newest entries first, `detail` decoded, each with the dossier's comune.

    With `comuni`, only entries about dossiers of those comuni, plus the entries of
    `staff_id` about no dossier (their own logins and list views).
    """
    where: list[str] = []
    params: list[Any] = []
    if dossier_id is not None:
        where.append("a.dossier_id = ?")
        params.append(dossier_id)
    if comuni is not None:
        marks = ", ".join("?" for _ in comuni) or "NULL"
        where.append(f"(d.municipality IN ({marks}) OR (a.dossier_id IS NULL AND a.staff_id = ?))")
        params += [*comuni, staff_id]
    sql = (
        "SELECT a.*, d.municipality FROM audit_log a LEFT JOIN dossiers d ON d.id = a.dossier_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY a.id DESC LIMIT ?"
    )
    params.append(limit)
    return [{**r, "detail": json.loads(r["detail"] or "{}")} for r in db.query(sql, params)]
