"""The application's stages as aiogram states, for `StateFilter` in `bot.paperwork`.

The stage itself lives in the application's state (`paper.stage`, kept by the Telegram-free
controller `dialogs.application`); the middleware of `bot.paperwork` derives the state
from it for every update and stores it when it changes, so the two never disagree (a
/ricomincia that empties the application leaves no stage behind). So no stored state
means no application in progress: typed answers then go straight to the questionnaire
(`bot.handlers.typed_answer`); whatever starts an application stores its state."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class Paperwork(StatesGroup):
    identity = State()  # the details of the form
    documents = State()  # gathering the files
    signing = State()  # the form to sign is out; its signed pages are awaited
    integration = State()  # the social services asked for more
    sent = State()  # gone to the Comune: closed for changes


def state_of(stage: str | None) -> str | None:
    """The aiogram state (`Paperwork:documents`) of an application's stage."""
    found = getattr(Paperwork, stage, None) if stage else None
    return found.state if isinstance(found, State) else None
