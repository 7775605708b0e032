"""The desk where a dossier is put together: open it, file uploads, fill the form,
assemble the files, and hand the messages to the outbox.

Everything here is I/O through `storage/` (SQLite, encrypted blobs); the bot calls it and
turns the results into chat messages.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from common.clock import Clock, moment, utcnow
from eligibility import Catalogue, validate
from storage import dossiers as store
from storage.blobs import BlobStore
from storage.records import Identity

from .answers import raw_facts
from .checklist import SHORT, ChecklistItem, ItemStatus, build_checklist, status
from .record import DossierData, record_of
from .requests import Requests
from .uploads import Uploads, message_budget

log = logging.getLogger(__name__)


class Desk(Uploads, Requests):
    """The dossier's lifecycle, its form and its sending; uploads (`dossier.uploads`)
    and the social services' requests (`dossier.requests`) are its parts."""

    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        catalogue: Catalogue,
        outbox_dir: Path | None = None,
        clock: Clock = utcnow,
    ):
        self.db = db
        self.clock = clock  # when a file arrives: `--today`'s day at the real time of day
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
                identity = Identity.from_dict(data.get("identity"))
                data["checklist"] = [i.as_dict() for i in self._checklist(verdict, identity)]
                store.save_data(self.db, d["id"], data)
                if changed and self._unsign(d["id"]):
                    self._flag_form_reset(d["id"])
                return d["id"]
        data = {**self._snapshot(answers, verdict, day), **kept, "identity": {}}
        data["checklist"] = [i.as_dict() for i in self._checklist(verdict, Identity())]
        return store.create_dossier(
            self.db,
            user_id=user_id,
            chat_id=chat_id,
            notice_id=notice["id"],
            municipality=answers.get("municipality", ""),
            language=language,
            data=data,
            now=moment(checked_on) if checked_on is not None else None,  # one clock: --today
        )

    def _record(self, dossier_id: str) -> DossierData:
        return record_of(self.get(dossier_id))

    def _keep(self, dossier_id: str, record: DossierData) -> None:
        """Write a dossier's typed data back (`DossierData.to_dict`)."""
        store.save_data(self.db, dossier_id, record.to_dict())

    def _flag_form_reset(self, dossier_id: str) -> None:
        self._keep(dossier_id, self._record(dossier_id).with_others(form_reset=True))

    def take_form_reset(self, dossier_id: str) -> bool:
        """True once after the signed form was taken back because the answers changed
        (the family is told to sign the new one)."""
        record = self._record(dossier_id)
        if not record.others.get("form_reset"):
            return False
        self._keep(dossier_id, record.with_others(form_reset=None))
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

    def _checklist(
        self, verdict_or_docs: Mapping[str, Any], identity: Identity
    ) -> list[ChecklistItem]:
        items = build_checklist(
            {"documents": list(verdict_or_docs.get("documents") or [])},
            applicant_is_beneficiary=identity.signs_for_self,
        )
        if identity.role == "legal_representative" and not any(
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
        return items

    def dossiers_of(self, user_id: int) -> list[dict[str, Any]]:
        return store.dossiers_of(self.db, user_id)

    def get(self, dossier_id: str) -> dict[str, Any]:
        d = store.get_dossier(self.db, dossier_id)
        if d is None:
            raise KeyError(dossier_id)
        return d

    def identity(self, dossier_id: str) -> Identity:
        """The form's personal details as kept (nothing yet: an empty `Identity`)."""
        return record_of(self.get(dossier_id)).identity

    def set_identity(self, dossier_id: str, identity: Identity | Mapping[str, str]) -> bool:
        """Keep the form's personal details (typed, or as the chat asked them, by question
        key); True if a signed form had to be taken back because they changed (the family
        signs the new one)."""
        if not isinstance(identity, Identity):
            identity = Identity.from_dict(identity)
        record = self._record(dossier_id)
        before = record.identity
        changed = before != Identity() and before != identity
        checklist = self._checklist({"documents": record.documents}, identity)
        self._keep(dossier_id, replace(record, identity=identity, checklist=tuple(checklist)))
        return self._unsign(dossier_id) if changed else False

    def _unsign(self, dossier_id: str) -> bool:
        """The form changed: its signed copy no longer matches and is taken back."""
        had = any(
            a["item_id"] == "application_form" for a in store.attachments(self.db, dossier_id)
        )
        self.take_back(dossier_id, "application_form")
        record = self._record(dossier_id).with_form_pages(None)
        self._keep(dossier_id, record.with_others(form_sha256=None, form_layout=None))
        return had

    def standing(self, dossier_id: str) -> dict[str, Any]:
        """Where a sent application stands, for the family: its last status change, its
        last PEC receipt, and a delivery being retried (the next try and the error)."""
        from storage import outbox, receipts

        events = [
            e
            for e in store.history(self.db, dossier_id)
            if e["status"] not in ("purge_warning", "riprova")
        ]
        got = receipts.receipts_of(self.db, dossier_id)
        retrying = [
            o
            for o in outbox.rows_of(self.db, dossier_id)
            if o["status"] == outbox.PENDING and (o["attempts"] or 0) > 0 and o["last_error"]
        ]
        return {
            "id": dossier_id,
            "status": self.get(dossier_id)["status"],
            "event": {**events[-1], "dossier_id": dossier_id} if events else None,
            "receipt": got[-1] if got else None,
            "retry_at": min(o["next_attempt_at"] for o in retrying) if retrying else None,
        }

    def already_sent(self, user_id: int, notice_id: str) -> dict[str, Any] | None:
        """A dossier for this notice that has left the draft stage: no second application."""
        for d in store.dossiers_of(self.db, user_id):
            if d["notice_id"] == notice_id and d["status"] != "bozza":
                return d
        return None

    # -- the checklist ----------------------------------------------------------------

    def items(self, dossier: dict[str, Any]) -> list[ChecklistItem]:
        return list(record_of(dossier).checklist)

    def statuses(self, dossier_id: str) -> list[ItemStatus]:
        d = self.get(dossier_id)
        same_as = d["data"].get("same_as") or {}
        return status(self.items(d), store.attachments(self.db, dossier_id), same_as)

    # -- erasure and the form's pages --------------------------------------------------

    def forget_user(self, user_id: int) -> None:
        """Erase everything about the family (they asked to delete their data): dossiers,
        files, saved messages, requests, conversation; see `dossier.erasure`."""
        from .erasure import erase_family

        erase_family(self.db, self.blobs, user_id, self.outbox_dir)

    def set_form_pages(
        self,
        dossier_id: str,
        pages: int,
        sha256: str | None = None,
        layout: dict[str, Any] | None = None,
    ) -> None:
        """The form was made with `pages` pages: the signed copy needs them all. Its
        SHA-256 is kept, so the unsigned file sent back is recognised; its layout (where
        the QR code and the signature boxes are: `FormPDF.layout`), so a photo of a page
        is set upright and its box looked at for ink."""
        record = self._record(dossier_id).with_form_pages(pages)
        changes: dict[str, Any] = {}
        if sha256:
            changes["form_sha256"] = sha256
        if layout is not None:
            changes["form_layout"] = layout
        self._keep(dossier_id, record.with_others(**changes))

    def form_layout(self, dossier_id: str) -> dict[str, Any] | None:
        """Where the form's QR code and signature boxes are (None: a form made before
        the layout was kept)."""
        return self._record(dossier_id).others.get("form_layout")

    def form_pages(self, dossier_id: str) -> int:
        item = next(i for i in self._record(dossier_id).checklist if i.id == "application_form")
        return int(item.pages or 1)

    # -- the form ---------------------------------------------------------------------

    def form_data(self, dossier_id: str, today: dt.date):  # -> FormData
        """The form of this dossier as it stands today (`dossier.istanza`)."""
        from .istanza import form_data

        return form_data(self.get(dossier_id), self.statuses(dossier_id), self.catalogue, today)

    # -- assembly and sending ---------------------------------------------------------

    def assembly_inputs(
        self, dossier_id: str, now: dt.datetime, budget_mb: float
    ) -> dict[str, Any]:
        """What `assemble` needs, read from storage (here, in the caller's thread); the
        files themselves are not read here: the assembly (in its bounded process) reads
        and decrypts each one when it needs it (`Upload.source`)."""
        from .assemble import Item, Upload

        d = self.get(dossier_id)
        rows = store.attachments(self.db, dossier_id)
        source = self.blobs.reader()
        same_as = d["data"].get("same_as") or {}
        titles = {item.id: item.title for item in self.items(d)}
        items = []
        for item in self.items(d):
            # the signed form's pages by their number, whatever order they came in
            mine = sorted(
                (a for a in rows if a["item_id"] == item.id),
                key=lambda a: (a.get("form_page") is None, a.get("form_page") or 0, a["seq"]),
            )
            uploads = [
                Upload(
                    item_id=item.id,
                    seq=seq,
                    kind=a["kind"],
                    data=b"",
                    sha256=a["sha256"],
                    signed=bool(a["signed"]),
                    source=source,
                )
                for seq, a in enumerate(mine, start=1)
            ]
            if uploads:
                # one file for two items (the same verbale): sent once, titled for both
                also = [titles[k] for k, v in same_as.items() if v == item.id and k in titles]
                title = "; ".join([item.title, *also])
                items.append(Item(id=item.id, title=title, uploads=uploads))
        sub = d["data"].get("submission") or {}
        return {
            "items": items,
            "dossier_id": dossier_id,
            "notice_id": d["notice_id"],
            "recipient": sub.get("address") or "",
            "created_at": now,
            "budget": message_budget(d["data"], budget_mb),
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
        # queued at the manifest's moment: the outbox's retries count from it on one clock
        enqueue(
            self.db,
            self.blobs,
            dossier_id,
            messages,
            recipient,
            now=getattr(built, "created_at", None),
        )
