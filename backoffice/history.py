"""A dossier's history (status events, outbox messages, PEC receipts, in time order)
and its integration requests, as the dossier page shows them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from storage import dossiers as store
from storage import integrations, receipts
from storage import outbox as outbox_store
from storage import staff as accounts

from . import formatting
from .deps import Services
from .labels import EVENT_LABELS, OUTBOX_LABELS, REASONS, RECEIPT_LABELS, REQUEST_LABELS


def moment_of(text: str | None) -> dt.datetime:
    """A stored time (ISO, UTC when it has no offset); the earliest time when unreadable."""
    try:
        when = dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        when = None
    if when is None:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _event_detail(status: str, detail: dict[str, Any], titles: dict[str, str]) -> str:
    parts = []
    if detail.get("saved_to_folder"):
        parts.append("salvata nella cartella dello sportello, non inviata per PEC")
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


def _retry(detail: dict[str, Any], at: str | None) -> tuple[str, str]:
    """A delivery that did not go and will be tried again, as staff read it: why, when the
    next try is, whether the family was told, and the mail server's own words."""
    attempt = int(detail.get("attempt") or 1)
    code = detail.get("code")
    if code:
        why = f"la casella PEC ha rifiutato per ora il messaggio (codice {code})"
    else:
        why = "la casella PEC non ha risposto"
    what = "Invio non riuscito" + (f" (tentativo {attempt})" if attempt > 1 else "")
    parts = [why]
    if detail.get("parts") and int(detail["parts"]) > 1:
        parts.insert(0, f"messaggio {detail['part']} di {detail['parts']}")
    when = detail.get("next_at")
    if when:
        same_day = formatting.day(when) == formatting.day(at)
        hour = formatting.hour(when)
        parts.append(
            f"nuovo tentativo alle {hour}"
            if same_day
            else f"nuovo tentativo il {formatting.day(when)} alle {hour}"
        )
    if attempt == 1 and int(detail.get("part") or 1) == 1:
        parts.append("famiglia avvisata")
    if detail.get("error"):
        parts.append(f"risposta del server: {detail['error']}")
    return what, "; ".join(parts)


def _asked(items: list[str], titles: dict[str, str]) -> list[str]:
    out = []
    for entry in items:
        item_id, _sep, reason = str(entry).partition(":")
        out.append(f"{titles.get(item_id, item_id)}: {REASONS.get(reason, 'manca')}")
    return out


def history_rows(svc: Services, dossier: dict[str, Any], titles: dict[str, str]) -> list[dict]:
    rows: list[dict[str, Any]] = []
    for e in store.history(svc.db, dossier["id"]):
        if e["status"] == "riprova":
            what, said = _retry(e["detail"], e["at"])
        else:
            what = EVENT_LABELS.get(e["status"], e["status"])
            said = _event_detail(e["status"], e["detail"], titles)
        rows.append({"at": e["at"], "source": "Pratica", "what": what, "detail": said})
    for o in outbox_store.rows_of(svc.db, dossier["id"]):
        detail = [f"a {o['recipient']}", f"tentativi: {o['attempts'] or 0}"]
        if o["status"] == "pending" and o["attempts"] and o["next_attempt_at"]:
            detail.append(f"prossimo tentativo: {formatting.moment(o['next_attempt_at'])}")
        if o["last_error"]:
            detail.append(f"ultimo errore: {o['last_error']}")
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
    rows.sort(key=lambda r: moment_of(r["at"]))
    return rows


def requests_of(
    svc: Services, dossier: dict[str, Any], titles: dict[str, str], day: dt.date
) -> list[dict]:
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
                "item_ids": [str(i).partition(":")[0] for i in r["items"]],
                "note": r["note"],
                "status": REQUEST_LABELS.get(r["status"], r["status"]),
                "open": r["status"] != "answered",
                "sent_at": r["sent_at"],
                "answered_at": r["answered_at"],
                "due_on": r.get("due_on"),
                "overdue": bool(r.get("due_on"))
                and r["status"] != "answered"
                and str(r["due_on"]) < day.isoformat(),
                "reminded_at": r.get("reminded_at"),
            }
        )
    return out
