"""What the back-office pages show: a dossier's answers, pre-check, documents, history
and requests, built from storage for the templates; and the small helpers the routes share."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import unicodedata
import zipfile
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from dialogs.flow import Dialog, facts_of
from dialogs.identity import ROLE_ON_FORM
from dialogs.questions import BY_KEY
from dossier import checklist
from dossier.assemble import PHOTO_KINDS
from dossier.checklist import ChecklistItem
from dossier.desk import UNASSIGNED
from eligibility import check
from storage import audit, integrations, receipts
from storage import dossiers as store
from storage import outbox as outbox_store
from storage import staff as accounts
from storage.staff import Session

from . import auth, formatting
from .deps import Services
from .labels import (
    CAN_REQUEST,
    EVENT_LABELS,
    KIND_LABELS,
    OUTBOX_LABELS,
    OUTCOME_LABELS,
    PAGE_HEADERS,
    REASONS,
    RECEIPT_LABELS,
    REQUEST_LABELS,
    STATUS_LABELS,
    VERDICT_LABELS,
    templates,
)

log = logging.getLogger(__name__)


def _services(request: Request) -> Services:
    return request.app.state.services


def _remote(request: Request) -> str | None:
    return request.client.host if request.client else None


def fold(text: str) -> str:
    """Lower case, no accents: "Cantù" and "CANTU" read the same."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _static_url(request: Request, path: str) -> str:
    try:
        return request.url_for("static", path=path).path
    except Exception:  # no mount named "static": the conventional place
        return f"/static/{path}"


def _page(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    session: Session | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "staff": session.staff if session else None,
        "csrf": session.csrf if session else "",
        "css": _static_url(request, "backoffice.css"),
        "STATUS_LABELS": STATUS_LABELS,
        **context,
    }
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=PAGE_HEADERS
    )


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def _denied(request: Request, session: Session, denial: auth.Denied) -> HTMLResponse:
    svc = _services(request)
    if denial.status_code == 403:
        audit.log(
            svc.db, session.staff, "access_denied", denial.dossier_id, {"path": request.url.path}
        )
        title, text = (
            "Accesso negato",
            "Questa pratica è di un Comune che non seguite: non potete vederla.",
        )
    else:
        title, text = "Pratica non trovata", "Non c'è una pratica inviata con questo codice."
    return _page(
        request,
        "error.html",
        {"title": title, "text": text},
        session=session,
        status_code=denial.status_code,
    )


def _forbidden_form(request: Request, session: Session | None) -> HTMLResponse:
    return _page(
        request,
        "error.html",
        {
            "title": "Modulo non valido",
            "text": "Il modulo è scaduto o non viene da questa pagina. Tornate indietro, "
            "ricaricate la pagina e riprovate.",
        },
        session=session,
        status_code=403,
    )


def _names(dossier: dict[str, Any]) -> tuple[str, str]:
    """The beneficiary's (family name, given name): the applicant when they sign for
    themselves."""
    ident = dossier["data"].get("identity") or {}
    who = "applicant" if ident.get("role") == "self" else "beneficiary"
    return ident.get(f"{who}.family_name", ""), ident.get(f"{who}.given_name", "")


def _notice(dossier: dict[str, Any]) -> dict[str, Any]:
    return dossier["data"].get("notice") or {"id": dossier["notice_id"], "title": ""}


def _row(dossier: dict[str, Any]) -> dict[str, Any]:
    family, given = _names(dossier)
    notice = _notice(dossier)
    return {
        "id": dossier["id"],
        "family_name": family,
        "given_name": given,
        "municipality": dossier["municipality"],
        "notice_id": dossier["notice_id"],
        "notice_title": notice.get("title") or dossier["notice_id"],
        "status": dossier["status"],
        "status_label": STATUS_LABELS.get(dossier["status"], dossier["status"]),
        "created_at": dossier["created_at"],
        "sent_at": dossier.get("sent_at"),
        "delivered_at": dossier.get("delivered_at"),
        "protocol_number": dossier.get("protocol_number"),
        "protocol_date": dossier.get("protocol_date"),
    }


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


def parse_day(text: str) -> dt.date | None:
    """A date as typed: 20/06/2025, 20-6-2025, 20.06.2025 or 2025-06-20."""
    text = (text or "").strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
        m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
        if m:
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        return None
    return None


def _today(svc: Services) -> dt.date:
    return svc.clock().astimezone(formatting.ROME).date()


def _when(text: str | None) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        when = None
    if when is None:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


# -- the dossier page ------------------------------------------------------------------


