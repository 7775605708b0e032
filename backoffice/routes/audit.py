"""The audit log: who looked at, downloaded or changed what, filtered by staff member,
dossier and dates, a page at a time, and exported as CSV."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dossier import checklist
from storage import audit
from storage import dossiers as store

from .. import formatting
from ..deps import CurrentSession, ServicesDep, today
from ..exports import CSV_TYPE, csv_bytes
from ..labels import FILE_HEADERS, OUTCOME_NAMES, REASONS
from ..pages import render
from ..protocol import read_day
from .common import record

router = APIRouter()
PAGE = 100
EXPORT_MAX = 50_000


def _filters(
    request: Request, svc: Any, session: Any
) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """(what was typed, the query for storage, errors by field)."""
    q = request.query_params
    staff = session.staff
    typed = {
        "pratica": (q.get("pratica") or "").strip()[:40],
        "chi": (q.get("chi") or "").strip()[:320],
        "dal": (q.get("dal") or "").strip()[:20],
        "al": (q.get("al") or "").strip()[:20],
    }
    errors: dict[str, str] = {}
    bounds: dict[str, str | None] = {"since": None, "until": None}
    for key, bound, extra in (("dal", "since", 0), ("al", "until", 1)):
        if not typed[key]:
            continue
        day, problem = read_day(typed[key], today(svc))
        if day is None:
            errors[key] = problem or "Data non valida."
            continue
        start = dt.datetime.combine(day + dt.timedelta(days=extra), dt.time(), formatting.ROME)
        bounds[bound] = start.astimezone(dt.UTC).isoformat(timespec="seconds")
    query: dict[str, Any] = {
        "dossier_id": typed["pratica"].upper() or None,
        "by_staff": typed["chi"].lower() or None,
        "comuni": None if staff.is_admin else staff.comuni,
        "staff_id": staff.id,
        **bounds,
    }
    return typed, query, errors


@router.get("/registro", name="registro")
async def audit_page(request: Request, svc: ServicesDep, session: CurrentSession) -> Response:
    staff = session.staff
    typed, query, errors = _filters(request, svc, session)
    try:
        number = max(1, int(request.query_params.get("pagina") or 1))
    except ValueError:
        number = 1
    total = audit.count(svc.db, **query)
    pages = max(1, (total + PAGE - 1) // PAGE)
    number = min(number, pages)
    rows = audit.entries(svc.db, limit=PAGE, offset=(number - 1) * PAGE, **query)
    entries = [
        {
            **r,
            "action_label": audit.ACTIONS.get(r["action"], r["action"]),
            "link": bool(r["dossier_id"]) and staff.sees(r["municipality"]),
            "detail_text": detail_text(r["action"], r["detail"]),
        }
        for r in rows
    ]
    kept = {k: v for k, v in typed.items() if v}
    about = _own(svc, staff, query["dossier_id"])
    record(svc, staff, "view_audit", about, {"entries": len(entries), "page": number})

    def page_url(n: int) -> str:
        return "/registro?" + urlencode({**kept, "pagina": n})

    return render(
        request,
        "registro.html",
        {
            "entries": entries,
            "typed": typed,
            "errors": errors,
            "filtered": bool(kept),
            "total": total,
            "page": number,
            "pages": pages,
            "prev_url": page_url(number - 1) if number > 1 else None,
            "next_url": page_url(number + 1) if number < pages else None,
            "export_url": "/registro.csv" + ("?" + urlencode(kept) if kept else ""),
            "emails": audit.staff_emails(svc.db),
            "nav": "registro",
        },
        session=session,
    )


@router.get("/registro.csv")
async def audit_csv(request: Request, svc: ServicesDep, session: CurrentSession) -> Response:
    _typed, query, _errors = _filters(request, svc, session)
    rows = audit.entries(svc.db, limit=EXPORT_MAX, **query)
    body = csv_bytes(
        ["Quando", "Chi", "Azione", "Pratica", "Dettagli"],
        (
            [
                formatting.moment(r["at"]),
                r["staff_email"] or "",
                audit.ACTIONS.get(r["action"], r["action"]),
                r["dossier_id"] or "",
                detail_text(r["action"], r["detail"]),
            ]
            for r in rows
        ),
    )
    about = _own(svc, session.staff, query["dossier_id"])
    record(svc, session.staff, "export_audit", about, {"entries": len(rows)})
    stamp = svc.clock().strftime("%Y%m%d-%H%M")
    return Response(
        body,
        media_type=CSV_TYPE,
        headers={
            **FILE_HEADERS,
            "Content-Disposition": f'attachment; filename="registro-{stamp}.csv"',
        },
    )


def _own(svc: Any, staff: Any, dossier_id: str | None) -> str | None:
    """The dossier the line of the audit log is about: only one of the staff member's
    comuni. Looking up another comune's id (or one that does not exist) writes nothing
    into that dossier's trail."""
    if not dossier_id:
        return None
    dossier = store.get_dossier(svc.db, dossier_id)
    return dossier_id if dossier is not None and staff.sees(dossier["municipality"]) else None


