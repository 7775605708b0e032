"""Read answers the way people type them, in every language of the bot: dates, euro
amounts, hours, yes and no.

Each parser returns the value, or raises `AnswerError` with a message id that says what
to type, with an example. Messages are marked with `N_` and translated by the caller.

What each language types comes from Babel's CLDR data, not from hand lists: the month
names of every region of each language (so Arabic accepts مايو, أيار and ماي), the words
its date patterns put between the numbers ("20 de mayo de 1939", "20 травня 1939 р."),
the euro's names (євро, يورو, 欧元) and the hour's unit words. Digits of any script
(Eastern Arabic ١٢٬٥٠٠, full-width １２０００) count as digits, and spaces of any width
group thousands ("12 000").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import unicodedata
from decimal import Decimal
from functools import cache

from babel import localedata
from babel.dates import get_month_names
from babel.numbers import (
    NumberFormatError,
    format_compact_decimal,
    format_decimal,
    get_currency_name,
    get_currency_symbol,
    parse_decimal,
)
from babel.units import format_compound_unit, format_unit
from text_to_num import alpha2digit

from common.i18n import N_

from .languages import available, babel_locale


class AnswerError(ValueError):
    """An answer that cannot be read; `message` is a msgid to translate and show."""

    def __init__(self, message: str, **params: str):
        super().__init__(message)
        self.message = message
        self.params = params  # its {placeholders}, filled after translating


def fold(text: str) -> str:
    """Lower case, without accents, harakat or invisible direction marks: `Mărz` → `marz`,
    `أيار` → `ايار`."""
    if text.isascii():  # nothing to take off: the usual answer, read at once
        return text.casefold().strip()
    text = unicodedata.normalize("NFKD", text)
    return (
        "".join(c for c in text if not unicodedata.combining(c) and unicodedata.category(c) != "Cf")
        .casefold()
        .strip()
    )


def _ascii_digits(text: str) -> str:
    """Digits of any script as 0-9 (Eastern Arabic, Persian, full-width...)."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def _words(text: str) -> str:
    return " ".join(fold(text).rstrip(".").split())


def _languages() -> set[str]:
    return {*available(), "it", "en"}


def _regional_locales() -> list[str]:
    """Every CLDR locale of the bot's languages: ar, ar_EG, ar_MA, ar_SY...; es_PE, es_EC..."""
    languages = _languages()
    return [i for i in localedata.locale_identifiers() if i.split("_")[0] in languages]


@cache
def month_names() -> dict[str, int]:
    """Folded month name → number, wide and abbreviated, in every region of every language
    we speak. A name that means two months in two languages is left out."""
    found: dict[str, set[int]] = {}
    for identifier in _regional_locales():
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale=identifier).items():
                    found.setdefault(_words(name), set()).add(number)
    return {name: next(iter(n)) for name, n in found.items() if len(n) == 1 and name}


@cache
def _date_particles() -> frozenset[str]:
    """The words date patterns set between the numbers: Spanish `de`, Ukrainian `р.`.
    Plus what CLDR abbreviates or leaves out: `del`, as Peru and Ecuador write the year
    ("20 de mayo del 1939"), and `року`, the Ukrainian `р.` written in full."""
    # il 20 maggio; primo di marzo; nata il 1 marzo; 1st of May
    words = {"del", "року", "il", "lo", "di", "nata", "nato", "el", "the", "of", "on"}
    for identifier in _regional_locales():
        formats = babel_locale(identifier).date_formats
        for length in ("full", "long", "medium"):
            for literal in re.findall(r"'([^']+)'", formats[length].pattern):
                words.update(_words(w) for w in literal.split())
    return frozenset(w for w in words if w and not w.isdigit())


