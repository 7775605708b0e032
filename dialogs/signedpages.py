"""The signing step's photos and files: each page of the signed form is known by the QR
code printed on it (`dossier.signing`), counted ("pagina 2 di 3 ✓"), and a page of another
dossier, of an older form or no page of ours at all (a cat) is refused with what to send.
A part of the controller (`dialogs.uploading`)."""

from __future__ import annotations

from dossier.files import CheckedFile, FileRefused
from dossier.pagecode import Recognition
from dossier.signing import recognise_signed_upload

from .flow import Reply
from .formats import esc
from .paper import Paper, Received, status_of


class SignedPages(Paper):
    def signed_pages(self) -> list[int]:
        """The pages of the current form received so far (none once they were taken back)."""
        form = status_of(self.statuses(), "application_form")
        if form is None or form.files == 0:
            self.data["signed_pages"] = []
        return sorted(int(p) for p in self.data.get("signed_pages") or [])

    async def recognise_page(
        self, received: Received, checked: CheckedFile | FileRefused
    ) -> tuple[Recognition | None, Reply | None]:
        """Read the page codes of a file sent at the signing step, off the event loop and
        in a bounded process. (None, None): a digitally signed file or one the check
        refused, taken as today; (_, Reply): refused, with what to send instead."""
        if not isinstance(checked, CheckedFile) or checked.signed:
            return None, None
        found = await recognise_signed_upload(
            self.desk, self.dossier_id, received.data, self.clock()
        )
        _ = self._
        if found.outcome == "other_dossier":
            text = _(
                "Questa pagina è di un'altra domanda ({other}). Mandate le pagine del "
                "modulo della domanda {id}: quello che vi abbiamo mandato qui."
            ).format(other=found.dossier_id, id=self.dossier_id)
        elif found.outcome == "old_edition":
            text = _(
                "Questa pagina è di un modulo vecchio: dopo, alcune risposte sono cambiate. "
                "Stampate e firmate il modulo nuovo, l'ultimo che vi abbiamo mandato."
            )
        elif found.outcome != "pages":
            text = _(
                "Non trovo il codice quadrato (QR) in fondo alla pagina, quindi non so se è "
                "il modulo. Mandate la foto di una pagina intera del modulo firmato, dritta "
                "e con buona luce. Se avete firmato con la firma digitale, mandate il file "
                "firmato."
            )
        else:
            new = set(found.pages) - set(self.signed_pages())
            if new:
                return found, None
            text = _("Questa pagina l'avete già mandata.")
        return found, Reply(esc(text))

    def counted(self, found: Recognition | None) -> list[str]:
        """After filing: "Pagina 2 di 3 ✓" for each new page, and which are missing."""
        if found is None:
            return []
        had = self.signed_pages()
        self.data["signed_pages"] = sorted(set(had) | set(found.pages))
        lines = [
            self._("Pagina {page} di {pages} ✓").format(page=p, pages=found.total)
            for p in found.pages
            if p not in had
        ]
        left = [p for p in range(1, found.total + 1) if p not in self.data["signed_pages"]]
        if left:
            lines.append(
                self._("Mancano le pagine: {pages}.").format(pages=", ".join(map(str, left)))
            )
        return [esc(line) for line in lines]
