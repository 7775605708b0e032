"""Between colleagues: internal notes on a dossier (kept in the audit log, never shown to
the family) and who the dossier is assigned to."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from storage import staff as accounts
from storage import worklist

from ..deps import CheckedForm, CurrentSession, ServicesDep, VisibleDossier
from ..labels import NOTE_MAX
from ..pages import redirect
from ..views import dossier_page
from .common import field, record

router = APIRouter()


@router.post("/pratiche/{dossier_id}/nota")
async def team_note(
    request: Request,
    svc: ServicesDep,
    session: CurrentSession,
    form: CheckedForm,
    dossier: VisibleDossier,
) -> Response:
    text = field(form, "text", NOTE_MAX * 2)
    error = ""
    if not text:
        error = "Scrivete la nota."
    elif len(text) > NOTE_MAX:
        error = f"La nota ha al massimo {NOTE_MAX} caratteri (ora {len(text)})."
    if error:
        return dossier_page(
            request,
            session,
            dossier,
            forms={"note": {"text": text}},
            errors={"note": {"text": error}},
            status_code=400,
        )
    record(svc, session.staff, "team_note", dossier["id"], {"text": text})
    return redirect(f"/pratiche/{dossier['id']}?fatto=nota#esito-nota")


@router.post("/pratiche/{dossier_id}/assegna")
async def assign(
    request: Request,
    svc: ServicesDep,
    session: CurrentSession,
    form: CheckedForm,
    dossier: VisibleDossier,
) -> Response:
    chosen = field(form, "assigned_to", 12)
    staff = accounts.get_staff(svc.db, int(chosen)) if chosen.isdigit() else None
    if chosen and (staff is None or not staff.active or not staff.sees(dossier["municipality"])):
        return dossier_page(
            request,
            session,
            dossier,
            forms={"assign": {"assigned_to": chosen}},
            errors={"assign": {"assigned_to": "Scegliete un collega che segue questo Comune."}},
            status_code=400,
        )
    worklist.assign(svc.db, dossier["id"], staff.id if staff else None)
    record(svc, session.staff, "assign", dossier["id"], {"to": staff.email if staff else None})
    return redirect(f"/pratiche/{dossier['id']}?fatto=assegnata#esito-assegna")
