"""The staff back-office: social workers log in, see the dossiers of their comuni, open
one, download its files or the whole dossier as a ZIP, record the protocol number and ask
the family for missing documents.

Server-rendered Italian pages (Jinja2, autoescaped), one CSS file, no JavaScript. Every
view, download and change is written to the audit log (`storage.audit`). The database is
used only from the event loop's thread (all handlers are `async`); image previews and the
dossier assembly run in worker threads on bytes already read.

Integration requests are stored with items as `"<checklist item id>:mancante"` or
`"<checklist item id>:illeggibile"` (the bot's message reads both parts), and the
social worker's note as typed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dossier import checklist
from dossier.assemble import MANIFEST_NAME, PHOTO_KINDS, assemble, photo_jpeg, slugify
from dossier.desk import Desk
from storage import audit, integrations, receipts
from storage import dossiers as store
from storage import staff as accounts
from storage.blobs import BlobError
from storage.staff import Session, Staff

from . import auth, formatting
from .labels import (
    CAN_REQUEST,
    EXTENSIONS,
    FILE_HEADERS,
    NOTE_MAX,
    PAGE_SIZE,
    PREVIEW_SIDE,
    PROTOCOL_MAX,
    REASONS,
    STATIC_DIR,
    STATUS_LABELS,
    ZIP_BUDGET,
)
from .views import (
    _attachment,
    _denied,
    _detail,
    _forbidden_form,
    _int,
    _items,
    _notice,
    _page,
    _redirect,
    _remote,
    _row,
    _services,
    _today,
    _zip,
    fold,
    parse_day,
)

log = logging.getLogger(__name__)

__all__ = ["STATIC_DIR", "backoffice_router"]


def _record(
    svc: Any, session: Session, action: str, dossier_id: str | None = None, detail: Any = None
) -> None:
    """One line of the audit log, by the staff member of this session, now."""
    audit.log(svc.db, session.staff, action, dossier_id, detail, at=svc.clock())


def backoffice_router() -> APIRouter:
    router = APIRouter()
    SessionDep = Depends(auth.current_session)

    @router.get("/", include_in_schema=False)
    async def home() -> Response:
        return _redirect(auth.HOME_PATH)

    # -- login and logout ------------------------------------------------------------

    @router.get("/login", name="login")
    async def login_page(request: Request) -> Response:
        target = auth.safe_next(request.query_params.get("next"))
        if auth.session_of(request) is not None:
            return _redirect(target)
        token = auth.login_csrf_token(request)
        response = _page(
            request,
            "login.html",
            {"email": "", "next": target, "login_csrf": token, "error": None},
        )
        auth.set_login_csrf_cookie(response, request, token)
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        svc = _services(request)
        form = await request.form()
        email = str(form.get("email") or "").strip()[:320]
        password = str(form.get("password") or "")
        target = auth.safe_next(str(form.get("next") or ""))
        now = svc.clock()

        def again(error: str, status_code: int) -> Response:
            token = auth.login_csrf_token(request)
            response = _page(
                request,
                "login.html",
                {"email": email, "next": target, "login_csrf": token, "error": error},
                status_code=status_code,
            )
            auth.set_login_csrf_cookie(response, request, token)
            return response

        if not auth.login_csrf_ok(request, form.get("csrf")):
            return again(
                "La pagina di accesso era scaduta. Scrivete di nuovo e-mail e password.", 403
            )
        if not email or not password:
            return again("Scrivete l'e-mail e la password.", 400)
        staff = await accounts.verify_login_async(svc.db, email, password, now, _remote(request))
        if staff is None:
            until = accounts.locked_until(svc.db, email, now)
            if until is not None:
                audit.log(svc.db, accounts.normalise_email(email), "login_locked", at=now)
                return again(
                    "Troppi tentativi non riusciti: l'accesso con questa e-mail è sospeso "
                    "per 15 minuti dall'ultimo tentativo. "
                    f"Riprovate dopo le {formatting.moment(until)[-5:]} "
                    f"del {formatting.day(until)}.",
                    429,
                )
            audit.log(svc.db, accounts.normalise_email(email), "login_failed", at=now)
            return again("E-mail o password non corrette.", 401)
        old = request.cookies.get(auth.SESSION_COOKIE)
        accounts.end_session(svc.db, old)  # a fresh token at every login (no fixation)
        token, _csrf = accounts.create_session(svc.db, staff.id, now)
        audit.log(svc.db, staff, "login", at=now)
        response = _redirect(target)
        auth.set_session_cookie(response, request, token)
        auth.clear_login_csrf_cookie(response, request)
        return response

    @router.post("/logout")
    async def logout(request: Request, session: Session = SessionDep) -> Response:
        svc = _services(request)
        form = await request.form()
        if not auth.csrf_ok(session.csrf, form.get("csrf")):
            return _forbidden_form(request, session)
        accounts.end_session(svc.db, request.cookies.get(auth.SESSION_COOKIE))
        _record(svc, session, "logout")
        response = _redirect(auth.LOGIN_PATH)
        auth.clear_session_cookie(response, request)
        return response

    # -- the list --------------------------------------------------------------------

    @router.get("/pratiche", name="pratiche")
    async def dossier_list(request: Request, session: Session = SessionDep) -> Response:
        svc = _services(request)
        staff = session.staff
        q = request.query_params
        every = store.dossiers_for_comuni(svc.db, list(staff.comuni))
        notices: dict[str, str] = {}
        for d in every:
            notices.setdefault(d["notice_id"], _notice(d).get("title") or d["notice_id"])
        filters = {
            "stato": q.get("stato", "") if q.get("stato") in STATUS_LABELS else "",
            "avviso": q.get("avviso", "") if q.get("avviso") in notices else "",
            "comune": q.get("comune", "") if q.get("comune") in staff.comuni else "",
            "cognome": (q.get("cognome") or "").strip()[:100],
        }
        wanted = fold(filters["cognome"])
        rows = []
        for d in every:
            if filters["stato"] and d["status"] != filters["stato"]:
                continue
            if filters["avviso"] and d["notice_id"] != filters["avviso"]:
                continue
            if filters["comune"] and d["municipality"] != filters["comune"]:
                continue
            row = _row(d)
            if wanted:
                ident = d["data"].get("identity") or {}
                surnames = {fold(row["family_name"]), fold(ident.get("applicant.family_name", ""))}
                if not any(wanted in s for s in surnames if s):
                    continue
            rows.append(row)
        pages = max(1, (len(rows) + PAGE_SIZE - 1) // PAGE_SIZE)
        page = min(max(1, _int(q.get("pagina"), 1)), pages)
        shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        kept = {k: v for k, v in filters.items() if v}

        def page_url(n: int) -> str:
            return "/pratiche?" + urlencode({**kept, "pagina": n})

        audit.log(
            svc.db,
            staff,
            "view_list",
            detail={"filters": kept, "page": page, "results": len(rows)},
            at=svc.clock(),
        )
        return _page(
            request,
            "pratiche.html",
            {
                "rows": shown,
                "total": len(rows),
                "page": page,
                "pages": pages,
                "prev_url": page_url(page - 1) if page > 1 else None,
                "next_url": page_url(page + 1) if page < pages else None,
                "filters": filters,
                "filtered": bool(kept),
                "statuses": [(k, v) for k, v in STATUS_LABELS.items() if k != "bozza"],
                "notices": sorted(notices.items(), key=lambda kv: kv[1]),
                "comuni": sorted(staff.comuni),
                "nav": "pratiche",
            },
            session=session,
        )

    # -- one dossier -----------------------------------------------------------------

    @router.get("/pratiche/{dossier_id}", name="pratica")
    async def dossier_page(
        request: Request, dossier_id: str, session: Session = SessionDep
    ) -> Response:
        svc = _services(request)
        try:
            dossier = auth.dossier_access(svc, session.staff, dossier_id)
        except auth.Denied as denial:
            return _denied(request, session, denial)
        _record(svc, session, "view_dossier", dossier_id)
        return _detail(request, session, dossier)

    async def _file_of(
        request: Request, session: Session, dossier_id: str, attachment_id: int
    ) -> tuple[dict[str, Any], dict[str, Any], bytes] | Response:
        svc = _services(request)
        try:
            dossier = auth.dossier_access(svc, session.staff, dossier_id)
        except auth.Denied as denial:
            return _denied(request, session, denial)
        row = _attachment(svc, dossier_id, attachment_id)
        if row is None:
            return _page(
                request,
                "error.html",
                {"title": "File non trovato", "text": "Questa pratica non ha questo file."},
                session=session,
                status_code=404,
            )
        try:
            data = svc.blobs.get(row["sha256"])
        except BlobError:
            log.error("blob of attachment %s is missing or does not decrypt", attachment_id)
            return _page(
                request,
                "error.html",
                {"title": "File non disponibile", "text": "Il file non si può leggere."},
                session=session,
                status_code=410,
            )
        return dossier, row, data

    def _filename(dossier: dict[str, Any], row: dict[str, Any]) -> str:
        titles = {i.id: i.title for i in _items(dossier)}
        slug = slugify(titles.get(row["item_id"], row["item_id"]), fallback="documento")
        ext = "pdf.p7m" if row["kind"] == "p7m" else EXTENSIONS.get(row["kind"], "bin")
        return f"{dossier['id']}-{slug}-{row['seq']}.{ext}"

    @router.get("/pratiche/{dossier_id}/file/{attachment_id}", name="file")
    async def download_file(
        request: Request, dossier_id: str, attachment_id: int, session: Session = SessionDep
    ) -> Response:
        svc = _services(request)
        found = await _file_of(request, session, dossier_id, attachment_id)
        if isinstance(found, Response):
            return found
        dossier, row, data = found
        _record(
            svc,
            session,
            "download_file",
            dossier_id,
            {"attachment": attachment_id, "item": row["item_id"], "sha256": row["sha256"]},
        )
        name = _filename(dossier, row)
        return Response(
            data,
            media_type=row["mime"] or "application/octet-stream",
            headers={
                **FILE_HEADERS,
                "Content-Disposition": f'attachment; filename="{name}"',
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )

    @router.get("/pratiche/{dossier_id}/anteprima/{attachment_id}", name="anteprima")
    async def preview(
        request: Request, dossier_id: str, attachment_id: int, session: Session = SessionDep
    ) -> Response:
        svc = _services(request)
        found = await _file_of(request, session, dossier_id, attachment_id)
        if isinstance(found, Response):
            return found
        dossier, row, data = found
        _record(
            svc,
            session,
            "view_preview",
            dossier_id,
            {"attachment": attachment_id, "item": row["item_id"]},
        )
        name = _filename(dossier, row)
        if row["kind"] == "pdf":
            return Response(
                data,
                media_type="application/pdf",
                headers={**FILE_HEADERS, "Content-Disposition": f'inline; filename="{name}"'},
            )
        if row["kind"] not in PHOTO_KINDS:
            return _page(
                request,
                "error.html",
                {
                    "title": "Anteprima non disponibile",
                    "text": "Questo file non ha un'anteprima: scaricatelo.",
                },
                session=session,
                status_code=415,
            )
        try:
            photo = await asyncio.to_thread(photo_jpeg, data, max_side=PREVIEW_SIDE, quality=80)
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

    @router.get("/pratiche/{dossier_id}/zip", name="zip")
    async def download_zip(
        request: Request, dossier_id: str, session: Session = SessionDep
    ) -> Response:
        svc = _services(request)
        try:
            auth.dossier_access(svc, session.staff, dossier_id)
        except auth.Denied as denial:
            return _denied(request, session, denial)
        now = svc.clock()
        try:
            inputs = Desk(svc.db, svc.blobs, svc.catalogue).assembly_inputs(
                dossier_id, now, svc.settings.sportello_message_budget_mb
            )
            eml = [
                (f"ricevute-pec/{n:02d}-{r['kind']}.eml", svc.blobs.get(r["blob"]))
                for n, r in enumerate(receipts.receipts_of(svc.db, dossier_id), start=1)
                if r["blob"]
            ]
        except BlobError:
            log.error("a file of dossier %s is missing or does not decrypt", dossier_id)
            return _page(
                request,
                "error.html",
                {"title": "File non disponibili", "text": "Un file della pratica non si legge."},
                session=session,
                status_code=410,
            )
        inputs["budget"] = ZIP_BUDGET
        built = await asyncio.to_thread(lambda: assemble(**inputs))
        files = [(f.name, f.data) for f in built.files]
        files.append((MANIFEST_NAME, built.manifest.data))
        files += eml
        body = await asyncio.to_thread(_zip, files)
        audit.log(
            svc.db,
            session.staff,
            "download_zip",
            dossier_id,
            {"files": len(built.files), "receipts": len(eml)},
            at=now,
        )
        return Response(
            body,
            media_type="application/zip",
            headers={
                **FILE_HEADERS,
                "Content-Disposition": f'attachment; filename="pratica-{dossier_id}.zip"',
            },
        )

    # -- changes ---------------------------------------------------------------------

    @router.post("/pratiche/{dossier_id}/protocollo")
    async def record_protocol(
        request: Request, dossier_id: str, session: Session = SessionDep
    ) -> Response:
        svc = _services(request)
        form = await request.form()
        if not auth.csrf_ok(session.csrf, form.get("csrf")):
            return _forbidden_form(request, session)
        try:
            dossier = auth.dossier_access(svc, session.staff, dossier_id)
        except auth.Denied as denial:
            return _denied(request, session, denial)
        number = str(form.get("protocol_number") or "").strip()
        typed_date = str(form.get("protocol_date") or "").strip()
        errors: dict[str, str] = {}
        if not number:
            errors["protocol_number"] = "Scrivete il numero di protocollo."
        elif len(number) > PROTOCOL_MAX or any(ord(c) < 32 for c in number):
            errors["protocol_number"] = (
                f"Il numero di protocollo ha al massimo {PROTOCOL_MAX} caratteri, su una riga."
            )
        day = parse_day(typed_date)
        if not typed_date:
            errors["protocol_date"] = "Scrivete la data di protocollo, come 20/06/2025."
        elif day is None or day.year < 2000:
            errors["protocol_date"] = "Questa data non è valida: scrivetela come 20/06/2025."
        elif day > _today(svc):
            errors["protocol_date"] = "La data di protocollo non può essere nel futuro."
        if errors or day is None:
            values = {"protocol_number": number, "protocol_date": typed_date}
            return _detail(
                request,
                session,
                dossier,
                protocol={"values": values, "errors": errors},
                status_code=400,
            )
        previous = {
            "number": dossier.get("protocol_number"),
            "date": dossier.get("protocol_date"),
        }
        store.record_protocol(svc.db, dossier_id, number, day.isoformat())
        detail: dict[str, Any] = {"number": number, "date": day.isoformat()}
        if previous["number"] or previous["date"]:
            detail["previous"] = previous
        _record(svc, session, "record_protocol", dossier_id, detail)
        return _redirect(f"/pratiche/{dossier_id}?fatto=protocollo#protocollo")

    @router.post("/pratiche/{dossier_id}/integrazione")
    async def request_integration(
        request: Request, dossier_id: str, session: Session = SessionDep
    ) -> Response:
        svc = _services(request)
        form = await request.form()
        if not auth.csrf_ok(session.csrf, form.get("csrf")):
            return _forbidden_form(request, session)
        try:
            dossier = auth.dossier_access(svc, session.staff, dossier_id)
        except auth.Denied as denial:
            return _denied(request, session, denial)
        known = [i.id for i in _items(dossier)]
        chosen = [str(v) for v in form.getlist("items")]
        reasons = {
            i: str(form.get(f"reason-{i}") or "mancante")
            if form.get(f"reason-{i}") in REASONS
            else "mancante"
            for i in known
        }
        note = str(form.get("note") or "").strip()
        errors: dict[str, str] = {}
        if dossier["status"] not in CAN_REQUEST:
            errors["form"] = (
                "Per questa pratica non si può chiedere un'integrazione adesso "
                f"(stato: {STATUS_LABELS.get(dossier['status'], dossier['status'])})."
            )
        if not chosen:
            errors["items"] = "Scegliete almeno un documento da chiedere."
        elif any(c not in known for c in chosen):
            errors["items"] = "Uno dei documenti scelti non è nell'elenco di questa pratica."
        if not note:
            errors["note"] = "Scrivete una nota per la famiglia: cosa manca e perché."
        elif len(note) > NOTE_MAX:
            errors["note"] = f"La nota ha al massimo {NOTE_MAX} caratteri (ora {len(note)})."
        if errors:
            return _detail(
                request,
                session,
                dossier,
                integration={
                    "items": [c for c in chosen if c in known],
                    "reasons": reasons,
                    "note": note,
                    "errors": errors,
                },
                status_code=400,
            )
        items = [f"{i}:{reasons[i]}" for i in known if i in chosen]
        request_id = integrations.request_integration(
            svc.db, dossier_id, staff_id=session.staff.id, items=items, note=note
        )
        _record(
            svc, session, "request_integration", dossier_id, {"request": request_id, "items": items}
        )
        return _redirect(f"/pratiche/{dossier_id}?fatto=integrazione#integrazioni")

    # -- the audit log ---------------------------------------------------------------

    @router.get("/registro", name="registro")
    async def audit_page(request: Request, session: Session = SessionDep) -> Response:
        svc = _services(request)
        staff: Staff = session.staff
        wanted = (request.query_params.get("pratica") or "").strip()[:40] or None
        rows = audit.entries(
            svc.db,
            dossier_id=wanted,
            limit=500,
            comuni=None if staff.is_admin else staff.comuni,
            staff_id=staff.id,
        )
        entries = [
            {
                **r,
                "action_label": audit.ACTIONS.get(r["action"], r["action"]),
                "link": bool(r["dossier_id"]) and staff.sees(r["municipality"]),
                "detail_text": _audit_detail(r["detail"]),
            }
            for r in rows
        ]
        audit.log(svc.db, staff, "view_audit", wanted, {"entries": len(entries)}, at=svc.clock())
        return _page(
            request,
            "registro.html",
            {"entries": entries, "pratica": wanted or "", "nav": "registro"},
            session=session,
        )

    return router


def _audit_detail(detail: dict[str, Any]) -> str:
    parts = []
    if "attachment" in detail:
        parts.append(f"file n. {detail['attachment']}")
    if detail.get("item"):
        parts.append(str(checklist.SHORT.get(detail["item"], detail["item"])))
    if "number" in detail:
        parts.append(f"protocollo {detail['number']} del {formatting.day(detail.get('date'))}")
    if detail.get("previous", {}).get("number"):
        parts.append(f"prima: {detail['previous']['number']}")
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
    if "results" in detail:
        parts.append(f"{detail['results']} pratiche")
        if detail.get("filters"):
            parts.append(json.dumps(detail["filters"], ensure_ascii=False))
    if detail.get("path"):
        parts.append(str(detail["path"]))
    return "; ".join(parts)
