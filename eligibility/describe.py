"""A notice in readable Italian, with the source of every part (for `sportello notice`).

Each requirement is stated as the notice sets it, never with a family's values: an age
or ISEE rule is written from its numbers, a sentence with a {value} is replaced by the
rule's `texts.rule`, or by its number ("almeno 10"). A line said twice is printed once.
"""

from __future__ import annotations

import datetime as dt
import re

from babel.dates import format_date, format_datetime

from .labels import CHANNEL_NAMES, ISEE_KIND_NAMES, MEASURE_NAMES, NUMBER_FACT_NAMES, STATUS_NAMES
from .rules import euro
from .schema import (
    AgeRule,
    CertificationsRule,
    FactRule,
    Guidance,
    IseeRule,
    Notice,
    Programme,
    RuleBase,
    Submission,
)
from .window import status

PLACEHOLDER = re.compile(r"\{\w+\}")
FOLLOWUP_NAMES = {
    "dsu_submitted": "Con la sola DSU",
    "caf_appointment": "Con un appuntamento al CAF",
    "none": "Senza ISEE",
}


def when_text(moment: dt.date | dt.datetime | None) -> str:
    if moment is None:
        return "non indicata"
    if isinstance(moment, dt.datetime):
        return format_datetime(moment, "d MMMM y 'alle' HH:mm", locale="it_IT")
    return format_date(moment, "d MMMM y", locale="it_IT")


def _lower_first(text: str) -> str:
    """ "Portate l'ISEE" → "portate l'ISEE", after a colon; "ISEE" and "L. 104" stay."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " o " + items[-1]


def requirement_lines(rule: RuleBase) -> list[str]:
    """What a rule asks for, in plain Italian and without any family's values."""
    t = rule.texts
    if t.rule:
        return [t.rule]
    if isinstance(rule, AgeRule):
        if rule.min_years is not None and PLACEHOLDER.search(t.failed):
            return [f"Età: almeno {rule.min_years} anni il giorno della domanda."]
        if rule.below_years is not None and PLACEHOLDER.search(t.failed):
            return [f"Età: meno di {rule.below_years} anni il giorno della domanda."]
    if isinstance(rule, IseeRule):
        return _isee_lines(rule)
    if isinstance(rule, FactRule) and PLACEHOLDER.search(t.failed):
        name = NUMBER_FACT_NAMES.get(rule.fact, rule.fact)
        bounds = []
        if rule.min is not None:
            bounds.append(f"almeno {rule.min:g}")
        if rule.max is not None:
            bounds.append(f"al massimo {rule.max:g}")
        if bounds:
            return [f"{name}: {' e '.join(bounds)}."]
    if isinstance(rule, CertificationsRule) and rule.l104_pending:
        return [t.failed, f"In attesa della L. 104: {_lower_first(rule.l104_pending.text)}"]
    return [t.failed]


def _isee_lines(rule: IseeRule) -> list[str]:
    who_names = {"any": "", "adult": " per gli adulti", "minor": " per i minori"}
    lines = []
    for limit in rule.limits:
        kinds = _or([ISEE_KIND_NAMES[k] for k in limit.kinds])
        lines.append(f"ISEE {kinds}{who_names[limit.who]}: fino a {euro(limit.max)}.")
    if rule.ask_kinds:
        kinds = _or([ISEE_KIND_NAMES[k] for k in rule.ask_kinds])
        lines.append(f"ISEE {kinds}: il testo non dice se vale. Chiedete ai servizi sociali.")
    for status_, follow in rule.followups.items():
        lines.append(f"{FOLLOWUP_NAMES[status_]}: {_lower_first(follow.text)}")
    if rule.texts.no_attestation and not rule.followups:
        lines.append(f"Senza attestazione ISEE: {_lower_first(rule.texts.no_attestation)}")
    return lines


def _submission(sub: Submission, indent: str = "  ") -> list[str]:
    if sub.channel == "unknown":
        head = "Modo di invio non indicato: chiedete ai servizi sociali del Comune."
    elif sub.address:
        head = f"{CHANNEL_NAMES[sub.channel].capitalize()}: {sub.address}"
    else:
        head = f"{CHANNEL_NAMES[sub.channel].capitalize()} (l'indirizzo non è indicato)"
    lines = [f"{indent}{head}", f"{indent}{sub.text} [{sub.source}]"]
    for alt in sub.alternatives:
        lines += _submission(alt, indent + "  ")
    return lines


class _Lines(list[str]):
    """Lines of the description; a list item said twice in a row of items is kept once."""

    def item(self, text: str) -> None:
        if text not in self:
            self.append(text)


