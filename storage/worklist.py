"""The staff's list of dossiers: what needs doing, filters, search, sorting and paging,
all in SQL (the page reads one page of rows, never every dossier).

"Da fare" (to do) is every dossier that has reached the comune and has no outcome yet,
every one in error (someone must act), and every integration request past its deadline.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from .dossiers import STATUSES, fold_key

ARRIVED = ("inviata", "accettata", "consegnata", "integrazione_richiesta", "integrata")
SORTS = {
    "arrivo": "COALESCE(d.sent_at, d.created_at)",
    "nome": "d.sort_name",
    "comune": "d.municipality",
    "stato": "CASE d.status "
    + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STATUSES))
    + " END",
    "protocollo": "COALESCE(d.protocol_number, '')",
    "pratica": "d.id",
}


def _overdue(today: str) -> tuple[str, list[Any]]:
    return (
        "EXISTS (SELECT 1 FROM integration_requests r WHERE r.dossier_id = d.id "
        "AND r.status != 'answered' AND r.due_on IS NOT NULL AND r.due_on < ?)",
        [today],
    )


def todo_condition(today: dt.date) -> tuple[str, list[Any]]:
    """SQL (on alias `d`) for the dossiers that need the social worker, with its values."""
    overdue, values = _overdue(today.isoformat())
    return (
        "((d.outcome IS NULL AND d.status IN ('inviata', 'accettata', 'consegnata', "
        f"'integrata')) OR d.status = 'errore' OR (d.status = 'integrazione_richiesta' AND {overdue}))",
        values,
    )


@dataclass
class Query:
    """What the list shows: `comuni` (those the staff member sees; required), and the
    filters chosen on the page."""

    comuni: tuple[str, ...]
    today: dt.date
    todo: bool = False
    status: str = ""
    notice: str = ""
    municipality: str = ""
    text: str = ""  # surname, codice fiscale or dossier code
    assigned_to: int | None = None
    sort: str = "arrivo"
    descending: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def where(self, *, with_status: bool = True) -> tuple[str, list[Any]]:
        marks = ", ".join("?" for _ in self.comuni) or "NULL"
        clauses = [f"d.municipality IN ({marks})", "d.status != 'bozza'"]
        values: list[Any] = list(self.comuni)
        if self.todo:
            sql, more = todo_condition(self.today)
            clauses.append(sql)
            values += more
        if with_status and self.status:
            clauses.append("d.status = ?")
            values.append(self.status)
        if self.notice:
            clauses.append("d.notice_id = ?")
            values.append(self.notice)
        if self.municipality:
            clauses.append("d.municipality = ?")
            values.append(self.municipality)
        wanted = fold_key(self.text)
        if wanted:
            clauses.append("d.search_key LIKE ? ESCAPE '\\'")
            values.append(f"%{wanted}%")
        if self.assigned_to is not None:
            clauses.append("d.assigned_to = ?")
            values.append(self.assigned_to)
        return " AND ".join(clauses), values


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "data": json.loads(row["data"] or "{}")}


def page(db: Database, query: Query, number: int, size: int) -> tuple[list[dict[str, Any]], int]:
    """One page of dossiers (`data` decoded) and how many match in all."""
    where, values = query.where()
    total = db.execute(f"SELECT COUNT(*) FROM dossiers d WHERE {where}", values).fetchone()[0]
    order = SORTS.get(query.sort, SORTS["arrivo"])
    direction = "DESC" if query.descending else "ASC"
    rows = db.query(
        f"SELECT d.* FROM dossiers d WHERE {where} ORDER BY {order} {direction}, d.id "
        "LIMIT ? OFFSET ?",
        [*values, size, max(0, number - 1) * size],
    )
    return [_decode(r) for r in rows], int(total)


def ids(db: Database, query: Query, limit: int = 1000) -> list[str]:
    """The codes of the dossiers the query lists, in its order (the first `limit`)."""
    where, values = query.where()
    order = SORTS.get(query.sort, SORTS["arrivo"])
    direction = "DESC" if query.descending else "ASC"
    rows = db.execute(
        f"SELECT d.id FROM dossiers d WHERE {where} ORDER BY {order} {direction}, d.id LIMIT ?",
        [*values, limit],
    ).fetchall()
    return [r[0] for r in rows]


def status_counts(db: Database, query: Query) -> dict[str, int]:
    """How many dossiers of each status match the other filters (for the clickable counts)."""
    where, values = query.where(with_status=False)
    rows = db.execute(
        f"SELECT d.status, COUNT(*) FROM dossiers d WHERE {where} GROUP BY d.status", values
    ).fetchall()
    return {status: int(n) for status, n in rows}


def todo_count(db: Database, comuni: tuple[str, ...], today: dt.date) -> int:
    where, values = Query(comuni=comuni, today=today, todo=True).where()
    return int(db.execute(f"SELECT COUNT(*) FROM dossiers d WHERE {where}", values).fetchone()[0])


def notices_of(db: Database, comuni: tuple[str, ...]) -> list[str]:
    """The notices with dossiers past the draft stage in these comuni."""
    marks = ", ".join("?" for _ in comuni) or "NULL"
    rows = db.execute(
        f"SELECT DISTINCT notice_id FROM dossiers WHERE municipality IN ({marks}) "
        "AND status != 'bozza' ORDER BY notice_id",
        list(comuni),
    ).fetchall()
    return [r[0] for r in rows]


def attachments_of(db: Database, dossier_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The attachments of several dossiers at once, by dossier."""
    out: dict[str, list[dict[str, Any]]] = {i: [] for i in dossier_ids}
    if not dossier_ids:
        return out
    marks = ", ".join("?" for _ in dossier_ids)
    for row in db.query(
        f"SELECT * FROM attachments WHERE dossier_id IN ({marks}) ORDER BY item_id, seq",
        dossier_ids,
    ):
        out[row["dossier_id"]].append(row)
    return out