DATE_EXAMPLE = N_("Non riesco a leggere la data. Scrivetela così: 1/3/1950.")
_SEP = r"\s*[/.\-\s]\s*"
_NUMERIC = re.compile(rf"^(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{2}}|\d{{4}})$")
_YEAR_FIRST = re.compile(r"^(\d{4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})$")
_HAN = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]?$")
_DAY_MONTH_YEAR = re.compile(
    r"^(\d{1,2})(?:\s*°|\s+o)?\s+(\D+?)\s+(\d{4}|\d{2})$"  # 1º marzo 1940, 3 marzo 40
)
_MONTH_DAY_YEAR = re.compile(r"^(\D+?)\s+(\d{1,2})\s+(\d{4}|\d{2})$")
_RUN = re.compile(r"^(\d{2})(\d{2})(\d{2}|\d{4})$")  # 16062025, 160625: no separators


def _without_particles(text: str) -> str:
    text = re.sub(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)", " ", text)  # 1939р. → 1939 р.
    particles = _date_particles()
    return " ".join(w for w in text.split() if w.rstrip(".") not in particles)


def _full_year(digits: str, today: dt.date) -> int:
    """`40` is 1940 and `25` is 2025 (this century's unless that is after `today`)."""
    year = int(digits)
    if len(digits) == 2:
        year += 2000 if 2000 + year <= today.year else 1900
    return year


# the languages of ours whose numbers in words text2num reads ("trenta", "quindici")
NUMBER_WORD_LANGUAGES = ("it", "en", "es")


def in_figures(text: str) -> str:
    """Numbers written in words as figures: "trenta ore" → "30 ore", "quindici gennaio"
    → "15 gennaio" (Italian, English, Spanish, by text2num); text with a figure already,
    or none read, as it is."""
    if any(c.isdigit() for c in text):
        return text
    for language in NUMBER_WORD_LANGUAGES:
        with contextlib.suppress(ValueError):
            figures = alpha2digit(text, language)
            if any(c.isdigit() for c in figures):
                return figures
    return text


def date_in_figures(text: str) -> str:
    """A date's numbers written in words as figures, ordinals too, even beside figures:
    "primo marzo 1940" → "1 marzo 1940", "venti maggio 1939", "first of March 1940",
    "1st March 1940", "primero de marzo" (text2num, Italian, English, Spanish)."""
    for language in NUMBER_WORD_LANGUAGES:
        with contextlib.suppress(ValueError):
            figures = alpha2digit(text, language, threshold=0)
            if figures != text:
                text = figures
                break
    return _ORDINAL.sub(r"\1", text)


_ORDINAL = re.compile(r"(\d{1,2})\s*(?:º|°|ª|st|nd|rd|th|er)(?![^\W\d_])")  # 1º, 1st, 1er


_DAY_MONTH = re.compile(r"^(\d{1,2})(?:\s*°|\s+o)?\s+(\D+?)$")  # 15 gennaio
_MONTH_DAY = re.compile(r"^(\D+?)\s+(\d{1,2})$")  # january 15
_NUMERIC_DAY_MONTH = re.compile(rf"^(\d{{1,2}}){_SEP}(\d{{1,2}})$")  # 15/1


def _without_year(words: str, today: dt.date, when: str) -> dt.date | None:
    """A day and month without a year ("15 gennaio", "15/1"): the last such day up to
    `today` (`when` "past") or the next from `today` ("future"); None if not one."""
    if m := _NUMERIC_DAY_MONTH.match(words):
        day, month = int(m.group(1)), int(m.group(2))
    elif m := _DAY_MONTH.match(words):
        day, month = int(m.group(1)), month_names().get(_words(m.group(2)), 0)
    elif m := _MONTH_DAY.match(words):
        day, month = int(m.group(2)), month_names().get(_words(m.group(1)), 0)
    else:
        return None
    try:
        found = dt.date(today.year, month, day)
    except ValueError:
        return None
    if when == "past" and found > today:
        found = found.replace(year=today.year - 1)
    if when == "future" and found < today:
        found = found.replace(year=today.year + 1)
    return found


