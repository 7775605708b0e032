"""The same assistant in a terminal: buttons become numbered options. The whole
application too, for a social worker at the counter with the family in front of them:
the form's details, `/allega PATH ...` to attach files (several at once), the form to
sign and the family's copy written to a folder, the last check, and the send (to the
outbox folder when no mail server is set)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import html
import re
import secrets
import shlex
import shutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from sqlite_utils import Database

from common import counter as families
from common.clock import moment, rome_today
from common.settings import Settings
from dialogs.application import Application, Received, Step, identity_draft
from dialogs.buttons import is_ours, unpack
from dialogs.flow import Dialog
from dialogs.languages import SOURCE, Catalogs, Translate, translator
from dialogs.live_catalogue import LiveCatalogue
from dialogs.matching import words
from dialogs.paper import GATHERING
from dialogs.parsing import fold
from dialogs.replies import Button, Outcome, Reply
from dialogs.status_view import SENT_STAYS
from dossier.desk import Desk
from dossier.erasure import counter_copies, erase_family
from eligibility import Catalogue
from storage import conversations, counter, integrations
from storage.dossiers import dossiers_of, last_sent, sent_by
from storage.users import delete_user, get_language, set_language

from .console_words import (
    BANNER,
    GOODBYE,
    NEXT_FAMILY,
    NO_SUCH,
    NOT_FOUND,
    NOT_SENT,
    NOT_THERE,
    OPEN_NONE,
    OPEN_ONE,
    SAVED,
    SERVICE_SENDS,
    counter_words,
)


def family_folder(base: Path, dossier_id: str) -> Path:
    """Where the console writes one application's files: the form to sign, the copy
    (erased with the family's data, and by retention: `dossier.erasure`)."""
    return counter_copies(base, dossier_id)


def plain(text: str) -> str:
    """HTML as the terminal shows it."""
    return html.unescape(re.sub(r"</?(b|i|code)>", "", text))


class Console:
    def __init__(
        self,
        db: Database,
        catalogue: Catalogue,
        clock: Callable[[], dt.date],
        out: TextIO,
        settings: Settings | None = None,
        family: int | None = None,
    ):
        self.db, self.catalogue, self.clock, self.out = db, catalogue, clock, out
        self.settings = settings or Settings()
        # the family in front of the counter: an id of its own (`common.counter`)
        self.family = family if family is not None else counter.new_family(db)
        self.i18n = Catalogs()  # not aiogram's I18n: the console starts without aiogram
        self.buttons: list[Button] = []
        self._desk: Desk | None = None

    # -- state -------------------------------------------------------------------------

    @property
    def _key(self) -> str:
        return f"console:{self.family}:{self.family}"  # the user id between colons

    @property
    def _paper(self) -> str:
        return f"{self._key}:paper"  # the application's state (the bot's FSM key `paper`)

    def load(self) -> dict[str, Any]:
        return conversations.read(self.db, self._key)[1]

    def save(self, state: dict[str, Any]) -> None:
        conversations.write_data(self.db, self._key, state)

    def locale(self) -> str:
        return get_language(self.db, self.family) or SOURCE

    def words(self, locale: str) -> Translate:
        """The language's translation, in the console's words (`bot.console_words`)."""
        return counter_words(translator(self.i18n, locale))

    def dialog(self) -> Dialog:
        locale = self.locale()
        return Dialog(self.catalogue, self.clock(), self.words(locale), locale)

    @property
    def folder(self) -> Path:
        """Beside the database: the files, the outbox, and what the console writes out."""
        from .places import data_folder

        return data_folder(self.db, self.settings)

    @property
    def desk(self) -> Desk:
        if self._desk is None:  # opened when the application needs it (the key, the files)
            from .places import blob_store_beside

            blobs = blob_store_beside(self.db, self.settings)
            self._desk = Desk(
                self.db,
                blobs,
                self.catalogue,
                self.folder / "outbox",
                clock=lambda: moment(self.clock()),
            )
        return self._desk

    def application(self, dialog: dict[str, Any]) -> Application:
        locale = self.locale()
        return Application(
            self.desk,
            self.catalogue,
            self.words(locale),
            locale,
            self.clock,
            self.settings,
            dialog=dialog,
            paper=conversations.read(self.db, self._paper)[1],
        )

    def paper_stage(self) -> str | None:
        paper = conversations.read(self.db, self._paper)[1]
        return paper.get("stage") if paper.get("dossier") else None

    # -- showing -----------------------------------------------------------------------

    def show(self, outcome: Outcome) -> None:
        self.buttons = []
        for reply in outcome.replies:
            self.print_reply(reply)

    def print_reply(self, reply: Reply) -> None:
        print(plain(reply.text), file=self.out)
        # 🔔 alerts go to a Telegram chat: the console has none to send them to
        flat = [b for row in reply.buttons for b in row if not b.data.startswith("sub:")]
        if flat:
            self.buttons = flat
        self.show_options(flat)

    def show_options(self, buttons: list[Button] | None = None) -> None:
        """The options (those on screen, again, by default), then a blank line."""
        for i, b in enumerate(self.buttons if buttons is None else buttons, 1):
            print(f"  {i}. {plain(b.label)}", file=self.out)
        print(file=self.out)

    def say(self, text: str) -> None:
        print(plain(text) + "\n", file=self.out)

    # -- one typed line ------------------------------------------------------------------

    def step(self, line: str) -> bool:
        """Handle one typed line; False when the user wants to leave."""
        return asyncio.run(self.step_async(line))

    async def step_async(self, line: str) -> bool:
        state = self.load()
        d = self.dialog()
        line = line.strip()
        command, _space, rest = line.partition(" ")
        if line in ("/esci", "/quit", "/annulla"):
            self.save(state)
            self.say(d._(GOODBYE))
            return False
        if line == "/cancella_dati":
            sent = sent_by(self.db, self.family)
            self.erase()
            self.say(d._("Fatto: abbiamo cancellato tutti i vostri dati."))
            if sent:  # what has left us stays with the office
                self.say(d._(SENT_STAYS))
            self.show(self.dialog().start(state := {}))
            self.save(state)
            return True
        if command in ("/nuova", "/apri"):
            self.open(rest.strip() if command == "/apri" else None)
            return True
        step = await self.paperwork(line, state)
        if step is not None:
            return True
        commands: dict[str, Callable[[], Outcome]] = {
            "/start": lambda: d.start(state),
            "/riepilogo": lambda: Outcome(d.summary(state, last_sent(self.db, self.family))),
            "/indietro": lambda: d.back(state),
            "/lingua": lambda: Outcome([d._language_reply()]),
        }
        if line == "/ricomincia":
            state.clear()
        if line in commands or line == "/ricomincia":
            outcome = commands.get(line, lambda: d.start(state))()
        else:
            button = self.pick(line)
            outcome = d.on_button(state, button.data) if button else d.on_text(state, line)
            if outcome.language:
                set_language(self.db, self.family, outcome.language)
                outcome.replies += self.dialog().ask(state)
        if outcome.wipe:
            delete_user(self.db, self.family)
            state = {}
        if state.get("stage") != "result":
            # as in the chat: an answer changed, the application no longer matches
            paper = conversations.read(self.db, self._paper)[1]
            kept = identity_draft(paper) if state.get("answers") else {}  # not after /ricomincia
            conversations.write_data(self.db, self._paper, kept)
        self.save(state)
        self.show(outcome)
        return True

    # -- the families at the counter ------------------------------------------------------

    def heading(self) -> None:
        """Which family is open, and its application if it has one."""
        _ = self.dialog()._
        mine = dossiers_of(self.db, self.family)
        number = families.number(self.family)
        if mine:
            self.say(_(OPEN_ONE).format(number=number, id=mine[0]["id"]))
        else:
            self.say(_(OPEN_NONE).format(number=number))

    def open(self, dossier_id: str | None) -> None:
        """`/nuova` (None): the next family, with nothing of the one before; `/apri B2-…`:
        a family's application again, and the request of the social services if one is
        open."""
        if dossier_id is None:
            family: int | None = counter.new_family(self.db)
        else:
            family = counter.family_of(self.db, dossier_id)
            if family is None:
                self.say(self.dialog()._(NO_SUCH).format(id=dossier_id or "B2-…"))
                return
            counter.open_family(self.db, family)
        assert family is not None
        self.family, self.buttons = family, []
        self.heading()
        self.resume()

    def resume(self) -> None:
        """Where this family was: the request the social services left open, the
        application, or the questions."""
        state = self.load()
        for dossier in dossiers_of(self.db, self.family):
            request = integrations.open_request(self.db, dossier["id"])
            paper = conversations.read(self.db, self._paper)[1]
            if request is None:
                continue
            if paper.get("request") == request["id"] and paper.get("stage") == "integration":
                app = self.application(state)
                self.deliver(app.where(), app)
                return
            app = self.application(state)
            asked = app.view.integration_request(  # what they asked, their note, by when
                {
                    "dossier_id": dossier["id"],
                    "status": "integrazione_richiesta",
                    "detail": {k: request[k] for k in ("items", "note", "due_on")},
                },
                dossier["data"].get("checklist") or [],
            )
            replies = app.start_integration(request["id"], self.family)
            conversations.write_data(self.db, self._paper, app.data)
            self.deliver(Step([asked, *replies]), app)
            return
        if self.paper_stage() is not None:
            app = self.application(state)
            self.deliver(app.where(), app)
            return
        self.show(self.dialog().start(state))
        self.save(state)

    def erase(self) -> None:
        """/cancella_dati: this family only, with its copies in the console's folder."""
        mine = [d["id"] for d in dossiers_of(self.db, self.family)]
        erase_family(self.db, self.desk.blobs, self.family, self.settings.outbox_dir)
        for dossier_id in mine:
            shutil.rmtree(family_folder(self.folder, dossier_id), ignore_errors=True)

    async def paperwork(self, line: str, state: dict[str, Any]) -> Step | None:
        """The line as the application takes it, or None if it is the questionnaire's."""
        stage = self.paper_stage()
        command = line.split(maxsplit=1)[0] if line else ""
        button = self.pick(line)
        if button is not None and not is_ours(button.data):
            return None
        app = self.application(state)
        if button is not None:
            step = await app.press(unpack(button.data), self.family)
        elif command == "/allega" and stage is None:
            step = app.documents(self.family)  # no application yet: says so, takes nothing
        elif command == "/allega":
            step = await self.attach(app, paths_of(line.partition(" ")[2]))
        elif command == "/documenti":
            step = app.documents(self.family)
        elif stage is None:
            return None
        elif command in ("/start", "/aiuto"):
            step = app.where()
        elif command == "/indietro" and stage != "integration":
            step = app.back()
        elif (
            stage in GATHERING and self.buttons and app.data.get("ask") and not line.startswith("/")
        ):
            # a file waits for its document: the question again, with its options
            self.say(app._("Per rispondere, toccate uno dei pulsanti qui sotto."))
            self.show_options()
            return Step()
        elif stage in ("identity", "documents", "signing") and not line.startswith("/"):
            step = app.text(line)
        elif stage == "sent" and not line.startswith("/"):
            step = app.after_sending()  # "grazie": a kind word and where it stands, as in the chat
        else:
            return None
        conversations.write_data(self.db, self._paper, app.data)
        sending = stage not in ("sent", "integration") and app.stage == "sent"
        if sending:  # the console says itself where the application is, after the outbox
            queued = app.view.queued().text
            step.replies = [r for r in step.replies if r.text != queued]
        self.deliver(step, app)
        if sending:
            await self.send_outbox(app)
        return step

    async def attach(self, app: Application, paths: list[str]) -> Step:
        """`/allega PATH ...`: each file as if sent in the chat; several are one album."""
        if not paths:
            return Step(
                [
                    Reply(
                        app._(
                            "Scrivete /allega e il percorso del file, per esempio: /allega /home/maria/isee.pdf"
                        )
                    )
                ]
            )
        # unique across runs: an album asked about in an earlier run is not this one
        album = f"console-{secrets.token_hex(6)}" if len(paths) > 1 else None
        replies: list[Reply] = []
        summed: list[Reply] = []  # an album's reply that sums up its files so far
        for name in paths:
            path = Path(name).expanduser()
            if not path.is_file():
                # a path from the root that is not there: the name or the folder is wrong
                missing = NOT_THERE if path.is_absolute() else NOT_FOUND
                replies.append(Reply(app._(missing).format(path=name)))
                continue
            data = path.read_bytes()
            unique = hashlib.sha256(data).hexdigest()[:32]  # the same file twice is known
            first = app.before_download(len(data), unique, self.family)
            done = first if first is not None else await app.upload(Received(data, unique, album))
            if done.album:
                summed = done.replies  # the last file's reply says it for all of them
            else:
                replies += done.replies
        return Step(replies + summed)

    def deliver(self, step: Step, app: Application) -> None:
        """Documents written to the application's folder in the console's, then the
        replies."""
        if step.documents:
            folder = family_folder(self.folder, app.dossier_id)
            folder.mkdir(parents=True, exist_ok=True)
            _ = self.words(self.locale())
            for document in step.documents:
                path = folder / Path(document.name).name
                path.write_bytes(document.data)
                self.say(_(SAVED).format(path=path))
        self.show(Outcome(step.replies))

    async def send_outbox(self, app: Application) -> None:
        """One round of the outbox, as `sportello outbox --send` does: by the mail server
        if one is set, else into the outbox folder; never beside the running service.
        Then, plainly, whether the application left or not."""
        from common.clock import moment_clock
        from dossier.delivery import Outbox, safe_name
        from storage import leases

        from .leader import JOBS

        dossier_id = app.dossier_id
        me = leases.new_owner()
        if not leases.hold(self.db, JOBS, me, 600):
            self.say(app._(SERVICE_SENDS).format(id=dossier_id))
            return
        try:
            box = Outbox.from_settings(
                self.settings, self.db, self.desk.blobs, clock=moment_clock(self.clock)
            )
            await box.run_once()
        finally:
            leases.release(self.db, JOBS, me)
        if self.settings.smtp_host:
            self.deliver(app.documents(self.family), app)
        else:
            where = self.settings.outbox_dir / safe_name(dossier_id)
            copy = family_folder(self.folder, dossier_id)
            self.say(app._(NOT_SENT).format(id=dossier_id, path=where, copy=copy))

    def pick(self, line: str) -> Button | None:
        """A number, or the label of one of the options on screen, or a part of one
        label only ("busta paga" for «📎 Busta paga dell'assistente»)."""
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            return self.buttons[int(line) - 1]
        folded = fold(line)
        if not folded or folded.startswith("/"):
            return None
        labels = [(b, re.sub(r"^[^\w]+", "", fold(plain(b.label))).strip()) for b in self.buttons]
        typed = words(line)
        for b, label in labels:
            # the whole label, or one of its names, or its words without its commas and
            # accents ("si invia" for «📨 Sì, invia»)
            if folded == label or folded in label.split(" · ") or (typed and typed == words(label)):
                return b
        if len(folded) < 4 or not any(c.isalpha() for c in folded):
            return None  # "1a", "30": answers, not parts of a label
        part = re.compile(rf"(?<!\w){re.escape(folded)}(?!\w)")
        found = [b for b, label in labels if part.search(label)]
        return found[0] if len(found) == 1 else None


def paths_of(rest: str) -> list[str]:
    """The paths after `/allega`: as a shell reads them (quotes, `\\ ` before a space);
    if that cannot be read, or one of them is no file but the whole line is, the whole
    line is one path (a name with spaces, typed as it is)."""
    rest = rest.strip()
    try:
        paths = shlex.split(rest)
    except ValueError:  # an unclosed quote
        paths = []
    whole = rest.strip("'\"")
    found = [Path(p).expanduser().is_file() for p in paths]
    one = Path(whole).expanduser().is_file() or not any(found)
    if whole and not all(found or [False]) and one:
        return [whole]  # one name with spaces (said as one if it is not there either)
    return paths


def run_console(
    db: Database,
    stdin: Iterable[str] = sys.stdin,
    out: TextIO = sys.stdout,
    clock: Callable[[], dt.date] = rome_today,
    settings: Settings | None = None,
    *,
    new: bool = False,
    dossier_id: str | None = None,
) -> int:
    """The console for the family open last (`new`: the next family; `dossier_id`: the
    family of that application). Ctrl-C or the end of the input leave it as /esci does.
    Returns the exit status."""
    family = None if new else counter.last_open(db)
    if dossier_id is not None:
        family = counter.family_of(db, dossier_id)
        if family is None:
            _ = translator(Catalogs(), SOURCE)
            print(plain(_(NO_SUCH).format(id=dossier_id)), file=out)
            return 2
        counter.open_family(db, family)
    console = Console(db, LiveCatalogue(db), clock, out, settings, family)
    try:
        print(plain(console.dialog()._(BANNER)) + "\n", file=out)
        console.heading()
        console.say(console.dialog()._(NEXT_FAMILY))
        console.resume()
        for line in stdin:
            if not console.step(line):
                return 0
    except KeyboardInterrupt:  # Ctrl-C: what was typed before is saved
        pass
    # Ctrl-C, or the end of the input (Ctrl-D): as /esci, said on a line of its own
    print(file=out)
    console.say(console.dialog()._(GOODBYE))
    return 0
