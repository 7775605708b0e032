"""The signing step's photos and files. Each page of the signed form is known by the QR
code printed on it (`dossier.signing`), taken out on its own and upright, and filed under
its number: one page per number, a newer one replacing the older ("Pagina 3 sostituita
con quella nuova"), so the count never passes the form's pages and the form goes out in
page order. A signature box without ink is said ("La pagina 3 non sembra firmata") and
the form cannot be sent until that page comes back signed. A page of another dossier,
of an older form or no page of ours at all (a cat) is refused with what to send. A
digitally signed file is the whole form, kept as it came. An album of pages gets one
reply (`Step.album`). A part of the controller (`dialogs.uploading`)."""

from __future__ import annotations

from typing import Any

from dossier.files import CheckedFile
from dossier.pagecode import Recognition
from dossier.refusals import CHANGED_AFTER_SIGNING, FileRefused
from dossier.signing import recognise_signed_upload
from dossier.uploads import PageFiled

from . import signedlines
from .formats import esc
from .paper import Paper, Received, Step, status_of

FORM = "application_form"


class SignedPages(Paper):
    async def signed_upload(self, received: Received, checked: CheckedFile | FileRefused) -> Step:
        """A photo or a PDF of signed pages (checked already; not digitally signed):
        its pages read, filed one per number, and told."""
        if isinstance(checked, FileRefused):
            return self._told(received.album, [self.view.refused(checked).text])
        warned = []
        if checked.changed_after_signing:  # its signature no longer counts: read as pages
            warned.append("⚠️ " + esc(self._(CHANGED_AFTER_SIGNING)))
        found = await recognise_signed_upload(
            self.desk, self.dossier_id, checked.clean or received.data, self.clock()
        )
        if found.outcome != "pages" or not found.found:
            return self._told(received.album, [*warned, self._not_a_page(found)])
        filed = self.desk.file_form_pages(
            self.dossier_id,
            checked,
            found.found,
            received.unique,
            budget_mb=self.settings.sportello_message_budget_mb,
        )
        if isinstance(filed, FileRefused):
            return self._told(received.album, [*warned, self.view.refused(filed).text])
        return self._told(received.album, [*warned, *self._page_lines(filed, found)])

    def digitally_signed(self, attachment_id: int) -> Step:
        """A digitally signed form filed: it is the whole form, so the photos of pages
        sent before it go."""
        lines = []
        if self.desk.keep_only_form_file(self.dossier_id, attachment_id):
            text = self._("Le foto delle pagine mandate prima non servono più: le abbiamo tolte.")
            lines.append(esc(text))
        return self._told(None, lines)

    # -- what to say ------------------------------------------------------------------

    def _not_a_page(self, found: Recognition) -> str:
        _ = self._
        if found.outcome == "other_dossier":
            text = _(
                "Questa pagina è di un'altra domanda ({other}). Mandate le pagine del "
                "modulo della domanda {id}: quello che vi abbiamo mandato qui."
            ).format(other=found.dossier_id, id=self.dossier_id)
        elif found.outcome == "close_up":
            text = _(
                "In questa foto vedo solo il codice quadrato (QR), non la pagina intera. "
                "Fotografate tutta la pagina firmata, con il codice in basso a destra, "
                "dritta e con buona luce."
            )
        elif found.outcome == "old_edition":
            text = _(
                "Questa pagina è di un modulo vecchio: dopo, alcune risposte sono cambiate. "
                "Stampate e firmate il modulo nuovo, l'ultimo che vi abbiamo mandato."
            )
        else:
            text = _(
                "Non trovo il codice quadrato (QR) in fondo alla pagina, quindi non so se è "
                "il modulo. Mandate la foto di una pagina intera del modulo firmato, dritta "
                "e con buona luce. Se avete firmato con la firma digitale, mandate il file "
                "firmato."
            )
        return esc(text)

    def _page_lines(self, filed: list[PageFiled], found: Recognition) -> list[str]:
        """One line per page of the file: counted, replacing an older one, already here,
        or not signed."""
        _ = self._
        lines = []
        for f in filed:
            if f.outcome == "same":
                text = _("La pagina {page} l'avete già mandata.").format(page=f.page)
                lines.append(esc(text))
                continue
            if f.outcome == "kept_signed":
                text = _(
                    "La nuova foto della pagina {page} non sembra firmata. "
                    "Teniamo quella di prima, che è firmata."
                ).format(page=f.page)
                lines.append(esc(text))
                continue
            tick = "" if f.ink is False else " ✓"
            if f.outcome == "replaced":
                text = _("Pagina {page} sostituita con quella nuova").format(page=f.page)
                lines.append(esc(text) + tick)
            elif f.ink is not False:
                text = _("Pagina {page} di {pages} ✓").format(page=f.page, pages=found.total)
                lines.append(esc(text))
            if f.ink is False:
                lines.append(signedlines.unsigned(_, f.page, self.view.signature))
        if found.skipped:
            text = _(
                "Una pagina del file non è del modulo: non la mettiamo nella domanda.",
                "{n} pagine del file non sono del modulo: non le mettiamo nella domanda.",
                found.skipped,
            ).format(n=found.skipped)
            lines.append(esc(text))
        return lines

    def _told(self, album: str | None, lines: list[str]) -> Step:
        """The reply after a file of the signing step: what it came to (for an album,
        what all its files so far came to), then the pages missing, those not signed
        yet and the count. One reply per album: each file's reply sums up the album, and
        only the last one is said (`Step.album`)."""
        news: dict[str, Any] = self.data.get("album_news") or {}
        if album:
            if news.get("album") != album:
                news = {"album": album, "lines": []}
            news["lines"] = [*news["lines"], *lines]
            self.data["album_news"] = news
            lines = list(news["lines"])
        else:
            self.data.pop("album_news", None)
        s = status_of(self.statuses(), FORM)
        assert s is not None
        told = set(lines)
        tail = [line for line in signedlines.missing(self._, s, self.view.signature) if line not in told]
        progress = self.view.signed_progress(
            s, self.desk.form_pages(self.dossier_id), self.sendable()
        )
        progress.text = "\n".join([*lines, *tail, progress.text])
        return Step([progress], album=album)
