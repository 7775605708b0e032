"""A live button's label typed instead of tapped, outside the questionnaire (which reads
its own typed answers): at the documents, the signing, the sending, on the result and the
/riepilogo summary. The text becomes the press of that button, handled by the same
handlers as a tap (`bot.paperwork`, `bot.handlers`).

Only the buttons of the messages whose buttons are live in the chat now count (`LIVE`,
kept by `bot.replies` as they are sent, pruned to the last message with buttons and each
slot's), so a typed text never acts as an old button, nor as one the bot did not send.
The label is read by the questionnaire's matcher (`dialogs.matching`), and every word typed
must be one of the label's (a press may send the application: "sì, ma aspetta" is not
«Sì, invia»); a text that names no button goes on as text; one that fits two or more buttons of one
message goes on with them (`CHOICES`), so the family is asked which one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiogram.enums import ChatType
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, Update

from dialogs.buttons import Erase, Go, Stage
from dialogs.matching import match_option, words
from storage.fsm import SQLiteStorage

from .replies import KEYBOARD, LIVE, TYPED, prune_live

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
# presses that cannot be undone (send, send what was asked, erase everything): typed,
# only as an answer to the newest message with buttons, never to an older one still live
FINAL = frozenset(
    {Go(step=Stage.SEND).pack(), Go(step=Stage.REQUEST_DONE).pack(), Erase(answer="yes").pack()}
)
# the application's stages where typed text is not read as its own answers
PRESSING = (None, "documents", "signing", "sent", "integration")
# the handler data key of the buttons a typed word fits two or more of (`typed_choices`)
CHOICES = "typed_choices"


def live_buttons(stored: Mapping[str, Any]) -> list[tuple[int, str, str]]:
    """(message id, label, data) of every button live in the chat now."""
    kept = {KEYBOARD: stored.get(KEYBOARD), "slots": stored.get("slots"), LIVE: stored.get(LIVE)}
    prune_live(kept)
    return [
        (int(message_id), label, data)
        for message_id, buttons in (kept.get(LIVE) or {}).items()
        for label, data in buttons
    ]


def typed_button(stored: dict[str, Any], text: str) -> tuple[int, str] | None:
    """The live button (message id, data) `text` names, or None: outside the
    questionnaire's questions and the form's details, which read their own answers."""
    found = _reading(stored, text)
    return found if isinstance(found, tuple) else None


def typed_choices(stored: dict[str, Any], text: str) -> list[tuple[str, str]]:
    """The live buttons (label, data) of one message that `text` fits two or more of, so
    names none ("assistente": «Contratto dell'assistente» and «Busta paga
    dell'assistente»): the family is asked which one. Empty: none, or one named."""
    found = _reading(stored, text)
    return found if isinstance(found, list) else []


def _reading(
    stored: Mapping[str, Any], text: str
) -> tuple[int, str] | list[tuple[str, str]] | None:
    """The button `text` names (message id, data); or the buttons it fits several of."""
    dialog = stored.get("dialog") or {}
    paper = stored.get("paper") or {}
    stage = paper.get("stage") if paper.get("dossier") else None
    if dialog.get("stage") != "result" or stage not in PRESSING:
        return None
    if text.strip().isdigit():
        return None  # these buttons are not numbered on screen: a number is not one
    if "?" in text:
        return None  # a question is not a decision: "invia?" does not send
    buttons = live_buttons(stored)
    newest = max((m for m, _, _ in buttons), default=None)
    # the newest message first (the question just asked: "Per quale documento è?" over
    # the checklist's 📎 of the same documents); two of its buttons named: none
    for message_id in sorted({m for m, _, _ in buttons}, reverse=True):
        own = [(label, data) for m, label, data in buttons if m == message_id]
        labels = list(dict.fromkeys(label for label, _ in own))
        index = match_option(text, [[label] for label in labels])
        if index is not None:
            if not set(words(text)) <= set(words(labels[index])):
                return None  # "sì, ma aspetta" is not «Sì, invia»: a press may not be undone
            named = {data for label, data in own if label == labels[index]}
            if len(named) != 1:
                return None
            data = named.pop()
            if data in FINAL and message_id != newest:
                return None  # what cannot be undone only from the message asked last
            return message_id, data
        several = _fitting(text, labels)
        if len(several) > 1:
            fits = set(several)
            return [(label, data) for label, data in own if label in fits and data not in FINAL]
    return None


def _fitting(text: str, labels: list[str]) -> list[str]:
    """The labels `text` fits, each on its own (two or more: it names none of them)."""
    return [label for label in labels if match_option(text, [[label]]) is not None]


async def typed_press(handler: Handler, update: TelegramObject, data: dict[str, Any]) -> Any:
    """An update outer middleware: a plain text in a private chat naming a live button is
    handled as the press of that button."""
    message = update.message if isinstance(update, Update) else None
    state: FSMContext | None = data.get("state")
    if (
        message is None
        or state is None
        or message.from_user is None
        or message.chat.type != ChatType.PRIVATE
        or not message.text
        or message.text.startswith("/")
    ):
        return await handler(update, data)
    storage = state.storage
    # only looked at: decoded once, for the handler too (`SQLiteStorage.peek_data`)
    stored = (
        storage.peek_data(state.key)
        if isinstance(storage, SQLiteStorage)
        else await state.get_data()
    )
    found = _reading(stored, message.text)
    if not isinstance(found, tuple):
        # a word that fits two buttons: the text handler asks which one (`CHOICES`)
        data[CHOICES] = found or []
        return await handler(update, data)
    message_id, button = found
    assert isinstance(update, Update)
    bot = data["bot"]
    pressed = Message(
        message_id=message_id, date=message.date, chat=Chat(id=message.chat.id, type=message.chat.type)
    ).as_(bot)
    callback = CallbackQuery(
        id=f"{TYPED}{update.update_id}",
        from_user=message.from_user,
        chat_instance=f"{TYPED}{message.chat.id}",
        message=pressed,
        data=button,
    ).as_(bot)
    press = Update(update_id=update.update_id, callback_query=callback).as_(bot)
    return await handler(press, data)
