"""Who signs and for whom: the personal details the application form needs.

Asked only when the family chooses to prepare the application, after the result. The
questions are a table: `next_question` gives the first one not answered yet that this
case needs (`Needs`: the ISEE date when there is an ISEE or a DSU, the bank account when
the notice pays on one), and `answer` reads a typed answer, or raises `AnswerError` with
what to type. The checks themselves are in `dossier.people` (codice fiscale, phone,
e-mail, IBAN); here they become kind sentences.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from common.i18n import N_
from dossier.people import (
    DetailError,
    names_match,
    normalise_iban,
)
from dossier.record import DossierData

from .addresses import checked_postcode, parse_address, parse_postcode, parse_town
from .details_parsing import (
    parse_email,
    parse_name,
    parse_past_date,
    parse_phone,
    parse_tax_code,
)
from .identity_words import signs_for_self
from .parsing import AnswerError, fold

ROLES = (
    ("self", N_("Io, per me stesso o me stessa")),
    ("child", N_("Il figlio o la figlia")),
    ("spouse", N_("Il marito, la moglie o il convivente")),
    ("parent", N_("Il padre o la madre")),
    ("relative", N_("Un altro familiare")),
    ("legal_representative", N_("Il tutore o l'amministratore di sostegno")),
    ("carer", N_("Io assisto la persona, ma non sono un familiare")),
)
# Who signs, as the seeds name them: the person, a family member, or whoever holds their
# legal protection (003 Art. 5, the individual project: "persona/familiare o da chi
# eventualmente ne garantisce la protezione giuridica"); no seed names a paid carer. The
# carer helps prepare it, and is told who signs and where to ask: nothing is stored.
CARER_CANNOT_SIGN = N_(
    "Grazie per l'aiuto. La domanda però la firma la persona assistita, un suo familiare o "
    "il tutore o l'amministratore di sostegno. Potete prepararla voi: poi scegliete qui chi "
    "firma e scrivete i suoi dati. Se non c'è nessuno che possa firmare, chiedete ai servizi "
    "sociali del Comune."
)
HOLDERS = (
    ("beneficiary", N_("La persona assistita")),
    ("applicant", N_("Chi firma la domanda")),
    ("other", N_("Un'altra persona")),
    ("joint", N_("Cointestato: la persona assistita e un'altra persona")),
)
# the same, said to who signs for themselves ("voi", not "la persona assistita")
OWN_HOLDERS = {
    "beneficiary": N_("Il mio conto"),
    "joint": N_("Cointestato: io e un'altra persona"),
}
# the button of a detail that may be left out (the e-mail)
SKIP_LABEL = N_("Non ce l'ho · Avanti")
# the button at the person's address when they live in the comune of who signs (a wife
# applying for her husband): the same address and CAP, not typed twice (family trial 16)
SAME_HOME_LABEL = N_("🏠 Lo stesso di chi firma: {address}")
# The key under which a codice fiscale that does not match the names waits for the
# family to type it again (then it is kept: a foreign name may have been transliterated
# differently when the code was made).
UNCONFIRMED = "_unconfirmed"


@dataclass(frozen=True)
class Needs:
    """What this case asks beyond names and addresses: the ISEE's state (`attestation`,
    `dsu_submitted`, `caf_appointment`, or None) and whether the notice pays on a bank
    account that our form declares (a checklist item filled by `bank_details`)."""

    isee: str | None = None
    bank: bool = False
    assistant: bool = False  # the form declares an assistente familiare: named on it

    @classmethod
    def of(cls, record: DossierData) -> Needs:
        """From a dossier's data: its answers, its checklist and its declarations."""
        return cls(
            isee=record.answers.isee_status,
            bank=record.pays_on_account,
            assistant=any(d.get("kind") == "assistant" for d in record.declarations),
        )


def _someone_else(identity: Mapping[str, str], _needs: Needs) -> bool:
    return not signs_for_self(identity)


def _isee_dsu(_identity: Mapping[str, str], needs: Needs) -> bool:
    return needs.isee in ("attestation", "dsu_submitted")


