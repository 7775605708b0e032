"""One dossier: its page, its files (download, preview, thumbnail) and its ZIP."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dossier import bounded
from dossier.assemble import PHOTO_KINDS, photo_jpeg, slugify
from storage import dossiers as store
from storage.blobs import BlobError

from ..archive import dossier_zip
from ..deps import CurrentSession, ServicesDep, VisibleDossier
from ..labels import EXTENSIONS, FILE_HEADERS, PREVIEW_SIDE, THUMBNAIL_SIDE
from ..pages import error_page
from ..views import dossier_page, items_of, with_draft
from .common import record

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/pratiche/{dossier_id}", name="pratica")
async def dossier_view(
    request: Request, svc: ServicesDep, session: CurrentSession, dossier: VisibleDossier
) -> Response:
    record(svc, session.staff, "view_dossier", dossier["id"])
    return dossier_page(request, session, dossier, forms=with_draft(request, session))


def _filename(dossier: dict[str, Any], row: dict[str, Any]) -> str:
    titles = {i.id: i.title for i in items_of(dossier)}
    slug = slugify(titles.get(row["item_id"], row["item_id"]), fallback="documento")
    ext = "pdf.p7m" if row["kind"] == "p7m" else EXTENSIONS.get(row["kind"], "bin")
    return f"{dossier['id']}-{slug}-{row['seq']}.{ext}"


def _file_of(
    request: Request, svc: Any, session: Any, dossier: dict[str, Any], attachment_id: int
) -> tuple[dict[str, Any], bytes] | Response:
    row = store.attachment(svc.db, dossier["id"], attachment_id)
    if row is None:
        return error_page(
            request, 404, "File non trovato", "Questa pratica non ha questo file.", session=session
        )
    try:
        return row, svc.blobs.get(row["sha256"])
    except BlobError:
        log.error("blob of attachment %s is missing or does not decrypt", attachment_id)
        return error_page(
            request,
            410,
            "File non disponibile",
            "Il file non si può leggere.",
            who="Avvisate l'operatore dello sportello: controlla la chiave dei file.",
            session=session,
        )


@router.get("/pratiche/{dossier_id}/file/{attachment_id}", name="file")
async def download_file(
    request: Request,
    attachment_id: int,
    svc: ServicesDep,
    session: CurrentSession,
    dossier: VisibleDossier,
) -> Response:
    found = _file_of(request, svc, session, dossier, attachment_id)
    if isinstance(found, Response):
        return found
    row, data = found
    record(
        svc,
        session.staff,
        "download_file",
        dossier["id"],
        {"attachment": attachment_id, "item": row["item_id"], "sha256": row["sha256"]},
    )
    return Response(
        data,
        media_type=row["mime"] or "application/octet-stream",
        headers={
            **FILE_HEADERS,
            "Content-Disposition": f'attachment; filename="{_filename(dossier, row)}"',
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


async def _image(
    request: Request,
    svc: Any,
    session: Any,
    dossier: dict[str, Any],
    attachment_id: int,
    side: int,
    logged: bool,
) -> Response:
    found = _file_of(request, svc, session, dossier, attachment_id)
    if isinstance(found, Response):
        return found
    row, data = found
    if logged:
        record(
            svc,
            session.staff,
            "view_preview",
            dossier["id"],
            {"attachment": attachment_id, "item": row["item_id"]},
        )
    if row["kind"] == "pdf" and logged:
        return Response(
            data,
            media_type="application/pdf",
            headers={
                **FILE_HEADERS,
                "Content-Disposition": f'inline; filename="{_filename(dossier, row)}"',
            },
        )
    if row["kind"] not in PHOTO_KINDS:
        return error_page(
            request,
            415,
            "Anteprima non disponibile",
            "Questo file non ha un'anteprima: scaricatelo.",
            session=session,
        )
    try:
        photo = await bounded.run_async(photo_jpeg, data, max_side=side, quality=80)
    except Exception:
        log.warning("preview of attachment %s could not be made", attachment_id)
        return Response(status_code=422, headers=FILE_HEADERS)
    return Response(
        photo.jpeg,
        media_type="image/jpeg",
        headers={
            **FILE_HEADERS,
            "Content-Disposition": "inline",
            "Content-Security-Policy": "default-src 'none'",
        },
    )


@router.get("/pratiche/{dossier_id}/anteprima/{attachment_id}", name="anteprima")
async def preview(
    request: Request,
    attachment_id: int,
    svc: ServicesDep,
    session: CurrentSession,
    dossier: VisibleDossier,
) -> Response:
    """A file opened to be read (a photo at full size, a PDF in the browser): logged."""
    return await _image(request, svc, session, dossier, attachment_id, PREVIEW_SIDE, True)


@router.get("/pratiche/{dossier_id}/miniatura/{attachment_id}", name="miniatura")
async def thumbnail(
    request: Request,
    attachment_id: int,
    svc: ServicesDep,
    session: CurrentSession,
    dossier: VisibleDossier,
) -> Response:
    """The small picture on the dossier page: part of the page's view, not logged again."""
    return await _image(request, svc, session, dossier, attachment_id, THUMBNAIL_SIDE, False)


@router.get("/pratiche/{dossier_id}/zip", name="zip")
async def download_zip(
    request: Request, svc: ServicesDep, session: CurrentSession, dossier: VisibleDossier
) -> Response:
    try:
        body, files, eml = await dossier_zip(svc, dossier["id"])
    except BlobError:
        log.error("a file of dossier %s is missing or does not decrypt", dossier["id"])
        return error_page(
            request,
            410,
            "File non disponibili",
            "Un file della pratica non si legge.",
            who="Avvisate l'operatore dello sportello: controlla la chiave dei file.",
            session=session,
        )
    except bounded.Overrun:
        log.error("the ZIP of dossier %s went over its time or memory limit", dossier["id"])
        return error_page(
            request,
            503,
            "Pratica troppo pesante",
            "Non riusciamo a metterla insieme adesso: scaricate i file uno per uno.",
            session=session,
        )
    record(svc, session.staff, "download_zip", dossier["id"], {"files": files, "receipts": eml})
    return Response(
        body,
        media_type="application/zip",
        headers={
            **FILE_HEADERS,
            "Content-Disposition": f'attachment; filename="pratica-{dossier["id"]}.zip"',
        },
    )
