"""The family's answers as the dossier keeps them: the contract's facts (validated once,
when the dossier is opened) and the answer lines in Italian (as the questionnaire showed
them), so that the form, the back-office and the checks read the dossier's own data
instead of the conversation's code."""

from __future__ import annotations

import datetime as dt
from typing import Any

from eligibility import Facts, validate


def raw_facts(answers: dict[str, Any], today: dt.date) -> dict[str, Any]:
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


def facts_of(answers: dict[str, Any], today: dt.date) -> Facts:
    """The contract's facts from stored answers; the filing date is today."""
    return validate(raw_facts(answers, today))


def facts_of_dossier(data: dict[str, Any], day: dt.date) -> Facts:
    """The facts the dossier stored when it was opened (validated then); a dossier from
    before they were stored: from its answers, on `day`."""
    stored = data.get("facts")
    if isinstance(stored, dict):
        return validate(stored)
    return facts_of(data.get("answers") or {}, day)


def answer_lines(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The answers as (question, answer) lines in Italian, as stored at opening; a dossier
    from before they were stored: the answers' own keys and values."""
    lines = data.get("lines")
    if isinstance(lines, list):
        return [(str(label), str(value)) for label, value in lines]
    return [(key, str(value)) for key, value in (data.get("answers") or {}).items()]
