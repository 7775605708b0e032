"""What the family reads from the form to the sending: the form to sign and what it
declares (in their language; the form itself is Italian), the signed pages, the last
check, the PDFs to hand in themselves, and the send. Pure: texts and buttons."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from common.i18n import N_
from dossier.checklist import ItemStatus

from . import signedlines
from .buttons import Go, Stage
from .checklist_view import KEEP_THE_CODE, ChecklistView
from .formats import esc
from .replies import STATUS, Button, Reply

if TYPE_CHECKING:  # the form (fpdf, fonts) is loaded only when one is made
    from dossier.form import Declaration

SIGNING = N_("Ultimo passo: la firma")

REVIEW = N_("Controllo finale")

DECLARING = N_("Il modulo è in italiano perché va al Comune. Firmandolo, dichiarate queste cose:")

# What the form declares, one plain line each, in the family's language. The form itself
# stays Italian (dossier.form); every Declaration.key it prints has its line here.
UNDER_DPR_445 = N_(
    "Firmate sotto la vostra responsabilità. Lo dice il DPR 445/2000, la legge sulle "
    "autocertificazioni. Chi scrive il falso commette un reato e perde l'aiuto."
)

DECLARATION_LINES = {
    "residence": N_("La persona assistita abita in un Comune del bando."),
    "age": N_("La persona assistita ha l'età che chiede il bando."),
    "at_home": N_("La persona assistita vive a casa sua, non in una struttura."),
    "citizenship": N_("La cittadinanza, o il permesso di soggiorno, è quella scritta nel modulo."),
    "certifications": N_(
        "La persona assistita ha i verbali scritti nel modulo (invalidità, "
        "accompagnamento, L. 104)."
    ),
    "disability": N_("Il tipo di disabilità è quello scritto nel modulo."),
    "independent_living": N_(
        "La persona vive senza familiari in casa e senza un caregiver familiare."
    ),
    "isee": N_("L'ISEE scritto nel modulo è quello vero: tipo, valore e data."),
    "benefits": N_(
        "Gli altri aiuti scritti nel modulo sono tutti quelli che ricevete. Nessuno è "
        "vietato insieme alla B2."
    ),
    "first_application": N_("È la prima domanda per questo aiuto."),
    "caregiver": N_("Il familiare che assiste è come scritto nel modulo: parentela, casa, lavoro."),
    "assistant": N_("L'assistente lavora con il contratto e le ore scritti nel modulo."),
    "day_service": N_("Le ore al centro diurno sono quelle scritte nel modulo."),
    "report_changes": N_("Se qualcosa cambia, lo dite subito al Comune."),
    "truthful": N_("I dati del modulo e dei documenti sono veri e aggiornati."),
}

BANK_LINE = N_(
    "Il conto (IBAN) scritto nel modulo è giusto: il buono arriva lì. Firmate anche quella pagina."
)

PRIVACY_CONSENT = N_(
    "Il Comune può usare i vostri dati e quelli della persona assistita, anche sulla "
    "salute. Solo per questa domanda."
)
# the lines that name the person cared for, said to who signs for themselves
OWN_LINES = {
    "residence": N_("Abitate in un Comune del bando."),
    "age": N_("Avete l'età che chiede il bando."),
    "at_home": N_("Vivete a casa vostra, non in una struttura."),
    "certifications": N_(
        "Avete i verbali scritti nel modulo (invalidità, accompagnamento, L. 104)."
    ),
    "independent_living": N_("Vivete senza familiari in casa e senza un caregiver familiare."),
    "privacy": N_("Il Comune può usare i vostri dati, anche sulla salute. Solo per questa domanda."),
}


class SendingView(ChecklistView):
    def form_caption(self) -> str:
        return self._("Il modulo della domanda, già compilato.")

    def declarations(
        self, declarations: Sequence[Declaration], bank: bool = False, own: bool = False
    ) -> list[str]:
        """What the signer declares, one plain line per kind of declaration the form
        prints, in the family's language; a kind without its line shows as the form prints
        it, rather than not at all. `own`: the signer is the person cared for."""
        _ = self._
        lines = [esc(_(DECLARING)), "• " + esc(_(UNDER_DPR_445))]
        said: set[str] = set()
        for d in declarations:
            if d.key in said:
                continue
            said.add(d.key)
            line = (own and OWN_LINES.get(d.key)) or DECLARATION_LINES.get(d.key)
            lines.append("• " + (esc(_(line)) if line else f"<i>{esc(d.text)}</i>"))
        if bank:
            lines.append("• " + esc(_(BANK_LINE)))
        lines.append("• " + esc(_(OWN_LINES["privacy"] if own else PRIVACY_CONSENT)))
        return lines

    def sign_instructions(
        self,
        pages: int,
        declarations: Sequence[Declaration] = (),
        bank: bool = False,
        own: bool = False,
    ) -> Reply:
        """Before signing: what the form declares (when it is known; `bank`: it has the
        account page), then how to sign."""
        _ = self._
        lines = [f"<b>{esc(_(SIGNING))}</b>"]
        if declarations:
            lines += [*self.declarations(declarations, bank, own), ""]
        lines += [
            esc(_("1. Stampate il modulo e firmatelo in fondo.")),
            esc(
                _(
                    "2. Fate una foto della pagina e mandatela qui.",
                    "2. Fate una foto a ogni pagina ({n}) e mandatele qui.",
                    pages,
                ).format(n=pages)
            ),
            esc(_(KEEP_THE_CODE)),
            esc(_("Con la firma digitale: mandate il file firmato (.p7m o PDF firmato).")),
            esc(_("Non potete stampare? Chiedete aiuto ai servizi sociali del Comune.")),
        ]
        return Reply("\n".join(lines))

    def signed_progress(self, s: ItemStatus, form_pages: int, sendable: bool = True) -> Reply:
        _ = self._
        if s.signed:
            text = _("Ricevuto il file con firma digitale.")
        else:
            text = _("Pagine firmate ricevute: {got} di {pages}.").format(
                got=s.pages - len(s.unsigned), pages=form_pages
            )
        buttons = []
        if s.done:
            label = _("✅ Controlla e invia") if sendable else _("✅ Controlla")
            buttons = [[Button(label, Go(step=Stage.REVIEW).pack())]]
        return Reply(esc(text), buttons, slot=STATUS)

    def review(
        self,
        dossier_id: str,
        statuses: list[ItemStatus],
        submission: dict[str, Any],
        sendable: bool,
    ) -> Reply:
        _ = self._
        lines = [f"<b>{esc(_(REVIEW))}</b> · {esc(self.fmt.embed(dossier_id))}"]
        for s in statuses:
            if s.files:
                lines.append(self.item_line(s))
        left = [s for s in statuses if s.item.required and not s.done]
        if left:
            lines.append(esc(_("Mancano ancora:")))
            for s in left:  # the signed form: which pages, and which are not signed
                lines.append(f"⬜ {esc(_(s.item.title))}")
                lines += signedlines.missing(_, s, self.signature) if s.form_pages else []
            return Reply(
                "\n".join(lines),
                [[Button(_("📋 Documenti"), Go(step=Stage.CHECKLIST).pack())]],
                slot=STATUS,
            )
        if sendable:
            lines.append(
                esc(
                    _("La mandiamo per PEC a: {address}").format(
                        address=submission.get("address") or ""
                    )
                )
            )
            lines.append(esc(_("Riceverete una copia qui. Inviamo adesso?")))
            buttons = [
                [Button(_("📨 Sì, invia"), Go(step=Stage.SEND).pack())],
                [Button(_("📋 Non ancora"), Go(step=Stage.CHECKLIST).pack())],
            ]
        else:
            lines.append(esc(_("Vi mando i PDF pronti, da consegnare voi.")))
            buttons = [[Button(_("📦 Mandami i PDF"), Go(step=Stage.BUNDLE).pack())]]
        return Reply("\n".join(lines), buttons, slot=STATUS)

    def how_to_send(self, review: Reply, sendable: bool) -> Reply:
        """Text typed at the last check, every signed page here ("invio?", "non inviare
        ancora"): the last check again, with how to send (nothing goes without the tap)."""
        _ = self._
        if sendable:
            line = _("Per inviare toccate «{button}». Finché non lo toccate, non parte niente.")
            line = line.format(button=_("📨 Sì, invia"))
        else:
            line = _("Per avere i PDF toccate «{button}».").format(button=_("📦 Mandami i PDF"))
        review.text = esc(line) + "\n\n" + review.text
        return review

    def bundle_directions(
        self, submission: dict[str, Any], notice: dict[str, Any] | None = None
    ) -> Reply:
        _ = self._
        lines = [esc(_("Ecco i PDF della domanda, uno per documento."))]
        if notice and notice.get("closes"):
            lines.append(esc(_("Scadenza: {date}").format(date=self.fmt.iso(notice["closes"]))))
        address = submission.get("address")
        if submission.get("channel") == "online_platform" and address:
            lines.append(esc(_("Caricateli sulla piattaforma: {address}").format(address=address)))
        elif submission.get("channel") == "office" and address:
            lines.append(esc(_("Portateli stampati a: {address}").format(address=address)))
        else:
            lines.append(
                esc(_("Il bando non dice dove mandarli: chiedete ai servizi sociali del Comune."))
            )
        if submission.get("text"):
            lines.append(f"<i>{esc(_(submission['text']))}</i>")
        return Reply("\n".join(lines))

    def queued(self) -> Reply:
        return Reply(
            esc(self._("Fatto: la domanda è in coda per l'invio. Vi scriviamo qui a ogni passo.")),
            slot=STATUS,  # sent: «Sì, invia» and the rest lose their buttons
        )

    def manifest_caption(self) -> str:
        return self._(
            "L'elenco dei file con la loro impronta: serve al Comune per controllarli. "
            "Non dovete farci niente."
        )

    def form_reset(self) -> Reply:
        return Reply(
            "⚠️ "
            + esc(
                self._(
                    "Le risposte sono cambiate: il modulo firmato non vale più. Alla fine "
                    "firmerete quello nuovo."
                )
            )
        )

    def window_closed(self, notice: dict[str, Any]) -> Reply:
        _ = self._
        if notice.get("closes"):
            text = _(
                "Il bando è chiuso dal {date}: la domanda non si può più inviare. Chiedete "
                "ai servizi sociali del Comune. I vostri file restano salvati."
            ).format(date=self.fmt.iso(notice["closes"]))
        else:
            text = _(
                "Il bando non è aperto: la domanda non si può inviare ora. Chiedete ai "
                "servizi sociali del Comune. I vostri file restano salvati."
            )
        return Reply("⚠️ " + esc(text))

    def already_sent(self, dossier: dict[str, Any]) -> Reply:
        _ = self._
        return Reply(
            esc(
                _(
                    "Avete già inviato la domanda {id} per questo bando. Non serve rifarla: "
                    "vi scriviamo qui a ogni passo. Per cambiare qualcosa, parlate con i "
                    "servizi sociali."
                ).format(id=dossier["id"])
            )
        )
