"""The list of dossiers as a work queue: "Da fare" first, with counts per status, search
by surname, codice fiscale or dossier code, filters, sorting and paging (all in SQL, in
`storage.worklist`), each row with its documents, pre-check, protocol, arrival and next
step, and a protocol form inline where one is missing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from dossier.record import record_of
from storage import audit, worklist
from storage import staff as accounts
from storage.staff import Session

from . import formatting
from .deps import Services, today
from .filters import SORT_LABELS, list_url, query_of
from .labels import PAGE_SIZE, REACHED, STATUS_LABELS, VERDICT_LABELS
from .pages import render
from .views import documents_count, row


def _precheck(dossier: dict[str, Any]) -> str:
    verdicts = {m.verdict for m in record_of(dossier).measures}
    if "eligible" in verdicts:
        return VERDICT_LABELS["eligible"]
    if "conditional" in verdicts:
        return "Con condizioni da verificare"
    return "–"


def _next_step(d: dict[str, Any], overdue: bool, ranked: bool, assessed: bool) -> str:
    status = d["status"]
    if status == "errore":
        return "Errore di invio: vedete la causa"
    if status == "integrazione_richiesta":
        return "Termine dell'integrazione scaduto" if overdue else "In attesa della famiglia"
    if status == "integrata":
        return "Guardare i documenti nuovi"
    if status not in REACHED:
        return "Non ancora arrivata al Comune"
    if d.get("outcome"):
        return "Esito comunicato"
    if not d.get("protocol_number"):
        return "Registrare il protocollo"
    if ranked and not assessed:
        return "Inserire le scale della visita"
    return "Decidere l'esito"


def list_page(
    request: Request,
    svc: Services,
    session: Session,
    query: Mapping[str, str],
    *,
    row_forms: dict[str, dict[str, Any]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from storage import outcomes

    staff = session.staff
    comuni = tuple(staff.comuni)
    day = today(svc)
    notice_ids = worklist.notices_of(svc.db, comuni)
    titles = {n.id: n.title for n in svc.catalogue.notices}
    ranked_notices = {n.id for n in svc.catalogue.notices if n.ranking is not None}
    filters, q = query_of(svc, session, query, notice_ids)
    searching = bool(filters["cerca"])
    sort = q.sort
    try:
        number = max(1, int(query.get("pagina") or 1))
    except ValueError:
        number = 1
    found, total = worklist.page(svc.db, q, number, PAGE_SIZE)
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    if number > pages:
        number = pages
        found, total = worklist.page(svc.db, q, number, PAGE_SIZE)
    ids = [d["id"] for d in found]
    files = worklist.attachments_of(svc.db, ids)
    overdue = worklist.overdue_requests(svc.db, ids, day)
    scores = outcomes.assessments(svc.db, ids)
    emails = {s.id: s.email for s in accounts.list_staff(svc.db)}
    here = list_url(filters, pagina=number)
    rows = []
    for d in found:
        r = row(d)
        done, of = documents_count(d, files[d["id"]])
        r.update(
            {
                "documents": f"{done}/{of}",
                "documents_complete": done == of,
                "precheck": _precheck(d),
                "arrival": d.get("sent_at"),
                "next": _next_step(
                    d, d["id"] in overdue, d["notice_id"] in ranked_notices, d["id"] in scores
                ),
                "assigned": emails.get(d.get("assigned_to") or 0, ""),
                "can_protocol": d["status"] in REACHED and not d.get("protocol_number"),
                "form": (row_forms or {}).get(d["id"]),
                "link": f"/pratiche/{d['id']}?" + urlencode({"da": here}),
            }
        )
        rows.append(r)
    counts = worklist.status_counts(svc.db, q)
    shown_notices = {d["notice_id"] for d in found}
    audit.log(
        svc.db,
        staff,
        "view_list",
        detail={
            # that they searched, never what: a surname or a codice fiscale would outlive
            # the family's erasure in the audit log
            "filters": {k: (True if k == "cerca" else v) for k, v in filters.items() if v},
            "page": number,
            "results": total,
        },
        at=svc.clock(),
    )
    done_id = query.get("pratica") if query.get("fatto") == "protocollo" else None
    return render(
        request,
        "pratiche.html",
        {
            "rows": rows,
            "total": total,
            "page": number,
            "pages": pages,
            "prev_url": list_url(filters, pagina=number - 1) if number > 1 else None,
            "next_url": list_url(filters, pagina=number + 1) if number < pages else None,
            "filters": filters,
            "searching": searching,
            "filtered": any(filters[k] for k in ("stato", "avviso", "comune", "cerca", "mie")),
            "todo_count": worklist.todo_count(svc.db, comuni, day),
            "counts": [
                (s, STATUS_LABELS[s], counts[s], list_url(filters, stato=s))
                for s in STATUS_LABELS
                if counts.get(s)
            ],
            "view_urls": {
                "da-fare": list_url(filters, vista="da-fare", stato=""),
                "tutte": list_url(filters, vista="tutte", stato=""),
            },
            "sorts": [
                (
                    key,
                    label,
                    list_url(
                        filters, ordina=key, verso="" if sort != key or filters["verso"] else "desc"
                    ),
                )
                for key, label in SORT_LABELS.items()
            ],
            "sort": sort,
            "notices": sorted(((n, titles.get(n, n)) for n in notice_ids), key=lambda kv: kv[1]),
            "notice_heading": titles.get(next(iter(shown_notices)), "")
            if len(shown_notices) == 1
            else "",
            "comuni": sorted(comuni),
            "here": here,
            "today": formatting.day(day),
            "done_id": done_id,
            "done_number": query.get("numero", ""),
            "nav": "pratiche",
        },
        session=session,
        status_code=status_code,
    )
