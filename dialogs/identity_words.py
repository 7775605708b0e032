"""What a family types for a button of the form's details instead of tapping it, besides
its label (`dialogs.matching` reads them): "io" for who signs for themselves, "a mio
padre" or the person's name for whose account it is."""

from __future__ import annotations

from collections.abc import Mapping

from storage.records import Identity


def signs_for_self(identity: Mapping[str, str]) -> bool:
    """The answers so far (by question key) say the person signs for themselves."""
    return Identity.from_dict(identity).signs_for_self


# Short forms a family types for an option, besides its label (`dialogs.matching`)
SHORT_FORMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("role", "self"): ("io", "io stesso", "io stessa", "me stesso", "me stessa", "per me", "me"),
    # the signer's own account: for who signs for themselves, the person's (`short_forms`)
    ("bank.holder", "applicant"): ("mio", "il mio", "a me", "intestato a me", "io"),
}


# Who the person assisted is to who signs, in the words a family types at "A chi è
# intestato il conto?" ("a mio padre", "è di mia madre", "di lui"), by who signs.
KIN_WORDS: dict[str, tuple[str, ...]] = {
    "child": (
        "mio padre", "mia madre", "papà", "mamma", "babbo", "il papà", "la mamma", "del papà",
        "della mamma",
    ),
    "spouse": (
        "mio marito", "mia moglie", "il mio compagno", "la mia compagna", "il mio convivente",
        "la mia convivente",
    ),
    "parent": ("mio figlio", "mia figlia", "il bambino", "la bambina", "il ragazzo", "la ragazza"),
    "relative": (
        "mio nonno", "mia nonna", "mio fratello", "mia sorella", "mio zio", "mia zia",
        "mio suocero", "mia suocera", "mio cognato", "mia cognata", "mio nipote", "mia nipote",
    ),
    "legal_representative": ("il mio assistito", "la mia assistita", "il tutelato", "la tutelata"),
}
# said of the person assisted by anyone who does not sign for themselves
_THIRD_PERSON = ("lui", "lei", "suo", "sua", "il suo", "la sua", "dell'assistito", "dell'assistita")
# what comes before them in a sentence: "a mio padre", "è intestato a lei"
_LEAD_INS = ("", "a ", "di ", "è di ", "è a ", "intestato a ", "è intestato a ", "quello di ", "il conto di ")


def _kin_forms(identity: Mapping[str, str]) -> tuple[str, ...]:
    """How a family names the person assisted: kin words for who signs, and the person's
    own names as typed ("a Ernesto", "Ernesto Riva")."""
    given = identity.get("beneficiary.given_name", "").strip()
    family = identity.get("beneficiary.family_name", "").strip()
    names = tuple(n for n in (given, family, f"{given} {family}".strip()) if n)
    said = (*KIN_WORDS.get(identity.get("role", ""), ()), *_THIRD_PERSON, *names)
    return tuple(lead + word for word in said for lead in _LEAD_INS)


def short_forms(key: str, value: str, identity: Mapping[str, str]) -> tuple[str, ...]:
    """The short forms of one option, for this case."""
    if key == "bank.holder" and value == "beneficiary":
        if signs_for_self(identity):
            value = "applicant"
        else:
            return _kin_forms(identity)
    return SHORT_FORMS.get((key, value), ())
