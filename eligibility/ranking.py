"""The graduatoria of a notice: each application's points on the notice's tables, the total,
and the order with the notice's tie-breaks (001 Art. 5; 004 sec. 6 c). Pure: the
caller gives the facts (the family's answers and the home assessment) and the arrival.

Where the notice's tie-breaks do not separate two applications with the same total, they
share a position and the row says so: the Ufficio di Piano decides, not this code.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from .facts import Facts
from .schema import Ranking, ScoreComponent, TieBreak
from .score import score

ENTERED = {"adl": "assessment.adl_functions_kept", "iadl": "assessment.iadl_functions_kept"}
UNRESOLVED = "Parità che l'avviso non risolve: decide l'Ufficio di Piano."


@dataclass
class Candidate:
    id: str
    facts: Facts
    arrival: dt.datetime  # when the application reached the comune
    cbi: float | None = None  # CBI points, as the social services computed them


@dataclass
class Ranked:
    id: str
    points: dict[str, float]
    total: float | None
    isee: float | None
    arrival: dt.datetime
    position: int | None = None
    tie: str | None = None  # the tie-break that placed it after the row before, or UNRESOLVED
    missing: list[str] = field(default_factory=list)  # components without points yet


def scale(component: ScoreComponent, name: str) -> tuple[float, float]:
    """What the social worker types for a component: functions kept on the ADL/IADL
    scale (the range of the notice's bands), or the CBI points (0 to the maximum)."""
    if name == "cbi" or not component.bands:
        return 0.0, float(component.max)
    return min(b.min for b in component.bands), max(b.max for b in component.bands)


def _isee(facts: Facts) -> float | None:
    isee = facts.get("isee")
    return float(isee["value"]) if isinstance(isee, dict) and "value" in isee else None


def points_of(ranking: Ranking, candidate: Candidate) -> Ranked:
    """The points of one application (CBI as entered, unless the notice sets them)."""
    scored: dict[str, Any] = score(ranking, candidate.facts)
    points = {k: float(v) for k, v in scored.items() if k in ranking.components}
    if "cbi" in ranking.components and "cbi" not in points and candidate.cbi is not None:
        points["cbi"] = float(candidate.cbi)
    missing = [name for name in ranking.components if name not in points]
    total = None if missing else sum(points.values())
    return Ranked(
        id=candidate.id,
        points=points,
        total=total,
        isee=_isee(candidate.facts),
        arrival=candidate.arrival,
        missing=missing,
    )


def _decide(a: Ranked, b: Ranked, rule: TieBreak) -> int:
    """-1 when `rule` puts a first, 1 when b, 0 when it does not separate them."""
    if rule.by == "isee":
        if rule.same_day and a.arrival.date() != b.arrival.date():
            return 0
        if a.isee is None or b.isee is None or a.isee == b.isee:
            return 0
        return -1 if a.isee < b.isee else 1
    if a.arrival == b.arrival:
        return 0
    return -1 if a.arrival < b.arrival else 1


def _decided_by(a: Ranked, b: Ranked, rules: list[TieBreak]) -> tuple[int, TieBreak | None]:
    for rule in rules:
        if order := _decide(a, b, rule):
            return order, rule
    return 0, None


def rank(ranking: Ranking, candidates: list[Candidate]) -> list[Ranked]:
    """Every application with a complete total, highest first, the notice's tie-breaks
    applied and positions given (equal positions for ties it leaves open); then those
    still missing points, in order of arrival, without a position."""
    rows = [points_of(ranking, c) for c in sorted(candidates, key=lambda c: (c.arrival, c.id))]
    complete = [r for r in rows if r.total is not None]
    pending = [r for r in rows if r.total is None]

    def compare(a: Ranked, b: Ranked) -> int:
        assert a.total is not None and b.total is not None
        if a.total != b.total:
            return -1 if a.total > b.total else 1
        return _decided_by(a, b, ranking.tie_breaks)[0]

    complete.sort(key=functools.cmp_to_key(compare))
    for i, row in enumerate(complete):
        row.position = i + 1
        if i == 0:
            continue
        before = complete[i - 1]
        if before.total != row.total:
            continue
        order, rule = _decided_by(before, row, ranking.tie_breaks)
        if order == 0:
            row.position = before.position
            row.tie = UNRESOLVED
        elif rule is not None:
            row.tie = rule.text
    return complete + pending