def _isee_caf(_identity: Mapping[str, str], needs: Needs) -> bool:
    return needs.isee == "caf_appointment"


def _bank(_identity: Mapping[str, str], needs: Needs) -> bool:
    return needs.bank


def _other_holder(identity: Mapping[str, str], needs: Needs) -> bool:
    return needs.bank and identity.get("bank.holder") == "other"


def _joint(identity: Mapping[str, str], needs: Needs) -> bool:
    return needs.bank and identity.get("bank.holder") == "joint"


def _assistant(_identity: Mapping[str, str], needs: Needs) -> bool:
    return needs.assistant


@dataclass(frozen=True)
class IdentityQuestion:
    key: str
    prompt: str
    kind: str  # choice, name, tax_code, phone, email, address, town, postcode, date, iban
    example: str = ""
    optional: bool = False
    when: Callable[[Mapping[str, str], Needs], bool] | None = None
    options: tuple[tuple[str, str], ...] = field(default=())
    own: str = ""  # the prompt said to who signs for themselves, where it differs

    def prompt_for(self, identity: Mapping[str, str]) -> str:
        """The prompt for this case: "Il vostro nome." to who signs for themselves."""
        return self.own if self.own and signs_for_self(identity) else self.prompt

    @property
    def beneficiary(self) -> bool:  # asked only when someone else signs
        return self.when is _someone_else


