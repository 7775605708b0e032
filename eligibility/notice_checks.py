"""Checks of a notice file beyond its fields, each said in plain Italian with the field:
what is still to be done before publishing (`before_publishing`), and a ranking whose
ISEE points leave out families within the ISEE ceiling.

Pure: used by `eligibility.notice_file.check_notice`.
"""

from __future__ import annotations

from typing import Any

from .rules import euro as money
from .schema import Band, IseeRule, Notice

Loc = tuple[Any, ...]
CENT = 0.01


def euro(value: float) -> str:
    """25.000,00 € with a plain space, as the operator's messages write it."""
    return money(value).replace("\xa0", " ")


def pending(notice: Notice) -> list[tuple[Loc, str]]:
    """One problem for each thing `before_publishing` says is still to be done."""
    return [
        (
            ("before_publishing", i),
            f"da fare prima di pubblicare: {text.strip()} Fatto questo, togliete la riga "
            "(e il campo `before_publishing` quando resta vuoto).",
        )
        for i, text in enumerate(notice.before_publishing)
    ]


def ceilings(notice: Notice) -> dict[str, float]:
    """The highest ISEE ceiling of the notice for adults and for minors."""
    rules = [r for r in notice.common_requirements if isinstance(r, IseeRule)]
    for measure in notice.measures:
        rules += [r for r in measure.requirements if isinstance(r, IseeRule)]
    top: dict[str, float] = {}
    for rule in rules:
        for limit in rule.limits:
            for who in ("adult", "minor") if limit.who == "any" else (limit.who,):
                top[who] = max(top.get(who, 0.0), limit.max)
    return top


def _uncovered(bands: list[Band], ceiling: float) -> tuple[float, float] | None:
    """The first ISEE range from 0 to the ceiling that no band gives points to."""
    reached = 0.0
    for band in sorted(bands, key=lambda b: b.min):
        if band.min > reached + CENT + 1e-9:
            return reached, min(band.min, ceiling)
        reached = max(reached, band.max)
        if reached >= ceiling:
            return None
    return (reached, ceiling) if reached < ceiling else None


def isee_points(notice: Notice) -> list[tuple[Loc, str]]:
    """A ranking's ISEE points must reach every family within the ISEE ceiling: a family
    the notice admits but the table leaves out would have no total, and no place."""
    if notice.ranking is None or "isee" not in notice.ranking.components:
        return []
    component = notice.ranking.components["isee"]
    gaps: dict[tuple[str, float, float, float], list[str]] = {}
    for who, ceiling in sorted(ceilings(notice).items()):
        if who == "minor" and component.minor_points is not None:
            continue
        key = "minor_bands" if who == "minor" and component.minor_bands is not None else "bands"
        bands = component.minor_bands if key == "minor_bands" else component.bands
        gap = _uncovered(bands or [], ceiling)
        if gap is not None:
            gaps.setdefault((key, *gap, ceiling), []).append(who)
    out: list[tuple[Loc, str]] = []
    for (key, low, high, ceiling), whos in gaps.items():
        start = euro(low + CENT) if low > 0 else euro(0)
        whom = (
            {"minor": " (minori)", "adult": " (adulti)"}.get(whos[0], "") if len(whos) == 1 else ""
        )
        out.append(
            (
                ("ranking", "components", "isee", key),
                f"i punti ISEE della graduatoria{whom} non coprono l'ISEE da {start} a "
                f"{euro(high)}, che è entro il limite di {euro(ceiling)}: una famiglia che "
                "può fare domanda non avrebbe punti ISEE né un posto in graduatoria. "
                "Allungate le fasce (e la frase `text`) come dice l'avviso.",
            )
        )
    return out
