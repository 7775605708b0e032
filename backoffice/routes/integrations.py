"""Integration requests: ask the family for documents (with a deadline the family is
told and reminded of, and a note that may start from a template), and add items to a
request still open."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from storage import integrations

from ..deps import CheckedForm, CurrentSession, ServicesDep, VisibleDossier, today
from ..labels import CAN_REQUEST, INTEGRATION_DAYS, NOTE_MAX, NOTE_TEMPLATES, REASONS, STATUS_LABELS
from ..pages import redirect
from ..protocol import read_day
from ..views import dossier_page, items_of
from .common import field, record

router = APIRouter()


def _chosen(form: Any, known: list[str]) -> tuple[list[str], dict[str, str]]:
    chosen = [str(v) for v in form.getlist("items")]
    reasons = {
        i: str(form.get(f"reason-{i}")) if form.get(f"reason-{i}") in REASONS else "mancante"
        for i in known
    }
    return chosen, reasons


def _note(form: Any, errors: dict[str, str], *, required: bool) -> str:
    note = field(form, "note", NOTE_MAX * 2)
    template = field(form, "modello", 40)
    if not note and template in NOTE_TEMPLATES:
        note = NOTE_TEMPLATES[template]
    if not note and required:
        errors["note"] = "Scrivete una nota per la famiglia: cosa manca e perché."
    elif len(note) > NOTE_MAX:
        errors["note"] = f"La nota ha al massimo {NOTE_MAX} caratteri (ora {len(note)})."
    return note


@router.post("/pratiche/{dossier_id}/integrazione")
async def request_integration(
    request: Request,
    svc: ServicesDep,
    session: CurrentSession,
    form: CheckedForm,
    dossier: VisibleDossier,
) -> Response:
    known = [i.id for i in items_of(dossier)]
    chosen, reasons = _chosen(form, known)
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
    note = _note(form, errors, required=True)
    typed_due = field(form, "due_on", 40)
    due, problem = (today(svc) + dt.timedelta(days=INTEGRATION_DAYS), None)
    if typed_due:
        due, problem = read_day(typed_due, today(svc))
        if due is not None and due <= today(svc):
            problem = "Il termine deve essere dopo oggi."
    if problem:
        errors["due_on"] = problem
    if errors:
        return dossier_page(
            request,
            session,
            dossier,
            forms={
                "integration": {
                    "items": [c for c in chosen if c in known],
                    "reasons": reasons,
                    "note": note,
                    "due_on": typed_due,
                }
            },
            errors={"integration": errors},
            status_code=400,
        )
    items = [f"{i}:{reasons[i]}" for i in known if i in chosen]
    request_id = integrations.request_integration(
        svc.db,
        dossier["id"],
        staff_id=session.staff.id,
        items=items,
        note=note,
        due_on=due.isoformat() if due else None,
    )
    record(
        svc,
        session.staff,
        "request_integration",
        dossier["id"],
        {"request": request_id, "items": items},
    )
    return redirect(f"/pratiche/{dossier['id']}?fatto=integrazione#esito-integrazione")


@router.post("/pratiche/{dossier_id}/integrazione/aggiungi")
async def add_to_request(
    request: Request,
    svc: ServicesDep,
    session: CurrentSession,
    form: CheckedForm,
    dossier: VisibleDossier,
) -> Response:
    """A document forgotten: asked in the same request, the family told the new ones."""
    open_request = integrations.open_request(svc.db, dossier["id"])
    known = [i.id for i in items_of(dossier)]
    chosen, reasons = _chosen(form, known)
    errors: dict[str, str] = {}
    if open_request is None:
        errors["form"] = "Questa pratica non ha una richiesta aperta: fatene una nuova."
    asked = {str(i).partition(":")[0] for i in (open_request or {}).get("items", [])}
    new = [c for c in chosen if c in known and c not in asked]
    if not new:
        errors["items"] = "Scegliete almeno un documento non ancora chiesto."
    note = _note(form, errors, required=False)
    if errors:
        return dossier_page(
            request,
            session,
            dossier,
            forms={"add": {"items": chosen, "reasons": reasons, "note": note}},
            errors={"add": errors},
            status_code=400,
        )
    assert open_request is not None
    added = integrations.add_items(
        svc.db, int(open_request["id"]), [f"{i}:{reasons[i]}" for i in new], note
    )
    record(
        svc,
        session.staff,
        "add_to_integration",
        dossier["id"],
        {"request": open_request["id"], "items": added},
    )
    return redirect(f"/pratiche/{dossier['id']}?fatto=aggiunta#esito-integrazione")
