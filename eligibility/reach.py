"""What the questionnaire needs from the engine while it asks, and no more: the facts
still missing for a verdict (`asking`, the same list as `check`'s `missing`, without
building the reasons, documents, declarations and scores a result shows), and which facts
a notice could still ask about, for an honest question count.

That count is an upper bound: every fact a requirement of a measure still in reach reads
(its own fact and the facts of its guard), unless a guard already rules the requirement
out or the fact is known. Answering a question never makes the bound grow.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from .catalogue import Catalogue
from .engine import _compatibility, _compatibility_results, _ordered
from .facts import Facts
from .rules import Result, evaluate, guard, status
from .schema import (
    AgeRule,
    CertificationsRule,
    CompatibilityEntry,
    Condition,
    FactRule,
    Guidance,
    IseeRule,
    Measure,
    Notice,
    RuleBase,
)


@dataclass(frozen=True)
class Asking:
    """The engine's word while the questions go on."""

    missing: tuple[str, ...]  # `check(facts)["missing"]`: the facts a verdict still needs
    notice: Notice | None = None  # the notice of the comune, when one is on file
    still_asked: frozenset[str] | None = None  # the bound below; None: no notice nor rules


def asking(facts: Facts, catalogue: Catalogue) -> Asking:
    """The facts still missing for a verdict, in the order to ask them (exactly `check`'s
    `missing`), with the notice they are asked for and the facts it may still ask."""
    needed = [k for k in ("municipality", "application_date") if not facts.known(k)]
    if needed:
        return Asking(tuple(needed))
    match = catalogue.find(facts.get("municipality"), facts.get("application_date"))
    if match.entry is None:
        programme = catalogue.pre_check_programme
        if match.comune is None or not match.comune.lombard or programme is None:
            return Asking(())
        results = [evaluate(r, facts) for r in programme.requirements]
        return Asking(
            _undecided(results), None, frozenset(facts_still_asked_by(programme.requirements, facts))
        )
    if isinstance(match.entry, Guidance):
        return Asking(())
    notice = match.entry
    plan = catalogue.kept(("reach", notice.id), lambda: _Plan.of(notice, catalogue))
    missing: list[str] = []
    keys: set[str] = set()
    for measure, rules in plan.measures:
        waiting: list[str] = []  # the facts this measure's verdict waits for
        # what the measure may still read: its rules' facts, unless a guard rules the rule
        # out ("skipped": `status` reads the guard first), and the other aids received
        reads = {"current_measures"}
        for rule, rule_reads in rules:
            decided, wanted = status(rule, facts)  # no sentences: only what to ask
            if decided == "failed":
                break  # out of reach: asks nothing more
            waiting.extend(wanted)
            if decided != "skipped":
                reads |= rule_reads
        else:
            compatibility = _compatibility_results(measure, facts, plan.entries)
            if not any(r.status == "failed" for r in compatibility):
                missing += waiting
                missing += [k for r in compatibility if r.status == "missing" for k in r.missing]
                keys |= reads
    still = frozenset(k for k in keys if not facts.known(k))
    return Asking(tuple(_ordered(missing)), notice, still)


@dataclass(frozen=True)
class _Plan:
    """A notice read once for `asking`: each measure with its requirements (the common
    ones it does not restate, then its own), each with the facts it reads."""

    measures: tuple[tuple[Measure, tuple[tuple[RuleBase, frozenset[str]], ...]], ...]
    entries: dict[str, tuple[CompatibilityEntry, str]]

    @staticmethod
    def of(notice: Notice, catalogue: Catalogue) -> _Plan:
        measures = []
        for measure in notice.measures:
            own = {r.id for r in measure.requirements}
            rules = [r for r in notice.common_requirements if r.id not in own]
            rules += measure.requirements
            measures.append((measure, tuple((r, frozenset(rule_facts(r))) for r in rules)))
        entries = _compatibility(notice, catalogue.programmes[notice.programme])
        return _Plan(tuple(measures), entries)


def _undecided(results: list[Result]) -> tuple[str, ...]:
    """The facts a verdict waits for (`_decide`'s `missing`): none once a rule failed."""
    if any(r.status == "failed" for r in results):
        return ()
    return tuple(_ordered([k for r in results if r.status == "missing" for k in r.missing]))


def _guard_facts(conditions: list[Condition]) -> set[str]:
    keys = set()
    for cond in conditions:
        if cond.fact == "age":
            keys.add("beneficiary.birth_date")
        elif cond.fact.startswith("isee."):
            keys.add("isee")
        else:
            keys.add(cond.fact)
    return keys


def rule_facts(rule: RuleBase) -> set[str]:
    """The facts a requirement reads to decide."""
    keys = _guard_facts(rule.when)
    if isinstance(rule, FactRule):
        keys.add(rule.fact)
    elif isinstance(rule, AgeRule):
        keys.add("beneficiary.birth_date")
    elif isinstance(rule, CertificationsRule):
        keys.add("beneficiary.certifications")
        if rule.any_age is None:
            keys.add("beneficiary.birth_date")
    elif isinstance(rule, IseeRule):
        keys.add("isee")
        if any(lim.who != "any" for lim in rule.limits):
            keys.add("beneficiary.birth_date")
    return keys


def facts_still_asked(
    notice: Notice,
    facts: Facts,
    verdict: dict[str, Any] | None = None,
    out_of_reach: Collection[str] = (),
) -> set[str]:
    """Facts not yet known that a measure not yet ruled out (by the `verdict`, or named
    in `out_of_reach`) may still need."""
    if verdict is not None:
        out_of_reach = {
            m["measure"] for m in verdict.get("measures", []) if m["verdict"] == "not_eligible"
        }
    keys: set[str] = set()
    for measure in notice.measures:
        if measure.id in out_of_reach:
            continue
        own = {r.id for r in measure.requirements}
        rules = [r for r in notice.common_requirements if r.id not in own]
        for rule in [*rules, *measure.requirements]:
            passed, _ = guard(rule.when, facts)
            if passed is not False:
                keys |= rule_facts(rule)
        keys.add("current_measures")
    return {k for k in keys if not facts.known(k)}


def facts_still_asked_by(rules: Sequence[RuleBase], facts: Facts) -> set[str]:
    """The same bound for a plain list of rules (the regional pre-check)."""
    keys: set[str] = set()
    for rule in rules:
        if guard(rule.when, facts)[0] is not False:
            keys |= rule_facts(rule)
    return {k for k in keys if not facts.known(k)}
