"""Evaluate one requirement of a notice against partial facts.

Each rule answers one of: met, failed, pending (the notice lets it follow later), ask (the
seed does not settle it: the social services will), or missing (facts needed to decide).
A rule never guesses: an absent fact is unknown, never false.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from babel.numbers import format_currency, format_decimal

from .facts import Facts, age_on
from .labels import ISEE_KIND_NAMES
from .schema import (
    AgeRule,
    CertificationsRule,
    Condition,
    FactRule,
    IseeRule,
    RuleBase,
)

Status = Literal["met", "failed", "pending", "ask", "missing", "skipped"]


@dataclass
class Result:
    rule: str
    status: Status
    source: str
    text: str = ""
    missing: tuple[str, ...] = ()
    pending: str | None = None
    template: str | None = None  # `text` before its values were filled in, for translation
    params: dict[str, Any] = field(default_factory=dict)
    # something the family can do before applying (an ISEE to ask for), not a requirement
    # they cannot meet: the result says what to do rather than "not for you"
    before_applying: bool = False

    def __post_init__(self) -> None:
        if self.template is None and self.text:
            self.template = getattr(self.text, "template", str(self.text))
            self.params = dict(getattr(self.text, "params", {}))


class Money(str):
    """An amount in euro, written the Italian way, that keeps its value for other locales."""

    amount: float


def euro(value: float) -> str:  # a Money
    money = Money(format_currency(value, "EUR", locale="it_IT"))
    money.amount = value
    return money


class Sentence(str):
    """A filled-in sentence that remembers its template and values, for translation."""

    template: str
    params: dict[str, Any]


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fmt(template: str | None, **values: Any) -> str:  # a Sentence
    """Fill a sentence's values, remembering the template so the caller can translate it."""
    if not template:
        return ""
    sentence = Sentence(template.format_map(_Keep(values)))
    sentence.template = template
    sentence.params = {k: v for k, v in values.items() if "{" + k + "}" in template}
    return sentence


def age(facts: Facts) -> int | None:
    birth, filed = facts.get("beneficiary.birth_date"), facts.get("application_date")
    if birth is None or filed is None:
        return None
    return age_on(birth, filed)


def _needs_for_age(facts: Facts) -> tuple[str, ...]:
    return tuple(k for k in ("application_date", "beneficiary.birth_date") if not facts.known(k))


def test_value(value: Any, spec: Condition | FactRule) -> bool:
    """The generic comparison shared by guards and fact rules."""
    if spec.equals is not None and value != spec.equals:
        return False
    if spec.in_ is not None and value not in spec.in_:
        return False
    if (
        isinstance(spec, Condition)
        and spec.contains is not None
        and (value is None or spec.contains not in value)
    ):
        return False
    if (
        isinstance(spec, Condition)
        and spec.lacks is not None
        and (value is None or spec.lacks in value)
    ):
        return False
    if isinstance(spec, Condition) and spec.empty is not None and (not value) != spec.empty:
        return False
    if spec.min is not None and (value is None or value < spec.min):
        return False
    return not (spec.max is not None and (value is None or value > spec.max))


def guard(conditions: list[Condition], facts: Facts) -> tuple[bool | None, tuple[str, ...]]:
    """All conditions true? None with the facts still needed when it cannot tell yet."""
    for cond in conditions:
        if cond.fact == "age":
            value = age(facts)
            if value is None:
                return None, _needs_for_age(facts)
        elif cond.fact.startswith("isee."):
            if not facts.known("isee"):
                return None, ("isee",)
            value = facts.get("isee").get(cond.fact.removeprefix("isee."))
        elif not facts.known(cond.fact):
            return None, (cond.fact,)
        else:
            value = facts.get(cond.fact)
        if not test_value(value, cond):
            return False, ()
    return True, ()


def evaluate(rule: RuleBase, facts: Facts) -> Result:
    passed, needed = guard(rule.when, facts)
    if passed is None:
        return Result(rule.id, "missing", rule.source, missing=needed)
    if passed is False:
        return Result(rule.id, "skipped", rule.source)
    if isinstance(rule, FactRule):
        return _fact(rule, facts)
    if isinstance(rule, AgeRule):
        return _age(rule, facts)
    if isinstance(rule, CertificationsRule):
        return _certifications(rule, facts)
    if isinstance(rule, IseeRule):
        return _isee(rule, facts)
    raise AssertionError(type(rule))


def status(rule: RuleBase, facts: Facts) -> tuple[str, tuple[str, ...]]:
    """`evaluate`'s status and missing facts, without the sentences a result shows: what
    the questions ask while they go on (`eligibility.reach`). Fact and age rules, the
    most frequent, decide here the same way `evaluate` does (the same helpers); the
    others through it."""
    passed, needed = guard(rule.when, facts)
    if passed is None:
        return "missing", needed
    if passed is False:
        return "skipped", ()
    if isinstance(rule, FactRule):
        if not facts.known(rule.fact):
            return "missing", (rule.fact,)
        return _fact_status(rule, facts.get(rule.fact)), ()
    if isinstance(rule, AgeRule):
        years = age(facts)
        if years is None:
            return "missing", _needs_for_age(facts)
        return _age_status(rule, years), ()
    result = evaluate(rule, facts)
    return result.status, result.missing


def _fact_status(rule: FactRule, value: Any) -> str:
    if value in rule.pending_values:
        return "pending"
    if value in rule.ask_values:
        return "ask"
    return "met" if test_value(value, rule) else "failed"