QUESTIONS = (
    IdentityQuestion("role", N_("Chi firma la domanda?"), "choice", options=ROLES),
    IdentityQuestion(
        "applicant.given_name",
        N_("Il nome di chi firma."),
        "name",
        "Maria",
        own=N_("Il vostro nome."),
    ),
    IdentityQuestion(
        "applicant.family_name",
        N_("Il cognome di chi firma."),
        "name",
        "Rossi",
        own=N_("Il vostro cognome."),
    ),
    IdentityQuestion(
        "applicant.tax_code",
        N_("Il codice fiscale di chi firma."),
        "tax_code",
        "RSSMRA70A41F205Z",
        own=N_("Il vostro codice fiscale."),
    ),
    IdentityQuestion(
        "applicant.address",
        N_("L'indirizzo dove abita chi firma: via e numero."),
        "address",
        "Via Verdi 5",
        when=_someone_else,
    ),
    IdentityQuestion(
        "applicant.town",
        N_("Il CAP e il Comune dove abita chi firma."),
        "town",
        "20089 Rozzano",
        when=_someone_else,
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
        when=_someone_else,
    ),
    IdentityQuestion(
        "beneficiary.family_name",
        N_("Il cognome della persona assistita."),
        "name",
        "Rossi",
        when=_someone_else,
    ),
    IdentityQuestion(
        "beneficiary.tax_code",
        N_("Il codice fiscale della persona assistita."),
        "tax_code",
        "RSSGPP40A01F205X",
        when=_someone_else,
    ),
    IdentityQuestion(
        "beneficiary.address",
        N_("L'indirizzo dove vive la persona assistita: via e numero."),
        "address",
        "Via Roma 12",
        own=N_("L'indirizzo dove vivete: via e numero."),
    ),
    IdentityQuestion(
        "beneficiary.postcode",
        N_("Il CAP di questo indirizzo: 5 cifre."),
        "postcode",
        "20073",
    ),
    IdentityQuestion(
        "isee.dsu_date",
        N_(
            "In che giorno è stata presentata la DSU per l'ISEE? La data è scritta "
            "sull'attestazione ISEE, o sulla ricevuta della DSU."
        ),
        "date",
        "15/01/2025",
        when=_isee_dsu,
    ),
    IdentityQuestion(
        "isee.caf_date",
        N_("In che giorno è l'appuntamento al CAF per l'ISEE?"),
        "date",
        "10/06/2025",
        when=_isee_caf,
    ),
    IdentityQuestion(
        "bank.holder",
        N_("Il buono arriva su un conto. A chi è intestato il conto?"),
        "choice",
        when=_bank,
        options=HOLDERS,
    ),
    IdentityQuestion(
        "bank.holder_name",
        N_("Il nome e il cognome di chi ha il conto."),
        "name",
        "Anna Rossi",
        when=_other_holder,
    ),
    IdentityQuestion(
        "bank.holder_tax_code",
        N_("Il codice fiscale di chi ha il conto."),
        "tax_code",
        "RSSNNA75A41F205X",
        when=_other_holder,
    ),
    IdentityQuestion(
        "bank.co_holder_name",
        N_("Il nome e il cognome dell'altra persona che ha il conto."),
        "name",
        "Anna Rossi",
        when=_joint,
    ),
    IdentityQuestion(
        "bank.co_holder_tax_code",
        N_("Il codice fiscale dell'altra persona che ha il conto."),
        "tax_code",
        "RSSNNA75A41F205X",
        when=_joint,
    ),
    IdentityQuestion(
        "bank.iban",
        N_(
            "L'IBAN del conto: 27 caratteri, comincia con IT. Lo trovate sull'app della "
            "banca o sull'estratto conto. Va bene anche un libretto postale con IBAN."
        ),
        "iban",
        "IT76 W030 6909 6061 0000 0123 456",  # checksum-valid: refused as an answer
        when=_bank,
    ),
    IdentityQuestion(
        "assistant.name",
        N_(
            "Il nome e il cognome dell'assistente familiare (badante), come sono scritti "
            "sul contratto."
        ),
        "name",
        "Ana Popescu",
        when=_assistant,
    ),
)
BY_KEY = {q.key: q for q in QUESTIONS}
# each answer as the summary of the form's details names it (✏️ to change just that one)
LABELS = {
    "role": N_("Chi firma"),
    "applicant.given_name": N_("Nome di chi firma"),
    "applicant.family_name": N_("Cognome di chi firma"),
    "applicant.tax_code": N_("Codice fiscale di chi firma"),
    "applicant.address": N_("Indirizzo di chi firma"),
    "applicant.town": N_("CAP e Comune di chi firma"),
    "applicant.phone": N_("Telefono"),
    "applicant.email": N_("E-mail"),
    "beneficiary.given_name": N_("Nome della persona assistita"),
    "beneficiary.family_name": N_("Cognome della persona assistita"),
    "beneficiary.tax_code": N_("Codice fiscale della persona assistita"),
    "beneficiary.address": N_("Indirizzo di casa"),
    "beneficiary.postcode": N_("CAP di casa"),
    "isee.dsu_date": N_("Data della DSU"),
    "isee.caf_date": N_("Appuntamento al CAF"),
    "bank.holder": N_("Intestatario del conto"),
    "bank.holder_name": N_("Nome di chi ha il conto"),
    "bank.holder_tax_code": N_("Codice fiscale di chi ha il conto"),
    "bank.co_holder_name": N_("Altra persona che ha il conto"),
    "bank.co_holder_tax_code": N_("Codice fiscale dell'altra persona che ha il conto"),
    "bank.iban": N_("IBAN"),
    "assistant.name": N_("Assistente familiare"),
}


def asked(question: IdentityQuestion, identity: Mapping[str, str], needs: Needs) -> bool:
    """This case asks this question."""
    return question.when is None or question.when(identity, needs)


def answered(identity: Mapping[str, str], needs: Needs) -> list[tuple[int, IdentityQuestion]]:
    """The questions this case asks that have an answer, with their index in `QUESTIONS`
    (what the summary shows, each with its ✏️ button)."""
    return [
        (i, q) for i, q in enumerate(QUESTIONS) if q.key in identity and asked(q, identity, needs)
    ]


def unasked_dropped(identity: dict[str, str], needs: Needs) -> None:
    """Forget the answers this case no longer asks (who signs changed: the beneficiary's
    names; whose account changed: the other holder's)."""
    for q in QUESTIONS:
        if q.key in identity and not asked(q, identity, needs):
            identity.pop(q.key)


