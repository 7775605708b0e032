"""What the family reads about their documents: the checklist, what each file became
(filed, which document, a duplicate, an album, moved, refused), and sending one again.
Pure: texts and buttons (`dialogs.buttons`), no Telegram, no storage."""

from __future__ import annotations

import contextlib

from common.i18n import N_
from dossier.checklist import ItemStatus
from dossier.refusals import FileRefused

from . import signedlines
from .buttons import Discard, DropLast, FileAs, Go, Item, Move, Redo, Same, Stage
from .formats import esc
from .replies import STATUS, Button, Reply
from .view import View

DOCUMENTS = N_("Documenti della domanda")

IN_FORM = N_("è nel modulo da firmare, con il vostro IBAN")

# signed pages are known by the QR code at the foot of each (`dossier.pagecode`)
KEEP_THE_CODE = N_(
    "Nella foto deve vedersi la pagina intera, con il codice QR in basso a destra: da "
    "quello riconosco la pagina."
)


class ChecklistView(View):
    def pages(self, n: int) -> str:
        return self._("{n} pagina", "{n} pagine", n).format(n=n)

    def item_line(self, s: ItemStatus) -> str:
        _ = self._
        title = esc(_(s.item.title))
        if s.item.in_form:
            return f"✅ {title}: {esc(_(IN_FORM))}"
        if s.done:
            extra = _("firmato digitalmente") if s.signed else self.pages(s.pages)
            return f"✅ {title}: {esc(extra)}{signedlines.held(s)}"
        if s.unsigned:  # every page may be here: one is not signed
            return f"🟡 {title}: {esc(self.pages(s.pages))}{signedlines.held(s)}"
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
        self,
        dossier_id: str,
        statuses: list[ItemStatus],
        *,
        ready_for_form: bool,
        stage: str,
        notes: bool = True,
    ) -> Reply:
        """The documents and where each stands; `notes`: with what our form stands for
        (said the first time: not in every checklist)."""
        _ = self._
        lines = [f"<b>{esc(_(DOCUMENTS))}</b> · {esc(self.fmt.embed(dossier_id))}"]
        for s in statuses:
            if s.item.signed_form and stage == "documents" and not s.files:
                continue  # the form comes after the documents
            lines.append(self.item_line(s))
        if notes:
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
        return Reply("\n".join(lines), buttons, slot=STATUS)

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
                + "\n"
                + esc(_(KEEP_THE_CODE))
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
            complete = not any(
                o.item.required and not o.done and not o.item.signed_form for o in statuses
            )
            if not complete:  # with every document here, "choose the next" would contradict
                lines.append(esc(_("Altre pagine? Mandatele. Se no, scegliete il prossimo.")))
            for i, other in enumerate(statuses):
                if not other.done and not other.item.signed_form:
                    buttons.append([Button(f"📎 {_(other.item.title)}", Item(index=i).pack())])
            if complete:
                lines.append(esc(_("Ci sono tutti i documenti. Ora il modulo da firmare.")))
                buttons.append(
                    [Button(_("📝 Prepara il modulo da firmare"), Go(step=Stage.FORM).pack())]
                )
            buttons.append([Button(_("📋 Cosa manca"), Go(step=Stage.CHECKLIST).pack())])
        index = next(i for i, o in enumerate(statuses) if o.item.id == s.item.id)
        if s.last is not None and not s.item.signed_form:
            drop = DropLast(index=index, attachment=s.last, digest=s.last_digest)
            buttons.append([Button(_("🗑 Togli l'ultima pagina"), drop.pack())])
        return Reply("\n".join(lines), buttons, slot=STATUS)

    def dropped(self, s: ItemStatus, statuses: list[ItemStatus]) -> Reply:
        """After the last page of `s` was taken away."""
        reply = self.filed(s, statuses, album=False)
        reply.text = esc(self._("Tolta l'ultima pagina.")) + "\n" + reply.text
        return reply

    def discarded(self) -> Reply:
        """A file that was not for the application, thrown away."""
        text = self._("Tolto: non lo teniamo e non lo mandiamo.")
        return Reply(
            esc(text),
            [[Button(self._("📋 Cosa manca"), Go(step=Stage.CHECKLIST).pack())]],
            slot=STATUS,
        )

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
            if s.item.signed_form or s.item.in_form:  # ours to fill, not a file's
                continue
            label = _(s.item.title)
            if s.item.id == last:
                label = "➕ " + _("{title}: un'altra pagina").format(title=label)
            buttons.append([Button(label, FileAs(attachment=attachment_id, index=i).pack())])
        discard = _("🗑 Non è per la domanda")
        buttons.append([Button(discard, Discard(attachment=attachment_id).pack())])
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
        if (
            wanted is None
            or attachment_id is None
            or s.item.id in (wanted[1].item.id, wanted[1].same_as)
        ):
            return Reply(text)
        index, target = wanted
        same = _("🔗 È lo stesso documento: vale anche per «{title}»").format(
            title=_(target.item.title)
        )
        label = _("↪️ Sposta in: {title}").format(title=_(target.item.title))
        text += "\n" + esc(
            _(
                "Se è un solo documento che vale per tutti e due (per esempio un verbale "
                "INPS), toccate «È lo stesso documento». Lo mandiamo una volta sola."
            )
        )
        return Reply(
            text,
            [
                [Button(same, Same(attachment=attachment_id, index=index).pack())],
                [Button(label, Move(attachment=attachment_id, index=index).pack())],
            ],
        )

    def linked(self, s: ItemStatus, statuses: list[ItemStatus]) -> Reply:
        """After "the same document": `s` now counts the file filed under another item."""
        reply = self.filed(s, statuses, album=False)
        reply.text = esc(self._("Fatto: lo stesso file vale per tutti e due.")) + "\n" + reply.text
        return reply

    def album_filed(self, s: ItemStatus) -> Reply:
        """The first photo of an album filed: the whole album goes there (one reply)."""
        _ = self._
        text = _("Ricevute le foto mandate insieme: le metto tutte in «{title}».").format(
            title=_(s.item.title)
        )
        button = Button(_("📋 Cosa manca"), Go(step=Stage.CHECKLIST).pack())
        return Reply(esc(text), [[button]], slot=STATUS)

    def moved(self, s: ItemStatus, statuses: list[ItemStatus]) -> Reply:
        """After a move: the file is now under `s`."""
        reply = self.filed(s, statuses, album=False)
        reply.text = esc(self._("Spostato.")) + "\n" + reply.text
        return reply

    def refused_text(self, msgid: str, params: dict[str, str] | None = None) -> str:
        text = self._(msgid)
        return "⚠️ " + esc(text.format(**params) if params else text)

    def refused(self, refusal: FileRefused) -> Reply:
        _ = self._
        text = _(refusal.msgid)
        # a document's title is a message of its own, shown in the family's language
        params = {k: _(str(v)) if k == "item" and v else v for k, v in refusal.params.items()}
        with contextlib.suppress(KeyError, IndexError, ValueError):
            text = text.format(**params)
        return Reply("⚠️ " + esc(text))

    def redo_menu(self, statuses: list[ItemStatus]) -> Reply:
        _ = self._
        buttons = [
            [Button(f"🔁 {_(s.item.title)}", Redo(index=i).pack())]
            for i, s in enumerate(statuses)
            if s.files
        ]
        buttons.append([Button(_("↩️ Niente, torna alla lista"), Go(step=Stage.CHECKLIST).pack())])
        text = esc(_("Quale documento volete rifare? Cancello i file mandati."))
        return Reply(text, buttons, slot=STATUS)

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
