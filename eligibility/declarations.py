"""What the applicant declares on the form (DPR 445/2000), from the notice's own sentences.

Each requirement of a notice may carry its declaration (`Declares`, written in the notice
file beside the requirement); the notice adds those that belong to no single requirement
(residence in the Ambito, the other benefits, changes to report). For the measures the
family applies for, every requirement the answers meet (or that the notice lets follow
later) gives its sentence, filled with the family's values and citing its article. Pure:
facts in, sentences out; no clock, no I/O.

The sentences are the form's Italian (the form goes to the comune) and are never
translated; the chat explains each `kind` in the family's language.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from babel.numbers import format_decimal

from .facts import Facts
from .labels import CURRENT_MEASURE_NAMES
from .rules import age, euro, evaluate, guard
from .schema import (
    DECLARATION_PLACEHOLDERS,
    CompatibilityEntry,
    DeclarationKind,
    Declares,
    IseeRule,
    Notice,
    RuleBase,
)

# The order of the DICHIARA list on the form (the order of `DeclarationKind`): who and
# where, then the requirements, then the commitments.
KINDS: tuple[str, ...] = DeclarationKind.__args__  # type: ignore[attr-defined]

# Values the application supplies (the form fills them; the verdict shows these defaults):
# the beneficiary as the sentence names them (from the codice fiscale: "la beneficiaria",
# or "la sottoscritta" when she signs for herself) and the date on the ISEE (of its DSU).
DETAIL_DEFAULTS = {
    "beneficiario": "il/la beneficiario/a",
    "del_beneficiario": "del/della beneficiario/a",
    "isee_date": "(data da indicare)",
}

# The form's legal Italian for the contract's ids.
CERTIFICATION_ON_FORM = {
    "indennita_accompagnamento": "indennità di accompagnamento (L. 18/1980 e L. 508/1988)",
    "invalidita_100": "invalidità civile al 100%",
    "legge104_art3c3": (
        "certificazione della condizione di gravità ai sensi dell'art. 3, comma 3, "
        "della L. 104/1992"
    ),
    "legge104_art3c3_pending": (
        "domanda di accertamento della condizione di gravità ai sensi dell'art. 3, comma 3, "
        "della L. 104/1992, presentata e in attesa di definizione"
    ),
    "indennita_frequenza": "indennità di frequenza (L. 289/1990)",
}
ISEE_KIND_ON_FORM = {
    "sociosanitario": "ISEE sociosanitario",
    "sociosanitario_ristretto": "ISEE sociosanitario (nucleo ristretto)",
    "ordinario": "ISEE ordinario",
    "minorenni": "ISEE minorenni",
    "corrente": "ISEE corrente",
}
ISEE_STATUS_ON_FORM = {
    "dsu_submitted": (
        "la DSU è stata presentata il {isee_date} e l'attestazione ISEE è in attesa di "
        "rilascio da parte dell'INPS"
    ),
    "caf_appointment": (
        "è fissato l'appuntamento al CAF del {isee_date} per presentare la DSU; "
        "l'attestazione ISEE è in attesa"
    ),
}
CONTRACT_ON_FORM = {
    "direct": "con regolare contratto di lavoro diretto",
    "cooperative": "tramite cooperativa",
    "inps_voucher": "con voucher INPS",
}
RELATIONSHIP_ON_FORM = {
    "spouse": "coniuge",
    "civil_partner": "parte dell'unione civile",
    "cohabitant": "convivente di fatto",
    "parent": "genitore",
    "child": "figlio o figlia",
    "sibling": "fratello o sorella",
    "other_relative": "altro parente o affine",
}
EMPLOYMENT_ON_FORM = {
    "unemployed": "non occupato",
    "homemaker": "casalingo o casalinga",
    "retired": "pensionato o pensionata",
    "cig_zero": "in cassa integrazione a zero ore",
    "part_time": "occupato part-time",
    "full_time": "occupato a tempo pieno",
    "leave_104": "in congedo ai sensi della L. 104/1992",
}
CITIZENSHIP_ON_FORM = {
    "it": "cittadinanza italiana",
    "eu": "cittadinanza di uno Stato dell'Unione europea",
    "non_eu_permit": "cittadinanza di uno Stato extra UE, con regolare titolo di soggiorno",
    "non_eu_no_permit": "cittadinanza di uno Stato extra UE, senza titolo di soggiorno",
}
DISABILITY_ON_FORM = {
    "physical_motor": "disabilità fisico-motoria",
    "intellectual": "disabilità intellettiva",
    "age_related": "non autosufficienza legata all'età",
    "other": "disabilità",
}
PLACEHOLDERS = DECLARATION_PLACEHOLDERS
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Declared:
    """One sentence of the form's DICHIARA list: its kind (the chat explains each kind),
    the Italian text, and the citation ("Avviso, Art. 2"). `template` is the text before
    the application's details went in (the form fills them: `with_details`)."""

    kind: str
    text: str
    source: str
    template: str

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "text": self.text,
            "source": self.source,
            "template": self.template,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> Declared:
        return cls(data["kind"], data["text"], data["source"], data["template"])

    def with_details(self, details: Mapping[str, str]) -> Declared:
        text = fill(self.template, {**DETAIL_DEFAULTS, **details})
        return Declared(self.kind, text, self.source, self.template)


def fill(template: str, values: Mapping[str, Any]) -> str:
    """Put the values in; a placeholder without one stays as it is (filled later)."""

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        return str(values[key]) if key in values else match.group(0)

    return _PLACEHOLDER.sub(value, template)


