"""What the family reads about their documents: the checklist, what each file became
(filed, which document, a duplicate, an album, moved, refused), and sending one again.
Pure: texts and buttons (`dialogs.buttons`), no Telegram, no storage."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from common.i18n import N_
from dossier.checklist import ItemStatus
from dossier.refusals import FileRefused

from . import signedlines
from .buttons import Discard, DropLast, FileAs, Go, Item, Move, Redo, Same, Stage, Unfile
from .formats import esc
from .replies import STATUS, Button, Reply
from .view import View

DOCUMENTS = N_("Documenti della domanda")

IN_FORM = N_("è nel modulo da firmare, con il vostro IBAN")

# the checklist at the signing step once every signed page is here; {button}: its label
ALL_SIGNED = N_("Ci sono tutte le pagine firmate. Per il controllo finale toccate «{button}».")

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
        sendable: bool = True,
    ) -> Reply:
        """The documents and where each stands; `notes`: with what our form stands for
        (said the first time: not in every checklist). At the signing step with every
        signed page here («Non ancora» at the last check): the way back to it."""
        _ = self._
        lines = [f"<b>{esc(_(DOCUMENTS))}</b> · {esc(self.fmt.embed(dossier_id))}"]
        for s in statuses:
            if s.item.signed_form and stage == "documents" and not s.files:
                continue  # the form comes after the documents
            lines.append(self.item_line(s))
        if notes:
            lines += self.our_form_notes(statuses)
        buttons: list[list[Button]] = []
        signed = stage == "signing" and ready_for_form and all(
            s.done for s in statuses if s.item.signed_form
        )
        if signed:
            label = _("✅ Controlla e invia") if sendable else _("✅ Controlla")
            lines.append("")
            lines.append(esc(_(ALL_SIGNED).format(button=label)))
            buttons.append([Button(label, Go(step=Stage.REVIEW).pack())])
        elif stage == "signing":
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
        album: bool = False,
    ) -> Reply:
        """The same file again; if it was sent for another document than the one chosen
        now (`wanted`: its index and status), one tap moves it there. `album`: photos sent
        together again, one question for them all (the buttons act on every one)."""
        _ = self._
        if s is None:
            return Reply(esc(_("Questo file l'avete già mandato. Lo teniamo una volta sola.")))
        if album:
            said = _(
                "Queste foto le avete già mandate, per: {title}. Le teniamo una volta sola."
            )
        else:
            said = _("Questo file l'avete già mandato, per: {title}. Lo teniamo una volta sola.")
        text = esc(said.format(title=_(s.item.title)))
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
        if album:
            label = _("↪️ Sposta tutte in: {title}").format(title=_(target.item.title))
        else:
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

    def filed_by_word(
        self, s: ItemStatus, statuses: list[ItemStatus], pages: int, attachment_id: int
    ) -> Reply:
        """A file asked about, filed under `s` by a typed word: where it went said in so
        many words, with a button to be asked again (the word may have been meant for the
        next file)."""
        _ = self._
        reply = self.filed(s, statuses, album=False)
        said = _("Il file mandato prima ({pages}) l'ho messo in «{title}».").format(
            pages=self.pages(pages), title=_(s.item.title)
        )
        reply.text = esc(said) + "\n" + reply.text
        back = Button(_("↩️ Non era per questo documento"), Unfile(attachment=attachment_id).pack())
        reply.buttons.insert(0, [back])
        return reply

    def which_one(self, choices: Sequence[tuple[str, str]]) -> Reply:
        """A typed word that fits two or more buttons: which one, with just those."""
        _ = self._
        text = _("Quale dei due?") if len(choices) == 2 else _("Quale di questi?")
        return Reply(esc(text), [[Button(label, data)] for label, data in choices])

    def all_documents_in(self, statuses: list[ItemStatus]) -> Reply:
        """Text typed at the documents once every one is here: the form comes next."""
        _ = self._
        return Reply(
            esc(_("Ci sono tutti i documenti. Ora il modulo da firmare.")),
            [
                [Button(_("📝 Prepara il modulo da firmare"), Go(step=Stage.FORM).pack())],
                [Button(_("📋 Cosa manca"), Go(step=Stage.CHECKLIST).pack())],
            ],
            slot=STATUS,
        )

    def linked(self, s: ItemStatus, statuses: list[ItemStatus]) -> Reply:
        """After "the same document": `s` now counts the file filed under another item."""
        reply = self.filed(s, statuses, album=False)
        reply.text = esc(self._("Fatto: lo stesso file vale per tutti e due.")) + "\n" + reply.text
        return reply

    def album_filed(self, s: ItemStatus, statuses: list[ItemStatus]) -> Reply:
        """The first photo of an album filed: the whole album goes there (one reply)."""
        _ = self._
        text = _("Ricevute le foto mandate insieme: le metto tutte in «{title}».").format(
            title=_(s.item.title)
        )
        # as after one file: the next documents (typed or tapped), then the form once the
        # others are here (this album completes its own document)
        buttons = [
            [Button(f"📎 {_(o.item.title)}", Item(index=i).pack())]
            for i, o in enumerate(statuses)
            if not o.done and not o.item.signed_form and o.item.id != s.item.id
        ]
        rest = [o for o in statuses if o.item.id != s.item.id and not o.item.signed_form]
        if all(o.done or not o.item.required for o in rest):
            buttons.append(
                [Button(_("📝 Prepara il modulo da firmare"), Go(step=Stage.FORM).pack())]
            )
        buttons.append([Button(_("📋 Cosa manca"), Go(step=Stage.CHECKLIST).pack())])
        return Reply(esc(text), buttons, slot=STATUS)

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
