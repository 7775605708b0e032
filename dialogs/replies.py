"""What a conversation says: HTML text, escaped, with its buttons (`Reply`), and what a
questionnaire step gives back (`Outcome`). The bot and the console render them; nothing
here knows Telegram."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Button:
    label: str
    data: str


@dataclass
class Reply:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    edit: bool = False  # replace the message whose button was pressed
    # where on screen it goes: a newer message of the same slot takes the buttons of the
    # older away (the checklist, a file's "✅ …: n pagine", the last check): only the
    # newest is live ("" : none, its buttons stay until answered)
    slot: str = ""


STATUS = "status"  # the application's slot: where it stands, and what to tap next


@dataclass
class Outcome:
    replies: list[Reply]
    language: str | None = None  # the user chose a language
    wipe: bool = False  # the user asked to delete everything
    keep_keyboard: bool = False  # a typed answer refused again: the buttons above stay
