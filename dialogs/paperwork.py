"""What the family reads while preparing the application: identity questions, the
checklist, what each upload became, the form to sign, the last check before sending,
and every status change afterwards. Pure: texts and buttons, no Telegram, no storage.

The buttons are the typed classes of `dialogs.buttons`; the controller that receives them
(`dialogs.application`) checks every press against the state, so a forged or old button
only shows the checklist again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from common.i18n import N_
from dossier.checklist import ItemStatus
from dossier.files import FileRefused
from dossier.people import iban_shown, phone_shown

from .buttons import Choose, FileAs, Go, Item, Move, OpenRequest, Redo, Skip, Stage
from .flow import Button, Reply
from .formats import Formats, esc
from .identity import IdentityQuestion, options
from .languages import SOURCE, Translate, fill

if TYPE_CHECKING:  # the form (fpdf, fonts) is loaded only when one is made
    from dossier.form import Declaration

PREPARE = N_("Prepariamo la domanda")
DOCUMENTS = N_("Documenti della domanda")
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
    "assistant": N_("L'assistente è assunto come scritto nel modulo: contratto e ore."),
    "day_service": N_("Le ore al centro diurno sono quelle scritte nel modulo."),
    "report_changes": N_("Se qualcosa cambia, lo dite subito al Comune."),
    "truthful": N_("I dati del modulo e dei documenti sono veri e aggiornati."),
}
IN_FORM = N_("è nel modulo da firmare, con il vostro IBAN")
BANK_LINE = N_(
    "Il conto (IBAN) scritto nel modulo è giusto: il buono arriva lì. Firmate anche quella pagina."
)
PRIVACY_CONSENT = N_(
    "Il Comune può usare i vostri dati e quelli della persona assistita, anche sulla "
    "salute. Solo per questa domanda."
)


RECEIPT_KINDS = {
    "accettazione": N_("il gestore PEC ha accettato la domanda"),
    "avvenuta-consegna": N_("consegnata alla casella del protocollo"),
}
RECEIPT_ERROR = N_("errore di consegna")


class PaperworkView:
    def __init__(self, gettext: Translate, language: str = SOURCE):
        self._ = gettext
        self.fmt = Formats(language)

    # -- identity ---------------------------------------------------------------------

    def intro(self, dossier_id: str, sendable: bool, submission: dict[str, Any]) -> Reply:
        _ = self._
        lines = [f"<b>{esc(_(PREPARE))}</b> · {esc(self.fmt.embed(dossier_id))}"]
        if sendable:
            lines.append(
                esc(
                    _(
                        "Vi chiedo i dati per il modulo, poi i documenti. Alla fine la "
                        "inviamo noi al Comune, per PEC: {address}"
                    ).format(address=submission.get("address") or "")
                )
            )
        else:
            lines.append(
                esc(
                    _(
                        "Questo bando non prende la domanda per e-mail. Vi aiuto a preparare "
                        "il modulo e i documenti in PDF. Poi li consegnate voi."
                    )
                )
            )
        lines.append(esc(_("La verifica è preliminare: decidono i servizi sociali.")))
        return Reply("\n".join(lines))

    def question(self, q: IdentityQuestion, identity: dict[str, str] | None = None) -> Reply:
        _ = self._
        lines = [esc(_(q.prompt))]
        if q.example:
            lines.append(esc(_("Per esempio: {example}").format(example=q.example)))
        buttons: list[list[Button]] = []
        if q.kind == "choice":
            buttons = [
                [Button(_(label), Choose(option=i).pack())]
                for i, (_v, label) in enumerate(options(q, identity or {}))
            ]
        if q.optional:
            buttons.append([Button(_("Non ce l'ho · Avanti"), Skip().pack())])
        return Reply("\n".join(lines), buttons)

    def shown(self, q: IdentityQuestion, value: str) -> str:
        """An identity answer as the family reads it back: the phone and the IBAN in
        groups, a date in their language."""
        if q.kind == "phone":
            return phone_shown(value)
        if q.kind == "iban":
            return iban_shown(value)
        if q.kind == "date":
            with contextlib.suppress(ValueError):
                return self.fmt.date(dt.date.fromisoformat(value))
        return value

    # -- the checklist ----------------------------------------------------------------

    def pages(self, n: int) -> str:
        return self._("{n} pagina", "{n} pagine", n).format(n=n)

    def item_line(self, s: ItemStatus) -> str:
        _ = self._
        title = esc(_(s.item.title))
        if s.item.in_form:
            return f"✅ {title}: {esc(_(IN_FORM))}"
        if s.done:
            extra = _("firmato digitalmente") if s.signed else self.pages(s.pages)
            return f"✅ {title}: {esc(extra)}"
        if s.files:
            left = _(
                "{got}, manca ancora una pagina",
                "{got}, mancano ancora {n} pagine",
                s.pages_missing,
            ).format(got=self.pages(s.pages), n=s.pages_missing)
            return f"🟡 {title}: {esc(left)}"
        hint = _("fronte e retro") if s.item.pages == 2 else ""
        optional = _("facoltativo") if not s.item.required else ""
        extra = ", ".join(x for x in (hint, optional) if x)
        return f"⬜ {title}" + (f" ({esc(extra)})" if extra else "")

    def checklist(
        self, dossier_id: str, statuses: list[ItemStatus], *, ready_for_form: bool, stage: str
    ) -> Reply:
        _ = self._
        lines = [f"<b>{esc(_(DOCUMENTS))}</b> · {esc(self.fmt.embed(dossier_id))}"]
        for s in statuses:
            if s.item.signed_form and stage == "documents" and not s.files:
                continue  # the form comes after the documents
            lines.append(self.item_line(s))
        lines += self.our_form_notes(statuses)
        buttons: list[list[Button]] = []
        if stage == "signing":
            lines.append("")
            lines.append(esc(_("Ora mandate le foto delle pagine firmate del modulo.")))
        if stage == "documents":
            lines.append("")
            lines.append(
                esc(
                    _(
                        "Toccate un documento, poi mandate le foto o i PDF qui in chat. "
                        "Anche più foto insieme."
                    )
                )
            )
        if stage in ("documents", "signing"):
            for i, s in enumerate(statuses):
                if not s.done and not s.item.signed_form:
                    buttons.append([Button(f"📎 {_(s.item.title)}", Item(index=i).pack())])
            if any(s.files for s in statuses):
                buttons.append([Button(_("🔁 Rifai un documento"), Redo().pack())])
            if ready_for_form and stage == "documents":
                buttons.append(
                    [Button(_("📝 Prepara il modulo da firmare"), Go(step=Stage.FORM).pack())]
                )
            if stage == "signing":
                buttons.append(
                    [Button(_("📝 Il modulo da firmare, di nuovo"), Go(step=Stage.FORM).pack())]
                )
            buttons.append(
                [Button(_("✏️ Correggi i dati del modulo"), Go(step=Stage.DETAILS).pack())]
            )
        return Reply("\n".join(lines), buttons)

    def our_form_notes(self, statuses: list[ItemStatus]) -> list[str]:
        """What our form stands for: the notice's own application form (it carries every
        declaration the notice asks) and its bank annex (and what we cannot know of it)."""
        _ = self._
        lines = []
        for s in statuses:
            if s.item.signed_form and s.item.filled_by == "form" and s.item.annex:
                text = _(
                    "Il modulo da firmare lo prepariamo noi, al posto di quello del bando "
                    "({annex}): ha tutte le dichiarazioni che il bando chiede."
                )
                lines.append("ℹ️ " + esc(text.format(annex=s.item.annex)))
            elif s.item.in_form and s.item.annex:
                text = _(
                    "Al posto del modulo del bando ({annex}) mettiamo una pagina nel modulo "
                    "da firmare. Il bando non dice quali dati chiede quel modulo: la nostra "
                    "pagina ha intestatario, codice fiscale, IBAN e banca. Se il Comune "
                    "chiede altro, ve lo dirà."
                )
                lines.append("ℹ️ " + esc(text.format(annex=s.item.annex)))
        return lines

    def send_now(self, s: ItemStatus) -> Reply:
        _ = self._
        if s.item.signed_form:  # after "Rifai": our form, to sign again
            return Reply(
                esc(
                    _(
                        "Il modulo lo prepariamo noi. Stampatelo, firmatelo e mandate qui "
                        "le foto di tutte le pagine."
                    )
                )
            )
        lines = [
            esc(_("Mandate ora: {title}").format(title=_(s.item.title))),
            f"<i>{esc(_(s.item.text))}</i>",
        ]
        if s.item.pages == 2:
            lines.append(esc(_("Servono fronte e retro: due foto, o un PDF.")))
        if "All." in s.item.text and not s.item.filled_by:
            lines.append(
                esc(
                    _(
                        "È un modulo allegato al bando: chiedetelo ai servizi sociali del "
                        "Comune, compilatelo e mandatene la foto."
                    )
                )
            )
        return Reply("\n".join(lines))

    def filed(self, s: ItemStatus, statuses: list[ItemStatus], album: bool) -> Reply:
        _ = self._
        lines = [self.item_line(s)]
        buttons: list[list[Button]] = []
        if album:
            return Reply(lines[0])
        if not s.done:
            lines.append(esc(_("Mandate la pagina che manca.")))
        else:
            lines.append(esc(_("Altre pagine? Mandatele. Se no, scegliete il prossimo.")))
            for i, other in enumerate(statuses):
                if not other.done and not other.item.signed_form:
                    buttons.append([Button(f"📎 {_(other.item.title)}", Item(index=i).pack())])
            if not any(o.item.required and not o.done and not o.item.signed_form for o in statuses):
                lines.append(esc(_("Ci sono tutti i documenti. Ora il modulo da firmare.")))
                buttons.append(
                    [Button(_("📝 Prepara il modulo da firmare"), Go(step=Stage.FORM).pack())]
                )
            buttons.append([Button(_("📋 Cosa manca"), Go(step=Stage.CHECKLIST).pack())])
        return Reply("\n".join(lines), buttons)

    def which_item(
        self, attachment_id: int, statuses: list[ItemStatus], pages: int, last: str | None = None
    ) -> Reply:
        _ = self._
        text = esc(_("Ricevuto: {pages}. Per quale documento è?").format(pages=self.pages(pages)))
        order = sorted(
            range(len(statuses)),
            key=lambda i: (statuses[i].item.id != last, statuses[i].done),
        )
        buttons = []
        for i in order:
            s = statuses[i]
            if s.item.signed_form:
                continue
            label = _(s.item.title)
            if s.item.id == last:
                label = "➕ " + _("{title}: un'altra pagina").format(title=label)
            buttons.append([Button(label, FileAs(attachment=attachment_id, index=i).pack())])
        return Reply(text, buttons)

    def duplicate(
        self,
        s: ItemStatus | None,
        attachment_id: int | None = None,
        wanted: tuple[int, ItemStatus] | None = None,
    ) -> Reply:
        """The same file again; if it was sent for another document than the one chosen
        now (`wanted`: its index and status), one tap moves it there."""
        _ = self._
        if s is None:
            return Reply(esc(_("Questo file l'avete già mandato. Lo teniamo una volta sola.")))
        text = esc(
            _("Questo file l'avete già mandato, per: {title}. Lo teniamo una volta sola.").format(
                title=_(s.item.title)
            )
        )
        if wanted is None or attachment_id is None or wanted[1].item.id == s.item.id:
            return Reply(text)
        index, target = wanted
        label = _("↪️ Sposta in: {title}").format(title=_(target.item.title))
        return Reply(text, [[Button(label, Move(attachment=attachment_id, index=index).pack())]])

    def album_filed(self, s: ItemStatus) -> Reply:
        """The first photo of an album filed: the whole album goes there (one reply)."""
        _ = self._
        text = _("Ricevute le foto mandate insieme: le metto tutte in «{title}».").format(
            title=_(s.item.title)
        )
        return Reply(esc(text), [[Button(_("📋 Cosa manca"), Go(step=Stage.CHECKLIST).pack())]])

    def moved(self, s: ItemStatus, statuses: list[ItemStatus]) -> Reply:
        """After a move: the file is now under `s`."""
        reply = self.filed(s, statuses, album=False)
        reply.text = esc(self._("Spostato.")) + "\n" + reply.text
        return reply

    def refused_text(self, msgid: str) -> str:
        return "⚠️ " + esc(self._(msgid))

    def refused(self, refusal: FileRefused) -> Reply:
        _ = self._
        text = _(refusal.msgid)
        with contextlib.suppress(KeyError, IndexError, ValueError):
            text = text.format(**refusal.params)
        return Reply("⚠️ " + esc(text))

    def redo_menu(self, statuses: list[ItemStatus]) -> Reply:
        _ = self._
        buttons = [
            [Button(f"🔁 {_(s.item.title)}", Redo(index=i).pack())]
            for i, s in enumerate(statuses)
            if s.files
        ]
        buttons.append([Button(_("↩️ Niente, torna alla lista"), Go(step=Stage.CHECKLIST).pack())])
        return Reply(esc(_("Quale documento volete rifare? Cancello i file mandati.")), buttons)

    # -- the form and signing --------------------------------------------------------

    def form_caption(self) -> str:
        return self._("Il modulo della domanda, già compilato.")

    def declarations(self, declarations: Sequence[Declaration], bank: bool = False) -> list[str]:
        """What the signer declares, one plain line per kind of declaration the form
        prints, in the family's language; a kind without its line shows as the form prints
        it, rather than not at all."""
        _ = self._
        lines = [esc(_(DECLARING)), "• " + esc(_(UNDER_DPR_445))]
        said: set[str] = set()
        for d in declarations:
            if d.key in said:
                continue
            said.add(d.key)
            line = DECLARATION_LINES.get(d.key)
            lines.append("• " + (esc(_(line)) if line else f"<i>{esc(d.text)}</i>"))
        if bank:
            lines.append("• " + esc(_(BANK_LINE)))
        lines.append("• " + esc(_(PRIVACY_CONSENT)))
        return lines

    def sign_instructions(
        self, pages: int, declarations: Sequence[Declaration] = (), bank: bool = False
    ) -> Reply:
        """Before signing: what the form declares (when it is known; `bank`: it has the
        account page), then how to sign."""
        _ = self._
        lines = [f"<b>{esc(_(SIGNING))}</b>"]
        if declarations:
            lines += [*self.declarations(declarations, bank), ""]
        lines += [
            esc(_("1. Stampate il modulo e firmatelo in fondo.")),
            esc(
                _(
                    "2. Fate una foto della pagina e mandatela qui.",
                    "2. Fate una foto a ogni pagina ({n}) e mandatele qui.",
                    pages,
                ).format(n=pages)
            ),
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
                got=s.pages, pages=form_pages
            )
        buttons = []
        if s.done:
            label = _("✅ Controlla e invia") if sendable else _("✅ Controlla")
            buttons = [[Button(label, Go(step=Stage.REVIEW).pack())]]
        return Reply(esc(text), buttons)

    # -- review, sending, status ------------------------------------------------------

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
            lines += [f"⬜ {esc(_(s.item.title))}" for s in left]
            return Reply(
                "\n".join(lines), [[Button(_("📋 Documenti"), Go(step=Stage.CHECKLIST).pack())]]
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
        return Reply("\n".join(lines), buttons)

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

    def standing(self, st: dict[str, Any], copy: bool = True) -> Reply:
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
        if receipt is not None:
            kind = _(RECEIPT_KINDS.get(receipt["kind"], RECEIPT_ERROR))
            text = _("Ultima ricevuta PEC: {kind}, {when}.")
            lines.append(
                fill(esc(text), self.fmt.language, kind=esc(kind), when=self._when(receipt["at"]))
            )
        status = st["status"]
        if status in ("consegnata", "integrata"):
            lines.append(
                esc(
                    _(
                        "Ora decidono i servizi sociali. Se chiedono altri documenti o vi danno "
                        "l'esito, vi scriviamo qui."
                    )
                )
            )
        elif status in ("pronta", "in_invio", "inviata", "accettata"):
            lines.append(
                esc(_("Quando la casella del protocollo la riceve, vi scriviamo qui con la data."))
            )
        buttons = [[Button(_("📦 Mandami la copia"), Go(step=Stage.COPY).pack())]] if copy else []
        return Reply("\n".join(lines), buttons)

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

    def manifest_caption(self) -> str:
        return self._(
            "L'elenco dei file con la loro impronta: serve al Comune per controllarli. "
            "Non dovete farci niente."
        )

    def help(self, stage: str) -> Reply:
        _ = self._
        lines = [esc(_("State preparando la domanda."))]
        if stage == "identity":
            lines.append(
                esc(_("Rispondete alla domanda qui sotto. /indietro torna a quella prima."))
            )
        else:
            lines.append(esc(_("Toccate un documento e mandate le foto o i PDF.")))
        lines.append(esc(_("/documenti mostra cosa manca. /riepilogo cambia le risposte.")))
        lines.append(esc(_("La verifica è preliminare: decidono i servizi sociali.")))
        return Reply("\n".join(lines))

    def too_large(self, title: str) -> Reply:
        return Reply(
            "⚠️ "
            + esc(
                self._(
                    "{title} è troppo grande anche ridotto. Rifatelo con meno pagine o "
                    "foto più leggere."
                ).format(title=self._(title))
            ),
            [[Button(self._("🔁 Rifai un documento"), Redo().pack())]],
        )

    def too_heavy(self) -> Reply:
        """The assembly went over its time or memory ceiling."""
        return Reply(
            "⚠️ "
            + esc(
                self._(
                    "I documenti sono troppo pesanti da mettere insieme. Rifate quelli con "
                    "più pagine, con foto più leggere."
                )
            ),
            [[Button(self._("🔁 Rifai un documento"), Redo().pack())]],
        )

    def queued(self) -> Reply:
        return Reply(
            esc(self._("Fatto: la domanda è in coda per l'invio. Vi scriviamo qui a ogni passo."))
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
            moment = dt.datetime.fromisoformat(at)
        except ValueError:
            return ""
        return self._("il {date} alle {time}").format(
            date=self.fmt.date(moment.date()), time=self.fmt.time(moment)
        )