def overdue_requests(db: Database, dossier_ids: list[str], today: dt.date) -> set[str]:
    """Which of these dossiers have an open integration request past its deadline."""
    if not dossier_ids:
        return set()
    marks = ", ".join("?" for _ in dossier_ids)
    rows = db.execute(
        f"SELECT DISTINCT dossier_id FROM integration_requests WHERE dossier_id IN ({marks}) "
        "AND status != 'answered' AND due_on IS NOT NULL AND due_on < ?",
        [*dossier_ids, today.isoformat()],
    ).fetchall()
    return {r[0] for r in rows}


def with_protocol_number(
    db: Database, number: str, *, other_than: str, comuni: tuple[str, ...]
) -> list[str]:
    """Dossiers of these comuni, other than `other_than`, that already carry this
    protocol number (another comune's dossiers are not for these staff to know of)."""
    marks = ", ".join("?" for _ in comuni) or "NULL"
    rows = db.execute(
        "SELECT id FROM dossiers WHERE protocol_number = ? AND id != ? "
        f"AND municipality IN ({marks}) ORDER BY id",
        [number, other_than, *comuni],
    ).fetchall()
    return [r[0] for r in rows]


def assign(db: Database, dossier_id: str, staff_id: int | None) -> None:
    db.table("dossiers").update(dossier_id, {"assigned_to": staff_id})


def of_notice(db: Database, notice_id: str, comuni: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """Every dossier of a notice that reached the comune (`comuni` None: all of them),
    oldest first, `data` decoded."""
    clauses = ["notice_id = ?", f"status IN ({', '.join('?' for _ in ARRIVED)})"]
    values: list[Any] = [notice_id, *ARRIVED]
    if comuni is not None:
        clauses.append(f"municipality IN ({', '.join('?' for _ in comuni) or 'NULL'})")
        values += list(comuni)
    rows = db.query(
        f"SELECT * FROM dossiers WHERE {' AND '.join(clauses)} "
        "ORDER BY COALESCE(sent_at, created_at), id",
        values,
    )
    return [_decode(r) for r in rows]
