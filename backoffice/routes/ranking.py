"""The graduatoria of each notice: the page, the scales of several home visits typed on
it at once, and the same table as CSV, XLSX and ODS."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from storage import outcomes, worklist

from ..deps import CheckedForm, CurrentSession, ServicesDep
from ..exports import CSV_TYPE, ODS_TYPE, XLSX_TYPE, csv_bytes, ods_bytes, xlsx_bytes
from ..labels import FILE_HEADERS, REACHED
from ..pages import redirect, render
from ..ranking import kinds_of, notice, sheet, table, visible_comuni
from ..scales import SCALES, check_scales, stored
from .common import field, record

router = APIRouter()
FORMATS = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE, "ods": ODS_TYPE}


@router.get("/avvisi")
async def notices(request: Request, svc: ServicesDep, session: CurrentSession) -> Response:
    staff = session.staff
    mine = set(worklist.notices_of(svc.db, staff.comuni))
    shown = [
        {
            "id": n.id,
            "title": n.title,
            "ambito": n.ambito,
            "ranked": n.ranking is not None,
            "count": len(worklist.of_notice(svc.db, n.id, visible_comuni(staff))),
        }
        for n in svc.catalogue.notices
        if staff.is_admin or n.id in mine
    ]
    return render(request, "avvisi.html", {"notices": shown, "nav": "avvisi"}, session=session)


def _page(
    request: Request,
    svc: Any,
    session: Any,
    found: Any,
    *,
    typed: dict[str, dict[str, str]] | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    t = table(svc, found, session.staff) if found.ranking is not None else None
    if t is not None and not errors:
        record(svc, session.staff, "view_ranking", None, {"notice": found.id, "rows": len(t.rows)})
    done = request.query_params.get("fatto") == "scale"
    here = f"/avvisi/{found.id}/graduatoria"
    return render(
        request,
        "graduatoria.html",
        {
            "notice": found,
            "table": t,
            "typed": typed or {},
            "errors": errors or {},
            "done": done,
            "done_count": request.query_params.get("n", ""),
            "from_here": here,
            "nav": "avvisi",
        },
        session=session,
        status_code=status_code,
    )


@router.get("/avvisi/{notice_id}/graduatoria")
async def ranking_page(
    request: Request, notice_id: str, svc: ServicesDep, session: CurrentSession
) -> Response:
    found = notice(svc, notice_id)
    if found is None:
        raise HTTPException(404)
    return _page(request, svc, session, found)


@router.post("/avvisi/{notice_id}/graduatoria/scale")
async def record_scales(
    request: Request,
    notice_id: str,
    svc: ServicesDep,
    session: CurrentSession,
    form: CheckedForm,
) -> Response:
    """The scales of every row of the graduatoria she may change, checked against the
    notice's scale; nothing is kept unless every row is right (what was typed comes back
    with the errors at their fields). Only the rows that changed are recorded."""
    found = notice(svc, notice_id)
    if found is None or found.ranking is None:
        raise HTTPException(404)
    t = table(svc, found, session.staff)
    typed: dict[str, dict[str, str]] = {}
    errors: dict[str, dict[str, str]] = {}
    changes: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for r in t.rows:
        if not r["link"] or r["excluded"] or r["status"] not in REACHED:
            continue
        names = [f["name"] for f in t.fields]
        if not any(f"{k}-{r['id']}" in form for k in names):
            continue  # not on the page she sent
        row_typed = {k: field(form, f"{k}-{r['id']}", 20) for k in names}
        typed[r["id"]] = row_typed
        values, problems = check_scales(t.fields, row_typed)
        if problems:
            errors[r["id"]] = problems
            continue
        new = stored(values)
        old = {k: r["scales"].get(k) for k in SCALES}
        if any(
            (new[k] is None) != (old[k] is None)
            or (new[k] is not None and float(new[k]) != float(old[k]))
            for k in SCALES
        ):
            changes.append((r["id"], new, old))
    if errors:
        return _page(request, svc, session, found, typed=typed, errors=errors, status_code=400)
    for dossier_id, new, old in changes:
        outcomes.set_assessment(
            svc.db, dossier_id, **new, staff_id=session.staff.id, now=svc.clock()
        )
        detail: dict[str, Any] = {k: v for k, v in new.items() if v is not None}
        previous = {k: v for k, v in old.items() if v is not None}
        if previous:
            detail["previous"] = previous
        detail["from"] = "graduatoria"
        record(svc, session.staff, "record_assessment", dossier_id, detail)
    return redirect(f"/avvisi/{notice_id}/graduatoria?fatto=scale&n={len(changes)}#esito-scale")


@router.get("/avvisi/{notice_id}/graduatoria.{fmt}")
async def ranking_file(
    request: Request, notice_id: str, fmt: str, svc: ServicesDep, session: CurrentSession
) -> Response:
    found = notice(svc, notice_id)
    if found is None or found.ranking is None or fmt not in FORMATS:
        raise HTTPException(404)
    t = table(svc, found, session.staff)
    headers, rows = sheet(t)
    title = "Graduatoria"
    if fmt == "csv":
        body = csv_bytes(headers, rows)
    elif fmt == "xlsx":
        body = xlsx_bytes(title, headers, rows, kinds_of(headers))
    else:
        body = ods_bytes(title, headers, rows, kinds_of(headers))
    record(
        svc,
        session.staff,
        "export_ranking",
        None,
        {"notice": notice_id, "format": fmt, "rows": len(rows)},
    )
    stamp = svc.clock().strftime("%Y%m%d")
    return Response(
        body,
        media_type=FORMATS[fmt],
        headers={
            **FILE_HEADERS,
            "Content-Disposition": f'attachment; filename="graduatoria-{notice_id}-{stamp}.{fmt}"',
        },
    )