def same_home(identity: Mapping[str, str], home: str | None) -> tuple[str, str] | None:
    """(address, CAP) of who signs, for the person's own, when it can be theirs: someone
    else signs, lives in the person's comune (`home`), and their CAP fits that comune."""
    address, town = identity.get("applicant.address"), identity.get("applicant.town")
    if signs_for_self(identity) or not (address and town and home):
        return None
    code, _space, name = town.partition(" ")
    if fold(re.sub(r"\s*\([A-Za-z]{2}\)$", "", name)) != fold(home):  # "Rozzano (MI)"
        return None
    try:
        postcode = parse_postcode(code)
        checked_postcode("beneficiary.postcode", postcode, home, {}, "_")
    except AnswerError:
        return None
    return address, postcode


def next_question(
    identity: Mapping[str, str], needs: Needs | None = None
) -> IdentityQuestion | None:
    """The first question this case asks and that is not answered yet, or None when the
    form can be filled."""
    needs = needs or Needs()
    for q in QUESTIONS:
        if q.key not in identity and asked(q, identity, needs):
            return q
    return None


def options(question: IdentityQuestion, identity: Mapping[str, str]) -> list[tuple[str, str]]:
    """The buttons of a choice question (whose account: not "who signs" when the person
    signs for themselves)."""
    if question.key == "bank.holder" and signs_for_self(identity):
        return [(v, OWN_HOLDERS.get(v, label)) for v, label in question.options if v != "applicant"]
    return list(question.options)


def choose(question: IdentityQuestion, identity: dict[str, str], index: int) -> str:
    """The family tapped option `index`: store its value; its label, to echo. A forged
    index raises IndexError."""
    shown = options(question, identity)
    if not 0 <= index < len(shown):
        raise IndexError(index)
    value, label = shown[index]
    if question.key == "role" and value == "carer":
        raise AnswerError(CARER_CANNOT_SIGN)  # nothing stored: the question stays
    identity[question.key] = value
    return label


# --- reading typed answers --------------------------------------------------------------

EXAMPLE_IBAN = N_(
    "Questo è l'IBAN dell'esempio. Scrivete quello del vostro conto: lo trovate sull'app "
    "della banca o sull'estratto conto."
)


def parse_iban(text: str) -> str:
    try:
        iban = normalise_iban(text)
    except DetailError:
        raise AnswerError(
            N_(
                "Questo IBAN non è giusto: manca un carattere o ce n'è uno sbagliato. "
                "Copiatelo di nuovo dall'app della banca o dall'estratto conto."
            )
        ) from None
    if iban == normalise_iban(BY_KEY["bank.iban"].example):  # copied from the question
        raise AnswerError(EXAMPLE_IBAN)
    return iban


NAMES_MISMATCH = N_(
    "Questo codice fiscale non va con il nome e il cognome scritti. Controllate il codice. "
    "Se il nome è sbagliato, scrivete /indietro. Se il codice è proprio questo (capita a "
    "chi è nato all'estero), scrivetelo di nuovo uguale e lo teniamo così."
)


def _names_of(key: str, identity: Mapping[str, str]) -> tuple[str, str] | None:
    """The names typed before this codice fiscale, to check it against."""
    if key in ("bank.holder_tax_code", "bank.co_holder_tax_code"):
        full = identity.get(key.replace("tax_code", "name"), "").split()
        return (" ".join(full[:-1]), full[-1]) if len(full) >= 2 else None
    who = key.partition(".")[0]
    given, family = identity.get(f"{who}.given_name"), identity.get(f"{who}.family_name")
    return (given, family) if given and family else None


CODE_AGAIN = N_(
    "Il codice fiscale non va più con il nome cambiato. Scrivete di nuovo il codice fiscale."
)


def code_of_renamed(key: str, before: Mapping[str, str], identity: Mapping[str, str]) -> str | None:
    """The codice fiscale that went with the names before `key` (a name) changed and no
    longer goes with them: to ask again. None when it still goes, or did not go before
    either (a code the family confirmed as it is)."""
    if key not in BY_KEY or BY_KEY[key].kind != "name":
        return None
    code_key = (
        key.replace("_name", "_tax_code")
        if key.startswith("bank.")
        else f"{key.partition('.')[0]}.tax_code"
    )
    code = identity.get(code_key)
    then, now = _names_of(code_key, before), _names_of(code_key, identity)
    if not code or then is None or now is None or not names_match(code, *then):
        return None
    return None if names_match(code, *now) else code_key