def _answers(svc: Services, dossier: dict[str, Any], day: dt.date) -> list[tuple[str, str]]:
    data = dossier["data"]
    answers = data.get("answers") or {}
    italian = Dialog(svc.catalogue, day, lambda s: s, "it")
    keys = list(data.get("order") or [])
    keys += [k for k in answers if k not in keys]
    shown = []
    for key in keys:
        if key not in answers:
            continue
        q = BY_KEY.get(key)
        label = (q.short or q.prompt) if q else key
        try:
            value = italian.shown(q, answers[key]) if q else str(answers[key])
        except (KeyError, ValueError, TypeError):
            value = str(answers[key])
        shown.append((label, value))
    return shown


def _precheck(svc: Services, dossier: dict[str, Any], day: dt.date) -> dict[str, Any] | None:
    """The engine's verdict for the family's answers on the day they made the dossier."""
    try:
        verdict = check(facts_of(dossier["data"].get("answers") or {}, day), svc.catalogue)
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
    ident = dossier["data"].get("identity") or {}
    role = ident.get("role", "")

    def person(prefix: str) -> list[tuple[str, str]]:
        fields = [
            ("Cognome", ident.get(f"{prefix}.family_name", "")),
            ("Nome", ident.get(f"{prefix}.given_name", "")),
            ("Codice fiscale", ident.get(f"{prefix}.tax_code", "")),
        ]
        if prefix == "applicant":
            fields += [
                ("Telefono", ident.get("applicant.phone", "")),
                ("E-mail", ident.get("applicant.email", "")),
            ]
        return [(k, v) for k, v in fields if v]

    address = ident.get("beneficiary.address", "")
    beneficiary = person("applicant" if role == "self" else "beneficiary")
    if address:
        beneficiary.append(("Indirizzo", f"{address}, {dossier['municipality']}"))
    return {
        "role": ROLE_ON_FORM.get(role, ""),
        "self": role == "self",
        "applicant": person("applicant"),
        "beneficiary": beneficiary,
    }


def _file(a: dict[str, Any]) -> dict[str, Any]:
    return {
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
    }


def _items(dossier: dict[str, Any]) -> list[ChecklistItem]:
    return [ChecklistItem.from_dict(i) for i in dossier["data"].get("checklist") or []]


def _documents(svc: Services, dossier: dict[str, Any]) -> dict[str, Any]:
    items = _items(dossier)
    rows = store.attachments(svc.db, dossier["id"])
    docs = []
    for s in checklist.status(items, rows):
        mine = [a for a in rows if a["item_id"] == s.item.id]
        docs.append(
            {
                "id": s.item.id,
                "title": s.item.title,
                "text": s.item.text,
                "source": s.item.source,
                "required": s.item.required,
                "done": s.done,
                "count": s.files,
                "pages": s.pages,
                "size": sum(int(a["size"] or 0) for a in mine),
                "files": [_file(a) for a in mine],
            }
        )
    known = {i.id for i in items}
    loose = [_file(a) for a in rows if a["item_id"] not in known or a["item_id"] == UNASSIGNED]
    return {"items": docs, "unassigned": loose}


def _event_detail(status: str, detail: dict[str, Any], titles: dict[str, str]) -> str:
    parts = []
    if detail.get("saved_to_folder"):
        parts.append("salvata nella cartella dello sportello, NON inviata per PEC")
    if detail.get("recipient"):
        parts.append(f"a {detail['recipient']}")
    if detail.get("parts") and int(detail["parts"]) > 1:
        parts.append(f"{detail['parts']} messaggi")
    if detail.get("requeued"):
        parts.append("rimessa in coda per un nuovo invio")
    if detail.get("reason") == "uncertain":
        parts.append("non si sa se il server di posta l'abbia ricevuta")
    if detail.get("kind"):
        parts.append(RECEIPT_LABELS.get(detail["kind"], detail["kind"]))
    if detail.get("error"):
        parts.append(str(detail["error"]))
    if status == "integrazione_richiesta" and detail.get("items"):
        parts.append("; ".join(_asked(detail["items"], titles)))
    if detail.get("days"):
        parts.append(f"fra {detail['days']} giorni")
    return "; ".join(parts)


def _asked(items: list[str], titles: dict[str, str]) -> list[str]:
    out = []
    for entry in items:
        item_id, _sep, reason = str(entry).partition(":")
        out.append(f"{titles.get(item_id, item_id)}: {REASONS.get(reason, 'manca')}")
    return out


