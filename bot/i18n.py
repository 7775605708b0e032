"""Languages: gettext catalogs under dialogs/locales, chosen per user from the users table."""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from sqlite_utils import Database

from dialogs.languages import LOCALES, SOURCE, available, from_telegram
from storage.users import get_language

LANGUAGE = "chosen_language"  # the user's chosen language, read with the conversation


def make_i18n() -> I18n:
    return I18n(path=LOCALES, default_locale=SOURCE, domain="messages")


class UserLanguage(I18nMiddleware):
    """The user's chosen language; before they choose, their Telegram language if we have
    a catalog for it (`zh-hans` → zh, `ro-MD` → ro), else Italian."""

    def __init__(self, i18n: I18n, db: Database):
        super().__init__(i18n)
        self.db = db

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        if user is None:
            return SOURCE
        # read with the conversation when the update's turn began (bot.journal)
        chosen = data[LANGUAGE] if LANGUAGE in data else get_language(self.db, user.id)
        if chosen in available():
            return chosen
        return from_telegram(user.language_code)
