"""After the protocol: the scores of the home assessment (checked against the notice's
scales) and the outcome, which the family is told in chat, once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from storage import outcomes

from .. import formatting
from ..deps import CheckedForm, CurrentSession, ServicesDep, VisibleDossier
from ..labels import NOTE_MAX, OUTCOME_NAMES, REACHED, STATUS_LABELS
from ..nextup import computed_position
from ..pages import redirect
from ..ranking import dossier_points
from ..scales import SCALES, check_scales, stored
from ..views import dossier_page
from .common import came_from, dossier_back, field, record, with_params

router = APIRouter()


def _again(
    request: Request,
    session: Any,
    dossier: dict[str, Any],
    form: Any,
    kind: str,
    typed: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    warnings: list[dict[str, str]] | None = None,
    proposed: Any = ...,
) -> Response:
    """The dossier page once more, rendered once, with what she typed in the `kind` form:
    400 with what to correct, or 409 with what to confirm first."""
    return dossier_page(
        request,
        session,
        dossier,
        forms={kind: typed},
        errors={kind: errors} if errors else None,
        warnings={kind: warnings} if warnings else None,
        status_code=400 if errors else 409,
        came_from=came_from(form),
        proposed=proposed,
    )


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
        return _again(request, session, dossier, form, "assessment", typed, errors=errors)
    previous = outcomes.set_assessment(
        svc.db,
        dossier["id"],
        **stored(values),
        staff_id=session.staff.id,
        now=svc.clock(),
    )
    detail: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
    if previous:
        detail["previous"] = {
            k: previous[k] for k in ("adl", "iadl", "cbi") if previous[k] is not None
        }
    record(svc, session.staff, "record_assessment", dossier["id"], detail)
    target = with_params(dossier_back(form, dossier["id"]), fatto="valutazione")
    return redirect(target + "#esito-valutazione")


def _outcome_errors(
    dossier: dict[str, Any], outcome: str, reason: str, position_text: str
) -> tuple[dict[str, str], int | None]:
    """What is wrong with the outcome typed (nothing: an empty dict), and the position."""
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
    return errors, position


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
    typed = {"outcome": outcome, "reason": reason, "position": position_text}
    errors, position = _outcome_errors(dossier, outcome, reason, position_text)
    if errors:
        return _again(request, session, dossier, form, "outcome", typed, errors=errors)
    stored_reason = reason if outcome == "esclusa" else None
    warnings, computed = _outcome_warnings(
        svc, session, dossier, outcome, stored_reason, position, form
    )
    if warnings:  # the graduatoria computed once: for the warning and the page
        return _again(
            request, session, dossier, form, "outcome", typed, warnings=warnings, proposed=computed
        )
    changed = outcomes.set_outcome(
        svc.db,
        dossier["id"],
        outcome,
        reason=stored_reason,
        position=position,
        now=svc.clock(),
    )
    if changed:
        detail: dict[str, Any] = {
            "outcome": outcome,
            "reason": stored_reason,
            "position": position,
        }
        if dossier.get("outcome"):
            detail["previous"] = {
                "outcome": dossier["outcome"],
                "position": dossier.get("outcome_position"),
            }
        record(svc, session.staff, "record_outcome", dossier["id"], detail)
    done = "esito" if changed else "esito-uguale"
    return redirect(with_params(dossier_back(form, dossier["id"]), fatto=done) + "#esito-esito")


def _outcome_warnings(
    svc: Any,
    session: Any,
    dossier: dict[str, Any],
    outcome: str,
    reason: str | None,
    position: int | None,
    form: Any,
) -> tuple[list[dict[str, str]], Any]:
    """What to confirm before an outcome is kept: a change to an outcome the family was
    already told (they are told again), and a position other than the one the graduatoria
    computes. Each with its own checkbox; none once ticked. With the graduatoria's
    position when it was computed (else `...`), so the page does not compute it again."""
    out = []
    computed: Any = ...
    before = dossier.get("outcome")
    if before and (before, dossier.get("outcome_reason"), dossier.get("outcome_position")) != (
        outcome,
        reason,
        position,
    ):
        said = OUTCOME_NAMES.get(before, before)
        if dossier.get("outcome_position"):
            said += f", posizione {dossier['outcome_position']}"
        when = formatting.day(dossier.get("outcome_at")) if dossier.get("outcome_at") else ""
        if field(form, "confirm_change") != "1":
            out.append(
                {
                    "name": "confirm_change",
                    "text": f"L'esito «{said}» è già stato registrato"
                    + (f" il {when}" if when else "")
                    + " e comunicato alla famiglia nella chat. Se lo cambiate, la famiglia "
                    "riceve un nuovo messaggio con l'esito nuovo.",
                    "label": "Sì, cambia l'esito: la famiglia viene avvisata di nuovo",
                }
            )
    if outcome == "in_graduatoria" and position is not None:
        computed = computed_position(svc, session, dossier)
        if computed is not None and computed["position"] != position:
            if computed["position"] is None:
                text = (
                    f"La graduatoria calcolata ({computed['scope']}) non dà ancora una "
                    f"posizione a questa pratica ({computed['note'] or 'punteggio incompleto'})."
                )
            else:
                text = (
                    f"La graduatoria calcolata ({computed['scope']}) dà a questa pratica la "
                    f"posizione {computed['position']}, non {position}."
                )
            if field(form, "confirm_position") != "1":
                out.append(
                    {
                        "name": "confirm_position",
                        "text": text + " Se la posizione viene dalla graduatoria approvata "
                        "dall'Ambito, confermatela.",
                        "label": f"Sì, registra la posizione {position}",
                    }
                )
    return out, computed
