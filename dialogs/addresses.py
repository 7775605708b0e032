"""Addresses as the form writes them: a street with sensible capitals, a CAP checked
against Lombardy and against its comune's province, "CAP Comune" read as people type it.
A wrong answer raises `AnswerError` with what to type (a kind sentence)."""

from __future__ import annotations

import re

from common.i18n import N_
from eligibility.comuni import gazetteer, italian_case

from .parsing import AnswerError


def street_case(text: str) -> str:
    """A street typed all in lower case or all in capitals, as it is written on a form:
    "via dei mille 5" → "Via dei Mille 5", "VIA GIOVANNI XXIII, 15" → "Via Giovanni
    XXIII, 15" (the particles and roman numerals as in a comune's name); mixed case as
    typed."""
    if not (text.islower() or text.isupper()):
        return text
    words = re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), text.lower())
    words = italian_case(words)
    words = re.sub(r"\b[IVXLC][ivxlc]+\b", lambda m: m.group(0).upper(), words)  # XXIII,
    return re.sub(r"\bSnc\b", "snc", words)


NOT_A_STREET = {
    "tax_code": N_(
        "Questo sembra un codice fiscale. Qui serve l'indirizzo: la via e il numero. "
        "Per esempio: Via Roma 12."
    ),
    "iban": N_(
        "Questo sembra un IBAN. Qui serve l'indirizzo: la via e il numero. "
        "Per esempio: Via Roma 12."
    ),
    "email": N_(
        "Questo sembra un indirizzo e-mail. Qui serve l'indirizzo di casa: la via e il "
        "numero. Per esempio: Via Roma 12."
    ),
    "phone": N_(
        "Questo sembra un numero di telefono. Qui serve l'indirizzo: la via e il numero. "
        "Per esempio: Via Roma 12."
    ),
    "postcode": N_(
        "Questo sembra un CAP: lo chiedo dopo, con il Comune. Qui serve la via e il "
        "numero. Per esempio: Via Roma 12."
    ),
}
_TAX_CODE = re.compile(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")


def _not_a_street(text: str) -> str | None:
    """What another answer typed here looks like (a codice fiscale, an IBAN, an e-mail
    address), so the family is told what to type instead of it going on the form."""
    compact = re.sub(r"[\s.-]", "", text).upper()
    tokens = [re.sub(r"[.,;:-]", "", t).upper() for t in text.split()]
    if _TAX_CODE.fullmatch(compact) or any(_TAX_CODE.fullmatch(t) for t in tokens):
        return "tax_code"
    # an IBAN whole, or grouped by four after a word ("Iban IT60 X054 ...")
    ibanish = [compact, re.sub(r"^[A-Z]*?(?=[A-Z]{2}\d{2})", "", compact)]
    if any(_IBAN.fullmatch(c) and any(x.isalpha() for x in c[4:]) for c in ibanish):
        return "iban"
    if "@" in text and re.search(r"\S+@\S+\.\S+", text):
        return "email"
    number = re.sub(r"^[^\W\d_]+\.?:?\s*", "", text)  # "tel 339…", "cell.: 339…"
    if re.fullmatch(r"\+?[\d\s./-]+", number) and sum(c.isdigit() for c in number) >= 8:
        return "phone"  # 339 123 4567, +39 02 1234567
    if any(re.fullmatch(r"(2[0-7]|46)\d{3}", t) for t in tokens):  # a Lombard CAP
        return "postcode"
    return None


def parse_address(text: str) -> str:
    text = " ".join(text.split())
    if kind := _not_a_street(text):
        raise AnswerError(NOT_A_STREET[kind])
    if not 4 <= len(text) <= 120 or not re.search(r"[^\W\d_]", text):
        raise AnswerError(N_("Scrivete la via e il numero. Per esempio: Via Roma 12."))
    if not re.search(r"\d|\bsnc\b|senza numero", text, re.IGNORECASE):
        raise AnswerError(
            N_("Manca il numero civico. Per esempio: Via Roma 12. Se non c'è, scrivete «snc».")
        )
    return street_case(text)


# The first two digits of the CAP of every comune of a Lombard province (Poste Italiane's
# postal zones: Milano and Monza 20, Varese 21, Como 22, Lecco and Sondrio 23, Bergamo 24,
# Brescia 25, Cremona and Lodi 26, Pavia 27, Mantova 46). No package ships the CAP of each
# comune, so a CAP is checked against its comune's province only.
CAP_ZONES = {
    "MI": "20", "MB": "20", "VA": "21", "CO": "22", "LC": "23", "SO": "23", "BG": "24",
    "BS": "25", "CR": "26", "LO": "26", "PV": "27", "MN": "46",
}  # fmt: skip
NOT_LOMBARD_CAP = N_(
    "Questo CAP non è della Lombardia: qui i CAP cominciano con 20, 21, 22, 23, 24, 25, 26, "
    "27 o 46. Controllate e riscrivete."
)
CAP_OF_ANOTHER_PROVINCE = N_(
    "Questo CAP non sembra di {comune}: lì i CAP cominciano con {zone}. Controllate. Se è "
    "proprio questo, scrivetelo di nuovo uguale e lo teniamo così."
)


def parse_postcode(text: str) -> str:
    code = re.sub(r"\s", "", text)
    if not re.fullmatch(r"\d{5}", code):
        raise AnswerError(N_("Il CAP sono 5 cifre. Per esempio: 20089."))
    if code[:2] not in CAP_ZONES.values():
        raise AnswerError(NOT_LOMBARD_CAP)
    return code


def cap_zone(comune: str | None) -> tuple[str, str] | None:
    """The comune's name as written and the first two digits of its CAP, when it is a
    Lombard comune we know."""
    if not comune:
        return None
    found = gazetteer().find(comune).comune
    if found is None or found.province not in CAP_ZONES:
        return None
    return found.name, CAP_ZONES[found.province]


def checked_postcode(
    key: str, value: str, comune: str | None, identity: dict[str, str], unconfirmed: str
) -> None:
    """A CAP whose first digits are not those of its comune's province: asked again once
    (typed again the same, it is kept: the family knows their own address)."""
    zone = cap_zone(comune)
    code = value[:5]
    if zone is None or code.startswith(zone[1]):
        identity.pop(unconfirmed, None)
        return
    if identity.get(unconfirmed) == f"{key}={value}":
        identity.pop(unconfirmed, None)
        return
    identity[unconfirmed] = f"{key}={value}"
    raise AnswerError(CAP_OF_ANOTHER_PROVINCE, comune=zone[0], zone=zone[1])


def parse_town(text: str) -> str:
    """ "20089 Rozzano" (or "Rozzano 20089", "20089 - Rozzano (MI)"): stored as
    "20089 Rozzano"."""
    text = " ".join(text.split())
    code = re.search(r"\b\d{5}\b", text)
    name = re.sub(r"\b\d{5}\b|[,;–-]", " ", text)
    name = " ".join(name.split())
    if code is None:
        raise AnswerError(N_("Manca il CAP: 5 cifre prima del Comune. Per esempio: 20089 Rozzano."))
    if not re.search(r"[^\W\d_]{2,}", name) or len(name) > 60:
        raise AnswerError(N_("Manca il Comune dopo il CAP. Per esempio: 20089 Rozzano."))
    if name.islower() or name.isupper():
        name = re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), name)
    return f"{code.group(0)} {name}"
