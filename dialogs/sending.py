"""The application's last steps: the form to sign, the last check, the send (to the
outbox) and the family's copy. A part of the controller (`dialogs.application`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from typing import Any

from common.clock import ROME, iso, moment, parse_iso
from common.i18n import N_
from dossier import bounded
from dossier.checklist import ItemStatus, missing
from dossier.copies import sent_copy

from .formats import esc
from .identity import signs_for_self
from .paper import Document, Paper, Step
from .replies import Reply

log = logging.getLogger(__name__)

# One copy of a sent application per this long: pressing «Mandami la copia» again and
# again (or a forged press) sends the dozens of files once, not each time.
COPY_EVERY = dt.timedelta(minutes=10)



CHANGED_SINCE_REVIEW = N_(
    "Dopo l'ultimo controllo sono cambiati dei documenti. Ricontrollate qui sotto, poi "
    "inviate."
)


def reviewed(statuses: list[ItemStatus]) -> str:
    """What the last check shows, in short: every item's files, pages and last file (a
    page sent again is another file), and the signed form's pages."""
    seen = [
        (s.item.id, s.files, s.pages, s.last, s.last_digest, s.form_pages, s.unsigned, s.same_as)
        for s in statuses
    ]
    return hashlib.sha256(repr(seen).encode()).hexdigest()[:16]

class Sending(Paper):
    def _notice(self) -> dict[str, Any]:
        """The notice as the engine sees it today: its status, its deadline."""
        answers = self.dialog.get("answers") or {}
        return self._dialog().verdict(answers).get("notice") or {}

    def _window_closed(self) -> Reply | None:
        """The notice's window, checked again when the form is made and at the moment of
        sending (it may have closed while the family gathered the documents)."""
        notice = self._notice()
        if notice.get("status") in ("open", None):
            return None
        return self.view.window_closed(notice)

    def _review(self, statuses: list[ItemStatus]) -> Reply:
        """The last check; what it shows is remembered, so that «📨 Sì, invia» sends only
        what the family saw (`_finish`)."""
        self.data["reviewed"] = reviewed(statuses)
        return self.view.review(self.dossier_id, statuses, self.submission(), self.sendable())

    async def _form(self) -> Step:
        from dossier.form import made_form

        form = self.desk.form_data(self.dossier_id, self.clock())
        made = await asyncio.to_thread(made_form, form)
        pdf, pages = made.pdf, made.pages
        self.desk.set_form_pages(
            self.dossier_id, pages, hashlib.sha256(pdf).hexdigest(), made.layout
        )
        self.data["stage"] = "signing"
        self.data["item"] = "application_form"
        document = Document(f"domanda-{self.dossier_id}.pdf", pdf, self.view.form_caption())
        own = signs_for_self(self.data.get("identity") or {})
        sign = self.view.sign_instructions(
            pages, form.all_declarations, form.bank is not None, own
        )
        return Step([sign], [document])

    async def _assemble(self) -> Any:
        from dossier.assemble import assemble

        now = moment(self.clock())  # one clock: the form's day, the manifest, the Date
        inputs = self.desk.assembly_inputs(
            self.dossier_id, now, self.settings.sportello_message_budget_mb
        )
        return await bounded.run_async(assemble, seconds=bounded.ASSEMBLY_SECONDS, **inputs)

    def _copy(self, built: Any, caption: str) -> list[Document]:
        """The family's copy: every file, then the manifest."""
        files = [
            Document(f.name, f.data, caption if i == 0 else "") for i, f in enumerate(built.files)
        ]
        manifest = built.manifest
        return [*files, Document(manifest.name, manifest.data, self.view.manifest_caption())]

    async def _finish(self, *, send: bool) -> Step:
        from dossier.assemble import TooLarge

        statuses = self.statuses()
        if missing(statuses, include_form=True) or (send and not self.sendable()):
            return Step([self._review(statuses)])
        if send and self.data.get("reviewed") != reviewed(statuses):
            # an older «Sì, invia» (another phone, a message not refreshed) after files
            # changed: the last check again, not a send of what the family did not see
            return Step([Reply(esc(self._(CHANGED_SINCE_REVIEW))), self._review(statuses)])
        try:
            built = await self._assemble()
        except TooLarge as exc:
            title = next((s.item.title for s in statuses if s.item.id == exc.item_id), "")
            return Step([self.view.too_large(title)])
        except bounded.Overrun as overrun:
            log.warning("assembly of %s over its limit: %s", self.dossier_id, overrun.why)
            return Step([self.view.too_heavy()])
        if send:
            self.desk.submit(self.dossier_id, built, self.settings)
            self.data["stage"] = "sent"
            self.data["copy_at"] = iso(moment(self.clock()))
            replies = [self.view.queued()]
            caption = self._("La vostra copia.")
        else:
            replies = [self.view.bundle_directions(self.submission(), self._notice())]
            caption = ""
        return Step(replies, self._copy(built, caption), undelivered=self.view.copy_failed())

    async def _copy_again(self) -> Step:
        """«Mandami la copia» after sending: the files as they left, read back from the
        outbox's messages; at most once every `COPY_EVERY`."""
        now = moment(self.clock())
        last = self.data.get("copy_at")
        if last and now - parse_iso(last) < COPY_EVERY:
            return Step([self._copy_recently(parse_iso(last))])
        caption = self._("La vostra copia.")
        files = await sent_copy(self.desk.db, self.desk.blobs.reader(), self.dossier_id)
        if files is None:  # no message kept (never queued, or past retention)
            return Step([self.view.copy_failed()])
        self.data["copy_at"] = iso(now)
        documents = [
            Document(f.name, f.data, caption if i == 0 else "") for i, f in enumerate(files)
        ]
        if documents[-1].name == "riepilogo-istanza.json":
            documents[-1].caption = self.view.manifest_caption()
        return Step(documents=documents, undelivered=self.view.copy_failed())

    def _copy_recently(self, when: dt.datetime) -> Reply:
        text = self._(
            "La copia vi è già stata mandata alle {time}: la trovate più in alto in questa "
            "chat. Potete chiederla di nuovo tra qualche minuto."
        ).format(time=self.view.fmt.time(when.astimezone(ROME)))
        return Reply(esc(text))

    def copy_not_delivered(self) -> bool:
        """Telegram did not take the copy: the family may ask for it again at once. True
        when the state changed (the caller saves it)."""
        return self.data.pop("copy_at", None) is not None

