"""The same questionnaire in a terminal: buttons become numbered options."""

from __future__ import annotations

import datetime as dt
import html
import re
import sys
from collections.abc import Callable
from typing import Any, TextIO

from aiogram.utils.i18n import I18n
from sqlite_utils import Database

from common.i18n import N_
from dialogs.flow import Button, Dialog, Outcome, Reply
from dialogs.languages import SOURCE, translator
from dialogs.live_catalogue import LiveCatalogue
from eligibility import Catalogue
from storage import fsm
from storage.erasure import checkpoint, forget_family
from storage.users import delete_user, get_language, set_language

from .i18n import make_i18n

CONSOLE_USER = 0
_KEY = "console:0:0"


def plain(text: str) -> str:
    """HTML as the terminal shows it."""
    return html.unescape(re.sub(r"</?(b|i|code)>", "", text))


class Console:
    def __init__(
        self, db: Database, catalogue: Catalogue, clock: Callable[[], dt.date], out: TextIO
    ):
        self.db, self.catalogue, self.clock, self.out = db, catalogue, clock, out
        self.i18n: I18n = make_i18n()
        self.buttons: list[Button] = []

    def load(self) -> dict[str, Any]:
        return fsm.read(self.db, _KEY)[1]

    def save(self, state: dict[str, Any]) -> None:
        fsm.write_data(self.db, _KEY, state)

    def dialog(self) -> Dialog:
        locale = get_language(self.db, CONSOLE_USER) or SOURCE
        return Dialog(self.catalogue, self.clock(), translator(self.i18n, locale), locale)

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

    def step(self, line: str) -> bool:
        """Handle one typed line; False when the user wants to leave."""
        state = self.load()
        d = self.dialog()
        line = line.strip()
        commands: dict[str, Callable[[], Outcome]] = {
            "/start": lambda: d.start(state),
            "/riepilogo": lambda: Outcome(d.summary(state)),
            "/indietro": lambda: d.back(state),
            "/lingua": lambda: Outcome([d._language_reply()]),
        }
        if line in ("/esci", "/quit", "/annulla"):
            self.save(state)
            print(plain(d._("Le risposte restano salvate. A presto!")), file=self.out)
            return False
        if line == "/cancella_dati":
            forget_family(self.db, CONSOLE_USER)
            checkpoint(self.db)
            print(plain(d._("Fatto: abbiamo cancellato tutti i vostri dati.")), file=self.out)
            return True
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
        self.save(state)
        self.show(outcome)
        return True

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
    "Sportello B2 — scrivete /esci per uscire. Comandi: /riepilogo, /indietro, /ricomincia."
)


def run_console(
    db: Database,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    clock: Callable[[], dt.date] = dt.date.today,
) -> None:
    console = Console(db, LiveCatalogue(db), clock, out)
    print(plain(console.dialog()._(BANNER)) + "\n", file=out)
    state = console.load()
    console.show(console.dialog().start(state))
    console.save(state)
    for line in stdin:
        if not console.step(line):
            break