def parse_date(text: str, today: dt.date, *, without_year: str | None = None) -> dt.date:
    """`1/3/1950`, `01.03.1950`, `1 3 1950`, `01031950`, `1 marzo 1950`, `1950-03-01`,
    `20 de mayo de 1939`, `20 травня 1939 року`, `٢٠ مايو ١٩٣٩`, `١٩٣٩/٥/٢٠`, `1939年5月20日`,
    `3 marzo 40`;
    numeric dates are day first unless they start with the year. A two-digit year is this
    century's unless that is after `today` (`16/6/25` is 2025; `1/3/50` is 1950)."""
    text = re.sub(r"\bl['’](?=\d)", "", text.strip().rstrip(".!?;:").lower())  # l'1 marzo
    folded = fold(date_in_figures(_ascii_digits(text))).replace("،", " ").replace(",", " ")
    # all figures (1/3/1950, 1950-03-01, 01031950): no words to read between them
    numeric = _YEAR_FIRST.match(folded) or _NUMERIC.match(folded) or _RUN.match(folded)
    words = folded if numeric else _without_particles(folded)
    if m := (_YEAR_FIRST.match(words) or _HAN.match(words)):
        year, month, day = (int(g) for g in m.groups())
    elif (m := _NUMERIC.match(words)) or (m := _RUN.match(words)):
        day, month = int(m.group(1)), int(m.group(2))
        year = _full_year(m.group(3), today)
    else:
        if m := _DAY_MONTH_YEAR.match(words):
            day, name, year = int(m.group(1)), m.group(2), _full_year(m.group(3), today)
        elif m := _MONTH_DAY_YEAR.match(words):
            name, day, year = m.group(1), int(m.group(2)), _full_year(m.group(3), today)
        else:
            found = _without_year(words, today, without_year) if without_year else None
            if found is None:
                raise AnswerError(DATE_EXAMPLE)
            return found
        month = month_names().get(_words(name))
        if month is None:
            raise AnswerError(DATE_EXAMPLE)
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise AnswerError(
            N_("Questa data non esiste. Controllate giorno e mese, così: 1/3/1950.")
        ) from None


def parse_birth_date(text: str, today: dt.date) -> dt.date:
    day = parse_date(text, today)
    if day > today:
        raise AnswerError(
            N_("Questa data è nel futuro. Scrivete la data di nascita, così: 1/3/1950.")
        )
    if day.year < 1900:
        raise AnswerError(
            N_("Questa data è troppo lontana. Scrivete la data di nascita, così: 1/3/1950.")
        )
    return day


@cache
def _currency_words() -> tuple[str, ...]:
    """The euro as each language writes it (€, EUR, euro, euros, євро, يورو, 欧元), folded,
    longest first."""
    words = {"€", "eur", "euro", "euros"}
    for language in _languages():
        locale = babel_locale(language)
        words.add(fold(get_currency_symbol("EUR", locale=locale)))
        for count in (None, 0, 1, 2, 3, 5, 11, 100, 1.5):
            words.add(fold(get_currency_name("EUR", count=count, locale=locale)))
    return tuple(sorted((w for w in words if w), key=len, reverse=True))


def _compact(text: str) -> str:
    """Digits in ASCII, Arabic separators as Italian ones (٬ thousands → `.`, ٫ decimal →
    `,`), no spaces of any width, no invisible marks, no apostrophes (12'000)."""
    text = _ascii_digits(text).translate({0x066C: ".", 0x066B: ",", 0x060C: ",", 0x27: None})
    return "".join(
        c for c in text if not c.isspace() and unicodedata.category(c) not in ("Cf", "Pf")
    )


_EN_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d{1,2})?$")
AMOUNT_EXAMPLE = N_("Non riesco a leggere la cifra. Scrivetela così: 12.000,50.")


def _decimal(cleaned: str) -> Decimal | None:
    """Babel's strict parsers, Italian first; `12,000` or `1,250,000.50` (thousands grouped
    with commas) the English way: nobody writes euro with three decimals."""
    locales = ("en_US", "it_IT") if _EN_GROUPED.match(cleaned) else ("it_IT", "en_US")
    for locale in locales:
        try:
            return parse_decimal(cleaned, locale=locale, strict=True)
        except NumberFormatError:
            continue
    return None


# Chinese counts in units of ten thousand (万) and writes a thousand 千: CLDR's compact
# formats give 万 only, so the table says both.
MULTIPLIERS = {"万": 10_000, "萬": 10_000, "千": 1_000}


