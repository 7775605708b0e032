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
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from sqlite_utils import Database

from common.i18n import N_
from common.settings import Settings
from dialogs.application import Application, Received, Step
from dialogs.buttons import is_ours, unpack
from dialogs.flow import Button, Dialog, Outcome, Reply
from dialogs.languages import SOURCE, Catalogs, translator
from dialogs.live_catalogue import LiveCatalogue
from dialogs.status_view import SENT_STAYS
from dossier.desk import Desk
from eligibility import Catalogue
from storage import conversations
from storage.dossiers import sent_by
from storage.erasure import checkpoint, forget_family
from storage.users import delete_user, get_language, set_language

CONSOLE_USER = 0
_KEY = "console:0:0"
_PAPER = "console:0:0:paper"  # the application's state (the bot's FSM key `paper`)
IN_PAPERWORK = ("identity", "documents", "signing", "integration", "sent")
NOT_FOUND = N_("Non trovo il file {path}. Scrivete il percorso completo.")
SAVED = N_("Salvato in {path}")


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
    ):
        self.db, self.catalogue, self.clock, self.out = db, catalogue, clock, out
        self.settings = settings or Settings()
        self.i18n = Catalogs()  # not aiogram's I18n: the console starts without aiogram
        self.buttons: list[Button] = []
        self._desk: Desk | None = None
        self.albums = 0  # files attached together with one /allega are one album

    # -- state -------------------------------------------------------------------------

    def load(self) -> dict[str, Any]:
        return conversations.read(self.db, _KEY)[1]

    def save(self, state: dict[str, Any]) -> None:
        conversations.write_data(self.db, _KEY, state)

    def locale(self) -> str:
        return get_language(self.db, CONSOLE_USER) or SOURCE

    def dialog(self) -> Dialog:
        locale = self.locale()
        return Dialog(self.catalogue, self.clock(), translator(self.i18n, locale), locale)

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
            self._desk = Desk(self.db, blobs, self.catalogue, self.folder / "outbox")
        return self._desk

    def application(self, dialog: dict[str, Any]) -> Application:
        locale = self.locale()
        return Application(
            self.desk,
            self.catalogue,
            translator(self.i18n, locale),
            locale,
            self.clock,
            self.settings,
            dialog=dialog,
            paper=conversations.read(self.db, _PAPER)[1],
        )

    def paper_stage(self) -> str | None:
        paper = conversations.read(self.db, _PAPER)[1]
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
            for i, b in enumerate(flat, 1):
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
        if line in ("/esci", "/quit", "/annulla"):
            self.save(state)
            self.say(d._("Le risposte restano salvate. A presto!"))
            return False
        if line == "/cancella_dati":
            sent = sent_by(self.db, CONSOLE_USER)
            forget_family(self.db, CONSOLE_USER)
            checkpoint(self.db)
            self.say(d._("Fatto: abbiamo cancellato tutti i vostri dati."))
            if sent:  # what has left us stays with the office
                self.say(d._(SENT_STAYS))
            return True
        step = await self.paperwork(line, state)
        if step is not None:
            return True
        commands: dict[str, Callable[[], Outcome]] = {
            "/start": lambda: d.start(state),
            "/riepilogo": lambda: Outcome(d.summary(state)),
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
                set_language(self.db, CONSOLE_USER, outcome.language)
                outcome.replies += self.dialog().ask(state)
        if outcome.wipe:
            delete_user(self.db, CONSOLE_USER)
            state = {}
        if state.get("stage") != "result":
            # as in the chat: an answer changed, the application no longer matches
            conversations.write_data(self.db, _PAPER, {})
        self.save(state)
        self.show(outcome)
        return True

    async def paperwork(self, line: str, state: dict[str, Any]) -> Step | None:
        """The line as the application takes it, or None if it is the questionnaire's."""
        stage = self.paper_stage()
        command = line.split(maxsplit=1)[0] if line else ""
        button = self.pick(line)
        if button is not None and not is_ours(button.data):
            return None
        app = self.application(state)
        if button is not None:
            step = await app.press(unpack(button.data), CONSOLE_USER)
        elif command == "/allega":
            step = await self.attach(app, line.split()[1:])
        elif command == "/documenti":
            step = app.documents(CONSOLE_USER)
        elif stage is None:
            return None
        elif command in ("/start", "/aiuto"):
            step = app.where()
        elif command == "/indietro" and stage != "integration":
            step = app.back()
        elif stage in ("identity", "documents", "signing") and not line.startswith("/"):
            step = app.text(line)
        else:
            return None
        conversations.write_data(self.db, _PAPER, app.data)
        self.deliver(step)
        if stage != "sent" and app.stage == "sent":
            await self.send_outbox()
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
        self.albums += 1
        album = f"console-{self.albums}" if len(paths) > 1 else None
        replies: list[Reply] = []
        summed: list[Reply] = []  # an album's reply that sums up its files so far
        for name in paths:
            path = Path(name).expanduser()
            if not path.is_file():
                replies.append(Reply(app._(NOT_FOUND).format(path=name)))
                continue
            data = path.read_bytes()
            unique = hashlib.sha256(data).hexdigest()[:32]  # the same file twice is known
            first = app.before_download(len(data), unique, CONSOLE_USER)
            done = first if first is not None else await app.upload(Received(data, unique, album))
            if done.album:
                summed = done.replies  # the last file's reply says it for all of them
            else:
                replies += done.replies
        return Step(replies + summed)

    def deliver(self, step: Step) -> None:
        """Documents written to the console's folder, then the replies."""
        if step.documents:
            folder = self.folder / "console"
            folder.mkdir(parents=True, exist_ok=True)
            _ = translator(self.i18n, self.locale())
            for document in step.documents:
                path = folder / Path(document.name).name
                path.write_bytes(document.data)
                self.say(_(SAVED).format(path=path))
        self.show(Outcome(step.replies))

    async def send_outbox(self) -> None:
        """One round of the outbox, as `sportello outbox --send` does: by the mail server
        if one is set, else into the outbox folder; never beside the running service."""
        from common.clock import moment_clock
        from dossier.delivery import Outbox
        from storage import leases

        from .leader import JOBS

        me = leases.new_owner()
        if not leases.hold(self.db, JOBS, me, 600):
            print("the service is running: it sends the outbox itself\n", file=self.out)
            return
        try:
            box = Outbox.from_settings(
                self.settings, self.db, self.desk.blobs, clock=moment_clock(self.clock)
            )
            handled = await box.run_once()
        finally:
            leases.release(self.db, JOBS, me)
        where = "by e-mail" if self.settings.smtp_host else f"to {self.settings.outbox_dir}"
        print(f"outbox: {handled} message(s) handled, {where}\n", file=self.out)

    def pick(self, line: str) -> Button | None:
        """A number, or the label of one of the options on screen."""
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            return self.buttons[int(line) - 1]
        folded = line.casefold()
        for b in self.buttons:
            label = re.sub(r"^[^\w]+", "", plain(b.label).casefold()).strip()
            if folded and (folded == label or folded in label.split(" · ")):
                return b
        return None


BANNER = N_(
    "Sportello B2 — scrivete /esci per uscire. Comandi: /riepilogo, /indietro, /ricomincia, "
    "/documenti, /allega PERCORSO."
)


def run_console(
    db: Database,
    stdin: Iterable[str] = sys.stdin,
    out: TextIO = sys.stdout,
    clock: Callable[[], dt.date] = dt.date.today,
    settings: Settings | None = None,
) -> None:
    console = Console(db, LiveCatalogue(db), clock, out, settings)
    print(plain(console.dialog()._(BANNER)) + "\n", file=out)
    state = console.load()
    console.show(console.dialog().start(state))
    console.save(state)
    for line in stdin:
        if not console.step(line):
            break
