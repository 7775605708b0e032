"""The facts a family gives, as the contract (shared/contract/eligibility.md) names them.

`FACTS` is the one table of fact keys: their kind, allowed values and limits. Its order
is the order a person is asked in (where they live, who they are, certifications, ISEE,
other benefits, carers), so the engine's `missing` list comes out in that order and the
questionnaire can ask exactly those facts.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["text", "date", "bool", "choice", "multi", "number", "integer", "isee"]

CITIZENSHIPS = ("it", "eu", "non_eu_permit", "non_eu_no_permit")
CERTIFICATIONS = (
    "indennita_accompagnamento",
    "invalidita_100",
    "legge104_art3c3",
    "legge104_art3c3_pending",
    "indennita_frequenza",
)
DISABILITY_KINDS = ("physical_motor", "intellectual", "age_related", "other")
ISEE_KINDS = ("sociosanitario", "sociosanitario_ristretto", "ordinario", "minorenni", "corrente")
ISEE_STATUSES = ("dsu_submitted", "caf_appointment", "none")
CURRENT_MEASURES = (
    "misura_b1",
    "rsa_aperta",
    "home_care_premium",
    "prestazione_universale",
    "pro_vi",
    "bonus_assistente_familiare_lr15",
    "adi",
    "sad",
    "riabilitazione",
    "ricovero_ospedaliero",
    "ricovero_sollievo",
    "ricovero_sollievo_fsr",
    "dopo_di_noi",
    "dopo_di_noi_residenzialita",
    "voucher_anziani_disabili",
    "residenziale_definitivo",
)
RELATIONSHIPS = (
    "spouse",
    "civil_partner",
    "cohabitant",
    "parent",
    "child",
    "sibling",
    "other_relative",
    "none",
)
EMPLOYMENTS = (
    "unemployed",
    "homemaker",
    "retired",
    "cig_zero",
    "part_time",
    "full_time",
    "leave_104",
)
CONTRACTS = ("direct", "cooperative", "inps_voucher")
MEASURES = (
    "buono_caregiver",
    "buono_assistente_familiare",
    "assegno_autonomia",
    "voucher_minori",
    "interventi_integrativi",
)


@dataclass(frozen=True)
class Fact:
    """One fact key of the contract."""

    key: str
    kind: Kind
    options: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


FACTS: tuple[Fact, ...] = (
    Fact("municipality", "text"),
    Fact("application_date", "date"),
    Fact("beneficiary.birth_date", "date"),
    Fact("beneficiary.citizenship", "choice", CITIZENSHIPS),
    Fact("beneficiary.lives_at_home", "bool"),
    Fact("beneficiary.certifications", "multi", CERTIFICATIONS),
    Fact("beneficiary.disability_kind", "choice", DISABILITY_KINDS),
    Fact("beneficiary.lives_alone", "bool"),
    Fact("isee", "isee"),
    Fact("current_measures", "multi", CURRENT_MEASURES),
    Fact("caregiver.present", "bool"),
    Fact("caregiver.relationship", "choice", RELATIONSHIPS),
    Fact("caregiver.cohabiting", "bool"),
    Fact("caregiver.same_household", "bool"),
    Fact("caregiver.employment", "choice", EMPLOYMENTS),
    Fact("caregiver.weekly_work_hours", "number", minimum=0, maximum=168),
    Fact("caregiver.invalid_100", "bool"),
    Fact("assistant.employed", "bool"),
    Fact("assistant.contract", "choice", CONTRACTS),
    Fact("assistant.weekly_hours", "number", minimum=0, maximum=168),
    Fact("assistant.full_time", "bool"),
    Fact("assistant.relative", "bool"),
    Fact("day_service_weekly_hours", "number", minimum=0, maximum=168),
    Fact("first_application", "bool"),
    Fact("assessment.adl_functions_kept", "integer", minimum=0, maximum=6),
    Fact("assessment.iadl_functions_kept", "integer", minimum=0, maximum=8),
)

FACTS_BY_KEY: dict[str, Fact] = {f.key: f for f in FACTS}
ORDER: dict[str, int] = {f.key: i for i, f in enumerate(FACTS)}
GROUPS = ("beneficiary", "caregiver", "assistant", "assessment")
TOP_LEVEL = frozenset(k for k in FACTS_BY_KEY if "." not in k)
ISEE_MAX_VALUE = 10_000_000.0


@dataclass
class Facts:
    """Validated facts: a flat mapping from dotted key to value; absent means unknown."""

    values: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def known(self, key: str) -> bool:
        return key in self.values

    def with_fact(self, key: str, value: Any) -> Facts:
        return Facts({**self.values, key: value})

    def to_json(self) -> dict[str, Any]:
        """Back to the contract's nested JSON shape."""
        out: dict[str, Any] = {}
        for key in sorted(self.values, key=lambda k: ORDER.get(k, len(ORDER))):
            value = self.values[key]
            if isinstance(value, dt.date | dt.datetime):
                value = value.isoformat()
            elif isinstance(value, frozenset):
                value = sorted(value)
            head, _, tail = key.partition(".")
            if tail:
                out.setdefault(head, {})[tail] = value
            else:
                out[head] = value
        return out


class FactsError(ValueError):
    """Input that breaks the contract: one readable line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _shown(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def parse_date(value: Any) -> dt.date | dt.datetime | None:
    """An ISO date, or an ISO date-time for the exact moment of filing."""
    if not isinstance(value, str):
        return None
    try:
        if "T" in value:
            return dt.datetime.fromisoformat(value).replace(tzinfo=None)
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


class _Got:
    """`, got <value>` at the end of a problem: written only when there is one."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any):
        self.raw = raw

    def __str__(self) -> str:
        return f", got {_shown(self.raw)}"


