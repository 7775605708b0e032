"""The files of a dossier: one upload checked (in a bounded process), kept encrypted and
filed under its checklist item, or set aside until the family says which it is; moved,
taken back, retired when a new copy replaces an unreadable one. Part of `Desk`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from common.clock import Clock
from common.i18n import N_
from storage import dossiers as store
from storage.blobs import BlobStore

from . import bounded
from .budgets import bytes_over, message_over
from .checklist import ItemStatus
from .files import CheckedFile, check
from .pdfcheck import MAX_PDF_PAGES
from .refusals import REFUSAL_REASONS, FileRefused

if TYPE_CHECKING:
    from .pagecode import FoundPage

log = logging.getLogger(__name__)

__all__ = [
    "UNASSIGNED",
    "Filed",
    "PageFiled",
    "Uploads",
    "bounded_check",
    "bounded_check_async",
    "check",
]

UNSIGNED_FORM = N_(
    "Questo è il modulo non ancora firmato. Stampatelo, firmatelo e mandate le foto "
    "delle pagine. Oppure mandate il file con la firma digitale."
)
UNASSIGNED = "_unassigned"


@dataclass
class Filed:
    """What happened to one upload."""

    outcome: str  # filed, duplicate, refused, ask_item
    attachment: dict[str, Any] | None = None
    checked: CheckedFile | None = None
    refusal: FileRefused | None = None
    statuses: list[ItemStatus] = field(default_factory=list)


DIGITAL_ALREADY = N_(
    "Abbiamo già il modulo con la firma digitale: le foto delle pagine non servono. "
    "Per mandare le foto al suo posto, toccate «🔁 Rifai un documento» e poi «Domanda "
    "firmata»."
)
FORM = "application_form"


@dataclass(frozen=True)
class PageFiled:
    """One page of the signed form filed: `outcome` new (or in place of a copy that was
    not signed), replaced (a newer copy of a page already here: the older one is gone),
    same (these very bytes were here) or kept_signed (a copy without ink in its signature box, while the copy here has it:
    the signed one stays, the new one is not kept)."""

    page: int
    outcome: str
    ink: bool | None = None


ITEM_FULL = N_(
    "Per questo documento abbiamo già tutte le pagine che prendiamo ({limit}). "
    "Se una pagina è sbagliata, toccate «Rifai un documento» e mandatele di nuovo."
)
MAX_ITEM_PAGES = 100  # pages of one checklist item, all its files together
MAX_DOSSIER_PAGES = 300  # of a whole dossier
FORM_SPARE_PAGES = 3  # the signed form: its own pages and a few more (a cover, an ID)
_TOO_COMPLEX = next(m for m, r in REFUSAL_REASONS.items() if r == "too_complex")
_BUSY = next(m for m, r in REFUSAL_REASONS.items() if r == "busy")


def bounded_check(
    data: bytes, max_pages: int = MAX_PDF_PAGES, text_pages: int = 0
) -> CheckedFile | FileRefused:
    """`check` in a bounded process (time, memory, a few at once): see `dossier.bounded`."""
    try:
        return bounded.run(check, data, max_pages, text_pages)
    except bounded.Overrun as overrun:
        log.info("upload check over its limit: %s", overrun.why)
        return FileRefused(_TOO_COMPLEX)


async def bounded_check_async(
    data: bytes, max_pages: int = MAX_PDF_PAGES, text_pages: int = 0
) -> CheckedFile | FileRefused:
    """`bounded_check` for the event loop: it waits without blocking anybody, or, when
    the families' queue is full, is refused at once (the family sends it again)."""
    try:
        return await bounded.run_async(
            check, data, max_pages, text_pages, queue_limit=bounded.QUEUE_LIMIT
        )
    except bounded.Busy:
        log.info("upload check refused: the families' queue is full")
        return FileRefused(_BUSY)
    except bounded.Overrun as overrun:
        log.info("upload check over its limit: %s", overrun.why)
        return FileRefused(_TOO_COMPLEX)


def message_budget(data: dict[str, Any], budget_mb: float) -> int:
    """The attachment bytes one PEC message of this dossier may carry: the notice's
    `max_message_mb` or the service's budget, less what base64 adds (a third)."""
    sub = data.get("submission") or {}
    budget = float(sub.get("max_message_mb") or budget_mb)
    return int(budget * 1024 * 1024 * 0.73)


