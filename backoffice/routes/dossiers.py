"""The list of dossiers ("Da fare" first) and the download of several at once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from ..archive import stream_archive
from ..deps import CurrentSession, ServicesDep, may_see
from ..labels import FILE_HEADERS
from ..listing import list_page
from ..pages import error_page
from .common import record

router = APIRouter()
ARCHIVE_MAX = 200


@router.get("/pratiche", name="pratiche")
async def dossier_list(request: Request, svc: ServicesDep, session: CurrentSession) -> Response:
    return list_page(request, svc, session, request.query_params)


@router.get("/pratiche/archivio.zip")
async def download_several(request: Request, svc: ServicesDep, session: CurrentSession) -> Response:
    """The ZIPs of the chosen dossiers (ticked on the list) in one ZIP, streamed."""
    chosen = list(dict.fromkeys(request.query_params.getlist("pratica")))[:ARCHIVE_MAX]
    if not chosen:
        return error_page(
            request,
            400,
            "Nessuna pratica scelta",
            "Spuntate nell'elenco le pratiche da scaricare, poi premete «Scarica le pratiche "
            "scelte».",
            session=session,
        )
    for dossier_id in chosen:
        may_see(svc, session.staff, dossier_id, request.url.path)  # NotYours: one refusal
    record(svc, session.staff, "download_archive", None, {"dossiers": chosen})
    stamp = svc.clock().strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        stream_archive(svc, chosen),
        media_type="application/zip",
        headers={
            **FILE_HEADERS,
            "Content-Disposition": f'attachment; filename="pratiche-{stamp}.zip"',
        },
    )