def _checked_tax_code(
    question: IdentityQuestion,
    text: str,
    identity: dict[str, str],
    birth_date: dt.date | None,
    today: dt.date | None,
) -> str:
    code = parse_tax_code(text, birth_date, today)
    names = _names_of(question.key, identity)
    if names is None or names_match(code, *names):
        identity.pop(UNCONFIRMED, None)
        return code
    if identity.get(UNCONFIRMED) == f"{question.key}={code}":
        identity.pop(UNCONFIRMED, None)  # typed again: the family is sure
        return code
    identity[UNCONFIRMED] = f"{question.key}={code}"
    raise AnswerError(NAMES_MISMATCH)


def answer(
    question: IdentityQuestion,
    text: str,
    identity: dict[str, str],
    *,
    birth_date: dt.date | None = None,
    today: dt.date | None = None,
    home: str | None = None,
) -> str:
    """Read the family's typed answer to `question` and store it in `identity`; the value
    (to echo), or AnswerError with what to type. `birth_date`: the beneficiary's, from the
    questionnaire, when this codice fiscale is theirs (`birth_date_for` says when);
    `home`: the comune where the person cared for lives (their CAP is checked against it)."""
    if question.kind == "choice":
        raise AnswerError(N_("Per rispondere, toccate uno dei pulsanti qui sotto."))
    if question.kind == "tax_code":
        value = _checked_tax_code(question, text, identity, birth_date, today)
    elif question.kind == "town":
        value = _town(text, identity)
    else:
        value = parse(question, text, today=today)
    if question.kind == "postcode":
        checked_postcode(question.key, value, home, identity, UNCONFIRMED)
    if question.kind == "town":
        checked_postcode(question.key, value, value[6:], identity, UNCONFIRMED)
    identity[question.key] = value
    return value


# the CAP typed alone where "CAP e Comune" is asked: kept for the comune typed next
PARTIAL_CAP = "_cap"
CAP_KEPT = N_("Ho il CAP {cap}. Ora scrivete il Comune, per esempio: Rozzano.")


def _town(text: str, identity: dict[str, str]) -> str:
    """ "CAP Comune" in one answer, or in two: "20127", then "Milano"."""
    try:
        value = parse_town(text)
    except AnswerError as err:
        kept = identity.get(PARTIAL_CAP)
        words = " ".join(text.split())
        if kept and not any(c.isdigit() for c in words):
            value = parse_town(f"{kept} {words}")  # the comune after the CAP
        elif re.fullmatch(r"\d{5}", words):
            cap = parse_postcode(words)
            identity[PARTIAL_CAP] = cap
            raise AnswerError(CAP_KEPT, cap=cap) from None
        else:
            raise err from None
    identity.pop(PARTIAL_CAP, None)
    return value


def birth_date_for(question: IdentityQuestion, identity: Mapping[str, str]) -> bool:
    """This codice fiscale belongs to the beneficiary, whose birth date the questionnaire
    has (the signer's own, when they sign for themselves)."""
    return question.key == "beneficiary.tax_code" or (
        question.key == "applicant.tax_code" and signs_for_self(identity)
    )


def parse(
    question: IdentityQuestion,
    text: str,
    birth_date: dt.date | None = None,
    *,
    today: dt.date | None = None,
) -> str:
    """The value of a typed answer, or AnswerError (no check against other answers: see
    `answer`)."""
    kind = question.kind
    if kind == "name":
        return parse_name(text)
    if kind == "tax_code":
        return parse_tax_code(text, birth_date, today)
    if kind == "phone":
        return parse_phone(text)
    if kind == "email":
        return parse_email(text)
    if kind == "address":
        return parse_address(text)
    if kind == "town":
        return parse_town(text)
    if kind == "postcode":
        return parse_postcode(text)
    if kind == "date":
        return parse_past_date(text, today, future_ok=question.key == "isee.caf_date")
    if kind == "iban":
        return parse_iban(text)
    raise AnswerError(N_("Per rispondere, toccate uno dei pulsanti qui sotto."))
