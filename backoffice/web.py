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
import datetime as dt
import io
import json
import logging
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from dialogs.flow import Dialog, facts_of
from dialogs.identity import ROLE_ON_FORM
from dialogs.questions import BY_KEY
from dossier import checklist
from dossier.assemble import MANIFEST_NAME, PHOTO_KINDS, assemble, photo_jpeg, slugify
from dossier.checklist import ChecklistItem
from dossier.desk import UNASSIGNED, Desk
from eligibility import check
from storage import audit, integrations, receipts
from storage import dossiers as store
from storage import outbox as outbox_store
from storage import staff as accounts
from storage.blobs import BlobError
from storage.staff import Session, Staff

from . import auth, formatting
from .deps import Services

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
PAGE_SIZE = 50
PREVIEW_SIDE = 1200
ZIP_BUDGET = 10**12  # the ZIP is no e-mail: photos at their best level, one "message"
NOTE_MAX = 1000
PROTOCOL_MAX = 40

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
formatting.install(_env)
templates = Jinja2Templates(env=_env)

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
FILE_HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

STATUS_LABELS = {
    "bozza": "Bozza",
    "pronta": "Pronta per l'invio",
    "in_invio": "In invio",
    "inviata": "Inviata",
    "accettata": "Accettata dal gestore PEC",
    "consegnata": "Consegnata al protocollo",
    "integrazione_richiesta": "Integrazione richiesta",
    "integrata": "Integrata dalla famiglia",
    "errore": "Errore di invio",
}
EVENT_LABELS = {
    **STATUS_LABELS,
    "integrazione_richiesta": "Integrazione chiesta alla famiglia",
    "integrata": "La famiglia ha mandato i documenti chiesti",
    "purge_warning": "Famiglia avvisata: i file saranno cancellati",
    "purged": "File cancellati (fine del periodo di conservazione)",
}
VERDICT_LABELS = {
    "eligible": "Requisiti presenti",
    "conditional": "Requisiti presenti, con condizioni da verificare",
    "not_eligible": "Requisiti non presenti",
    "undetermined": "Non determinabile",
}
OUTCOME_LABELS = {
    "met": "soddisfatto",
    "failed": "non soddisfatto",
    "pending": "in attesa",
    "ask": "da verificare",
}
OUTBOX_LABELS = {
    "pending": "in attesa di invio",
    "sending": "in invio",
    "sent": "inviato",
    "saved": "salvato nella cartella, NON inviato",
    "uncertain": "esito incerto",
    "failed": "non inviato",
}
RECEIPT_LABELS = {
    "accettazione": "Ricevuta di accettazione",
    "non-accettazione": "Avviso di non accettazione",
    "presa-in-carico": "Ricevuta di presa in carico",
    "avvenuta-consegna": "Ricevuta di avvenuta consegna",
    "errore-consegna": "Avviso di mancata consegna",
    "preavviso-errore-consegna": "Preavviso di mancata consegna",
    "rilevazione-virus": "Avviso di rilevazione virus",
}
REQUEST_LABELS = {
    "pending": "registrata, la famiglia non è ancora stata avvisata",
    "sent": "comunicata alla famiglia",
    "answered": "la famiglia ha risposto",
}
REASONS = {"mancante": "manca", "illeggibile": "non si legge"}
KIND_LABELS = {
    "jpeg": "Foto (JPEG)",
    "png": "Immagine (PNG)",
    "webp": "Immagine (WebP)",
    "heic": "Foto (HEIC)",
    "pdf": "PDF",
    "p7m": "File firmato digitalmente (.p7m)",
}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "heic": "heic", "pdf": "pdf"}
# a request can be made once the comune has the application (not while one is open)
CAN_REQUEST = ("inviata", "accettata", "consegnata", "integrata")


# -- small helpers ---------------------------------------------------------------------


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
                    "Troppi tentativi non riusciti: l'accesso con questa e-mail è sospeso. "
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
        audit.log(svc.db, session.staff, "logout", at=svc.clock())
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
        audit.log(svc.db, session.staff, "view_dossier", dossier_id, at=svc.clock())
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
        audit.log(
            svc.db,
            session.staff,
            "download_file",
            dossier_id,
            {"attachment": attachment_id, "item": row["item_id"], "sha256": row["sha256"]},
            at=svc.clock(),
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
        audit.log(
            svc.db,
            session.staff,
            "view_preview",
            dossier_id,
            {"attachment": attachment_id, "item": row["item_id"]},
            at=svc.clock(),
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
        audit.log(svc.db, session.staff, "record_protocol", dossier_id, detail, at=svc.clock())
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
        audit.log(
            svc.db,
            session.staff,
            "request_integration",
            dossier_id,
            {"request": request_id, "items": items},
            at=svc.clock(),
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
