"""Protocol numbers: one from the dossier page or inline from the list, several pasted
from the protocol register. Refused where the dossier never reached the comune; a number
already used asks for a confirmation; after a success, back where the form was (post,
redirect, get) with the confirmation beside it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response

from storage import dossiers as store

from ..deps import (
    CheckedForm,
    CurrentSession,
    NotYours,
    ServicesDep,
    VisibleDossier,
    may_see,
    today,
)
from ..listing import list_page
from ..pages import redirect, render
from ..protocol import Entry, check_entry, duplicate_warning, parse_paste
from ..views import dossier_page
from .common import back_to, field, record, with_params

router = APIRouter()


def _record(svc: Any, session: Any, entry: Entry) -> None:
    dossier = entry.dossier or {}
    assert entry.day is not None
    previous = {"number": dossier.get("protocol_number"), "date": dossier.get("protocol_date")}
    store.record_protocol(svc.db, entry.dossier_id, entry.number, entry.day.isoformat())
    detail: dict[str, Any] = {"number": entry.number, "date": entry.day.isoformat()}
    if previous["number"] or previous["date"]:
        detail["previous"] = previous
    if entry.duplicates:
        detail["same_number_as"] = entry.duplicates
    record(svc, session.staff, "record_protocol", entry.dossier_id, detail)


@router.post("/pratiche/{dossier_id}/protocollo")
async def record_protocol(
    request: Request,
    svc: ServicesDep,
    session: CurrentSession,
    form: CheckedForm,
    dossier: VisibleDossier,
) -> Response:
    entry = check_entry(
        svc,
        Entry(dossier["id"], field(form, "protocol_number", 200), field(form, "protocol_date", 40)),
        dossier,
        today(svc),
        session.staff.comuni,
    )
    inline = field(form, "from") == "list"
    back = back_to(form, "/pratiche" if inline else f"/pratiche/{dossier['id']}")
    confirmed = field(form, "confirm") == "1"
    if entry.errors or (entry.duplicates and not confirmed):
        values = {
            "protocol_number": entry.number,
            "protocol_date": field(form, "protocol_date", 40),
            "errors": entry.errors,
            "warning": duplicate_warning(entry) if entry.duplicates and not entry.errors else "",
        }
        if inline:
            query = dict(parse_qsl(urlsplit(back).query))
            return list_page(
                request, svc, session, query, row_forms={dossier["id"]: values}, status_code=400
            )
        return dossier_page(
            request,
            session,
            dossier,
            forms={"protocol": values},
            errors={"protocol": entry.errors},
            warnings={"protocol": values["warning"]},
            status_code=400 if entry.errors else 409,
        )
    _record(svc, session, entry)
    if inline:
        target = with_params(back, fatto="protocollo", pratica=dossier["id"], numero=entry.number)
        return redirect(f"{target}#riga-{dossier['id']}")
    return redirect(with_params(back, fatto="protocollo") + "#esito-protocollo")


def _pair(entry: Entry) -> str:
    return f"{entry.dossier_id}={entry.number}"


@router.get("/protocollo")
async def paste_page(request: Request, session: CurrentSession) -> Response:
    done = [d for d in request.query_params.get("registrati", "").split(",") if d][:200]
    return render(
        request,
        "protocollo.html",
        {"text": "", "entries": [], "bad": [], "done": done, "nav": "protocollo"},
        session=session,
    )


@router.post("/protocollo")
async def paste(
    request: Request, svc: ServicesDep, session: CurrentSession, form: CheckedForm
) -> Response:
    """Every line checked first; nothing is recorded unless every line is right (and
    numbers already used are confirmed)."""
    text = field(form, "righe", 40_000)
    entries, bad = parse_paste(text)
    if not entries and not bad:
        bad.append("Incollate almeno una riga: pratica;numero;data.")
    day = today(svc)
    seen: dict[str, int] = {}
    for entry in entries:
        try:
            dossier = may_see(svc, session.staff, entry.dossier_id, request.url.path)
        except NotYours:
            entry.errors["dossier"] = "Nessuna pratica dei vostri Comuni ha questo codice."
            continue
        check_entry(svc, entry, dossier, day, session.staff.comuni)
        if entry.number and entry.number in seen:
            entry.duplicates.append(f"riga {seen[entry.number]} di questo elenco")
        seen.setdefault(entry.number, entry.line)
    # each number already used is confirmed on its own line (a checkbox whose value is
    # "dossier=number"), in the same round as the other lines' errors
    confirmed = {v.strip() for v in form.getlist("confirm") if isinstance(v, str)}
    refused = bad or any(e.errors for e in entries)
    waiting = [e for e in entries if e.duplicates and not e.errors and _pair(e) not in confirmed]
    if refused or waiting:
        return render(
            request,
            "protocollo.html",
            {
                "text": text,
                "entries": [
                    {
                        "entry": e,
                        "warning": duplicate_warning(e) if e.duplicates and not e.errors else "",
                        "confirmed": _pair(e) in confirmed,
                        "pair": _pair(e),
                    }
                    for e in entries
                ],
                "bad": bad,
                "done": [],
                "refused": bool(refused),
                "nav": "protocollo",
            },
            session=session,
            status_code=400 if refused else 409,
        )
    for entry in entries:
        _record(svc, session, entry)
    ids = ",".join(e.dossier_id for e in entries)
    return redirect("/protocollo?" + urlencode({"registrati": ids}) + "#esito")