class Uploads:
    """The desk's uploads (a part of `dossier.desk.Desk`, which gives `get`, `statuses`
    and `form_pages`)."""

    db: Database
    blobs: BlobStore
    clock: Clock  # when a file arrives

    def get(self, dossier_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def statuses(self, dossier_id: str) -> list[ItemStatus]:
        raise NotImplementedError

    def form_pages(self, dossier_id: str) -> int:
        raise NotImplementedError

    def file(
        self,
        dossier_id: str,
        data: bytes,
        *,
        item_id: str | None,
        file_unique_id: str | None = None,
        checked: CheckedFile | FileRefused | None = None,
        budget_mb: float | None = None,
    ) -> Filed:
        """Check one upload, keep it encrypted, file it under `item_id` (or set it aside
        until the family says which document it is). The same file twice is kept once.
        With `budget_mb` (the service's PEC message budget), a file that would make its
        item too big for one message is refused now rather than at sending."""
        if file_unique_id:
            known = store.attachment_by_unique_id(self.db, dossier_id, file_unique_id)
            if known is not None:
                return Filed("duplicate", known, statuses=self.statuses(dossier_id))
        if checked is None:
            checked = bounded_check(data, *self.check_options(dossier_id, item_id))
        if isinstance(checked, FileRefused):
            log.info("upload refused: %s", checked.reason)
            return Filed("refused", refusal=checked)
        if item_id == "application_form" and self._is_unsigned_form(dossier_id, checked):
            return Filed("refused", refusal=FileRefused(UNSIGNED_FORM))
        full = self._pages_over(dossier_id, item_id, checked.pages)
        if full is not None:
            return Filed("refused", refusal=FileRefused(ITEM_FULL, limit=full))
        clean = checked.clean or data
        rows = store.attachments(self.db, dossier_id)
        heavy = bytes_over(rows, item_id, len(clean))
        if heavy is None and budget_mb is not None and item_id is not None:
            new_row = {
                "item_id": item_id,
                "kind": checked.kept_kind,
                "signed": checked.signed,
                "size": len(clean),
            }
            heavy = self._over_message(dossier_id, [*rows, new_row], item_id, budget_mb)
        if heavy is not None:
            return Filed("refused", refusal=heavy)
        sha256 = self.blobs.put(clean)
        attachment, new = store.add_attachment(
            self.db,
            dossier_id,
            item_id=item_id or UNASSIGNED,
            sha256=sha256,
            kind=checked.kept_kind,
            mime=checked.kept_mime,
            pages=checked.pages,
            size=len(clean),
            signed=checked.signed,
            file_unique_id=file_unique_id,
            signers=[s.as_dict() for s in checked.signers] if checked.signed else None,
            now=self.clock(),
        )
        if not new:
            return Filed("duplicate", attachment, checked, statuses=self.statuses(dossier_id))
        outcome = "filed" if item_id else "ask_item"
        return Filed(outcome, attachment, checked, statuses=self.statuses(dossier_id))

    def _over_message(
        self, dossier_id: str, rows: list[dict[str, Any]], item_id: str, budget_mb: float
    ) -> FileRefused | None:
        data = self.get(dossier_id)["data"]
        title = next((i["title"] for i in data.get("checklist") or [] if i["id"] == item_id), "")
        return message_over(rows, item_id, message_budget(data, budget_mb), title)

    def too_heavy_to_file(
        self, dossier_id: str, attachment_ids: list[int], item_id: str, budget_mb: float
    ) -> FileRefused | None:
        """Before filing files already kept under `item_id` (a file asked about, or moved
        with «Sposta in»): the refusal if the item would no longer fit one PEC message."""
        moving = set(attachment_ids)
        rows = [
            {**r, "item_id": item_id} if r["id"] in moving else r
            for r in store.attachments(self.db, dossier_id)
        ]
        return self._over_message(dossier_id, rows, item_id, budget_mb)

    def file_form_pages(
        self,
        dossier_id: str,
        checked: CheckedFile,
        pages: Sequence[FoundPage],
        file_unique_id: str | None = None,
        budget_mb: float | None = None,
    ) -> list[PageFiled] | FileRefused:
        """File each page of the signed form found in one upload (`FoundPage`: alone and
        upright) as a file of its own under its number: one file per page, a newer copy
        replacing the older (the newest wins). Our own unsigned PDF sent back, or pages
        after a digitally signed form, are refused; so is a page that would make the
        form too big for one PEC message (with `budget_mb`, as `file`)."""
        if self._is_unsigned_form(dossier_id, checked):
            return FileRefused(UNSIGNED_FORM)
        rows = [a for a in store.attachments(self.db, dossier_id) if a["item_id"] == FORM]
        if any(a["signed"] for a in rows):
            return FileRefused(DIGITAL_ALREADY)
        filed: list[PageFiled] = []
        for page in pages:
            older = [a for a in rows if a.get("form_page") == page.page]
            if page.ink is False and any(a.get("ink") == 1 for a in older):
                filed.append(PageFiled(page.page, "kept_signed", page.ink))
                continue  # never lose a signed page to an unsigned copy of it
            kept = [  # the copy this page replaces does not count
                a
                for a in store.attachments(self.db, dossier_id)
                if not (a["item_id"] == FORM and a.get("form_page") == page.page)
            ]
            heavy = bytes_over(kept, FORM, len(page.data))
            if heavy is None and budget_mb is not None:
                new_row = {
                    "item_id": FORM,
                    "kind": page.kind,
                    "signed": False,
                    "size": len(page.data),
                }
                heavy = self._over_message(dossier_id, [*kept, new_row], FORM, budget_mb)
            if heavy is not None:
                return heavy
            _attachment, new = store.add_attachment(
                self.db,
                dossier_id,
                item_id=FORM,
                sha256=self.blobs.put(page.data),
                kind=page.kind,
                mime="application/pdf" if page.kind == "pdf" else "image/jpeg",
                pages=1,
                size=len(page.data),
                file_unique_id=file_unique_id,
                form_page=page.page,
                ink=page.ink,
                now=self.clock(),
            )
            if not new:
                filed.append(PageFiled(page.page, "same", page.ink))
                continue
            for a in older:
                self._drop(dossier_id, a["id"])
            # a copy refused as unsigned is not "replaced": this page is received now
            replaced = any(a.get("ink") != 0 for a in older)
            filed.append(PageFiled(page.page, "replaced" if replaced else "new", page.ink))
        return filed

    def keep_only_form_file(self, dossier_id: str, attachment_id: int) -> int:
        """A digitally signed form arrived: it is the whole form, and the photos of pages
        sent before it go. Returns how many went."""
        rows = store.attachments(self.db, dossier_id)
        gone = [a for a in rows if a["item_id"] == FORM and a["id"] != attachment_id]
        for a in gone:
            self._drop(dossier_id, a["id"])
        return len(gone)

    def _drop(self, dossier_id: str, attachment_id: int) -> None:
        sha = store.remove_attachment(self.db, dossier_id, attachment_id)
        if sha and not store.blob_in_use(self.db, sha):
            self.blobs.delete(sha)

    def check_options(self, dossier_id: str, item_id: str | None) -> tuple[int, int]:
        """(max_pages, text_pages) for checking an upload to this item: the signed form
        takes only a few pages more than the form itself, and its text is read (to
        recognise our own unsigned PDF sent back)."""
        if item_id != "application_form":
            return MAX_PDF_PAGES, 0
        return self.form_pages(dossier_id) + FORM_SPARE_PAGES, 4

    def _pages_over(self, dossier_id: str, item_id: str | None, pages: int) -> int | None:
        """The limit this upload would pass (of its item, or of the whole dossier)."""
        statuses = self.statuses(dossier_id)
        if sum(s.pages for s in statuses) + pages > MAX_DOSSIER_PAGES:
            return MAX_DOSSIER_PAGES
        if item_id is None:
            return None
        limit = self.check_options(dossier_id, item_id)[0]
        limit = min(limit, MAX_ITEM_PAGES)
        filed = sum(s.pages for s in statuses if s.item.id == item_id)
        return limit if filed + pages > limit else None

    def _is_unsigned_form(self, dossier_id: str, checked: CheckedFile) -> bool:
        """Our own PDF sent back as it is (or printed to PDF): it carries no signature.
        A scan or a photo of the signed paper has no text layer with the dossier id. The
        text was read by the bounded check, never here on the event loop."""
        if checked.kind != "pdf" or checked.signed:
            return False
        if checked.sha256 == self.get(dossier_id)["data"].get("form_sha256"):
            return True
        return f"pratica {dossier_id}" in checked.text

    def next_attachment_id(self, dossier_id: str) -> int:
        """Uploads from now on have an id at least this big."""
        rows = store.attachments(self.db, dossier_id)
        return max((a["id"] for a in rows), default=0) + 1

    def retire(self, dossier_id: str, item_id: str, *, before_id: int) -> int:
        """Set aside an item's files older than upload `before_id`: a new copy replaces one
        the social services could not read. They stay stored, under `<item>:sostituito`."""
        return store.retire_before(self.db, dossier_id, item_id, before_id)

    def known_upload(self, dossier_id: str, file_unique_id: str | None) -> dict[str, Any] | None:
        """The upload already filed for this Telegram file (a retried update), if any."""
        if not file_unique_id:
            return None
        return store.attachment_by_unique_id(self.db, dossier_id, file_unique_id)

    def assign(self, dossier_id: str, attachment_id: int, item_id: str) -> list[ItemStatus]:
        row = self.db.table("attachments").get(attachment_id)
        if row["dossier_id"] != dossier_id:
            raise KeyError(attachment_id)
        store.move_attachment(self.db, attachment_id, item_id)
        return self.statuses(dossier_id)

    def move(self, dossier_id: str, attachment_id: int, item_id: str) -> bool:
        """Move a file of this dossier filed under the wrong document (never the signed
        form's pages, never into it). False: no such file here."""
        row = next(
            (a for a in store.attachments(self.db, dossier_id) if a["id"] == attachment_id), None
        )
        if row is None or row["item_id"] in ("application_form", item_id):
            return False
        store.move_attachment(self.db, attachment_id, item_id)
        return True

    def move_together(
        self, dossier_id: str, attachment_ids: list[int], item_id: str, from_item: str | None = None
    ) -> list[int]:
        """Move files sent together (an album) at once: those of `attachment_ids` still
        filed where the first one is (or under `from_item`), never the signed form's
        pages; `item_id` UNASSIGNED asks about them again. The ids moved."""
        rows = {a["id"]: a for a in store.attachments(self.db, dossier_id)}
        first = rows.get(attachment_ids[0]) if attachment_ids else None
        source = from_item or (first["item_id"] if first else None)
        if source is None or FORM in (source, item_id) or source == item_id:
            return []
        moved = [i for i in attachment_ids if i in rows and rows[i]["item_id"] == source]
        for i in moved:
            store.move_attachment(self.db, i, item_id)
        return moved

    def discard(self, dossier_id: str, attachment_id: int) -> str | None:
        """Throw one file away (not for the application, or a wrong page); the item it
        was filed under ("_unassigned" while asked about), None when it is not here. The
        signed form's pages are not thrown away here."""
        row = store.attachment(self.db, dossier_id, attachment_id)
        if row is None or row["item_id"] == "application_form":
            return None
        self._drop(dossier_id, attachment_id)
        left = [a for a in store.attachments(self.db, dossier_id) if a["item_id"] == row["item_id"]]
        if not left:
            self._unlink(dossier_id, row["item_id"])
        return str(row["item_id"])

    def link(self, dossier_id: str, attachment_id: int, item_id: str) -> bool:
        """The file `attachment_id` (filed under another item) is also the document of
        `item_id`: one INPS verbale covers two items. Kept and sent once; the item counts
        it. False: no such file here, or the signed form (never shared)."""
        row = store.attachment(self.db, dossier_id, attachment_id)
        if row is None or "application_form" in (row["item_id"], item_id):
            return False
        if row["item_id"] == item_id:
            return False
        d = store.get_dossier(self.db, dossier_id)
        assert d is not None
        data = d["data"]
        same_as: dict[str, str] = data.setdefault("same_as", {})
        target = same_as.get(row["item_id"], row["item_id"])  # never a chain
        if target == item_id:
            return False
        same_as[item_id] = target
        store.save_data(self.db, dossier_id, data)
        return True

    def _unlink(self, dossier_id: str, item_id: str) -> None:
        """`item_id` is taken back: items sharing its file, and its own link, are undone."""
        d = store.get_dossier(self.db, dossier_id)
        if d is None:
            return
        data = d["data"]
        same_as: dict[str, str] = data.get("same_as") or {}
        kept = {k: v for k, v in same_as.items() if item_id not in (k, v)}
        if kept != same_as:
            data["same_as"] = kept
            store.save_data(self.db, dossier_id, data)

    def take_back(self, dossier_id: str, item_id: str) -> None:
        """Remove an item's uploads (a wrong photo): the family sends them again."""
        self._unlink(dossier_id, item_id)
        for sha in store.remove_attachments(self.db, dossier_id, item_id):
            if not store.blob_in_use(self.db, sha):
                self.blobs.delete(sha)
