"""The family's answers as the dossier keeps them: the contract's facts (validated once,
when the dossier is opened) and the answer lines in Italian (as the questionnaire showed
them), so that the form, the back-office and the checks read the dossier's own data
instead of the conversation's code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eligibility import Facts, validate


def raw_facts(answers: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """The contract's input from stored answers (dotted keys nested); the filing date is
    `today`."""
    raw: dict[str, Any] = {"application_date": today.isoformat()}
    for key, value in answers.items():
        if key.startswith("isee."):
            continue
        head, _, tail = key.partition(".")
        if tail:
            raw.setdefault(head, {})[tail] = value
        else:
            raw[head] = value
    status = answers.get("isee.status")
    if status == "attestation":
        if "isee.kind" in answers and "isee.value" in answers:
            raw["isee"] = {"kind": answers["isee.kind"], "value": answers["isee.value"]}
    elif status is not None:
        raw["isee"] = {"status": status}
    return raw


def facts_of(answers: Mapping[str, Any], today: dt.date) -> Facts:
    """The contract's facts from stored answers; the filing date is today."""
    return validate(raw_facts(answers, today))


@dataclass(frozen=True)
class StoredAnswers:
    """The questionnaire as the dossier keeps it: the answers by key, in the order given;
    the facts validated when the dossier was opened, on `checked_on`; and the answer
    lines in Italian, as the questionnaire showed them. A dossier from before the facts
    and lines were kept has None for them."""

    values: Mapping[str, Any] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    facts: Mapping[str, Any] | None = None
    lines: tuple[tuple[str, str], ...] | None = None
    checked_on: str | None = None  # ISO: the filing date the pre-check used

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoredAnswers:
        """From a dossier's stored data (its `answers`, `order`, `facts`, `lines`)."""
        facts, lines = data.get("facts"), data.get("lines")
        return cls(
            values=dict(data.get("answers") or {}),
            order=tuple(data.get("order") or ()),
            facts=facts if isinstance(facts, dict) else None,
            lines=tuple((str(q), str(a)) for q, a in lines) if isinstance(lines, list) else None,
            checked_on=data.get("checked_on"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "checked_on": self.checked_on,
            "answers": dict(self.values),
            "order": list(self.order),
        }
        if self.facts is not None:
            out["facts"] = dict(self.facts)
        if self.lines is not None:
            out["lines"] = [list(line) for line in self.lines]
        return out

    def facts_on(self, day: dt.date) -> Facts:
        """The facts stored at opening (validated then); a dossier from before they were
        stored: from its answers, on `day`."""
        if self.facts is not None:
            return validate(dict(self.facts))
        return facts_of(self.values, day)

    def answer_lines(self) -> list[tuple[str, str]]:
        """The answers as (question, answer) lines in Italian, as stored at opening; a
        dossier from before they were stored: the answers' own keys and values."""
        if self.lines is not None:
            return list(self.lines)
        return [(key, str(value)) for key, value in self.values.items()]

    @property
    def birth_date(self) -> dt.date | None:
        """The beneficiary's, as answered."""
        born = self.values.get("beneficiary.birth_date")
        return dt.date.fromisoformat(born) if born else None

    @property
    def isee_status(self) -> str | None:
        """attestation, dsu_submitted, caf_appointment, ... (None: not asked)."""
        return self.values.get("isee.status")

    @property
    def isee_kind(self) -> str:
        return self.values.get("isee.kind") or ""

    @property
    def isee_value(self) -> float | None:
        value = self.values.get("isee.value")
        return float(value) if isinstance(value, int | float) else None
