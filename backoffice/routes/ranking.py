"""The graduatoria of each notice: the page, and the same table as CSV, XLSX and ODS."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from storage import worklist

from ..deps import CurrentSession, ServicesDep
from ..exports import CSV_TYPE, ODS_TYPE, XLSX_TYPE, csv_bytes, ods_bytes, xlsx_bytes
from ..labels import FILE_HEADERS
from ..pages import render
from ..ranking import notice, sheet, table, visible_comuni
from .common import record

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


@router.get("/avvisi/{notice_id}/graduatoria")
async def ranking_page(
    request: Request, notice_id: str, svc: ServicesDep, session: CurrentSession
) -> Response:
    found = notice(svc, notice_id)
    if found is None:
        raise HTTPException(404)
    t = table(svc, found, session.staff) if found.ranking is not None else None
    if t is not None:
        record(svc, session.staff, "view_ranking", None, {"notice": notice_id, "rows": len(t.rows)})
    return render(
        request,
        "graduatoria.html",
        {"notice": found, "table": t, "nav": "avvisi"},
        session=session,
    )


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
        body = xlsx_bytes(title, headers, rows)
    else:
        body = ods_bytes(title, headers, rows)
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
