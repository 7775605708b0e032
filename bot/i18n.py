"""Languages: gettext catalogs under dialogs/locales, chosen per user from the users table."""

from __future__ import annotations

from aiogram.types import User
from aiogram.utils.i18n import I18n

from dialogs.languages import LOCALES, SOURCE, available, from_telegram


def make_i18n() -> I18n:
    return I18n(path=LOCALES, default_locale=SOURCE, domain="messages")


def locale_of(user: User | None, chosen: str | None) -> str:
    """The user's chosen language; before they choose, their Telegram language if we have
    a catalog for it (`zh-hans` → zh, `ro-MD` → ro), else Italian. `bot.journal.Turns`
    reads the choice with the conversation and sets it for the update."""
    if user is None:
        return SOURCE
    if chosen in available():
        return chosen
    return from_telegram(user.language_code)
