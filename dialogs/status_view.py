"""What the family reads after sending: where the application stands (each status
change, the last PEC receipt, a delivery being retried, the outcome), and the social
services' requests for more documents. Pure: texts and buttons."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from common.i18n import N_
from dossier.checklist import ItemStatus

from .buttons import Go, Item, OpenRequest, Stage
from .checklist_view import ChecklistView
from .formats import esc, in_italy
from .languages import fill
from .replies import STATUS, Button, Reply

RECEIPT_KINDS = {
    "accettazione": N_("il gestore PEC ha accettato la domanda"),
    "avvenuta-consegna": N_("consegnata alla casella del protocollo"),
}

RECEIPT_ERROR = N_("errore di consegna")

# /cancella_dati once an application has left: we erase only our copy
SENT_STAYS = N_(
    "La domanda già inviata resta al Comune che l'ha ricevuta: noi possiamo cancellare "
    "solo la nostra copia. Per ritirarla, scrivete ai servizi sociali del Comune."
)


class StatusView(ChecklistView):
    def acknowledged(self, st: dict[str, Any], receipts: bool = True) -> Reply:
        """A text typed after sending ("grazie"): a kind word, then where the application
        stands; the buttons of the status on screen stay (no slot, no buttons)."""
        standing = self.standing(st, copy=False, receipts=receipts)
        said = esc(self._("Ricevuto, grazie. Ecco a che punto è la domanda:"))
        return Reply(f"{said}\n{standing.text}")

    def standing(self, st: dict[str, Any], copy: bool = True, receipts: bool = True) -> Reply:
        """/start or /documenti after sending: where the application stands, its last
        PEC receipt, a delivery being retried, and what comes next."""
        _ = self._
        lines = [f"<b>{esc(_('La vostra domanda'))}</b> · {esc(self.fmt.embed(st['id']))}"]
        if st["event"] is not None:
            lines.append(self.status(st["event"]))
        if st["retry_at"]:
            text = _(
                "La casella PEC da cui la mandiamo non risponde in questo momento. Riproviamo "
                "da soli {when}: non dovete fare niente, la domanda è salvata."
            )
            lines.append(
                "⏳ " + fill(esc(text), self.fmt.language, when=self._when(st["retry_at"]))
            )
        receipt = st["receipt"]
        status = st["status"]
        if (
            status == "consegnata"
            and receipt is not None
            and receipt["kind"] == "avvenuta-consegna"
        ):
            receipt = None  # the status line already says when it was delivered
        if receipt is not None:
            kind = _(RECEIPT_KINDS.get(receipt["kind"], RECEIPT_ERROR))
            text = _("Ultima ricevuta PEC: {kind}, {when}.")
            lines.append(
                fill(esc(text), self.fmt.language, kind=esc(kind), when=self._when(receipt["at"]))
            )
        if status in ("consegnata", "integrata"):
            lines.append(
                esc(
                    _(
                        "Ora decidono i servizi sociali. Se chiedono altri documenti o vi danno "
                        "l'esito, vi scriviamo qui."
                    )
                )
            )
        elif status in ("pronta", "in_invio", "inviata", "accettata") and receipts:
            lines.append(
                esc(_("Quando la casella del protocollo la riceve, vi scriviamo qui con la data."))
            )
        elif status in ("pronta", "in_invio"):  # no PEC receipts read here: no such promise
            lines.append(esc(_("Quando parte, vi scriviamo qui.")))
        buttons = [[Button(_("📦 Mandami la copia"), Go(step=Stage.COPY).pack())]] if copy else []
        return Reply("\n".join(lines), buttons, slot=STATUS)

    def closed_for_changes(self) -> Reply:
        return Reply(
            esc(
                self._(
                    "Questa domanda è chiusa: non si possono aggiungere file. Vi scriviamo "
                    "qui a ogni passo. Se il Comune chiede altro, vi scriviamo noi."
                )
            )
        )

    def copy_failed(self) -> Reply:
        return Reply(
            "⚠️ "
            + esc(
                self._(
                    "Non sono riuscito a mandarvi la copia dei file. La domanda è comunque "
                    "salva. Per riaverla, toccate qui."
                )
            ),
            [[Button(self._("📦 Mandami la copia"), Go(step=Stage.COPY).pack())]],
        )

    def integration_request(self, event: dict[str, Any], checklist: list[dict[str, Any]]) -> Reply:
        """The social services ask for more: which documents, why, their note, and a button."""
        _ = self._
        detail = event.get("detail") or {}
        titles = {i["id"]: i["title"] for i in checklist}
        kind = event.get("status")
        if kind == "integrazione_aggiunta":
            intro = _("I servizi sociali chiedono anche questi documenti per la domanda {id}:")
        elif kind == "integrazione_promemoria":
            intro = _("Promemoria: i servizi sociali aspettano ancora per la domanda {id}:")
        else:
            intro = _("I servizi sociali chiedono altri documenti per la domanda {id}:")
        lines = ["📨 " + esc(intro.format(id=event["dossier_id"]))]
        for entry in detail.get("items") or []:
            item_id, _sep, reason = str(entry).partition(":")
            title = _(titles.get(item_id, item_id))
            if reason == "illeggibile":
                lines.append(
                    "• " + esc(_("{title}: non si legge, mandatelo di nuovo").format(title=title))
                )
            else:
                lines.append("• " + esc(_("{title}: manca").format(title=title)))
        if detail.get("note"):
            lines.append(esc(_("La loro nota: «{note}»").format(note=detail["note"])))
        if detail.get("due_on"):
            with contextlib.suppress(ValueError):
                due = self.fmt.date(dt.date.fromisoformat(str(detail["due_on"])))
                lines.append(esc(_("Mandateli entro il {date}.").format(date=due)))
        lines.append(esc(_("Mandate qui le foto o i PDF, come prima.")))
        if not detail.get("request"):
            return Reply("\n".join(lines))
        button = Button(_("📎 Mando i documenti"), OpenRequest(request=detail["request"]).pack())
        return Reply("\n".join(lines), [[button]])

    def integration_filed(self, s: ItemStatus, others: list[tuple[int, ItemStatus]]) -> Reply:
        _ = self._
        lines = [
            self.item_line(s),
            esc(_("Altri file? Mandateli. Quando avete finito, toccate qui.")),
        ]
        buttons = [[Button(f"📎 {_(o.item.title)}", Item(index=i).pack())] for i, o in others]
        buttons.append([Button(_("✅ Ho mandato tutto"), Go(step=Stage.REQUEST_DONE).pack())])
        return Reply("\n".join(lines), buttons)

    def integration_start(self, asked: list[tuple[int, ItemStatus]]) -> Reply:
        _ = self._
        lines = [esc(_("Bene. Toccate il documento, poi mandate le foto o i PDF."))]
        buttons = [[Button(f"📎 {_(s.item.title)}", Item(index=i).pack())] for i, s in asked]
        return Reply("\n".join(lines), buttons)

    def status(self, event: dict[str, Any]) -> str:
        """One status change, as the family reads it."""
        _ = self._
        detail = event.get("detail") or {}
        dossier = esc(event["dossier_id"])
        at = self._when(event.get("at"))
        status = event["status"]
        if status == "pronta" and detail.get("requeued"):
            text = _("La domanda {id} riparte adesso per PEC. Vi scriviamo quando arriva.")
        elif status == "pronta":
            text = _("La domanda {id} è pronta e sta per partire.")
        elif status == "in_invio":
            text = _("Stiamo inviando la domanda {id}.")
        elif status == "riprova":
            text = _(
                "La casella PEC da cui mandiamo la domanda {id} non risponde. Riproviamo da "
                "soli {when}: non dovete fare niente, la domanda è salvata."
            )
            at = self._when(detail.get("next_at"))
        elif status == "salvata" or detail.get("saved_to_folder"):
            text = _(
                "La domanda {id} è salvata ma NON inviata: questo servizio non ha ancora "
                "una casella PEC. Per non perdere il bando, consegnatela voi con la copia "
                "che avete qui: per PEC o all'Ufficio Protocollo, entro la scadenza."
            )
        elif status == "inviata":
            text = _("La domanda {id} è partita per PEC verso {address}.")
        elif status == "accettata":
            text = _("Il gestore PEC ha accettato la domanda {id} {when}.")
        elif status == "consegnata":
            text = _("Consegnata {when} alla casella del protocollo: {address}. Pratica {id}.")
        elif status == "errore":
            reason = detail.get("reason") or detail.get("kind")
            if reason == "uncertain":
                text = _(
                    "Non siamo sicuri che la domanda {id} sia partita. La controlliamo noi: "
                    "non serve rifarla."
                )
            elif reason == "refused":
                text = _(
                    "La casella del Comune ha rifiutato la domanda {id}. La controlliamo e vi "
                    "scriviamo."
                )
            else:
                text = _(
                    "La domanda {id} non è stata consegnata. La controlliamo e vi scriviamo. "
                    "I documenti restano salvati."
                )
        elif status == "purge_warning":
            text = _(
                "Domani cancelliamo i file della domanda {id}. La copia che avete ricevuto "
                "resta vostra.",
                "Tra {n} giorni cancelliamo i file della domanda {id}. La copia che avete "
                "ricevuto resta vostra.",
                int(detail.get("days") or 0),
            )
        elif status == "integrata":
            text = _(
                "Grazie: i documenti chiesti per la domanda {id} sono arrivati ai servizi sociali."
            )
        elif status == "esito":
            text = self.outcome(detail)
        elif status == "purged":
            text = _(
                "Come previsto, abbiamo cancellato i file della domanda {id}. Le ricevute "
                "della consegna restano."
            )
        else:
            text = _("La domanda {id} ha cambiato stato.")
        values = {
            "id": dossier,
            "address": esc(str(detail.get("recipient") or "")),
            "municipality": esc(event.get("municipality") or ""),
            "when": at,
            "n": detail.get("days", ""),
            "position": detail.get("position", ""),
            "reason": esc(str(detail.get("reason") or "")),
        }
        # escaping leaves the {placeholders} alone; the values are escaped already
        return fill(esc(text), self.fmt.language, **values)

    def outcome(self, detail: dict[str, Any]) -> str:
        """The outcome of the application after the comune's review: a template, not
        escaped, whose {id}, {position} and {reason} `status` fills in."""
        _ = self._
        outcome = detail.get("outcome")
        if outcome == "ammessa":
            return _(
                "Buone notizie: la domanda {id} è stata ammessa dai servizi sociali. "
                "Vi contatteranno per i passi successivi."
            )
        if outcome == "finanziata":
            return _(
                "La domanda {id} è stata finanziata: riceverete il buono. I servizi sociali "
                "vi diranno importo e tempi."
            )
        if outcome == "in_graduatoria":
            if detail.get("position"):
                return _(
                    "La domanda {id} è in graduatoria, al posto {position}. Vi scriviamo se "
                    "arrivano i fondi."
                )
            return _("La domanda {id} è in graduatoria. Vi scriviamo se arrivano i fondi.")
        if outcome == "esclusa":
            text = _("La domanda {id} non è stata accolta dai servizi sociali.")
            if detail.get("reason"):  # a value, filled in by `status`: braces in it are text
                text += " " + _("Il motivo: «{reason}».")
            return (
                text
                + " "
                + _("Per chiarimenti o per fare ricorso, chiamate i servizi sociali del Comune.")
            )
        return _("La domanda {id} ha cambiato stato.")

    def _when(self, at: str | None) -> str:
        if not at:
            return ""
        try:
            moment = in_italy(dt.datetime.fromisoformat(at))
        except ValueError:
            return ""
        return self._("il {date} alle {time}").format(
            date=self.fmt.date(moment.date()), time=self.fmt.time(moment)
        )