def detail_text(action: str, detail: dict[str, Any]) -> str:
    parts = []
    if "attachment" in detail:
        parts.append(f"file n. {detail['attachment']}")
    if detail.get("item"):
        parts.append(str(checklist.SHORT.get(detail["item"], detail["item"])))
    if "number" in detail:
        parts.append(f"protocollo {detail['number']} del {formatting.day(detail.get('date'))}")
    if detail.get("previous", {}).get("number"):
        parts.append(f"prima: {detail['previous']['number']}")
    if detail.get("same_number_as"):
        parts.append("stesso numero di " + ", ".join(detail["same_number_as"]))
    if "request" in detail:
        parts.append(f"richiesta n. {detail['request']}")
    if detail.get("items"):
        parts.append(
            ", ".join(
                f"{checklist.SHORT.get(i.partition(':')[0], i.partition(':')[0])} "
                f"({REASONS.get(i.partition(':')[2], 'manca')})"
                for i in detail["items"]
            )
        )
    if "files" in detail:
        parts.append(f"{detail['files']} file, {detail.get('receipts', 0)} ricevute")
    if detail.get("dossiers"):
        parts.append(f"{len(detail['dossiers'])} pratiche: " + ", ".join(detail["dossiers"]))
    if action in ("login_failed", "login_locked") and int(detail.get("count") or 1) > 1:
        last = formatting.moment(detail["last"])[-5:] if detail.get("last") else "?"
        parts.append(f"{detail['count']} tentativi, l'ultimo alle {last}")
    if action == "view_list" and (detail.get("filters") or {}).get("cerca"):
        parts.append("con una ricerca")  # what was searched is not kept
    if "results" in detail:
        parts.append(f"{detail['results']} pratiche")
    if action == "record_outcome":
        parts.append(OUTCOME_NAMES.get(detail.get("outcome", ""), ""))
        if detail.get("position"):
            parts.append(f"posizione {detail['position']}")
        if detail.get("reason"):
            parts.append(f"motivo: {detail['reason']}")
    if action == "record_assessment":
        parts += [
            f"{k.upper()} {formatting.number(detail[k])}"
            for k in ("adl", "iadl", "cbi")
            if k in detail
        ]
    if action == "team_note":
        parts.append(str(detail.get("text", "")))
    if action == "assign":
        parts.append(f"a {detail['to']}" if detail.get("to") else "nessuno")
    if detail.get("notice"):
        parts.append(f"avviso {detail['notice']}")
    if detail.get("version"):
        parts.append(f"versione {detail['version']}")
    if detail.get("from"):
        parts.append(f"da {detail['from']}")
    if detail.get("file"):
        parts.append(f"file {detail['file']}" + (" con i casi" if detail.get("cases") else ""))
    if detail.get("via") == "cli":
        parts.append("dalla riga di comando (sportello notice)")
    if detail.get("format"):
        parts.append(str(detail["format"]).upper())
    if detail.get("path"):
        parts.append(str(detail["path"]))
    return "; ".join(p for p in parts if p)
