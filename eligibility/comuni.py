"""Every Italian comune, from the ISTAT data that python-codicefiscale ships, and how to
find one from what a person types.

Reading that packaged data file is the only I/O here. Lombardy is its twelve provinces;
only comuni active today count. A typed name is forgiven its case, accents, apostrophes
and spacing (as the notices' comuni always were), and abbreviations are read by one
generic rule: a token written short ("s/N", "S.", "S.G.", "M.") stands for any word that
begins with it ("sul Naviglio", "San", "San Giovanni", "Monzese").
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources

LOMBARD_PROVINCES = frozenset(
    {"BG", "BS", "CO", "CR", "LC", "LO", "MN", "MI", "MB", "PV", "SO", "VA"}
)
# Words written in lower case inside an Italian comune's name ("Cernusco sul Naviglio").
_PARTICLES = {
    "di", "del", "della", "dello", "dei", "degli", "delle", "con", "al", "alla", "allo", "ai",
    "ed", "e", "in", "il", "la", "lo", "per", "sul", "sulla", "sullo", "sui", "da", "dal",
    "dalla", "de'", "sotto", "sopra",
}  # fmt: skip
_ELIDED = ("d'", "dell'", "sull'", "nell'", "all'", "dall'")


def normalise(name: str) -> str:
    """Fold case, accents, apostrophes, dashes and spacing: "Cassano d'Adda" == "cassano d adda"."""
    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    folded = re.sub(r"[’'`´.\-_/]", " ", folded)
    return " ".join(folded.split())


def italian_case(name: str) -> str:
    """ "Cernusco Sul Naviglio" → "Cernusco sul Naviglio", "Cassano D'Adda" → "Cassano d'Adda"."""
    words = name.split(" ")
    out = [words[0]]
    for word in words[1:]:
        low = word.lower()
        if low in _PARTICLES:
            word = low
        elif re.fullmatch(r"[ivxlc]{2,}", low):  # "Sotto il Monte Giovanni XXIII"
            word = word.upper()
        else:
            for prefix in _ELIDED:
                if low.startswith(prefix):
                    word = prefix + word[len(prefix) :]
                    break
        out.append(word)
    return " ".join(out)


@dataclass(frozen=True)
class Comune:
    name: str
    province: str  # the sigla: MI, BG...
    code: str  # ISTAT/Belfiore code, as in a codice fiscale

    @property
    def lombard(self) -> bool:
        return self.province in LOMBARD_PROVINCES


@dataclass
class Found:
    """What a typed name matched: one comune, or names to suggest."""

    comune: Comune | None
    suggestions: list[str] = field(default_factory=list)


@cache
def all_comuni() -> tuple[Comune, ...]:
    """Every comune active today, in Italy."""
    data = resources.files("codicefiscale") / "data" / "municipalities.json"
    rows = json.loads(data.read_text(encoding="utf-8"))
    return tuple(
        Comune(italian_case(r["name"]), r["province"], r["code"])
        for r in rows
        if r.get("active") and r.get("province")
    )


def lombard_comuni() -> list[Comune]:
    return [c for c in all_comuni() if c.lombard]


_TOKEN = re.compile(r"(?P<word>[^\W_]+)(?:\.(?P<end>[a-z]{2,3})\b)?(?P<mark>[./]?)")


def _tokens(typed: str) -> list[tuple[str, bool, str]]:
    """Typed words, each with whether it is written short ("s/N", "S.", a lone letter) and
    the ending a short word keeps ("M.se" is a word in m… ending in -se: Milanese)."""
    out = []
    for m in _TOKEN.finditer(typed):
        word = normalise(m.group("word"))
        if not word:
            continue
        end = m.group("end") or ""
        short = bool(end or m.group("mark")) or len(word) == 1
        out.append((word, short, end))
    return out


class Gazetteer:
    """Find a comune by name: Lombard ones first, then the rest of Italy."""

    def __init__(self, comuni: tuple[Comune, ...] | None = None):
        self.comuni = comuni if comuni is not None else all_comuni()
        self.by_key: dict[str, list[Comune]] = {}
        for c in self.comuni:
            self.by_key.setdefault(normalise(c.name), []).append(c)
        self.lombard = [(normalise(c.name).split(), c) for c in self.comuni if c.lombard]
        self.lombard_keys = {normalise(c.name): c.name for c in self.comuni if c.lombard}
        self.by_code = {c.code: c for c in self.comuni}

    def find(self, typed: str) -> Found:
        """What `typed` names (cached: the same answer is looked up again and again)."""
        return self._find(typed)

    @lru_cache(maxsize=8192)  # noqa: B019 (one gazetteer lives as long as the process)
    def _find(self, typed: str) -> Found:
        province = None
        if m := re.search(r"\(\s*([A-Za-z]{2})\s*\)\s*$", typed):
            province = m.group(1).upper()
        text = re.sub(r"\([^)]*\)", " ", typed)
        text = re.sub(r"^\s*(comune|citt[aà])\s+di\s+", "", text, flags=re.IGNORECASE)
        key = normalise(text)
        if not key:
            return Found(None)
        exact = [c for c in self.by_key.get(key, []) if province in (None, c.province)]
        if exact:  # a Lombard comune wins over a namesake elsewhere ("Castro" BG and LE)
            return Found(min(exact, key=lambda c: not c.lombard))
        tokens = _tokens(text)
        same, longer = [], []
        for words, c in self.lombard:
            if province not in (None, c.province) or len(words) < len(tokens):
                continue
            if all(_fits(*t, w) for t, w in zip(tokens, words, strict=False)):
                (same if len(words) == len(tokens) else longer).append(c)
        if len(same) == 1:
            return Found(same[0])
        if not same and len(longer) == 1 and any(t[1] for t in tokens):
            return Found(longer[0])  # "S. Giuliano": only San Giuliano Milanese
        if same or longer:
            return Found(None, sorted(c.name for c in same or longer)[:5])
        close = difflib.get_close_matches(key, list(self.lombard_keys), n=3, cutoff=0.8)
        return Found(None, [self.lombard_keys[k] for k in close])


def _fits(typed: str, short: bool, end: str, word: str) -> bool:
    if not short:
        return word == typed
    return word.startswith(typed) and word.endswith(end) and len(word) > len(typed) - 1


@cache
def gazetteer() -> Gazetteer:
    return Gazetteer()