def placeholders(template: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template))


def _number(value: float) -> str:
    return format_decimal(value, locale="it_IT")


def _list(items: Iterable[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return "; ".join(items[:-1]) + " e " + items[-1]


def _values(facts: Facts, incompatible: list[str]) -> dict[str, str]:
    """The family's facts, written as the form writes them."""
    out: dict[str, str] = {"incompatible": _list(incompatible)}
    known = facts.known
    if known("municipality"):
        out["municipality"] = str(facts.get("municipality"))
    years = age(facts)
    if years is not None:
        out["age"] = str(years)
    born = facts.get("beneficiary.birth_date")
    if isinstance(born, dt.date):
        out["birth_date"] = born.strftime("%d/%m/%Y")
    held = facts.get("beneficiary.certifications")
    if held:
        out["certifications"] = _list(
            CERTIFICATION_ON_FORM[c] for c in CERTIFICATION_ON_FORM if c in held
        )
    isee = facts.get("isee") or {}
    if "kind" in isee:
        out["isee_kind"] = ISEE_KIND_ON_FORM[isee["kind"]]
        out["isee_value"] = euro(isee["value"])
    if isee.get("status") in ISEE_STATUS_ON_FORM:
        out["isee_status"] = ISEE_STATUS_ON_FORM[isee["status"]]
    current = facts.get("current_measures")
    if current:
        out["benefits"] = _list(CURRENT_MEASURE_NAMES[m] for m in sorted(current))
    for key, table, fact in (
        ("citizenship", CITIZENSHIP_ON_FORM, "beneficiary.citizenship"),
        ("disability", DISABILITY_ON_FORM, "beneficiary.disability_kind"),
        ("assistant_contract", CONTRACT_ON_FORM, "assistant.contract"),
        ("caregiver_relationship", RELATIONSHIP_ON_FORM, "caregiver.relationship"),
        ("caregiver_employment", EMPLOYMENT_ON_FORM, "caregiver.employment"),
    ):
        if facts.get(fact) in table:
            out[key] = table[facts.get(fact)]
    for key, fact in (
        ("assistant_hours", "assistant.weekly_hours"),
        ("caregiver_hours", "caregiver.weekly_work_hours"),
        ("day_service_hours", "day_service_weekly_hours"),
    ):
        if known(fact):
            out[key] = _number(facts.get(fact))
    return out


def _rule_values(rule: RuleBase, facts: Facts) -> dict[str, str]:
    """What only this rule knows: the value it tests, the ISEE limit that applies."""
    out: dict[str, str] = {}
    fact = getattr(rule, "fact", None)
    if fact and facts.known(fact):
        value = facts.get(fact)
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        out["value"] = _number(value) if numeric else str(value)
    if isinstance(rule, IseeRule):
        isee = facts.get("isee") or {}
        years = age(facts)
        who = "minor" if years is not None and years < 18 else "adult"
        limits = [
            lim.max
            for lim in rule.limits
            if isee.get("kind") in lim.kinds and lim.who in ("any", who)
        ]
        if limits:
            out["limit"] = euro(max(limits))
    return out


def _sentence(declares: Declares, status: str) -> str | None:
    if status in ("met", "ask"):
        return declares.says
    if status == "pending":
        return declares.pending
    return None


def declarations(
    notice: Notice,
    facts: Facts,
    measures: Iterable[str],
    compatibility: Mapping[str, tuple[CompatibilityEntry, str]],
    details: Mapping[str, str] | None = None,
) -> list[Declared]:
    """The declarations of an application for `measures` (ids the family applies for),
    in the form's order, each once. `compatibility` is the list the engine uses (the
    notice's entries over its programme's); `details` fill the application's placeholders
    (their defaults when absent; `Declared.with_details` fills them later)."""
    wanted = set(measures)
    if not wanted:
        return []
    incompatible = [
        CURRENT_MEASURE_NAMES[m]
        for m, (entry, _source) in compatibility.items()
        if entry.outcome == "incompatible"
    ]
    values = _values(facts, incompatible)
    shown = {**DETAIL_DEFAULTS, **(details or {})}
    out: list[Declared] = []
    seen: set[str] = set()

    def add(kind: str, says: str, source: str, extra: Mapping[str, str] | None = None) -> None:
        # twice: a value may hold a detail's placeholder ("la DSU è stata presentata il
        # {isee_date}"), which stays for the application to fill
        template = fill(fill(says, {**values, **(extra or {})}), values)
        if template not in seen:
            seen.add(template)
            out.append(Declared(kind, fill(template, shown), source, template))

    for declaration in notice.declarations:
        passed, _needed = guard(declaration.when, facts)
        if passed:
            add(declaration.kind, declaration.says, declaration.source)
    for measure in notice.measures:
        if measure.id not in wanted:
            continue
        own = {r.id for r in measure.requirements}
        rules = [r for r in notice.common_requirements if r.id not in own]
        for rule in [*rules, *measure.requirements]:
            if rule.declaration is None:
                continue
            sentence = _sentence(rule.declaration, evaluate(rule, facts).status)
            if sentence:
                source = f"{notice.cited_as}, {rule.declaration.source or rule.source}"
                add(rule.declaration.kind, sentence, source, _rule_values(rule, facts))
    order = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(out, key=lambda d: order[d.kind])  # stable: the notice's order within a kind
