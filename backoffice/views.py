"""What the dossier page shows: answers, pre-check, documents (new since the last
request marked), history, requests, what went wrong and who acts, the home assessment,
the outcome and the team's notes, built from storage for the template."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from common.counter import is_counter
from dossier import checklist
from dossier.assemble import PHOTO_KINDS
from dossier.checklist import ChecklistItem, ItemStatus
from dossier.people import role_on_form
from dossier.record import record_of
from dossier.uploads import UNASSIGNED
from eligibility import check
from storage import audit, outcomes
from storage import dossiers as store
from storage import outbox as outbox_store
from storage import staff as accounts
from storage.records import PersonDetails
from storage.staff import Session

from . import formatting
from .deps import Services, checked_on, safe_path, today
from .history import history_rows, moment_of, requests_of
from .labels import (
    CAN_REQUEST,
    INTEGRATION_DAYS,
    KIND_LABELS,
    NOTE_TEMPLATES,
    OUTCOME_LABELS,
    OUTCOME_NAMES,
    REACHED,
    STATUS_LABELS,
    VERDICT_LABELS,
)
from .nextup import computed_position, next_dossier
from .pages import render
from .problems import problem_of
from .ranking import dossier_points

log = logging.getLogger(__name__)


def names(dossier: dict[str, Any]) -> tuple[str, str]:
    return store.beneficiary_names(dossier["data"])


def notice_of(dossier: dict[str, Any]) -> dict[str, Any]:
    return dossier["data"].get("notice") or {"id": dossier["notice_id"], "title": ""}


def row(dossier: dict[str, Any]) -> dict[str, Any]:
    family, given = names(dossier)
    return {
        "id": dossier["id"],
        "family_name": family,
        "given_name": given,
        "municipality": dossier["municipality"],
        "notice_id": dossier["notice_id"],
        "notice_title": notice_of(dossier).get("title") or dossier["notice_id"],
        "status": dossier["status"],
        "status_label": STATUS_LABELS.get(dossier["status"], dossier["status"]),
        "created_at": dossier["created_at"],
        "sent_at": dossier.get("sent_at"),
        "delivered_at": dossier.get("delivered_at"),
        "protocol_number": dossier.get("protocol_number"),
        "protocol_date": dossier.get("protocol_date"),
        "outcome": dossier.get("outcome"),
        "outcome_label": OUTCOME_NAMES.get(dossier.get("outcome") or "", ""),
        "outcome_reason": dossier.get("outcome_reason"),
        "outcome_position": dossier.get("outcome_position"),
    }


# -- the dossier page ------------------------------------------------------------------


def _answers(dossier: dict[str, Any]) -> list[tuple[str, str]]:
    return record_of(dossier).answers.answer_lines()


def _precheck(svc: Services, dossier: dict[str, Any], day: dt.date) -> dict[str, Any] | None:
    """The engine's verdict for the family's answers on the day they made the dossier."""
    try:
        verdict = check(record_of(dossier).answers.facts_on(day), svc.catalogue)
    except Exception:  # answers the rules no longer accept: the page shows the stored verdicts
        log.warning("pre-check of a dossier could not be recomputed")
        return None
    measures = []
    for m in verdict.get("measures", []):
        amount = m.get("amount") or {}
        measures.append(
            {
                "name": m["name"],
                "verdict": m["verdict"],
                "label": VERDICT_LABELS.get(m["verdict"], m["verdict"]),
                "reasons": [
                    {
                        "text": r["text"],
                        "source": r.get("source") or "",
                        "outcome": r.get("outcome", ""),
                        "outcome_label": OUTCOME_LABELS.get(r.get("outcome", ""), ""),
                    }
                    for r in m.get("reasons", [])
                ],
                "amount": amount.get("text") if m["verdict"] != "not_eligible" else None,
                "amount_source": amount.get("source", ""),
            }
        )
    benefits = [
        {"text": i["text"], "source": i.get("source", ""), "ok": False}
        for i in verdict.get("incompatible", [])
    ] + [
        {"text": i["text"], "source": i.get("source", ""), "ok": True}
        for i in verdict.get("compatible", [])
    ]
    return {"pre_check": verdict.get("pre_check", ""), "measures": measures, "benefits": benefits}


def _identity(dossier: dict[str, Any]) -> dict[str, Any]:
    ident = record_of(dossier).identity

    def person(p: PersonDetails, contacts: bool) -> list[tuple[str, str]]:
        fields = [
            ("Cognome", p.family_name),
            ("Nome", p.given_name),
            ("Codice fiscale", p.tax_code),
        ]
        if contacts:
            fields += [("Telefono", p.phone), ("E-mail", p.email)]
        return [(k, v) for k, v in fields if v]

    beneficiary = person(ident.beneficiary, contacts=ident.signs_for_self)
    if ident.beneficiary.address:
        beneficiary.append(("Indirizzo", f"{ident.beneficiary.address}, {dossier['municipality']}"))
    return {
        "role": role_on_form(ident.role or "", ident.applicant.tax_code),
        "self": ident.signs_for_self,
        "applicant": person(ident.applicant, contacts=True),
        "beneficiary": beneficiary,
    }


def _counter_contacts(dossier: dict[str, Any]) -> list[tuple[str, str]] | None:
    """None for an application made in a Telegram chat; for one prepared at the counter
    (`sportello console`), the phone and e-mail the family gave, to reach them by."""
    if not is_counter(dossier.get("user_id")):
        return None
    signer = record_of(dossier).identity.applicant
    return [(k, v) for k, v in (("telefono", signer.phone), ("e-mail", signer.email)) if v]


def signature_notes(a: dict[str, Any]) -> list[str]:
    """What the staff should know of a signed file's certificates: who issued each, or
    that it is self-signed. We check that the signature is intact, not the certificate
    (offline, no EU trust list): their own verification software does."""
    if not a.get("signed"):
        return []
    try:
        signers = json.loads(a.get("signers") or "[]")
    except ValueError:
        signers = []
    notes = []
    for signer in signers if isinstance(signers, list) else []:
        if not isinstance(signer, dict):
            continue
        if signer.get("self_signed"):
            who = "certificato autofirmato, non emesso da un ente certificatore"
        else:
            who = f"certificato emesso da {signer.get('issuer') or '?'}"
        notes.append(f"Firma digitale: {who} — da verificare con il vostro software di verifica.")
    if not notes:
        notes.append(
            "Firma digitale: ente del certificato non registrato — da verificare con il "
            "vostro software di verifica."
        )
    return notes


def _file(a: dict[str, Any], since: str | None) -> dict[str, Any]:
    return {
        "signature_notes": signature_notes(a),
        "id": a["id"],
        "seq": a["seq"],
        "kind": a["kind"],
        "kind_label": KIND_LABELS.get(a["kind"], a["kind"])
        + (" con firma digitale" if a["signed"] and a["kind"] == "pdf" else ""),
        "pages": a["pages"],
        "size": a["size"],
        "image": a["kind"] in PHOTO_KINDS,
        "pdf": a["kind"] == "pdf",
        "created_at": a["created_at"],
        "new": bool(since) and moment_of(a["created_at"]) >= moment_of(since),
    }


def items_of(dossier: dict[str, Any]) -> list[ChecklistItem]:
    return list(record_of(dossier).checklist)


def statuses_of(dossier: dict[str, Any], rows: list[dict[str, Any]]) -> list[ItemStatus]:
    """Each checklist item with its files; an item the family said is the same document
    as another («È lo stesso documento») counts that one's files, as the family's
    checklist and the e-mail do."""
    same_as = (dossier.get("data") or {}).get("same_as") or {}
    return checklist.status(items_of(dossier), rows, same_as)


def documents_count(dossier: dict[str, Any], rows: list[dict[str, Any]]) -> tuple[int, int]:
    """(required items complete, required items) of a dossier's checklist: "6/8"; the
    optional ones (a guardian's appointment, health records) do not count."""
    required = [s for s in statuses_of(dossier, rows) if s.item.required]
    return sum(1 for s in required if s.done), len(required)


def _documents(svc: Services, dossier: dict[str, Any], since: str | None) -> dict[str, Any]:
    """Each checklist item with its files; `since` (the latest integration request) marks
    the files that came after it."""
    items = items_of(dossier)
    rows = store.attachments(svc.db, dossier["id"])
    docs = []
    for s in statuses_of(dossier, rows):
        mine = [a for a in rows if a["item_id"] in (s.item.id, s.same_as)]
        files = [_file(a, since) for a in mine]
        docs.append(
            {
                "id": s.item.id,
                "title": s.item.title,
                "text": s.item.text,
                "source": s.item.source,
                "required": s.item.required,
                "same_as": next((i.title for i in items if i.id == s.same_as), None),
                "done": s.done,
                "count": s.files,
                "pages": s.pages,
                "size": sum(int(a["size"] or 0) for a in mine),
                "files": files,
                "new": sum(1 for f in files if f["new"]),
            }
        )
    known = {i.id for i in items}
    loose = [
        _file(a, since) for a in rows if a["item_id"] not in known or a["item_id"] == UNASSIGNED
    ]
    return {
        "items": docs,
        "unassigned": loose,
        "done": sum(1 for d in docs if d["done"] and d["required"]),
        "required": sum(1 for d in docs if d["required"]),
        "new": sum(d["new"] for d in docs),
    }


def _colleagues(svc: Services, dossier: dict[str, Any]) -> list[tuple[int, str]]:
    """Active staff members who see this dossier's comune (for the assignment)."""
    return [
        (s.id, s.email)
        for s in accounts.list_staff(svc.db)
        if s.active and s.sees(dossier["municipality"])
    ]


def default_forms(svc: Services, dossier: dict[str, Any], requests: list[dict]) -> dict[str, Any]:
    """What each form of the dossier page shows before anything is typed."""
    documents = {i.id: i for i in items_of(dossier)}
    assessment = outcomes.assessment(svc.db, dossier["id"]) or {}
    rows = store.attachments(svc.db, dossier["id"])
    done = {s.item.id for s in statuses_of(dossier, rows) if s.files}

    def number(value: Any) -> str:
        return "" if value is None else formatting.number(value)

    return {
        "protocol": {
            "protocol_number": dossier.get("protocol_number") or "",
            "protocol_date": formatting.day(dossier.get("protocol_date") or today(svc)),
        },
        "integration": {
            "items": [],
            "reasons": {i: ("illeggibile" if i in done else "mancante") for i in documents},
            "note": "",
            "due_on": formatting.day(today(svc) + dt.timedelta(days=INTEGRATION_DAYS)),
        },
        "assessment": {k: number(assessment.get(k)) for k in ("adl", "iadl", "cbi")},
        "outcome": {
            "outcome": dossier.get("outcome") or "",
            "reason": dossier.get("outcome_reason") or "",
            "position": str(dossier.get("outcome_position") or ""),
        },
        "note": {"text": ""},
        "assign": {"assigned_to": str(dossier.get("assigned_to") or "")},
    }


# each field of the dossier page's forms: (the id its error summary links to, its name)
FIELDS = {
    ("protocol", "protocol_number"): ("protocol_number", "Numero di protocollo"),
    ("protocol", "protocol_date"): ("protocol_date", "Data di protocollo"),
    ("protocol", "dossier"): ("protocollo", "Protocollo"),
    ("assessment", "adl"): ("adl", "ADL"),
    ("assessment", "iadl"): ("iadl", "IADL"),
    ("assessment", "cbi"): ("cbi", "CBI"),
    ("assessment", "form"): ("valutazione", "Scale della visita"),
    ("outcome", "outcome"): ("outcome-ammessa", "Esito"),
    ("outcome", "position"): ("outcome-position", "Posizione in graduatoria"),
    ("outcome", "reason"): ("outcome-reason", "Motivo"),
    ("outcome", "form"): ("valutazione", "Esito"),
    ("integration", "items"): ("item-", "Documenti da chiedere"),
    ("integration", "note"): ("note", "Nota per la famiglia"),
    ("integration", "due_on"): ("due_on", "Termine per la famiglia"),
    ("integration", "form"): ("integrazioni", "Richiesta di integrazione"),
    ("add", "items"): ("add-items-error", "Documenti da aggiungere"),
    ("add", "form"): ("integrazioni", "Aggiunta alla richiesta"),
    ("note", "text"): ("team-note", "Nuova nota per i colleghi"),
    ("assign", "assigned_to"): ("assigned_to", "Assegnata a"),
}
SECTIONS = {
    "protocol": "protocollo",
    "assessment": "valutazione",
    "outcome": "valutazione",
    "integration": "integrazioni",
    "add": "integrazioni",
    "note": "lavoro",
    "assign": "lavoro",
}


def error_links(errors: dict[str, dict[str, str]], first_item: str) -> list[dict[str, str]]:
    """The error summary: each error with the field it is about, linked to that field."""
    out = []
    for form, problems in errors.items():
        for key, text in (problems or {}).items():
            anchor, name = FIELDS.get((form, key), (SECTIONS.get(form, "contenuto"), ""))
            if anchor == "item-":
                anchor = f"item-{first_item}" if first_item else "integrazione"
            shown = text if not name or text.startswith(name) else f"{name}: {text}"
            out.append({"href": f"#{anchor}", "text": shown})
    return out


DONE = {
    "protocollo": "Numero di protocollo registrato.",
    "integrazione": "Richiesta di integrazione registrata: la famiglia la riceve nella chat.",
    "aggiunta": "Documenti aggiunti alla richiesta: la famiglia riceve il nuovo elenco nella chat.",
    "valutazione": "Scale della visita domiciliare registrate.",
    "esito": "Esito registrato: la famiglia lo riceve nella chat, nella sua lingua.",
    "esito-uguale": "Esito già registrato così: la famiglia non riceve un secondo messaggio.",
    "nota": "Nota interna registrata (la famiglia non la vede).",
    "assegnata": "Assegnazione registrata.",
}


def dossier_page(
    request: Request,
    session: Session,
    dossier: dict[str, Any],
    *,
    forms: dict[str, Any] | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    warnings: dict[str, Any] | None = None,
    status_code: int = 200,
    came_from: str | None = None,
    proposed: Any = ...,
) -> HTMLResponse:
    """The dossier page; `forms` and `errors` (by form) when a form comes back refused;
    `proposed`, the graduatoria's position when the caller computed it already."""
    svc: Services = request.app.state.services
    day = checked_on(svc, dossier)
    items = items_of(dossier)
    titles = {i.id: i.title for i in items}
    requests = requests_of(svc, dossier, titles, today(svc))
    latest = requests[-1] if requests else None
    documents = _documents(svc, dossier, latest["created_at"] if latest else None)
    values = default_forms(svc, dossier, requests)
    if proposed is ...:
        proposed = computed_position(svc, session, dossier)
    if proposed and proposed["position"] and not values["outcome"]["position"]:
        values["outcome"]["position"] = str(proposed["position"])
    values.update(forms or {})
    # the page she came from (the list with its filters, the graduatoria): kept in the
    # address of this page, so that a form sent from it comes back to it with `da`
    back = safe_path(came_from or request.query_params.get("da"), "/pratiche")
    here = f"/pratiche/{dossier['id']}" + (
        "?" + urlencode({"da": back}) if back != "/pratiche" else ""
    )
    history = store.history(svc.db, dossier["id"])
    done = request.query_params.get("fatto")
    return render(
        request,
        "pratica.html",
        {
            "d": row(dossier),
            "dossier": dossier,
            "notice": notice_of(dossier),
            "identity": _identity(dossier),
            "answers": _answers(dossier),
            "precheck": _precheck(svc, dossier, day),
            "stored_measures": record_of(dossier).measures,
            "VERDICT_LABELS": VERDICT_LABELS,
            "documents": documents,
            "history": history_rows(svc, dossier, titles),
            "requests": requests,
            "open_request": latest if latest and latest["open"] else None,
            "problem": problem_of(
                dossier, history, outbox_store.rows_of(svc.db, dossier["id"]), session.staff
            ),
            "forms": values,
            "errors": errors or {},
            "error_links": error_links(
                errors or {}, documents["items"][0]["id"] if documents["items"] else ""
            ),
            "warnings": warnings or {},
            "can_request": dossier["status"] in CAN_REQUEST,
            "counter": _counter_contacts(dossier),
            "reached": dossier["status"] in REACHED,
            "purged": bool(dossier.get("purged")),
            "done": DONE.get(done or ""),
            "done_form": (done or "").removesuffix("-uguale"),
            "ranking": dossier_points(svc, dossier),
            "OUTCOME_NAMES": OUTCOME_NAMES,
            "NOTE_TEMPLATES": NOTE_TEMPLATES,
            "notes": audit.notes(svc.db, dossier["id"]),
            "colleagues": _colleagues(svc, dossier),
            "nav": "pratiche",
            "back": back,
            "here": here,
            "proposed": proposed,
            "next_dossier": next_dossier(svc, session, dossier, back),
        },
        session=session,
        status_code=status_code,
    )


def with_draft(
    request: Request, session: Session, forms: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """The fields typed before the session ended, for the form they came from (by the
    address the form posted to), when this page is opened with `?bozza=` by the same
    staff member."""
    from storage import drafts

    token = request.query_params.get("bozza")
    if not token:
        return forms
    svc: Services = request.app.state.services
    fields = drafts.take(svc.db, token, request.url.path, svc.clock(), session.staff.id)
    if not fields:
        return forms
    typed: dict[str, Any] = {}
    for key, value in fields:
        if key == "items":
            typed.setdefault("items", []).append(value)
        else:
            typed[key] = value
    kind = typed.pop("form", "")
    restored = dict(forms or {})
    if kind == "integration":
        restored["integration"] = {
            "items": typed.get("items", []),
            "reasons": {k[7:]: v for k, v in typed.items() if k.startswith("reason-")},
            "note": typed.get("note", ""),
            "due_on": typed.get("due_on", ""),
        }
    elif kind in ("protocol", "assessment", "outcome", "note", "assign"):
        restored[kind] = typed
    restored["_restored"] = kind
    return restored
