"""Load the programmes and notices shipped as data, and find a comune's notice.

This is the only place `eligibility/` reads files, and it reads only its own data.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import ValidationError

from .comuni import Comune, gazetteer, normalise
from .schema import Guidance, Notice, Programme

T = TypeVar("T")
DATA_DIR = Path(__file__).parent / "data"
FOUND_KEPT = 4096  # names kept per catalogue by `find`, a few hundred kB at most


class CatalogueError(ValueError):
    """A data file that does not fit the schema; the message names file and field."""


def _load_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path.name}: not valid YAML: {exc}") from exc


def load_file(path: Path, model: type[Notice] | type[Guidance] | type[Programme]):
    """Validate one data file; on error, say which file and which field."""
    raw = _load_yaml(path)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top)"
            lines.append(f"{path.name}: {where}: {err['msg']}")
        raise CatalogueError("\n".join(lines)) from None


@dataclass
class Match:
    """What a typed comune name matched."""

    entry: Notice | Guidance | None
    name: str | None
    suggestions: list[str] = field(default_factory=list)
    comune: Comune | None = None  # the comune itself, Lombard or not, with its province


@dataclass
class Catalogue:
    programmes: dict[str, Programme]
    notices: list[Notice]
    guidance: list[Guidance]
    _index: dict[str, list[tuple[str, Notice | Guidance]]] = field(default_factory=dict)
    # find's answers: the catalogue never changes (a publication makes a new one), so
    # the same name on the same day always finds the same entry
    _found: dict[tuple[str, dt.date | dt.datetime], Match] = field(default_factory=dict)
    _kept: dict[object, object] = field(default_factory=dict)

    def kept(self, key: object, make: Callable[[], T]) -> T:
        """`make()`, once per catalogue: what is worked out from its notices alone (it
        never changes; a publication makes a new catalogue)."""
        if key not in self._kept:
            self._kept[key] = make()
        return self._kept[key]  # type: ignore[return-value]

    def __post_init__(self) -> None:
        for entry in [*self.notices, *self.guidance]:
            for m in entry.municipalities:
                self._index.setdefault(normalise(m.name), []).append((m.name, entry))
        for notice in self.notices:
            if notice.programme not in self.programmes:
                raise CatalogueError(
                    f"{notice.id}.yaml: programme: unknown programme {notice.programme!r}"
                )

    def with_notices(self, extra: list[Notice | Guidance]) -> Catalogue:
        """This catalogue with more notices (published ones); one with an id already here
        replaces it."""
        ids = {e.id for e in extra}
        notices = [n for n in self.notices if n.id not in ids]
        guidance = [g for g in self.guidance if g.id not in ids]
        notices += [e for e in extra if isinstance(e, Notice)]
        guidance += [e for e in extra if isinstance(e, Guidance)]
        return Catalogue(self.programmes, notices, guidance)

    def notice(self, notice_id: str) -> Notice | Guidance | None:
        for entry in [*self.notices, *self.guidance]:
            if entry.id == notice_id:
                return entry
        return None

    def municipality_names(self) -> list[str]:
        return sorted({name for entries in self._index.values() for name, _ in entries})

    def find(self, typed: str, when: dt.date | dt.datetime) -> Match:
        """The entry for a comune; a notice open on `when` wins over others for the same comune.

        A name the notices spell is matched first; any other is looked up among every
        Italian comune (abbreviations read generically), then matched to the notices again.
        """
        found = self._found.get((typed, when))
        if found is None:
            if len(self._found) >= FOUND_KEPT:
                self._found.clear()
            found = self._found[(typed, when)] = self._find(typed, when)
        return Match(found.entry, found.name, list(found.suggestions), found.comune)

    def _find(self, typed: str, when: dt.date | dt.datetime) -> Match:
        key = normalise(re.sub(r"\([^)]*\)", " ", typed))  # "Rozzano (MI)"
        found = gazetteer().find(typed)
        entries = self._index.get(key)
        if not entries:
            key = re.sub(r"^(comune di|citta di) ", "", key)
            if found.comune is not None:
                key = normalise(found.comune.name)
            entries = self._index.get(key)
        if entries:
            return Match(_best(entries, when), entries[0][0], comune=found.comune)
        if found.comune is not None:
            return Match(None, found.comune.name, comune=found.comune)
        choices = {normalise(n): n for n in self.municipality_names()}
        close = difflib.get_close_matches(key, list(choices), n=3, cutoff=0.75)
        suggestions = [choices[c] for c in close]
        # comuni with a notice on file first: "Cernusco" is likelier sul Naviglio here
        others = sorted(found.suggestions, key=lambda n: normalise(n) not in self._index)
        suggestions += [n for n in others if n not in suggestions]
        return Match(None, None, suggestions[:5])

    @property
    def pre_check_programme(self) -> Programme | None:
        """The regional rules a Lombard comune with no notice on file is checked against."""
        return next((p for p in self.programmes.values() if p.pre_check_default), None)


def _best(entries: list[tuple[str, Notice | Guidance]], when: dt.date | dt.datetime):
    notices = [e for _, e in entries if isinstance(e, Notice)]
    if not notices:
        return entries[0][1]
    from .window import status  # local: window imports nothing from here

    def rank(n: Notice) -> tuple[int, str]:
        order = {"open": 3, "not_yet_open": 2, "unknown": 1, "closed": 0}[status(n.window, when)]
        return order, str(n.window.opens or n.window.closes or "")

    return max(notices, key=rank)


@cache
def load_catalogue(data_dir: Path = DATA_DIR) -> Catalogue:
    """Every programme and notice under `data_dir`, validated."""
    programmes = {}
    for path in sorted((data_dir / "programmes").glob("*.yaml")):
        programme = load_file(path, Programme)
        programmes[programme.id] = programme
    notices: list[Notice] = []
    guidance: list[Guidance] = []
    for path in sorted((data_dir / "notices").glob("*.yaml")):
        if path.name.endswith(".cases.yaml"):
            continue
        raw = _load_yaml(path)
        kind = raw.get("kind") if isinstance(raw, dict) else None
        if kind == "guidance":
            guidance.append(load_file(path, Guidance))
        else:
            notices.append(load_file(path, Notice))
    ids = [e.id for e in [*notices, *guidance]]
    if len(ids) != len(set(ids)):
        raise CatalogueError("two notice files share an id")
    return Catalogue(programmes, notices, guidance)
