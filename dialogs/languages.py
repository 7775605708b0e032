"""The languages the bot speaks: one gettext catalog each under `dialogs/locales`.

A language is available when its catalog is on disk; `ORDER` only says where it shows in
`/lingua` and the command menu (a catalog not listed comes last, by code). Adding a language
is one catalog (`pybabel init -l xx`, then translate) and one line here.

Names, text direction and formats come from Babel's CLDR data, never from hand lists.
Translations go through `translator()`: it adds plurals (`_(singular, plural, n)`, the
gettext way, extracted with `-k _:1,1t -k _:1,2`) and, in a right-to-left language, wraps
every value filled into a message in Unicode isolates, so an Italian name, a euro amount
or a date keeps its own direction inside Arabic text.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Protocol

from babel import Locale, UnknownLocaleError

LOCALES = Path(__file__).resolve().parent / "locales"
SOURCE = "it"  # the language of the msgids, and the fallback
ORDER = ("it", "en", "ro", "uk", "es", "ar", "sq", "zh")
# Where the bot's readers are: British English conventions (1 Jun 2025, €), not American.
REGIONS = {"it": "it_IT", "en": "en_GB"}

FSI = "\u2068"  # FIRST STRONG ISOLATE: the value takes the direction of its own first letter
PDI = "\u2069"  # POP DIRECTIONAL ISOLATE


class Translate(Protocol):
    """`_(message)`, or `_(singular, plural, n)` for a message with a count."""

    def __call__(self, message: str, plural: str | None = None, n: int = 1) -> str: ...


@cache
def available() -> tuple[str, ...]:
    """Every language with a catalog on disk, in display order; Italian first."""
    on_disk = {p.parent.parent.name for p in LOCALES.glob("*/LC_MESSAGES/messages.po")}
    on_disk.add(SOURCE)
    return tuple(c for c in ORDER if c in on_disk) + tuple(sorted(on_disk - set(ORDER)))


@cache
def babel_locale(language: str) -> Locale:
    try:
        return Locale.parse(REGIONS.get(language, language))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(REGIONS[SOURCE])


def display_name(language: str) -> str:
    """The language in its own words, as CLDR writes it: Română, Українська, العربية, 中文."""
    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]


@cache
def names_of(language: str) -> tuple[str, ...]:
    """How a family may type the language: its own name, its Italian and English names
    (CLDR's), and its code: "Română", "rumeno", "Romanian", "ro"."""
    locale = Locale.parse(language)
    names = [display_name(language), *(locale.get_display_name(x) or "" for x in ("it", "en"))]
    return (*(n for n in names if n), language)


@cache
def is_rtl(language: str) -> bool:
    return babel_locale(language).character_order == "right-to-left"


@lru_cache(maxsize=256)
def from_telegram(language_code: str | None) -> str:
    """The language for a Telegram `language_code` (an IETF tag: `ro`, `zh-hans`, `zh-CN`,
    `ar-EG`, `mo`), or Italian when we have no catalog for it."""
    if not language_code:
        return SOURCE
    try:
        language = Locale.parse(language_code.replace("_", "-"), sep="-").language
    except (UnknownLocaleError, ValueError):
        language = language_code.split("-")[0].split("_")[0].lower()
    return language if language in available() else SOURCE


RLM = "\u200f"  # RIGHT-TO-LEFT MARK
_RIGHT_TO_LEFT_LETTERS = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


def is_right_to_left_text(text: str) -> bool:
    """Text with Hebrew or Arabic letters in it: a message of a right-to-left chat."""
    return bool(_RIGHT_TO_LEFT_LETTERS.search(text))


def right_to_left_lines(text: str) -> str:
    """Every line started with a right-to-left mark. Telegram lays out each line by its
    first strong letter: a line of an Arabic message that begins with an Italian name
    ("✅ Buono sociale …: يمكنكم طلبه", "Dopo di Noi، …") would run left to right."""
    return "\n".join(
        line if not line or line.startswith(RLM) else RLM + line for line in text.split("\n")
    )


def isolate(value: Any) -> str:
    return f"{FSI}{value}{PDI}"


class Isolating(str):
    """A translated message in a right-to-left language: `format` wraps each value in
    isolates (FSI … PDI). The one place where values meet right-to-left text."""

    __slots__ = ()

    def format(self, *args: Any, **kwargs: Any) -> str:
        return str.format(
            self, *(isolate(a) for a in args), **{k: isolate(v) for k, v in kwargs.items()}
        )


def fill(template: str, language: str, **values: Any) -> str:
    """`template.format(**values)` for a template put together by hand (escaped, or joined
    from several messages), with the values isolated in a right-to-left language."""
    return (Isolating(template) if is_rtl(language) else template).format(**values)


class _Gettext(Protocol):
    def gettext(
        self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None
    ) -> str: ...


class Catalogs:
    """The compiled catalogs read with the standard library: the same `.mo` files and the
    same `gettext(singular, plural, n, locale)` as aiogram's `I18n`, for the console,
    which then starts without importing aiogram (seconds on a loaded machine)."""

    def gettext(
        self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None
    ) -> str:
        catalog = _catalog(locale or SOURCE)
        return catalog.gettext(singular) if plural is None else catalog.ngettext(singular, plural, n)


@cache
def _catalog(language: str) -> stdlib_gettext.NullTranslations:
    return stdlib_gettext.translation("messages", LOCALES, languages=[language], fallback=True)


@lru_cache(maxsize=64)
def translator(catalogs: _Gettext, language: str) -> Translate:
    """The translation function for one language, from aiogram's `I18n` (or anything with
    its `gettext(singular, plural, n, locale)`). The same function each time for the same
    two: it can key what is worked out in that language (`dialogs.question_view`)."""
    rtl = is_rtl(language)

    def _(message: str, plural: str | None = None, n: int = 1) -> str:
        if not message:
            return message
        text = catalogs.gettext(message, plural, n, locale=language)
        return Isolating(text) if rtl else text

    return _


def untranslated(message: str, plural: str | None = None, n: int = 1) -> str:
    """The Italian source itself: for the form, the back-office and tests."""
    return plural if plural is not None and n != 1 else message
