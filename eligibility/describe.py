"""A notice in readable Italian, with the source of every part (for `sportello notice`)."""

from __future__ import annotations

import datetime as dt
import re

from babel.dates import format_date, format_datetime

from .labels import CHANNEL_NAMES, MEASURE_NAMES, STATUS_NAMES
from .rules import euro
from .schema import Guidance, Notice, Programme, Submission
from .window import status


def _plain(text: str) -> str:
    """A rule's sentence without the family's values: `{age}` becomes `…`."""
    return re.sub(r"\{\w+\}", "…", text)


def when_text(moment: dt.date | dt.datetime | None) -> str:
    if moment is None:
        return "non indicata"
    if isinstance(moment, dt.datetime):
        return format_datetime(moment, "d MMMM y 'alle' HH:mm", locale="it_IT")
    return format_date(moment, "d MMMM y", locale="it_IT")


def _submission(sub: Submission, indent: str = "  ") -> list[str]:
    lines = [f"{indent}{CHANNEL_NAMES[sub.channel]}: {sub.address or 'indirizzo non indicato'}"]
    lines.append(f"{indent}{sub.text} [{sub.source}]")
    for alt in sub.alternatives:
        lines += _submission(alt, indent + "  ")
    return lines


def describe(
    entry: Notice | Guidance, today: dt.date | dt.datetime, programme: Programme | None = None
) -> str:
    """The whole notice as plain text."""
    if isinstance(entry, Guidance):
        lines = [entry.title, f"Da: {entry.issuer}", f"Fonte: {entry.source}", ""]
        lines.append(f"Per chi: {entry.applies_to.text} [{entry.applies_to.source}]")
        lines.append("Passi:")
        lines += [f"  {i}. {s.text} [{s.source}]" for i, s in enumerate(entry.steps, 1)]
        lines += [f"Nota: {n.text} [{n.source}]" for n in entry.notes]
        return "\n".join(lines)
    w = entry.window
    lines = [
        entry.title,
        f"{entry.ambito} — {entry.year}",
        f"Fonte: {entry.source} (regole regionali: {entry.programme})",
        "",
        f"Comuni [{entry.municipalities_source}]: "
        + ", ".join(m.name for m in entry.municipalities),
    ]
    if entry.municipalities_note:
        lines.append(f"  {entry.municipalities_note}")
    lines += [
        "",
        f"Stato oggi: {STATUS_NAMES[status(w, today)]}",
        f"  Apertura: {when_text(w.opens)}; chiusura: "
        + (
            "fino a esaurimento delle risorse"
            if w.until_funds_run_out and not w.closes
            else when_text(w.closes)
        ),
        f"  {w.text} [{w.source}]",
        "",
        "Come fare domanda:",
        *_submission(entry.submission),
    ]
    for m in entry.municipalities:
        if m.submission:
            lines.append(f"  Per {m.name}:")
            lines += _submission(m.submission, "    ")
    if entry.common_requirements:
        lines += ["", "Requisiti per tutti gli aiuti:"]
        lines += [f"  - {_plain(r.texts.failed)} [{r.source}]" for r in entry.common_requirements]
    for measure in entry.measures:
        lines += ["", f"{measure.name} ({MEASURE_NAMES[measure.id]})", f"  {measure.purpose}"]
        if measure.amount:
            lines.append(f"  Importo: {measure.amount.text} [{measure.amount.source}]")
        for adj in measure.adjustments:
            lines.append(f"  {adj.text} [{adj.source}]")
        for rule in measure.requirements:
            lines.append(f"  - {_plain(rule.texts.failed)} [{rule.source}]")
        lines += [f"  Nota: {n.text} [{n.source}]" for n in measure.notes]
    if entry.compatibility:
        lines += ["", f"Compatibilità [{entry.compatibility_source}]:"]
        for c in entry.compatibility:
            extra = f" {c.condition}" if c.condition else ""
            lines.append(f"  - {c.text}{extra} [{c.source}]")
    elif entry.compatibility_source:
        lines += [
            "",
            f"Compatibilità [{entry.compatibility_source}, come nella delibera regionale]:",
        ]
        lines += [f"  - {c.text} {c.condition or ''}".rstrip() for c in programme.compatibility]
    else:
        lines += ["", f"Compatibilità: vale l'elenco della delibera regionale ({entry.programme}):"]
        lines += [f"  - {c.text} [{c.source}]" for c in programme.compatibility]
    if entry.documents:
        lines += ["", "Documenti:"]
        for d in entry.documents:
            tag = "" if d.required else " (facoltativo)"
            lines.append(f"  - {d.text}{tag} [{d.source}]")
    if entry.ranking:
        r = entry.ranking
        lines += ["", f"Graduatoria [{r.source}]:"]
        lines += [f"  - {c.text} (max {c.max:g})" for c in r.components.values()]
        lines += [f"  - {n.text}" for n in r.intensity]
        lines += [f"  - {t.text} [{t.source}]" for t in r.tie_breaks]
    for title, notes in (
        ("Limiti", entry.caps),
        ("Revoca", entry.revocation),
        ("Note", entry.notes),
    ):
        if notes:
            lines += ["", f"{title}:"]
            lines += [f"  - {n.text} [{n.source}]" for n in notes]
    return "\n".join(lines)


__all__ = ["describe", "euro", "when_text"]
