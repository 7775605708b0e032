"""Ranking points where a notice has a ranking (001 Art. 6, 004 sec. 6 c)."""

from __future__ import annotations

from typing import Any

from .facts import Facts
from .rules import age
from .schema import Band, Ranking, ScoreComponent


def _band(bands: list[Band], value: float) -> float | None:
    for band in bands:
        if band.min <= value <= band.max:
            return band.points
    return None


def _points(name: str, comp: ScoreComponent, facts: Facts, minor: bool | None) -> float | None:
    if minor and comp.minor_points is not None:
        return comp.minor_points
    if name == "isee":
        isee = facts.get("isee")
        if not isee or "value" not in isee:
            return None
        if comp.minor_bands is not None:
            if minor is None:
                return None
            return _band(comp.minor_bands if minor else comp.bands, isee["value"])
        return _band(comp.bands, isee["value"])
    if comp.fact is None:
        # CBI: the notice gives full points to adults with no family caregiver (004 sec. 6 b).
        alone = minor is False and facts.get("caregiver.present") is False
        return comp.alone_adult_points if alone else None
    if minor is None and comp.minor_points is not None:
        return None
    if not facts.known(comp.fact):
        return None
    return _band(comp.bands, facts.get(comp.fact))


def score(ranking: Ranking, facts: Facts) -> dict[str, Any]:
    """Each component present when computable; the total only when all are."""
    years = age(facts)
    minor = None if years is None else years < 18
    out: dict[str, Any] = {}
    for name, comp in ranking.components.items():
        points = _points(name, comp, facts, minor)
        if points is not None:
            out[name] = int(points) if float(points).is_integer() else points
    if all(name in out for name in ranking.components):
        out["total"] = sum(out[name] for name in ranking.components)
    out["source"] = ranking.source
    return out