def _fact(rule: FactRule, facts: Facts) -> Result:
    if not facts.known(rule.fact):
        return Result(rule.id, "missing", rule.source, missing=(rule.fact,))
    value = facts.get(rule.fact)
    shown = format_decimal(value, locale="it_IT") if isinstance(value, float) else value
    t = rule.texts
    decided = _fact_status(rule, value)
    if decided == "pending":
        text = _fmt(t.pending or t.met, value=shown)
        return Result(rule.id, "pending", rule.source, text, pending=text)
    if decided == "ask":
        text = _fmt(t.ask or t.failed, value=shown)
        return Result(rule.id, "ask", rule.source, text, pending=text)
    if decided == "met":
        return Result(rule.id, "met", rule.source, _fmt(t.met, value=shown))
    return Result(rule.id, "failed", rule.source, _fmt(t.failed, value=shown))


def _age_status(rule: AgeRule, years: int) -> str:
    ok = (rule.min_years is None or years >= rule.min_years) and (
        rule.below_years is None or years < rule.below_years
    )
    if ok:
        return "met"
    return "ask" if rule.on_fail == "ask" else "failed"


def _age(rule: AgeRule, facts: Facts) -> Result:
    years = age(facts)
    if years is None:
        return Result(rule.id, "missing", rule.source, missing=_needs_for_age(facts))
    decided = _age_status(rule, years)
    if decided == "met":
        return Result(rule.id, "met", rule.source, _fmt(rule.texts.met, age=years))
    if decided == "ask":
        text = _fmt(rule.texts.ask or rule.texts.failed, age=years)
        return Result(rule.id, "ask", rule.source, text, pending=text)
    return Result(rule.id, "failed", rule.source, _fmt(rule.texts.failed, age=years))


def _certifications(rule: CertificationsRule, facts: Facts) -> Result:
    missing: tuple[str, ...] = ()
    if rule.any_age is not None:
        groups = rule.any_age
    else:
        years = age(facts)
        if years is None:
            missing = _needs_for_age(facts)
        groups = (rule.minor if years is not None and years < 18 else rule.adult) or []
    if not facts.known("beneficiary.certifications"):
        missing += ("beneficiary.certifications",)
    if missing:
        return Result(rule.id, "missing", rule.source, missing=missing)
    held = set(facts.get("beneficiary.certifications"))
    t = rule.texts
    if any(set(g) <= held for g in groups):
        return Result(rule.id, "met", rule.source, t.met)
    if rule.l104_pending and "legge104_art3c3_pending" in held:
        with_pending = held | {"legge104_art3c3"}
        if any(set(g) <= with_pending for g in groups):
            follow = rule.l104_pending
            text = _fmt(t.pending or follow.text, by=follow.text)
            return Result(
                rule.id,
                "pending",
                f"{rule.source}; {follow.source}" if follow.source != rule.source else rule.source,
                text,
                pending=follow.text,
            )
    return Result(rule.id, "failed", rule.source, t.failed)


def _no_isee_yet(rule: IseeRule) -> Result:
    """No ISEE, no DSU, no CAF appointment yet. Where the notice lets the attestation follow
    (a CAF appointment or a DSU is enough when applying), that is the next step: the
    family can still apply, and the notice's own sentences say what to do and by when.
    Where it does not, the notice's sentence says what to do. Either way it comes before
    applying: the result says what to do rather than "not for you", and no application
    is prepared until the answer changes."""
    t = rule.texts
    follow = rule.followups.get("caf_appointment") or rule.followups.get("dsu_submitted")
    if follow is None:
        return Result(
            rule.id, "failed", rule.source, t.no_attestation or t.failed, before_applying=True
        )
    text = t.no_attestation or follow.text
    return Result(
        rule.id, "pending", follow.source, text, pending=follow.text, before_applying=True
    )


def _isee(rule: IseeRule, facts: Facts) -> Result:
    if not facts.known("isee"):
        return Result(rule.id, "missing", rule.source, missing=("isee",))
    isee = facts.get("isee")
    t = rule.texts
    if "status" in isee:
        if isee["status"] == "none":
            return _no_isee_yet(rule)
        follow = rule.followups.get(isee["status"])
        if follow is None:
            return Result(rule.id, "failed", rule.source, t.no_attestation or t.failed)
        return Result(
            rule.id,
            "pending",
            follow.source,
            _fmt(t.pending or follow.text, by=follow.text),
            pending=follow.text,
        )
    kind, value = isee["kind"], isee["value"]
    matching = [lim for lim in rule.limits if kind in lim.kinds]
    if any(lim.who != "any" for lim in matching):
        years = age(facts)
        if years is None:
            return Result(rule.id, "missing", rule.source, missing=_needs_for_age(facts))
        who = "minor" if years < 18 else "adult"
        matching = [lim for lim in matching if lim.who in ("any", who)]
    values = {"kind": ISEE_KIND_NAMES[kind], "value": euro(value)}
    if not matching:
        if kind in rule.ask_kinds:
            text = _fmt(t.ask, **values)
            return Result(rule.id, "ask", rule.source, text, pending=text)
        return Result(rule.id, "failed", rule.source, _fmt(t.wrong_kind or t.failed, **values))
    limit = max(lim.max for lim in matching)
    values["limit"] = euro(limit)
    if value <= limit:
        return Result(rule.id, "met", rule.source, _fmt(t.met, **values))
    return Result(rule.id, "failed", rule.source, _fmt(t.failed, **values))
