"""Which facts a notice could still ask about, for an honest question count.

An upper bound: every fact a requirement of a measure still in reach reads (its own fact
and the facts of its guard), unless a guard already rules the requirement out or the fact
is known. Answering a question never makes the bound grow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .facts import Facts
from .rules import guard
from .schema import AgeRule, CertificationsRule, Condition, FactRule, IseeRule, Notice, RuleBase


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


def facts_still_asked(notice: Notice, facts: Facts, verdict: dict[str, Any]) -> set[str]:
    """Facts not yet known that a measure not yet ruled out may still need."""
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