def _guidance(entry: Guidance) -> str:
    lines = [entry.title, f"Da: {entry.issuer}", f"Fonte: {entry.source}", ""]
    lines.append(f"Per chi: {entry.applies_to.text} [{entry.applies_to.source}]")
    if entry.kinds:
        lines.append("Gli interventi:")
        lines += [f"  - {k.text} [{k.source}]" for k in entry.kinds]
    lines.append("Passi:")
    lines += [f"  {i}. {s.text} [{s.source}]" for i, s in enumerate(entry.steps, 1)]
    lines += [f"Nota: {n.text} [{n.source}]" for n in entry.notes]
    return "\n".join(lines)


def describe(
    entry: Notice | Guidance, today: dt.date | dt.datetime, programme: Programme | None = None
) -> str:
    """The whole notice as plain text."""
    if isinstance(entry, Guidance):
        return _guidance(entry)
    w = entry.window
    regional = programme.title if programme else entry.programme
    lines = _Lines(
        [
            entry.title,
            f"{entry.ambito} — {entry.year}",
            f"Fonte: {entry.citation} (regole regionali: {regional})",
            "",
            f"Comuni [{entry.municipalities_source}]: "
            + ", ".join(m.name for m in entry.municipalities),
        ]
    )
    if entry.municipalities_note:
        lines.append(f"  {entry.municipalities_note}")
    closing = (
        "fino a esaurimento delle risorse"
        if w.until_funds_run_out and not w.closes
        else when_text(w.closes)
    )
    lines += [
        "",
        f"Stato oggi: {STATUS_NAMES[status(w, today)]}",
        f"  Apertura: {when_text(w.opens)}; chiusura: {closing}",
        f"  {w.text} [{w.source}]",
    ]
    if w.reading:
        lines.append(f"  {w.reading}")
    lines += ["", "Come fare domanda:", *_submission(entry.submission)]
    for m in entry.municipalities:
        if m.submission:
            lines.append(f"  Per {m.name}:")
            lines += _submission(m.submission, "    ")
    if entry.contacts:
        lines += ["", "Contatti:"]
        lines += [f"  - {c.text} [{c.source}]" for c in entry.contacts]
    dpo = getattr(entry, "data_protection", None)
    if dpo is not None:
        lines += ["", f"Protezione dei dati: {dpo.text} [{dpo.source}]"]
    if entry.common_requirements:
        lines += ["", "Requisiti per tutti gli aiuti:"]
        for rule in entry.common_requirements:
            for text in requirement_lines(rule):
                lines.item(f"  - {text} [{rule.source}]")
    for measure in entry.measures:
        lines += ["", f"{measure.name} ({MEASURE_NAMES[measure.id]})", f"  {measure.purpose}"]
        if measure.amount:
            lines.append(f"  Importo: {measure.amount.text} [{measure.amount.source}]")
        for adj in measure.adjustments:
            lines.append(f"  {adj.text} [{adj.source}]")
        for rule in measure.requirements:
            for text in requirement_lines(rule):
                lines.item(f"  - {text} [{rule.source}]")
        lines += [f"  Nota: {n.text} [{n.source}]" for n in measure.notes]
    lines += _compatibility(entry, programme, regional)
    if entry.documents:
        lines += ["", "Documenti:"]
        for d in entry.documents:
            tag = "" if d.required else " (facoltativo)"
            lines.item(f"  - {d.text}{tag} [{d.source}]")
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


def _compatibility(entry: Notice, programme: Programme | None, regional: str) -> list[str]:
    lines = _Lines()
    if entry.compatibility:
        lines += ["", f"Compatibilità [{entry.compatibility_source}]:"]
        for c in entry.compatibility:
            extra = f" {c.condition}" if c.condition else ""
            lines.item(f"  - {c.text}{extra} [{c.source}]")
        notes = entry.compatibility_notes
    elif programme is None:
        return ["", f"Compatibilità: vale l'elenco della delibera regionale ({regional})."]
    else:
        if entry.compatibility_source:
            lines += ["", f"Compatibilità [{entry.compatibility_source}, come nella {regional}]:"]
        else:
            lines += [
                "",
                f"Compatibilità: l'avviso non ha un elenco, vale quello della {regional}:",
            ]
        for c in programme.compatibility:
            extra = f" {c.condition}" if c.condition else ""
            cite = entry.compatibility_source or f"{regional}: {c.source}"
            lines.item(f"  - {c.text}{extra} [{cite}]")
        notes = entry.compatibility_notes or programme.compatibility_notes
    for n in notes:
        source = n.source if notes is entry.compatibility_notes else f"{regional}: {n.source}"
        lines.item(f"  - {n.text} [{source}]")
    return lines


__all__ = ["describe", "euro", "requirement_lines", "when_text"]
