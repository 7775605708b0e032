"""The application's files: what to say before downloading one (too big, already here,
not the moment), then the file checked, filed under its document or asked about. A part
of the controller (`dialogs.application`); the bot and the console download."""

from __future__ import annotations

from typing import Any

from dossier.budgets import check_declared_size
from dossier.checklist import ItemStatus
from dossier.files import CheckedFile
from dossier.refusals import CHANGED_AFTER_SIGNING, FileRefused
from dossier.uploads import UNASSIGNED, Filed, bounded_check_async

from .buttons import FileAs
from .formats import esc
from .paper import GATHERING, Received, Step, status_of
from .replies import Reply
from .signedpages import SignedPages


class Uploading(SignedPages):
    def before_download(
        self, size: int | None, unique: str | None, user_id: int, album: str | None = None
    ) -> Step | None:
        """What to say without downloading the file (too big, already here, not the moment
        for files); None: download it and call `upload`."""
        stage = self.stage
        if self.waiting_request(user_id):
            request = self.desk.open_request_for(user_id)
            replies = self.start_integration(request["id"] if request else 0, user_id)
            if self.data.get("stage") != "integration":
                return Step(replies)
            stage = "integration"
        if stage == "identity":
            text = self._("Prima finiamo i dati del modulo, poi vi chiedo i documenti.")
            return Step([Reply(text), *self.next_identity()])
        if stage == "sent":
            text = self._(
                "La domanda è già partita. Se il Comune vi chiede altri documenti, vi "
                "scriviamo noi."
            )
            return Step([Reply(text)])
        if stage not in GATHERING:
            return Step()  # not ours: no application here (the bot does not route it here)
        try:
            check_declared_size(size)
        except FileRefused as refusal:
            return Step([self.view.refused(refusal)])
        known = self.desk.known_upload(self.dossier_id, unique)
        if known is not None:
            return Step(self._duplicate(known, album))
        return None

    def waiting_question(self, attachment_id: int | None = None) -> list[Reply]:
        """A file still waiting to be told its document (`ask`; the first one, or
        `attachment_id`): its question again, so it is not left behind unseen (asked in
        an earlier run of the console, or further up the chat)."""
        asked = self.data.get("ask") or {}
        if self.data.get("stage") != "documents" or not asked:
            return []
        first = attachment_id if attachment_id is not None else min(int(i) for i in asked)
        if str(first) not in asked:
            return []
        album = asked[str(first)]
        together = [int(i) for i, a in asked.items() if i == str(first) or (album and a == album)]
        pages = (self.data.get("album_pages") or {}).get(album, len(together)) if album else 1
        question = self.view.which_item(
            min(together), self.statuses(), pages, last=self.data.get("last_item")
        )
        question.slot = f"which-{album}" if album else ""
        return [question]

    def _duplicate(self, known: dict[str, Any], album: str | None = None) -> list[Reply]:
        """The same file again: for which document; and if the family has chosen another
        one now, buttons to say it is the same document for that one too, or to move it
        there. An album sent again gets one reply, not one per photo, and its buttons act
        on every photo of it (`dup_groups`: the files known again, per album)."""
        if album:
            groups: dict[str, list[int]] = self.data.setdefault("dup_groups", {})
            answered = album in groups
            known_again = groups.setdefault(album, [])
            if known["id"] not in known_again:
                known_again.append(known["id"])
            for old in list(groups)[:-10]:  # the last few albums are enough
                groups.pop(old)
            if answered:
                return []
        statuses = self.statuses()
        wanted = None
        chosen = self.data.get("item") if self.data.get("stage") == "documents" else None
        for i, s in enumerate(statuses):
            if s.item.id == chosen and not s.item.signed_form:
                wanted = (i, s)
        if (
            not album
            and known["item_id"] in (None, UNASSIGNED)
            and str(known["id"]) in (self.data.get("ask") or {})
        ):  # sent alone before, still waiting for its document: that question again
            return self.waiting_question(int(known["id"])) or [
                self.view.duplicate(None, known["id"], wanted, album=bool(album))
            ]
        filed_as = status_of(statuses, known["item_id"])
        return [self.view.duplicate(filed_as, known["id"], wanted, album=bool(album))]

    async def upload(self, received: Received) -> Step:
        """A file, downloaded: checked, filed under the item it is for, or asked about."""
        album = received.album
        albums: dict[str, Any] = self.data.setdefault("albums", {})
        stage = self.data.get("stage")
        if stage == "signing":
            item_id: str | None = "application_form"
        elif stage == "integration":
            chosen = self.data.get("item")
            item_id = chosen if chosen in (self.data.get("asked") or []) else None
        elif album and album in albums:
            item_id = albums[album]  # None while the family is asked about this album
        else:
            item_id = self.data.get("item")
        options = self.desk.check_options(self.dossier_id, item_id)
        checked = await bounded_check_async(received.data, *options)
        signed = isinstance(checked, CheckedFile) and checked.signed
        if stage == "signing" and not signed:
            return await self.signed_upload(received, checked)  # pages, by their QR code
        filed = self.desk.file(
            self.dossier_id,
            received.data,
            item_id=item_id,
            file_unique_id=received.unique,
            checked=checked,
            budget_mb=self.settings.sportello_message_budget_mb,
        )
        if filed.outcome == "refused":
            assert filed.refusal is not None
            return self._with_album_question([self.view.refused(filed.refusal)], album)
        assert filed.attachment is not None
        if filed.outcome == "duplicate":
            return self._with_album_question(self._duplicate(filed.attachment, album), album)
        step = self._filed(filed, item_id, album)
        if isinstance(checked, CheckedFile) and checked.changed_after_signing:
            # its signature verifies, but the file was changed after: kept as unsigned
            step.replies.insert(0, Reply("⚠️ " + esc(self._(CHANGED_AFTER_SIGNING))))
        return step

    def _with_album_question(self, replies: list[Reply], album: str | None) -> Step:
        """A file of an album that is being asked about, refused or sent before: the
        album's question still comes, with its pages so far (it may be the last file)."""
        asked = self.data.get("ask") or {}
        if not album or self.data.get("stage") != "documents" or album not in asked.values():
            return Step(replies)
        first = min(int(other) for other, a in asked.items() if a == album)
        pages = (self.data.get("album_pages") or {}).get(album, 1)
        question = self.view.which_item(
            first, self.statuses(), pages, last=self.data.get("last_item")
        )
        question.slot = f"which-{album}"  # a later one for this album takes its place
        return Step([*replies, question])  # said now: the refusal is not held back

    def _filed(self, filed: Filed, item_id: str | None, album: str | None) -> Step:
        """What to say once a file is filed (or asked about)."""
        albums: dict[str, Any] = self.data.setdefault("albums", {})
        stage = self.data.get("stage")
        statuses = filed.statuses
        assert filed.attachment is not None
        first_of_album = bool(album) and album not in albums
        if album:
            albums[album] = item_id
        if filed.outcome == "ask_item":  # an album: its last photo asks, with every page
            return Step(self._ask_item(filed.attachment, statuses, album), album=album)
        s = status_of(statuses, item_id)
        assert s is not None
        if stage == "integration":
            if s.item.id in (self.data.get("unreadable") or []):
                # the new copy replaces the one the social worker could not read
                self.desk.retire(self.dossier_id, s.item.id, before_id=self.data["first_new"])
                statuses = self.statuses()
                s = status_of(statuses, item_id) or s
            others = [(i, o) for i, o in self._asked(statuses) if o.item.id != s.item.id]
            return Step([self.view.integration_filed(s, others)])
        if s.item.signed_form and stage == "signing":  # digitally signed: the whole form
            return self.digitally_signed(filed.attachment["id"])
        self.data["last_item"] = s.item.id
        if album or s.done or s.item.pages is None:
            # one file (or one album), one document: the next file without a tap is asked
            # about, with "another page of this" as its first answer; the rest of this
            # album follows it (`albums`)
            self.data["item"] = None
        if album:  # one reply per album: its first photo says where they all go
            return Step([self.view.album_filed(s, statuses)] if first_of_album else [])
        return Step([self.view.filed(s, statuses, album=False)])

    def _ask_item(
        self, attachment: dict[str, Any], statuses: list[ItemStatus], album: str | None
    ) -> list[Reply]:
        """Which item a file sent without choosing is (once per album)."""
        asked = self.data.get("ask")
        if not isinstance(asked, dict):
            asked = {}
        asked[str(attachment["id"])] = album
        self.data["ask"] = asked
        first, pages = attachment["id"], attachment["pages"]
        if album:
            # the question sums up the album so far (its pages), for its first file: the
            # bot says only the last photo's (`Step.album`), and a newer one replaces it
            self.data.setdefault("albums", {})[album] = None
            counts: dict[str, int] = self.data.setdefault("album_pages", {})
            counts[album] = pages = counts.get(album, 0) + pages
            for old in list(counts)[:-10]:  # the last few albums are enough
                counts.pop(old)
            first = min(int(other) for other, a in asked.items() if a == album)
        if self.data.get("stage") == "integration":
            reply = self.view.which_item(first, statuses, pages)
            allowed = {
                FileAs(attachment=attachment["id"], index=i).pack()
                for i, _s in self._asked(statuses)
            }
            reply.buttons = [row for row in reply.buttons if row[0].data in allowed]
            return [reply]
        reply = self.view.which_item(first, statuses, pages, last=self.data.get("last_item"))
        reply.slot = f"which-{album}" if album else ""
        return [reply]
