"""The desk where a dossier is put together: open it, file uploads, fill the form,
assemble the files, and hand the messages to the outbox.

Everything here is I/O through `storage/` (SQLite, encrypted blobs); the bot calls it and
turns the results into chat messages.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from common.i18n import N_
from eligibility import Catalogue, validate
from storage import dossiers as store
from storage.blobs import BlobStore

from . import bounded
from .answers import raw_facts
from .checklist import SHORT, ChecklistItem, ItemStatus, build_checklist, missing, status
from .files import MAX_PDF_PAGES, REFUSAL_REASONS, CheckedFile, FileRefused, check
from .people import signs_for_self

log = logging.getLogger(__name__)

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


ITEM_FULL = N_(
    "Per questo documento abbiamo già tutte le pagine che prendiamo ({limit}). "
    "Se una pagina è sbagliata, toccate «Rifai un documento» e mandatele di nuovo."
)
MAX_ITEM_PAGES = 100  # pages of one checklist item, all its files together
MAX_DOSSIER_PAGES = 300  # of a whole dossier
FORM_SPARE_PAGES = 3  # the signed form: its own pages and a few more (a cover, an ID)
_TOO_COMPLEX = next(m for m, r in REFUSAL_REASONS.items() if r == "too_complex")


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
    """`bounded_check` for the event loop: it waits without blocking anybody."""
    try:
        return await bounded.run_async(check, data, max_pages, text_pages)
    except bounded.Overrun as overrun:
        log.info("upload check over its limit: %s", overrun.why)
        return FileRefused(_TOO_COMPLEX)


class Desk:
    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        catalogue: Catalogue,
        outbox_dir: Path | None = None,
    ):
        self.db = db
        self.blobs = blobs
        self.catalogue = catalogue
        self.outbox_dir = outbox_dir  # where `.eml` copies are saved without a mail server

    # -- opening ----------------------------------------------------------------------

    def open(
        self,
        *,
        user_id: int,
        chat_id: int,
        language: str,
        answers: dict[str, Any],
        verdict: dict[str, Any],
        checked_on: dt.date | None = None,
        lines: list[tuple[str, str]] | None = None,
    ) -> str:
        """The family's draft for this notice (kept if they come back), else a new one.
        `checked_on` is the date the pre-check used (the bot's clock); `lines` the answers
        as the questionnaire showed them, in Italian. The facts are validated and kept
        with them: the form, the back-office and the checks read these."""
        notice = verdict["notice"]
        day = checked_on.isoformat() if checked_on else None
        kept: dict[str, Any] = {}
        if checked_on is not None:
            kept["facts"] = raw_facts(answers, checked_on)
            validate(kept["facts"])  # once, here: what is stored is valid
        if lines is not None:
            kept["lines"] = [list(line) for line in lines]
        for d in store.dossiers_of(self.db, user_id):
            if d["notice_id"] == notice["id"] and d["status"] == "bozza":
                data = d["data"]
                changed = data.get("answers") != answers
                data.update(self._snapshot(answers, verdict, day), **kept)
                data["checklist"] = self._checklist(verdict, data.get("identity", {}))
                store.save_data(self.db, d["id"], data)
                if changed and self._unsign(d["id"]):
                    self._flag_form_reset(d["id"])
                return d["id"]
        data = {**self._snapshot(answers, verdict, day), **kept, "identity": {}}
        data["checklist"] = self._checklist(verdict, {})
        return store.create_dossier(
            self.db,
            user_id=user_id,
            chat_id=chat_id,
            notice_id=notice["id"],
            municipality=answers.get("municipality", ""),
            language=language,
            data=data,
        )

    def _flag_form_reset(self, dossier_id: str) -> None:
        d = self.get(dossier_id)
        d["data"]["form_reset"] = True
        store.save_data(self.db, dossier_id, d["data"])

    def take_form_reset(self, dossier_id: str) -> bool:
        """True once after the signed form was taken back because the answers changed
        (the family is told to sign the new one)."""
        d = self.get(dossier_id)
        if not d["data"].pop("form_reset", False):
            return False
        store.save_data(self.db, dossier_id, d["data"])
        return True

    def _snapshot(
        self, answers: dict[str, Any], verdict: dict[str, Any], checked_on: str | None
    ) -> dict[str, Any]:
        notice = verdict["notice"]
        return {
            # the filing date the pre-check used (the bot's clock, `--today` included)
            "checked_on": checked_on,
            "answers": answers,
            "order": [k for k in answers],
            "notice": {k: notice.get(k) for k in ("id", "title", "ambito", "source")},
            "submission": verdict.get("submission"),
            "measures": [
                {"id": m["measure"], "name": m["name"], "verdict": m["verdict"]}
                for m in verdict["measures"]
                if m["verdict"] in ("eligible", "conditional")
            ],
            "documents": verdict.get("documents", []),
            # what the form declares (DPR 445/2000), from the notice's own sentences
            "declarations": verdict.get("declarations", []),
        }

    def _checklist(self, verdict_or_docs: dict[str, Any], identity: dict[str, str]) -> list[dict]:
        items = build_checklist(
            {"documents": verdict_or_docs.get("documents", [])},
            applicant_is_beneficiary=signs_for_self(identity),
        )
        if identity.get("role") == "legal_representative" and not any(
            i.id == "legal_representative_appointment" for i in items
        ):
            items.append(
                ChecklistItem(
                    id="legal_representative_appointment",
                    title=SHORT["legal_representative_appointment"],
                    text="Decreto di nomina del tutore o dell'amministratore di sostegno.",
                    source="Chi firma per un'altra persona mostra il titolo per farlo.",
                    required=True,
                    pages=None,
                )
            )
        return [i.as_dict() for i in items]

    def dossiers_of(self, user_id: int) -> list[dict[str, Any]]:
        return store.dossiers_of(self.db, user_id)

    def get(self, dossier_id: str) -> dict[str, Any]:
        d = store.get_dossier(self.db, dossier_id)
        if d is None:
            raise KeyError(dossier_id)
        return d

    def set_identity(self, dossier_id: str, identity: dict[str, str]) -> bool:
        """Keep the form's personal details; True if a signed form had to be taken back
        because they changed (the family signs the new one)."""
        d = self.get(dossier_id)
        data = d["data"]
        changed = bool(data.get("identity")) and data.get("identity") != identity
        data["identity"] = identity
        data["checklist"] = self._checklist(data, identity)
        store.save_data(self.db, dossier_id, data)
        return self._unsign(dossier_id) if changed else False

    def _unsign(self, dossier_id: str) -> bool:
        """The form changed: its signed copy no longer matches and is taken back."""
        had = any(
            a["item_id"] == "application_form" for a in store.attachments(self.db, dossier_id)
        )
        self.take_back(dossier_id, "application_form")
        d = self.get(dossier_id)
        d["data"].pop("form_sha256", None)
        for item in d["data"]["checklist"]:
            if item["id"] == "application_form":
                item["pages"] = None
        store.save_data(self.db, dossier_id, d["data"])
        return had

    def already_sent(self, user_id: int, notice_id: str) -> dict[str, Any] | None:
        """A dossier for this notice that has left the draft stage: no second application."""
        for d in store.dossiers_of(self.db, user_id):
            if d["notice_id"] == notice_id and d["status"] != "bozza":
                return d
        return None

    # -- the checklist ----------------------------------------------------------------

    def items(self, dossier: dict[str, Any]) -> list[ChecklistItem]:
        return [ChecklistItem.from_dict(i) for i in dossier["data"]["checklist"]]

    def statuses(self, dossier_id: str) -> list[ItemStatus]:
        d = self.get(dossier_id)
        return status(self.items(d), store.attachments(self.db, dossier_id))

    def unassigned(self, dossier_id: str) -> list[dict[str, Any]]:
        return [a for a in store.attachments(self.db, dossier_id) if a["item_id"] == UNASSIGNED]

    def ready_for_form(self, dossier_id: str) -> bool:
        return not missing(self.statuses(dossier_id))

    def ready_to_send(self, dossier_id: str) -> bool:
        return not missing(self.statuses(dossier_id), include_form=True)

    # -- uploads ----------------------------------------------------------------------

    def file(
        self,
        dossier_id: str,
        data: bytes,
        *,
        item_id: str | None,
        file_unique_id: str | None = None,
        checked: CheckedFile | FileRefused | None = None,
    ) -> Filed:
        """Check one upload, keep it encrypted, file it under `item_id` (or set it aside
        until the family says which document it is). The same file twice is kept once."""
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
        )
        if not new:
            return Filed("duplicate", attachment, checked, statuses=self.statuses(dossier_id))
        outcome = "filed" if item_id else "ask_item"
        return Filed(outcome, attachment, checked, statuses=self.statuses(dossier_id))

    def forget_user(self, user_id: int) -> None:
        """Erase everything about the family (they asked to delete their data): dossiers,
        files, saved messages, requests, conversation; see `dossier.erasure`."""
        from .erasure import erase_family

        erase_family(self.db, self.blobs, user_id, self.outbox_dir)

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

    def open_request_for(self, user_id: int) -> dict[str, Any] | None:
        """The newest integration request told to this family and not answered yet."""
        from storage import integrations

        for dossier in store.dossiers_of(self.db, user_id):
            request = integrations.open_request(self.db, dossier["id"])
            if request is not None and request["status"] == "sent":
                return request
        return None

    def integration_request(self, request_id: int) -> dict[str, Any] | None:
        from storage import integrations

        row = self.db.execute(
            "SELECT dossier_id FROM integration_requests WHERE id = ?", [request_id]
        ).fetchone()
        if row is None:
            return None
        request = integrations.open_request(self.db, row[0])
        return request if request is not None and request["id"] == request_id else None

    def answer_request(self, request_id: int, dossier_id: str) -> None:
        from storage import integrations

        integrations.answer(self.db, request_id, dossier_id)

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

    def set_form_pages(self, dossier_id: str, pages: int, sha256: str | None = None) -> None:
        """The form was made with `pages` pages: the signed copy needs them all. Its
        SHA-256 is kept, so the unsigned file sent back is recognised."""
        d = self.get(dossier_id)
        if sha256:
            d["data"]["form_sha256"] = sha256
        for item in d["data"]["checklist"]:
            if item["id"] == "application_form":
                item["pages"] = pages
        store.save_data(self.db, dossier_id, d["data"])

    def form_pages(self, dossier_id: str) -> int:
        d = self.get(dossier_id)
        item = next(i for i in d["data"]["checklist"] if i["id"] == "application_form")
        return int(item["pages"] or 1)

    def assign(self, dossier_id: str, attachment_id: int, item_id: str) -> list[ItemStatus]:
        row = self.db.table("attachments").get(attachment_id)
        if row["dossier_id"] != dossier_id:
            raise KeyError(attachment_id)
        store.move_attachment(self.db, attachment_id, item_id)
        return self.statuses(dossier_id)

    def take_back(self, dossier_id: str, item_id: str) -> None:
        """Remove an item's uploads (a wrong photo): the family sends them again."""
        for sha in store.remove_attachments(self.db, dossier_id, item_id):
            if not store.blob_in_use(self.db, sha):
                self.blobs.delete(sha)

    # -- the form ---------------------------------------------------------------------

    def form_data(self, dossier_id: str, today: dt.date):  # -> FormData
        """The form of this dossier as it stands today (`dossier.istanza`)."""
        from .istanza import form_data

        return form_data(self.get(dossier_id), self.statuses(dossier_id), self.catalogue, today)

    def form_pdf(self, dossier_id: str, today: dt.date) -> bytes:
        from .form import application_form_pdf

        return application_form_pdf(self.form_data(dossier_id, today))

    # -- assembly and sending ---------------------------------------------------------

    def assemble(self, dossier_id: str, now: dt.datetime, budget_mb: float):
        from .assemble import assemble

        return assemble(**self.assembly_inputs(dossier_id, now, budget_mb))

    def assembly_inputs(
        self, dossier_id: str, now: dt.datetime, budget_mb: float
    ) -> dict[str, Any]:
        """What `assemble` needs, read from storage (here, in the caller's thread); the
        assembly itself can then run in a worker thread."""
        from .assemble import Item, Upload

        d = self.get(dossier_id)
        rows = store.attachments(self.db, dossier_id)
        items = []
        for item in self.items(d):
            uploads = [
                Upload(
                    item_id=item.id,
                    seq=a["seq"],
                    kind=a["kind"],
                    data=self.blobs.get(a["sha256"]),
                    sha256=a["sha256"],
                )
                for a in rows
                if a["item_id"] == item.id
            ]
            if uploads:
                items.append(Item(id=item.id, title=item.title, uploads=uploads))
        sub = d["data"].get("submission") or {}
        budget = float(sub.get("max_message_mb") or budget_mb)
        return {
            "items": items,
            "dossier_id": dossier_id,
            "notice_id": d["notice_id"],
            "recipient": sub.get("address") or "",
            "created_at": now,
            # the budget is for the e-mail; base64 makes attachments a third bigger
            "budget": int(budget * 1024 * 1024 * 0.73),
        }

    def submit(self, dossier_id: str, built: Any, settings: Any) -> None:
        """Hand the assembled dossier to the outbox: one message per part, each with a
        Message-ID fixed now, so a retry never makes a second application."""
        from storage.outbox import enqueue

        from .istanza import body, subject
        from .mail import build_messages

        d = self.get(dossier_id)
        recipient = (d["data"].get("submission") or {}).get("address") or ""
        messages = build_messages(
            built,
            sender=settings.smtp_from,
            recipient=recipient,
            subject=subject(d),
            body=body(d),
            date=getattr(built, "created_at", None),  # one clock: the manifest's moment
        )
        enqueue(self.db, self.blobs, dossier_id, messages, recipient)