@cache
def _thousand_words() -> tuple[str, ...]:
    """`mila`, `thousand`, `k`, `mii`, `тис`, `тисяч`, `mil`, `ألف`, `mijë`: CLDR's compact
    numbers (12K, 12 тис., 12 mila) of every language, folded, longest first."""
    words = set()
    for language in _languages():
        locale = babel_locale(language)
        for count in (1, 2, 3, 5, 11, 12, 21):
            number = fold(format_decimal(count, locale=locale))
            for kind in ("short", "long"):
                shown = fold(format_compact_decimal(count * 1000, format_type=kind, locale=locale))
                if number in shown:
                    word = " ".join(shown.replace(number, " ", 1).split()).rstrip(".")
                    if word and not any(c.isdigit() for c in word):
                        words.add(word)
    return tuple(sorted(words, key=len, reverse=True))


def _multiplier(folded: str) -> tuple[str, int]:
    """`12 тис.` → (`12`, 1000); `1,2万` → (`1,2`, 10000); other text as it is."""
    text = folded.strip().rstrip(".").strip()
    for word, factor in MULTIPLIERS.items():
        if text.endswith(word):
            return text.removesuffix(word), factor
    for word in _thousand_words():
        head = text.removesuffix(word)
        if head != text and head.strip() and (head[-1].isspace() or head[-1].isdigit()):
            return head, 1000
    return folded, 1


def parse_amount(text: str) -> Decimal:
    """`12.000`, `12.000,50`, `€ 12000`, `12000 euro`, `12 000`, `١٢٬٥٠٠`, `1,2万`,
    `12 mila`, `12 тис.`, `12k`, `١٢ ألف`, and in words: `diciottomila e cinquecento`."""
    folded = fold(_ascii_digits(in_figures(text)))
    for word in _currency_words():
        folded = folded.replace(word, " ")
    folded, factor = _multiplier(folded)
    cleaned = _compact(folded)
    if not cleaned or len(cleaned) > 20 or not re.fullmatch(r"[\d.,+-]+", cleaned):
        # only figures and separators: "1 e 3" or "2e4" is no amount (Babel reads an
        # exponent), nor a stray word
        raise AnswerError(AMOUNT_EXAMPLE)
    value = _decimal(cleaned)
    if value is None:
        raise AnswerError(AMOUNT_EXAMPLE)
    value *= factor
    if value < 0:
        raise AnswerError(N_("La cifra non può essere negativa. Scrivetela così: 12.000,50."))
    if value > 10_000_000:
        raise AnswerError(N_("La cifra è troppo alta. Controllatela e scrivetela così: 12.000,50."))
    return value.quantize(Decimal("0.01"))


@cache
def _hour_words() -> tuple[str, ...]:
    """What follows the number in `25 ore`, `25 ore alla settimana`, `25 h`, `25 годин`,
    `25 ساعة`, `25小时/周`: CLDR's unit patterns of every language, folded, longest first."""
    words = {"ore", "ora", "h", "hours", "hour", "ore a settimana", "ore settimanali"}
    for language in _languages():
        locale = babel_locale(language)
        for value in (0, 1, 2, 3, 5, 11, 21, 25, 101, 1.5):
            number = fold(format_decimal(value, locale=locale))
            for length in ("long", "short", "narrow"):
                for shown in (
                    format_unit(value, "duration-hour", length=length, locale=locale),
                    format_compound_unit(
                        value,
                        "duration-hour",
                        denominator_unit="duration-week",
                        length=length,
                        locale=locale,
                    ),
                ):
                    if shown and number in fold(shown):
                        words.add(" ".join(fold(shown).replace(number, " ", 1).split()))
    return tuple(sorted((w for w in words if w), key=len, reverse=True))


