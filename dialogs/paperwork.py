"""What the family reads while preparing the application, from the first identity
question to every status change after sending. Pure: texts and buttons, no Telegram, no
storage. One view, `PaperworkView`, made of one part per job: the checklist and the
files (`dialogs.checklist_view`), the form, signing and sending
(`dialogs.sending_view`), and after sending (`dialogs.status_view`); here, the form's
details (who signs, for whom) and the help.

The buttons are the typed classes of `dialogs.buttons`; the controller that receives them
(`dialogs.application`) checks every press against the state, so a forged or old button
only shows the checklist again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from common.i18n import N_
from dossier.people import iban_shown, phone_shown

from .addresses import cap_zone
from .buttons import Choose, Detail, Go, SameHome, Skip, Stage
from .formats import esc
from .identity import LABELS, SAME_HOME_LABEL, SKIP_LABEL, IdentityQuestion, options, same_home
from .replies import STATUS, Button, Reply
from .sending_view import SendingView
from .status_view import StatusView

PREPARE = N_("Prepariamo la domanda")
DETAILS = N_("I dati del modulo")


class PaperworkView(SendingView, StatusView):
    """Every text of the application, in the family's language."""

    def intro(self, dossier_id: str, sendable: bool, submission: dict[str, Any]) -> Reply:
        _ = self._
        lines = [f"<b>{esc(_(PREPARE))}</b> · {esc(self.fmt.embed(dossier_id))}"]
        if sendable and submission.get("addressee"):
            # to whom the notice says (an Ambito's capofila, not always the family's Comune)
            lines.append(
                esc(
                    _(
                        "Vi chiedo i dati per il modulo, poi i documenti. Alla fine la "
                        "inviamo noi per PEC a: {addressee} ({address})"
                    ).format(
                        addressee=submission["addressee"], address=submission.get("address") or ""
                    )
                )
            )
        elif sendable:
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

    def question(
        self,
        q: IdentityQuestion,
        identity: dict[str, str] | None = None,
        *,
        editing: bool = False,
        home: str | None = None,
        written: str | None = None,
    ) -> Reply:
        """One question; `editing`: one detail changed from the summary, which may be
        left as it was; `home`: the person's comune (the CAP's first digits there);
        `written`: what was written before /indietro, shown and kept by ↩️."""
        _ = self._
        lines = [esc(_(q.prompt_for(identity or {})))]
        if written is not None:
            if q.kind == "choice":
                shown = _(dict(options(q, identity or {})).get(written, written))
            else:
                shown = self.shown(q, written) if written else _("non indicato")
            lines.append(esc(_("Avete scritto: {answer}").format(answer=shown)))
        zone = cap_zone(home) if q.kind == "postcode" else None
        if zone is not None:
            line = _("A {comune} il CAP comincia con {zone}.").format(comune=zone[0], zone=zone[1])
            lines.append(esc(line))
        elif q.example:
            lines.append(esc(_("Per esempio: {example}").format(example=q.example)))
        buttons: list[list[Button]] = []
        if q.kind == "choice":
            buttons = [
                [Button(_(label), Choose(option=i).pack())]
                for i, (_v, label) in enumerate(options(q, identity or {}))
            ]
        if q.optional:
            buttons.append([Button(_(SKIP_LABEL), Skip().pack())])
        same = same_home(identity or {}, home) if q.key == "beneficiary.address" else None
        if same is not None:
            label = _(SAME_HOME_LABEL).format(address=same[0])
            buttons.append([Button(label, SameHome().pack())])
        if editing:
            buttons.append([Button(_("↩️ Lascia com'era"), Go(step=Stage.DETAILS).pack())])
        elif written is not None:
            buttons.append([Button(_("↩️ Va bene così"), Go(step=Stage.KEEP).pack())])
        return Reply("\n".join(lines), buttons)

    def details(
        self, rows: list[tuple[int, IdentityQuestion, str]], identity: dict[str, str] | None = None
    ) -> Reply:
        """The form's details, each with a button to change just that one; (index in
        `QUESTIONS`, question, stored value) per answer; `identity`: all of them (who
        signs for themselves reads "Il mio conto")."""
        _ = self._
        lines = [f"<b>{esc(_(DETAILS))}</b>"]
        buttons: list[list[Button]] = []
        for index, q, value in rows:
            if q.kind == "choice":
                labels = dict(options(q, identity or {}))
                shown = _(labels.get(value, value))
            else:
                shown = self.shown(q, value) if value else _("non indicato")
            lines.append(f"{esc(_(LABELS[q.key]))}: <b>{esc(shown)}</b>")
            buttons.append([Button(f"✏️ {_(LABELS[q.key])}", Detail(index=index).pack())])
        lines.append("")
        lines.append(esc(_("Se un dato è sbagliato, toccatelo: lo riscrivete solo quello.")))
        buttons.append([Button(_("✅ Va bene così"), Go(step=Stage.CHECKLIST).pack())])
        return Reply("\n".join(lines), buttons, slot=STATUS)

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
