"""The scales of the home visit (ADL, IADL, CBI) as the social worker types them, checked
against the notice's scale: on the dossier page one dossier, on the graduatoria several
at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialogs.parsing import AnswerError, parse_amount

SCALES = ("adl", "iadl", "cbi")


def check_scales(
    fields: list[dict[str, Any]], typed: Mapping[str, str]
) -> tuple[dict[str, float | None], dict[str, str]]:
    """(the values, None where left empty) and the errors by scale name, for the notice's
    entry `fields` (`backoffice.ranking.entry_fields`)."""
    values: dict[str, float | None] = dict.fromkeys(SCALES)
    errors: dict[str, str] = {}
    for spec in fields:
        text = (typed.get(spec["name"]) or "").strip()
        if not text:
            continue
        try:
            number = float(parse_amount(text))
        except AnswerError:
            number = -1.0
        if not spec["min"] <= number <= spec["max"] or (
            spec["integer"] and not number.is_integer()
        ):
            errors[spec["name"]] = (
                f"{spec['short']}: scrivete un numero {'intero ' if spec['integer'] else ''}"
                f"da {spec['min']:g} a {spec['max']:g}, come dice l'avviso."
            )
        else:
            values[spec["name"]] = number
    return values, errors


def stored(values: Mapping[str, float | None]) -> dict[str, Any]:
    """The values as storage keeps them (ADL and IADL whole numbers)."""
    return {
        "adl": None if values.get("adl") is None else int(values["adl"]),  # type: ignore[arg-type]
        "iadl": None if values.get("iadl") is None else int(values["iadl"]),  # type: ignore[arg-type]
        "cbi": values.get("cbi"),
    }
