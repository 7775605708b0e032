"""A button's answer typed instead of tapped: the one reading every question with buttons
uses (the questionnaire, the language, the privacy, who signs, whose account).

The family may type the label itself, in any case, with or without its emoji ("Sì,
accetto", "✅ Indennità di accompagnamento"), its number, or the obvious short form: the
first words ("io per me stesso"), a word only one label has ("accompagnamento",
"cointestato con mia moglie"), some of its words in order ("sociosanitario ristretto"),
or "sì"/"no" where one label starts with it ("si ce l'ho"
→ "Sì, ho l'attestazione"). An answer that fits two labels fits none: the question stays.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .parsing import NO, YES, fold

_NOT_A_WORD = re.compile(r"[^\w]+")
# words said to go on, not to answer: only a label that is exactly them takes them
FILLERS = frozenset(
    ("fatto", "fatta", "ok", "okay", "avanti", "finito", "fine", "basta", "pronto", "grazie")
)
# a first word that says little on its own ("io assisto…", "una disabilità…")
_SHORT = 4
# what a sentence starts with before the answer ("sono la moglie", "ha l'accompagnamento",
# "sono sua moglie", "l'invalidità"): a verb, an article, a possessive; left out when the
# whole names nothing (family trial 16)
_VERBS = ("sono", "e", "ha", "ho", "hanno", "abbiamo", "siamo", "prende", "prendo", "c")
_GETS = ("riceve", "ricevo", "percepisce", "percepisco")
_ARTICLES = ("l", "d", "un", "uno", "una", "dell", "all", "il", "lo", "la", "i", "gli", "le")
_POSSESSIVES = ("mio", "mia", "suo", "sua", "nostro", "nostra")
_LEADS = frozenset((*_VERBS, *_GETS, *_ARTICLES, *_POSSESSIVES))


def words(text: str) -> tuple[str, ...]:
    """The words of `text`, folded (no case, accents, emoji or punctuation): "✅ Sì,
    accetto!" → ("si", "accetto")."""
    return tuple(w for w in _NOT_A_WORD.sub(" ", fold(text).replace("’", "'")).split() if w)


def _unique(found: Iterable[int]) -> int | None:
    hits = set(found)
    return hits.pop() if len(hits) == 1 else None


def _contains(whole: tuple[str, ...], part: tuple[str, ...]) -> bool:
    n = len(part)
    return any(whole[i : i + n] == part for i in range(len(whole) - n + 1))


def _in_order(whole: tuple[str, ...], part: tuple[str, ...]) -> bool:
    """Every word of `part` in `whole`, in the same order (others between)."""
    rest = iter(whole)
    return all(word in rest for word in part)


def match_option(
    text: str,
    options: Sequence[Iterable[str]],
    yes: Iterable[str] = (),
    no: Iterable[str] = (),
) -> int | None:
    """The index of the option `text` names, or None. `options[i]`: the ways option i is
    written (its label in the chat's language, in Italian, short forms); `yes`/`no`: the
    chat's words for them besides Italian and English ones."""
    typed = words(text)
    if not typed:
        return None
    spelled = [[w for w in (words(s) for s in option) if w] for option in options]
    if len(typed) == 1 and typed[0].isdigit() and 1 <= int(typed[0]) <= len(options):
        return int(typed[0]) - 1
    # the label itself, or a short form given for it
    exact = _unique(i for i, forms in enumerate(spelled) if typed in forms)
    if exact is not None:
        return exact
    # "sì" / "si ce l'ho" for the one label starting with yes ("Sì, ho l'attestazione")
    yes_words = {fold(w) for w in (*YES, *yes)} - {"s", "y"}
    no_words = {fold(w) for w in (*NO, *no)} - {"n"}
    for said in (yes_words, no_words):
        if typed[0] in said:
            found = _unique(
                i for i, forms in enumerate(spelled) if any(f[0] in said for f in forms)
            )
            if found is not None:
                return found
    # a word said to move on ("fatto", "ok") names no answer, even where one label has it
    # ("Ho fatto la DSU"): it came after a multi-select answered by typing (trial 16)
    if set(typed) <= FILLERS:
        return None
    # the first words of one label: "io per me stesso", "cointestato"
    found = _unique(
        i
        for i, forms in enumerate(spelled)
        for f in forms
        if f[: len(typed)] == typed and len("".join(typed)) >= 3
    )
    if found is not None:
        return found
    # a word or words only one label has: "accompagnamento", "moglie"
    if len("".join(typed)) >= 3:
        found = _unique(i for i, forms in enumerate(spelled) for f in forms if _contains(f, typed))
        if found is not None:
            return found
    # its words, in order, with some left out: "sociosanitario ristretto"
    if len(typed) >= 2:
        found = _unique(i for i, forms in enumerate(spelled) for f in forms if _in_order(f, typed))
        if found is not None:
            return found
    # the first word of one label, then more: "cointestato con mia moglie"
    if len(typed[0]) >= _SHORT:
        found = _unique(i for i, forms in enumerate(spelled) for f in forms if f[0] == typed[0])
        if found is not None:
            return found
    # the answer after a verb: "sono la moglie", "ha l'accompagnamento"
    rest = list(typed)
    while rest and rest[0] in _LEADS:
        rest.pop(0)
    if rest and len(rest) < len(typed):
        return match_option(" ".join(rest), options, yes, no)
    return None


NONE_WORDS = ("nessuno", "nessuna", "niente", "nulla", "no", "none", "nothing", "nessuno di questi")


def match_options(text: str, options: Sequence[Iterable[str]]) -> list[int] | None:
    """Several options typed at once ("accompagnamento e invalidità", "ADI, SAD"): their
    indices, or None when one part names none or two of them."""
    whole = match_option(text, options)
    if whole is not None:
        return [whole]
    parts = [p for p in re.split(r",|;|\+|\be\b|\band\b", fold(text)) if words(p)]
    if len(parts) < 2:
        return None
    found = [match_option(p, options) for p in parts]
    if any(i is None for i in found):
        return None
    return sorted({i for i in found if i is not None})
