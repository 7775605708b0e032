"""A dossier that did not reach the comune, explained at the top of its page: the cause
in plain Italian and who acts (the office, the operator of the service, the family).
How the service is configured is said to operators (admin accounts) only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.staff import Staff

FULL = ("piena", "full", "quota", "over quota", "552")


@dataclass
class Problem:
    title: str
    cause: str
    office: str  # what the social services do
    operator: str  # what the operator of the service does
    config: str | None = None  # for operators only: what to configure


def _cause_of_error(detail: dict[str, Any], last_error: str) -> str:
    text = f"{detail.get('error') or ''} {last_error}".casefold()
    kind = detail.get("kind") or ""
    if any(word in text for word in FULL):
        return "La casella PEC del protocollo è piena: il messaggio non è stato consegnato."
    if detail.get("reason") == "uncertain":
        return (
            "Il collegamento con il server di posta si è interrotto durante l'invio: non si "
            "sa se la domanda sia partita."
        )
    if kind == "non-accettazione":
        return "Il gestore PEC dello sportello non ha accettato il messaggio."
    if kind in ("errore-consegna", "preavviso-errore-consegna"):
        return (
            "Il gestore PEC del Comune non ha consegnato il messaggio alla casella del protocollo."
        )
    if kind == "rilevazione-virus":
        return "Il gestore PEC ha segnalato un virus in un allegato: il messaggio è stato fermato."
    if detail.get("reason") == "refused":
        return "Il server di posta ha rifiutato il messaggio."
    return "L'invio per PEC non è riuscito."


def problem_of(
    dossier: dict[str, Any],
    history: list[dict[str, Any]],
    outbox: list[dict[str, Any]],
    staff: Staff,
) -> Problem | None:
    """What went wrong with this dossier's delivery, or None."""
    status = dossier["status"]
    if status == "errore":
        detail = next((e["detail"] for e in reversed(history) if e["status"] == "errore"), {})
        last_error = next((o["last_error"] for o in reversed(outbox) if o["last_error"]), "")
        cause = _cause_of_error(detail, last_error or "")
        full = "piena" in cause
        return Problem(
            title="La domanda non è arrivata al Comune",
            cause=cause,
            office=(
                "Liberate spazio nella casella PEC del protocollo (o chiedetelo a chi la "
                "gestisce), poi avvisate l'operatore dello sportello."
                if full
                else "Non serve fare nulla sulla pratica: la famiglia sa che la stiamo "
                "controllando. Se la domanda vi arriva per altra via, registratene il protocollo."
            ),
            operator=(
                "L'operatore dello sportello controlla la casella PEC e, risolto il "
                "problema, rimanda la domanda."
            ),
            config=(
                (f"Ultimo errore del server di posta: {last_error}. " if last_error else "")
                + f"Per rimandarla: sportello outbox --requeue {dossier['id']}"
            )
            if staff.is_admin
            else None,
        )
    if status == "salvata":
        return Problem(
            title="La domanda non è stata inviata",
            cause=(
                "Lo sportello non ha inviato la domanda per PEC: l'ha salvata. La famiglia ne "
                "ha la copia completa."
            ),
            office=(
                "La famiglia consegna la domanda da sé (per PEC o all'Ufficio Protocollo). "
                "Quando arriva, trattatela come le altre domande cartacee."
            ),
            operator="L'operatore dello sportello configura la casella PEC di invio.",
            config=(
                "Nessuna casella PEC configurata (SMTP_HOST non impostato): i messaggi sono "
                "salvati nella cartella outbox dello sportello."
            )
            if staff.is_admin
            else None,
        )
    return None
