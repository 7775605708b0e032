"""Who signs and for whom: the few personal details the application form needs.

Asked only when the family chooses to prepare the application, after the result. Each
question has a parser that returns the value or raises `AnswerError` with what to type.
The codice fiscale is checked with python-stdnum, and against the birth date already
given, so a typo is caught in the chat and not at the comune's desk.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from stdnum.exceptions import ValidationError
from stdnum.it import codicefiscale

from .parsing import N_, AnswerError

ROLES = (
    ("self", N_("Io, per me stesso o me stessa")),
    ("child", N_("Il figlio o la figlia")),
    ("spouse", N_("Il marito, la moglie o il convivente")),
    ("parent", N_("Il padre o la madre")),
    ("relative", N_("Un altro familiare")),
    ("legal_representative", N_("Il tutore o l'amministratore di sostegno")),
)
# As the form says it (the form is in Italian whatever the chat language).
ROLE_ON_FORM = {
    "self": "la persona stessa",
    "child": "figlia/figlio",
    "spouse": "coniuge o convivente",
    "parent": "genitore",
    "relative": "familiare",
    "legal_representative": "tutore o amministratore di sostegno",
}
BY_GENDER = {"child": {"F": "figlia", "M": "figlio"}}


def role_on_form(role: str, tax_code: str | None) -> str:
    """Who signs, in Italian, as the form and the back-office write it: "figlia" or
    "figlio" from the signer's codice fiscale (its day of birth is 40 more for women)."""
    if role in BY_GENDER and tax_code:
        from stdnum.it import codicefiscale

        try:
            return BY_GENDER[role][codicefiscale.get_gender(tax_code)]
        except (ValueError, KeyError):
            pass
    return ROLE_ON_FORM.get(role, "")


@dataclass(frozen=True)
class IdentityQuestion:
    key: str
    prompt: str
    kind: str  # choice, name, tax_code, phone, email, address
    example: str = ""
    optional: bool = False
    beneficiary: bool = False  # asked only when someone else signs


QUESTIONS = (
    IdentityQuestion("role", N_("Chi firma la domanda?"), "choice"),
    IdentityQuestion("applicant.given_name", N_("Il nome di chi firma."), "name", "Maria"),
    IdentityQuestion("applicant.family_name", N_("Il cognome di chi firma."), "name", "Rossi"),
    IdentityQuestion(
        "applicant.tax_code",
        N_("Il codice fiscale di chi firma."),
        "tax_code",
        "RSSMRA70A41F205Z",
    ),
    IdentityQuestion(
        "applicant.phone",
        N_("Un numero di telefono. I servizi sociali vi chiameranno lì."),
        "phone",
        "333 123 4567",
    ),
    IdentityQuestion(
        "applicant.email",
        N_("Un indirizzo e-mail, se l'avete."),
        "email",
        "maria.rossi@example.it",
        optional=True,
    ),
    IdentityQuestion(
        "beneficiary.given_name",
        N_("Il nome della persona assistita."),
        "name",
        "Giuseppe",
        beneficiary=True,
    ),
    IdentityQuestion(
        "beneficiary.family_name",
        N_("Il cognome della persona assistita."),
        "name",
        "Rossi",
        beneficiary=True,
    ),
    IdentityQuestion(
        "beneficiary.tax_code",
        N_("Il codice fiscale della persona assistita."),
        "tax_code",
        "RSSGPP40A01F205X",
        beneficiary=True,
    ),
    IdentityQuestion(
        "beneficiary.address",
        N_("L'indirizzo dove vive la persona assistita: via e numero."),
        "address",
        "Via Roma 12",
    ),
)
BY_KEY = {q.key: q for q in QUESTIONS}


def next_question(identity: dict[str, str]) -> IdentityQuestion | None:
    """The first question not answered yet, or None when the form can be filled."""
    for q in QUESTIONS:
        if q.key in identity:
            continue
        if q.beneficiary and identity.get("role") == "self":
            continue
        return q
    return None


def parse_name(text: str) -> str:
    text = " ".join(text.split())
    if not 1 <= len(text) <= 60 or not re.fullmatch(r"[^\W\d_]+(?:[ '’.-][^\W\d_]+)*\.?", text):
        raise AnswerError(N_("Scrivete solo il nome, con lettere. Per esempio: Maria."))
    if text.islower() or text.isupper():  # "maria grazia", "ROSSI" → "Maria Grazia", "Rossi"
        text = re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), text)
    return text


def parse_tax_code(text: str, birth_date: dt.date | None = None) -> str:
    """A valid codice fiscale; when the birth date is known, it must match (day and month,
    and the year's last two digits, which is all the code carries)."""
    code = re.sub(r"[\s.-]", "", text).upper()
    try:
        code = codicefiscale.validate(code)
    except ValidationError as exc:
        raise AnswerError(
            N_("Questo codice fiscale non è valido. Sono 16 caratteri: controllate e riscrivete.")
        ) from exc
    if len(code) != 16:
        raise AnswerError(N_("Serve il codice fiscale di una persona: 16 caratteri."))
    if birth_date is not None:
        born = codicefiscale.get_birth_date(code)
        if (born.day, born.month, born.year % 100) != (
            birth_date.day,
            birth_date.month,
            birth_date.year % 100,
        ):
            raise AnswerError(
                N_(
                    "Questo codice fiscale non va con la data di nascita data prima. "
                    "Controllate e riscrivete."
                )
            )
    return code


def parse_phone(text: str) -> str:
    digits = re.sub(r"[\s./()-]", "", text)
    if not re.fullmatch(r"\+?\d{6,15}", digits):
        raise AnswerError(N_("Scrivete il numero con le cifre. Per esempio: 333 123 4567."))
    return digits


def parse_email(text: str) -> str:
    text = text.strip()
    if len(text) > 120 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", text):
        raise AnswerError(
            N_("Questo indirizzo e-mail non sembra giusto. Per esempio: nome@gmail.com.")
        )
    return text


def parse_address(text: str) -> str:
    text = " ".join(text.split())
    if not 4 <= len(text) <= 120 or not re.search(r"[^\W\d_]", text):
        raise AnswerError(N_("Scrivete la via e il numero. Per esempio: Via Roma 12."))
    if not re.search(r"\d|\bsnc\b|senza numero", text, re.IGNORECASE):
        raise AnswerError(
            N_("Manca il numero civico. Per esempio: Via Roma 12. Se non c'è, scrivete «snc».")
        )
    return text


def parse(question: IdentityQuestion, text: str, birth_date: dt.date | None = None) -> str:
    if question.kind == "name":
        return parse_name(text)
    if question.kind == "tax_code":
        return parse_tax_code(text, birth_date)
    if question.kind == "phone":
        return parse_phone(text)
    if question.kind == "email":
        return parse_email(text)
    if question.kind == "address":
        return parse_address(text)
    raise AnswerError(N_("Per rispondere, toccate uno dei pulsanti qui sotto."))