def _check(fact: Fact, raw: Any) -> tuple[Any, str | None]:
    """Return the parsed value of one fact, or a message saying what was expected."""
    got = _Got(raw)
    if fact.kind == "text":
        if not isinstance(raw, str) or not raw.strip():
            return None, f"must be a non-empty text{got}"
        if len(raw) > 200:
            return None, "must be at most 200 characters"
        return raw.strip(), None
    if fact.kind == "date":
        parsed = parse_date(raw)
        if parsed is None:
            return None, f"must be a date as YYYY-MM-DD{got}"
        day = parsed.date() if isinstance(parsed, dt.datetime) else parsed
        if day.year < 1900:
            return None, f"must be a date after 1900{got}"
        return parsed, None
    if fact.kind == "bool":
        if not isinstance(raw, bool):
            return None, f"must be true or false{got}"
        return raw, None
    if fact.kind == "choice":
        if raw not in fact.options:
            return None, f"must be one of {', '.join(fact.options)}{got}"
        return raw, None
    if fact.kind == "multi":
        if not isinstance(raw, list):
            return None, f"must be a list of {', '.join(fact.options)}{got}"
        wrong = [v for v in raw if v not in fact.options]
        if wrong:
            return None, f"must list only {', '.join(fact.options)}, got {_shown(wrong)}"
        return frozenset(raw), None
    if fact.kind in ("number", "integer"):
        is_number = isinstance(raw, int | float) and not isinstance(raw, bool)
        if fact.kind == "integer":
            is_number = is_number and float(raw).is_integer()
        lo, hi = fact.minimum, fact.maximum
        what = "a whole number" if fact.kind == "integer" else "a number"
        expected = f"must be {what} from {lo:g} to {hi:g}"
        if not is_number or not math.isfinite(raw) or raw < lo or raw > hi:  # type: ignore[operator]
            return None, f"{expected}{got}"
        return (int(raw) if fact.kind == "integer" else float(raw)), None
    raise AssertionError(fact.kind)


def _check_isee(raw: Any) -> tuple[dict[str, Any] | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [
            f"isee: must be an object with kind and value, or with status, got {_shown(raw)}"
        ]
    problems: list[str] = []
    unknown = sorted(set(raw) - {"kind", "value", "status"})
    problems += [f"isee.{k}: unknown field" for k in unknown]
    if "status" in raw:
        if "kind" in raw or "value" in raw:
            problems.append("isee: give either status, or kind and value, not both")
        elif raw["status"] not in ISEE_STATUSES:
            allowed = ", ".join(ISEE_STATUSES)
            problems.append(f"isee.status: must be one of {allowed}, got {_shown(raw['status'])}")
        return (None if problems else {"status": raw["status"]}), problems
    if "kind" not in raw:
        problems.append("isee.kind: required with isee.value")
    elif raw["kind"] not in ISEE_KINDS:
        problems.append(
            f"isee.kind: must be one of {', '.join(ISEE_KINDS)}, got {_shown(raw['kind'])}"
        )
    value = raw.get("value")
    if "value" not in raw:
        problems.append("isee.value: required with isee.kind")
    elif (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
        or value > ISEE_MAX_VALUE
    ):
        problems.append(f"isee.value: must be a number >= 0, got {_shown(value)}")
    if problems:
        return None, problems
    return {"kind": raw["kind"], "value": round(float(value), 2)}, []


def validate(raw: Any) -> Facts:
    """Check JSON facts against the contract; raise `FactsError` naming every bad field."""
    if not isinstance(raw, dict):
        raise FactsError([f"facts: must be a JSON object, got {_shown(raw)}"])
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key in raw:
        if key in GROUPS:
            group = raw[key]
            if not isinstance(group, dict):
                problems.append(f"{key}: must be an object, got {_shown(group)}")
                continue
            for sub, sub_raw in group.items():
                dotted = f"{key}.{sub}"
                if dotted not in FACTS_BY_KEY:
                    problems.append(f"{dotted}: unknown field")
                    continue
                if sub_raw is None:
                    continue
                value, problem = _check(FACTS_BY_KEY[dotted], sub_raw)
                if problem:
                    problems.append(f"{dotted}: {problem}")
                else:
                    values[dotted] = value
        elif key == "isee":
            if raw[key] is None:
                continue
            isee, isee_problems = _check_isee(raw[key])
            problems += isee_problems
            if isee is not None:
                values["isee"] = isee
        elif key in TOP_LEVEL:
            if raw[key] is None:
                continue
            value, problem = _check(FACTS_BY_KEY[key], raw[key])
            if problem:
                problems.append(f"{key}: {problem}")
            else:
                values[key] = value
        else:
            problems.append(f"{key}: unknown field")
    birth, filed = values.get("beneficiary.birth_date"), values.get("application_date")
    if birth is not None and filed is not None and _day(birth) > _day(filed):
        problems.append(
            f"beneficiary.birth_date: must be on or before application_date ({_day(filed)}),"
            f" got {_shown(raw['beneficiary']['birth_date'])}"
        )
    if problems:
        raise FactsError(problems)
    return Facts(values)


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def age_on(birth: dt.date | dt.datetime, day: dt.date | dt.datetime) -> int:
    """Completed years on `day`: the birthday itself counts (001 Art. 2, 'compiuto il 65° anno')."""
    birth, day = _day(birth), _day(day)
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
