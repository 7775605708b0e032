"""The administrators' "Avvisi" pages: every notice with its status and window; a notice
file uploaded and reviewed (its problems with line and field, the notice as a family
reads it), published and withdrawn; "Nuovo avviso da uno esistente".

Every change is a CSRF-checked form, answered with a redirect (post, redirect, get) and
written in the audit log with who and when. Uploaded files are read as hostile: a size
limit before reading, UTF-8 text only, YAML read with limits (`eligibility.yaml_guard`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dialogs.live_catalogue import publish_checked
from eligibility import load_catalogue
from eligibility.notice_derive import derive
from eligibility.notice_file import NOTICE_ID, parse_notice
from eligibility.schema import Notice
from storage import drafts
from storage import notices as published
from storage.staff import Session

from ..deps import AdminSession, CheckedForm, CheckedUpload, ServicesDep
from ..labels import FILE_HEADERS
from ..notice_admin import (
    CHANNEL_CHOICES,
    DeriveForm,
    cases_name,
    file_name,
    prefill,
    read_form,
    read_upload,
    review,
    rows,
    source_text,
    where,
)
from ..pages import redirect, render
from ..views import today
from .common import record

router = APIRouter()
HOME = "/gestione-avvisi"
YAML_TYPE = "application/yaml; charset=utf-8"


def _list_page(
    request: Request,
    svc: Any,
    session: Session,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    done = request.query_params.get("fatto", "")
    notice_id = request.query_params.get("avviso", "")
    message = ""
    if NOTICE_ID.match(notice_id):
        if done == "pubblicato":
            message = f"Avviso {notice_id} pubblicato: il bot lo usa entro 30 secondi."
        elif done == "ritirato":
            message = f"Avviso {notice_id} ritirato: il bot smette di usarlo entro 30 secondi."
    return render(
        request,
        "avvisi_gestione.html",
        {
            "nav": "gestione",
            "rows": rows(svc),
            "today": today(svc),
            "done": message,
            "errors": errors or {},
        },
        session=session,
        status_code=status_code,
    )


@router.get(HOME)
async def notices_admin(request: Request, svc: ServicesDep, session: AdminSession) -> Response:
    return _list_page(request, svc, session)


@router.post(f"{HOME}/prova")
async def upload(
    request: Request, svc: ServicesDep, session: AdminSession, form: CheckedUpload
) -> Response:
    notice_file, cases_file = form.get("avviso"), form.get("casi")
    text, problem = await read_upload(notice_file, "Il file dell'avviso")
    cases, cases_problem = await read_upload(cases_file, "Il file dei casi")
    errors = {}
    if text is None:
        errors["avviso"] = problem or "Scegliete il file dell'avviso (.yaml)."
    if cases_problem:
        errors["casi"] = cases_problem
    if errors:
        return _list_page(request, svc, session, errors=errors, status_code=400)
    assert text is not None
    name = file_name(notice_file)
    draft = published.keep_draft(
        svc.db, name, text, session.staff.email, svc.clock(), cases_text=cases, origin={}
    )
    record(svc, session.staff, "check_notice", None, {"file": name, "cases": cases is not None})
    return redirect(f"{HOME}/bozze/{draft.token}")


def _draft(svc: Any, token: str) -> published.Draft:
    found = published.draft(svc.db, token)
    if found is None:
        raise HTTPException(404)
    return found


async def _draft_page(
    request: Request, svc: Any, session: Session, draft: published.Draft, status_code: int = 200
) -> Response:
    r = await review(svc, draft)
    problems = [(where(p, draft), p) for p in r.report.problems]
    warnings = [(where(p, draft), p) for p in r.report.warnings]
    notes = [(where(p, draft), p) for p in r.notes]
    return render(
        request,
        "avviso_bozza.html",
        {
            "nav": "gestione",
            "draft": draft,
            "review": r,
            "problems": problems,
            "warnings": warnings,
            "notes": notes,
            "cases_name": cases_name(draft.name),
            "origin": draft.origin,
            "refused": status_code != 200,
        },
        session=session,
        status_code=status_code,
    )


@router.get(HOME + "/bozze/{token}")
async def draft_page(
    request: Request, token: str, svc: ServicesDep, session: AdminSession
) -> Response:
    return await _draft_page(request, svc, session, _draft(svc, token))


def _download(text: str, name: str) -> Response:
    return Response(
        text.encode("utf-8"),
        media_type=YAML_TYPE,
        headers={**FILE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(HOME + "/bozze/{token}/{name}")
async def draft_file(token: str, name: str, svc: ServicesDep, session: AdminSession) -> Response:
    draft = _draft(svc, token)
    if name == draft.name:
        text = draft.text
    elif name == cases_name(draft.name) and draft.cases_text is not None:
        text = draft.cases_text
    else:
        raise HTTPException(404)
    record(svc, session.staff, "download_notice", None, {"file": name})
    return _download(text, name)


@router.post(HOME + "/bozze/{token}/pubblica")
async def publish(
    request: Request, token: str, svc: ServicesDep, session: AdminSession, form: CheckedForm
) -> Response:
    draft = _draft(svc, token)
    at = svc.clock().isoformat(timespec="seconds")
    _report, p = publish_checked(svc.db, draft.text, draft.cases_text, session.staff.email, at)
    if p is None:  # it changed under us (a bundled id, a published notice), or never could
        return await _draft_page(request, svc, session, draft, status_code=400)
    record(
        svc,
        session.staff,
        "publish_notice",
        None,
        {"notice": p.notice_id, "version": p.version, "file": draft.name},
    )
    return redirect(f"{HOME}?fatto=pubblicato&avviso={p.notice_id}#esito")


@router.get(HOME + "/{notice_id}/ritira")
async def unpublish_confirm(
    request: Request, notice_id: str, svc: ServicesDep, session: AdminSession
) -> Response:
    """What withdrawing changes for families, before it is done."""
    row = next((r for r in rows(svc) if r.id == notice_id[:100]), None)
    if row is None or row.version is None or row.state_key == "withdrawn":
        raise HTTPException(404)
    return render(
        request,
        "avviso_ritira.html",
        {"nav": "gestione", "row": row, "families": published.families_of(svc.db, row.id)},
        session=session,
    )


@router.post(HOME + "/{notice_id}/ritira")
async def unpublish(
    notice_id: str, svc: ServicesDep, session: AdminSession, form: CheckedForm
) -> Response:
    at = svc.clock().isoformat(timespec="seconds")
    p = published.unpublish(svc.db, notice_id[:100], session.staff.email, at=at)
    if p is None:
        raise HTTPException(404)
    record(
        svc, session.staff, "unpublish_notice", None, {"notice": p.notice_id, "version": p.version}
    )
    return redirect(f"{HOME}?fatto=ritirato&avviso={p.notice_id}#esito")


@router.get(HOME + "/{notice_id}/avviso.yaml")
async def source_file(notice_id: str, svc: ServicesDep, session: AdminSession) -> Response:
    found = source_text(svc, notice_id)
    if found is None:
        raise HTTPException(404)
    record(svc, session.staff, "download_notice", None, {"notice": notice_id})
    return _download(found[0], f"{notice_id}.yaml")


def _original(svc: Any, notice_id: str) -> tuple[Notice, str, str | None]:
    found = source_text(svc, notice_id)
    if found is None:
        raise HTTPException(404)
    entry = parse_notice(found[0], notice_id)
    if not isinstance(entry, Notice):
        raise HTTPException(404)
    return entry, found[0], found[1]


def _derive_page(
    request: Request,
    session: Session,
    notice: Notice,
    form: DeriveForm,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "avviso_nuovo.html",
        {
            "nav": "gestione",
            "original": notice,
            "form": form,
            "values": form.values,
            "errors": form.errors,
            "channels": CHANNEL_CHOICES,
        },
        session=session,
        status_code=status_code,
    )


@router.get(HOME + "/{notice_id}/nuovo")
async def derive_form(
    request: Request, notice_id: str, svc: ServicesDep, session: AdminSession
) -> Response:
    notice, _text, _cases = _original(svc, notice_id)
    form = prefill(notice)
    token = request.query_params.get("bozza")  # typed before the session ended
    kept = (
        drafts.take(svc.db, token, request.url.path, svc.clock(), session.staff.id)
        if token
        else None
    )
    for key, value in kept or []:
        if key in form.values or key.startswith(("isee:", "amount:", "amount_text:")):
            form.values[key] = value
    form.restored = bool(kept)
    return _derive_page(request, session, notice, form)


@router.post(HOME + "/{notice_id}/nuovo")
async def derive_notice(
    request: Request, notice_id: str, svc: ServicesDep, session: AdminSession, form: CheckedForm
) -> Response:
    notice, text, cases = _original(svc, notice_id)
    typed, changes = read_form(notice, form, today(svc))
    if changes is None:
        return _derive_page(request, session, notice, typed, status_code=400)
    made = await run_in_threadpool(derive, text, notice, changes, load_catalogue(), cases)
    origin = {
        "from": notice.id,
        "notes": [{"line": n.line, "field": n.field, "message": n.message} for n in made.notes],
        "had_cases": cases is not None,
        "cases_kept": len(made.cases_kept),
        "cases_dropped": made.cases_dropped,
        "cases_moved": made.cases_moved,
    }
    draft = published.keep_draft(
        svc.db,
        f"{changes.id}.yaml",
        made.text,
        session.staff.email,
        svc.clock(),
        cases_text=made.cases_text,
        origin=origin,
    )
    record(svc, session.staff, "derive_notice", None, {"from": notice.id, "notice": changes.id})
    return redirect(f"{HOME}/bozze/{draft.token}")