# The words around "hours a week" that CLDR's unit patterns leave out, by language: the
# week said another way (settimanali, weekly, 每周), and the words before the number.
WEEK_WORDS = {
    "it": (
        "a settimana",
        "alla settimana",
        "per settimana",
        "ogni settimana",
        "settimanali",
        "settimanale",
        "lavora",
        "circa",
    ),
    "en": ("a week", "per week", "each week", "every week", "weekly", "about", "works"),
    "ro": ("pe săptămână", "pe saptamana", "săptămânal", "saptamanal", "lucrează", "cam"),
    "uk": ("на тиждень", "щотижня", "в тиждень", "працює", "приблизно", "год."),
    "es": ("a la semana", "por semana", "semanales", "semanal", "cada semana", "trabaja", "unas"),
    "ar": ("في الأسبوع", "أسبوعيا", "أسبوعيًا", "كل أسبوع", "تقريبا", "يعمل", "تعمل"),
    "sq": ("në javë", "ne jave", "në javë", "çdo javë", "javore", "punon", "rreth", "orë"),
    "zh": (
        "每周",
        "每週",
        "一周",
        "一週",
        "每星期",
        "工作",
        "个小时",
        "個小時",
        "大约",
        "大概",
        "左右",
        "周",
    ),
}


@cache
def _week_words() -> tuple[str, ...]:
    """The table's words and CLDR's week names (settimana, тиждень, javë, 周), folded,
    longest first."""
    words = {fold(w) for table in WEEK_WORDS.values() for w in table}
    for language in _languages():
        locale = babel_locale(language)
        for value in (1, 2, 5):
            number = fold(format_decimal(value, locale=locale))
            for length in ("long", "short", "narrow"):
                shown = fold(format_unit(value, "duration-week", length=length, locale=locale))
                if number in shown:
                    words.add(" ".join(shown.replace(number, " ", 1).split()))
    return tuple(sorted((w for w in words if w), key=len, reverse=True))


def _hours_number(folded: str) -> str:
    """The number in `25 ore alla settimana`, `每周25小时`, `20 orë në javë`, `25 hours a
    week`: the hour and week words removed (longest first), whatever their order."""
    text = f" {folded} "
    for word in sorted({*_hour_words(), *_week_words()}, key=len, reverse=True):
        if any("\u4e00" <= c <= "\u9fff" for c in word):  # Chinese: no spaces between words
            text = text.replace(word, " ")
        else:
            text = text.replace(f" {word} ", "  ").replace(f" {word}/", " /")
        text = re.sub(rf"(?<=\d)\s*{re.escape(word)}(?=\s)", " ", text)  # 25h, 25ore
    return " ".join(text.replace("/", " ").split())


# Arabic writes one hour and two hours without a digit ("ساعة في الأسبوع", "ساعتان"), as
# CLDR's units do; read back what the bot itself shows.
_ARABIC_HOURS_WITHOUT_DIGITS = {"ساعة": 1, "ساعتان": 2, "ساعتين": 2}


def parse_hours(text: str) -> float:
    """Hours a week: a number from 0 to 168 (`25`, `25,5`, `25 ore`, `25 годин`, `每周25小时`,
    `20 orë në javë`, `25 hours a week`)."""
    folded = " ".join(fold(in_figures(_ascii_digits(text).lower())).split())
    value = _decimal(_compact(_hours_number(folded))) if folded else None
    if value is None and not any(c.isdigit() for c in folded):
        for word, hours in _ARABIC_HOURS_WITHOUT_DIGITS.items():  # as CLDR writes 1 and 2
            if word in folded.split():
                value = Decimal(hours)
    if value is None:
        raise AnswerError(N_("Scrivete solo il numero di ore a settimana, così: 25."))
    if not 0 <= value <= 168:
        raise AnswerError(N_("Una settimana ha 168 ore. Scrivete un numero da 0 a 168, così: 25."))
    return float(value)


YES = {"si", "sì", "s", "yes", "y", "certo", "ok"}
NO = {"no", "n"}


def parse_yes_no(text: str) -> bool:
    """Italian and English; the dialog first matches the buttons' words in the chat's
    language (Da, Так, Sí, نعم, Po, 是)."""
    folded = fold(text).rstrip(".!")
    if folded in {fold(y) for y in YES}:
        return True
    if folded in NO:
        return False
    raise AnswerError(N_("Premete Sì o No."))
