"""After the protocol: the scores of the home assessment (checked against the notice's
scales) and the outcome, which the family is told in chat, once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from storage import outcomes

from ..deps import CheckedForm, CurrentSession, ServicesDep, VisibleDossier
from ..labels import NOTE_MAX, OUTCOME_NAMES, REACHED, STATUS_LABELS
from ..pages import redirect
from ..ranking import dossier_points
from ..scales import SCALES, check_scales, stored
from ..views import dossier_page
from .common import field, record

router = APIRouter()


@router.post("/pratiche/{dossier_id}/valutazione")
async def record_assessment(
    request: Request,
    svc: ServicesDep,
    session: CurrentSession,
    form: CheckedForm,
    dossier: VisibleDossier,
) -> Response:
    points = dossier_points(svc, dossier)
    typed = {k: field(form, k, 20) for k in SCALES}
    errors: dict[str, str] = {}
    values: dict[str, float | None] = dict.fromkeys(SCALES)
    if points is None:
        errors["form"] = "L'avviso di questa pratica non ha una graduatoria a punteggio."
    else:
        values, errors = check_scales(points["fields"], typed)
    if dossier["status"] not in REACHED:
        errors["form"] = "Questa domanda non è arrivata al Comune: non si valuta."
    if errors:
        return dossier_page(
            request,
            session,
            dossier,
            forms={"assessment": typed},
            errors={"assessment": errors},
            status_code=400,
        )
    previous = outcomes.set_assessment(
        svc.db,
        dossier["id"],
        **stored(values),
        staff_id=session.staff.id,
        now=svc.clock(),
    )
    detail = {k: v for k, v in values.items() if v is not None}
    if previous:
        detail["previous"] = {
            k: previous[k] for k in ("adl", "iadl", "cbi") if previous[k] is not None
        }
    record(svc, session.staff, "record_assessment", dossier["id"], detail)
    return redirect(f"/pratiche/{dossier['id']}?fatto=valutazione#esito-valutazione")


@router.post("/pratiche/{dossier_id}/esito")
async def record_outcome(
    request: Request,
    svc: ServicesDep,
    session: CurrentSession,
    form: CheckedForm,
    dossier: VisibleDossier,
) -> Response:
    outcome = field(form, "outcome", 40)
    reason = field(form, "reason", NOTE_MAX * 2)
    position_text = field(form, "position", 10)
    errors: dict[str, str] = {}
    position: int | None = None
    if dossier["status"] not in REACHED:
        errors["form"] = (
            "Questa domanda non è arrivata al Comune "
            f"(stato: {STATUS_LABELS.get(dossier['status'], dossier['status'])}): non ha un esito."
        )
    if outcome not in OUTCOME_NAMES:
        errors["outcome"] = "Scegliete l'esito."
    if outcome == "esclusa":
        if not reason:
            errors["reason"] = "Scrivete il motivo dell'esclusione: la famiglia lo legge."
        elif len(reason) > NOTE_MAX:
            errors["reason"] = f"Il motivo ha al massimo {NOTE_MAX} caratteri (ora {len(reason)})."
    if outcome == "in_graduatoria":
        if position_text.isdigit() and 0 < int(position_text) < 100_000:
            position = int(position_text)
        else:
            errors["position"] = "Scrivete la posizione in graduatoria, come 12."
    if errors:
        return dossier_page(
            request,
            session,
            dossier,
            forms={"outcome": {"outcome": outcome, "reason": reason, "position": position_text}},
            errors={"outcome": errors},
            status_code=400,
        )
    changed = outcomes.set_outcome(
        svc.db,
        dossier["id"],
        outcome,
        reason=reason if outcome == "esclusa" else None,
        position=position,
        now=svc.clock(),
    )
    if changed:
        record(
            svc,
            session.staff,
            "record_outcome",
            dossier["id"],
            {
                "outcome": outcome,
                "reason": reason if outcome == "esclusa" else None,
                "position": position,
            },
        )
    done = "esito" if changed else "esito-uguale"
    return redirect(f"/pratiche/{dossier['id']}?fatto={done}#esito-esito")
