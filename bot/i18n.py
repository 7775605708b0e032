"""Languages: gettext catalogs under dialogs/locales, chosen per user from the users table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from sqlite_utils import Database

from storage.users import get_language

LOCALES = Path(__file__).resolve().parent.parent / "dialogs" / "locales"
LANGUAGES = ("it", "en")


def make_i18n() -> I18n:
    return I18n(path=LOCALES, default_locale="it", domain="messages")


class UserLanguage(I18nMiddleware):
    """The user's chosen language; before they choose, their Telegram language if we have it."""

    def __init__(self, i18n: I18n, db: Database):
        super().__init__(i18n)
        self.db = db

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        if user is None:
            return "it"
        chosen = get_language(self.db, user.id)
        if chosen:
            return chosen
        code = (user.language_code or "it")[:2]
        return code if code in LANGUAGES else "it"