def _history(svc: Services, dossier: dict[str, Any], titles: dict[str, str]) -> list[dict]:
    rows: list[dict[str, Any]] = []
    for e in store.history(svc.db, dossier["id"]):
        rows.append(
            {
                "at": e["at"],
                "source": "Pratica",
                "what": EVENT_LABELS.get(e["status"], e["status"]),
                "detail": _event_detail(e["status"], e["detail"], titles),
            }
        )
    for o in outbox_store.rows_of(svc.db, dossier["id"]):
        detail = [f"a {o['recipient']}", f"tentativi: {o['attempts'] or 0}"]
        if o["last_error"]:
            detail.append(o["last_error"])
        rows.append(
            {
                "at": o["sent_at"] or o["created_at"],
                "source": "Posta in uscita",
                "what": f"Messaggio {o['part'] or 1} di {o['parts'] or 1}: "
                + OUTBOX_LABELS.get(o["status"], o["status"]),
                "detail": "; ".join(detail),
            }
        )
    for r in receipts.receipts_of(svc.db, dossier["id"]):
        detail = [r["recipient"] or ""]
        if r["error"]:
            detail.append(r["error"])
        rows.append(
            {
                "at": r["at"] or r["created_at"],
                "source": "Ricevuta PEC",
                "what": RECEIPT_LABELS.get(r["kind"], r["kind"]),
                "detail": "; ".join(d for d in detail if d),
            }
        )
    rows.sort(key=lambda r: _when(r["at"]))
    return rows


def _requests(svc: Services, dossier: dict[str, Any], titles: dict[str, str]) -> list[dict]:
    staff_emails: dict[int, str] = {}
    out = []
    for r in integrations.requests_of(svc.db, dossier["id"]):
        sid = r["staff_id"]
        if sid is not None and sid not in staff_emails:
            who = accounts.get_staff(svc.db, sid)
            staff_emails[sid] = who.email if who else ""
        out.append(
            {
                "id": r["id"],
                "created_at": r["created_at"],
                "staff": staff_emails.get(sid, ""),
                "items": _asked(r["items"], titles),
                "note": r["note"],
                "status": REQUEST_LABELS.get(r["status"], r["status"]),
                "sent_at": r["sent_at"],
                "answered_at": r["answered_at"],
            }
        )
    return out


def _detail(
    request: Request,
    session: Session,
    dossier: dict[str, Any],
    *,
    protocol: dict[str, Any] | None = None,
    integration: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    svc = _services(request)
    try:
        day = dt.date.fromisoformat(dossier["data"].get("checked_on") or dossier["created_at"][:10])
    except ValueError:
        day = _today(svc)
    items = _items(dossier)
    titles = {i.id: i.title for i in items}
    documents = _documents(svc, dossier)
    if protocol is None:
        protocol = {
            "values": {
                "protocol_number": dossier.get("protocol_number") or "",
                "protocol_date": formatting.day(dossier.get("protocol_date"))
                if dossier.get("protocol_date")
                else "",
            },
            "errors": {},
        }
    if integration is None:
        integration = {
            "items": [],
            "reasons": {
                d["id"]: ("illeggibile" if d["count"] else "mancante") for d in documents["items"]
            },
            "note": "",
            "errors": {},
        }
    done = request.query_params.get("fatto")
    notices = {
        "protocollo": "Numero di protocollo registrato.",
        "integrazione": "Richiesta di integrazione registrata: la famiglia la riceve nella chat.",
    }
    return _page(
        request,
        "pratica.html",
        {
            "d": _row(dossier),
            "dossier": dossier,
            "notice": _notice(dossier),
            "identity": _identity(dossier),
            "answers": _answers(svc, dossier, day),
            "precheck": _precheck(svc, dossier, day),
            "stored_measures": dossier["data"].get("measures") or [],
            "VERDICT_LABELS": VERDICT_LABELS,
            "documents": documents,
            "history": _history(svc, dossier, titles),
            "requests": _requests(svc, dossier, titles),
            "protocol": protocol,
            "integration": integration,
            "can_request": dossier["status"] in CAN_REQUEST,
            "purged": bool(dossier.get("purged")),
            "done": notices.get(done or ""),
            "nav": "pratiche",
        },
        session=session,
        status_code=status_code,
    )


def _attachment(svc: Services, dossier_id: str, attachment_id: int) -> dict[str, Any] | None:
    rows = list(
        svc.db.query(
            "SELECT * FROM attachments WHERE id = ? AND dossier_id = ?",
            [attachment_id, dossier_id],
        )
    )
    return rows[0] if rows else None


# -- the ZIP ---------------------------------------------------------------------------


def _zip(files: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files:
            packed = name.endswith((".pdf", ".p7m"))  # already compressed
            z.writestr(name, data, zipfile.ZIP_STORED if packed else zipfile.ZIP_DEFLATED)
    return out.getvalue()


# -- the router ------------------------------------------------------------------------
