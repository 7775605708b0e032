"""A notice file as an Ambito's operator writes it: parsed from its text and checked, with
every problem said in plain Italian, with its line and field.

Pure: the caller reads the files and passes their text. Used by `sportello notice check`
and `publish`, and to load the published notices kept in the database.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from .cases import merge
from .catalogue import Catalogue, CatalogueError
from .comuni import gazetteer
from .describe import describe, requirement_lines
from .engine import check
from .expectations import mismatches
from .facts import FactsError, validate
from .notice_checks import isee_points, pending
from .schema import (
    AgeRule,
    CertificationsRule,
    FactRule,
    Guidance,
    IseeRule,
    Notice,
    Programme,
    RuleBase,
)
from .yaml_guard import italian, load, oversized

NOTICE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,80}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
PLACEHOLDERS: dict[type, set[str]] = {
    FactRule: {"value"},
    AgeRule: {"age"},
    IseeRule: {"kind", "value", "limit", "by"},
    CertificationsRule: {"by"},
}


@dataclass(frozen=True)
class Problem:
    """One thing to fix (or, as a warning, to look at), where it is."""

    line: int | None
    field: str
    message: str
    file: str = "avviso"

    def __str__(self) -> str:
        where = f"{self.file}, riga {self.line}" if self.line else self.file
        return f"{where}, {self.field or 'file'}: {self.message}"


@dataclass
class Report:
    notice: Notice | Guidance | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def publishable(self) -> bool:
        return self.notice is not None and not self.problems


def parse_notice(text: str, name: str = "avviso") -> Notice | Guidance:
    """A notice (or guidance) from its file text; CatalogueError names the field."""
    too_much = oversized(text)
    if too_much is not None:
        raise CatalogueError(f"{name}: {too_much.message}")
    try:
        _root, raw = load(text)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{name}: {italian(exc)[1]}") from exc
    model = Guidance if isinstance(raw, dict) and raw.get("kind") == "guidance" else Notice
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"{name}: {'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
            for e in exc.errors()
        ]
        raise CatalogueError("\n".join(lines)) from None


def readable(entry: Notice | Guidance, today: dt.date, catalogue: Catalogue) -> str:
    """The notice as a family would read it (`sportello notice`, the back-office preview)."""
    programme: Programme | None = catalogue.programmes.get(getattr(entry, "programme", ""))
    return describe(entry, today, programme)


# -- where a field is in the file -------------------------------------------------------


def _node_at(root: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[yaml.Node | None, bool]:
    """The YAML node at a pydantic location; False when only a parent was found (a
    missing field is reported at the line of the block that lacks it)."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            if child is None:
                if isinstance(part, str) and part in {"fact", "age", "certifications", "isee"}:
                    continue  # the union's tag in the location, not a key of the file
                return node, False
            node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node, False
            node = node.value[part]
        else:
            return node, False
    return node, True


def _line(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    node, _exact = _node_at(root, loc)
    return node.start_mark.line + 1 if node is not None else None


_UNION_MEMBERS = {"datetime", "date", "str", "float", "int", "bool"}


def _plain_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Without the member a union tried ("closes.date", "closes.datetime" → "closes")."""
    while loc and loc[-1] in _UNION_MEMBERS:
        loc = loc[:-1]
    return loc


def _dotted(loc: tuple[Any, ...]) -> str:
    tags = {"fact", "age", "certifications", "isee"}
    parts = [str(p) for i, p in enumerate(loc) if not (p in tags and i + 1 < len(loc))]
    return ".".join(parts)


_MESSAGES = {
    "missing": "manca: è un campo obbligatorio",
    "extra_forbidden": "campo sconosciuto: controllate come è scritto",
    "string_type": "deve essere un testo",
    "float_parsing": "deve essere un numero, come 25000",
    "float_type": "deve essere un numero, come 25000",
    "int_parsing": "deve essere un numero intero",
    "int_type": "deve essere un numero intero",
    "bool_parsing": "deve essere true o false",
    "bool_type": "deve essere true o false",
    "list_type": "deve essere un elenco (righe che iniziano con «- »)",
    "dict_type": "deve essere un gruppo di campi (chiave: valore)",
    "model_type": "deve essere un gruppo di campi (chiave: valore)",
    "model_attributes_type": "deve essere un gruppo di campi (chiave: valore)",
    "date_parsing": "deve essere una data come 2027-04-15",
    "date_type": "deve essere una data come 2027-04-15",
    "date_from_datetime_parsing": "deve essere una data come 2027-04-15",
    "datetime_parsing": "deve essere una data come 2027-04-15, o data e ora: 2027-04-15T12:00:00",
    "union_tag_invalid": "tipo di requisito sconosciuto: usate fact, age, certifications o isee",
    "union_tag_not_found": "manca `type`: fact, age, certifications o isee",
}


def _message(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"valore non ammesso; i valori possibili sono: {expected.replace(' or ', ' o ')}"
    if kind in ("union_tag_invalid", "union_tag_not_found") or kind in _MESSAGES:
        text = _MESSAGES[kind]
    else:
        text = str(err["msg"]).removeprefix("Value error, ")
        text = re.sub(r"^unknown fact", "fatto sconosciuto", text)
    given = err.get("input")
    if kind not in ("missing",) and isinstance(given, str | int | float) and len(str(given)) < 60:
        text += f" (c'è scritto «{given}»)"
    return text


# -- the check ---------------------------------------------------------------------------


def check_notice(
    text: str,
    catalogue: Catalogue,
    cases_text: str | None = None,
    bundled_ids: set[str] | None = None,
) -> Report:
    """Every problem of a notice file (and of its cases file), in plain Italian."""
    report = Report()
    too_much = oversized(text)
    if too_much is not None:
        report.problems.append(Problem(too_much.line, "", too_much.message))
        return report
    try:
        root, raw = load(text)
    except yaml.YAMLError as exc:
        line, message = italian(exc)
        report.problems.append(Problem(line, "", message))
        return report
    if not isinstance(raw, dict):
        report.problems.append(
            Problem(1, "", "il file deve essere un elenco di campi, chiave: valore")
        )
        return report
    _check_comuni(raw, root, report)  # said even when other fields are wrong
    model = Guidance if raw.get("kind") == "guidance" else Notice
    try:
        notice = model.model_validate(raw)
    except ValidationError as exc:
        said: set[tuple[Any, ...]] = set()
        for err in exc.errors():
            loc = _plain_loc(tuple(err["loc"]))
            if loc in said:
                continue  # a date or date-time: one problem, not one per way tried
            said.add(loc)
            if tuple(err["loc"]) != loc and err["type"].startswith(("date", "datetime")):
                err = {**err, "type": "datetime_parsing"}
            report.problems.append(Problem(_line(root, loc), _dotted(loc), _message(err)))
        return report
    report.notice = notice
    if isinstance(notice, Notice):
        _check_notice(notice, root, catalogue, report, bundled_ids or set())
        if cases_text is not None:
            _check_cases(notice, cases_text, catalogue, report)
        else:
            report.warnings.append(
                Problem(None, "", "non c'è un file di casi accanto: serve a provare l'avviso")
            )
    return report


def _check_notice(
    notice: Notice, root: yaml.Node, catalogue: Catalogue, report: Report, bundled: set[str]
) -> None:
    def problem(loc: tuple[Any, ...], message: str) -> None:
        report.problems.append(Problem(_line(root, loc), _dotted(loc), message))

    if not NOTICE_ID.match(notice.id):
        problem(("id",), "usate lettere minuscole, cifre e trattini, come ambito-carate-2027")
    for loc, message in [*pending(notice), *isee_points(notice)]:
        field_ = ".".join(str(p) for p in loc)  # "isee" here is a key, not a rule's tag
        report.problems.append(Problem(_line(root, loc), field_, message))
    if notice.id in bundled:
        problem(("id",), "questo id è di un avviso incluso nel programma: sceglietene un altro")
    if notice.document is None:
        problem(("document",), "manca: titolo, data e indirizzo dove l'avviso è pubblicato")
    if notice.source is not None:
        problem(("source",), "è per gli avvisi inclusi nel programma: usate `document`")
    if notice.programme not in catalogue.programmes:
        known = ", ".join(sorted(catalogue.programmes))
        problem(("programme",), f"delibera sconosciuta; quelle che conosciamo: {known}")
    w = notice.window
    if w.opens and w.closes and _moment(w.opens) > _moment(w.closes, end=True):
        problem(("window", "closes"), "la chiusura viene prima dell'apertura")
    if not w.opens and not w.closes:
        report.warnings.append(
            Problem(
                _line(root, ("window",)),
                "window",
                "senza date: le famiglie leggono «date non indicate»",
            )
        )
    subs = [(("submission",), notice.submission)]
    subs += [
        (("municipalities", i, "submission"), m.submission)
        for i, m in enumerate(notice.municipalities)
        if m.submission
    ]
    for loc, sub in subs:
        if sub.channel in ("pec", "email") and not sub.address:
            problem((*loc, "address"), "per PEC o e-mail serve l'indirizzo")
        elif sub.channel in ("pec", "email") and not EMAIL.match(sub.address or ""):
            problem((*loc, "address"), f"«{sub.address}» non è un indirizzo e-mail")
    rules: list[tuple[tuple[Any, ...], RuleBase]] = [
        (("common_requirements", i), r) for i, r in enumerate(notice.common_requirements)
    ]
    for j, measure in enumerate(notice.measures):
        rules += [
            (("measures", j, "requirements", i), r) for i, r in enumerate(measure.requirements)
        ]
    for loc, rule in rules:
        allowed = PLACEHOLDERS.get(type(rule), set())
        for key, sentence in rule.texts.model_dump().items():
            for name in re.findall(r"\{(\w+)\}", sentence or ""):
                if name not in allowed:
                    shown = ", ".join(f"{{{a}}}" for a in sorted(allowed)) or "nessuno"
                    problem(
                        (*loc, "texts", key),
                        f"{{{name}}} non si può riempire qui; si può usare: {shown}",
                    )
        if any("{" in line for line in requirement_lines(rule)):
            problem(
                (*loc, "texts", "failed"),
                "la frase ha un valore della famiglia: aggiungete `rule`, il requisito senza valori",
            )


def _check_comuni(raw: dict[str, Any], root: yaml.Node, report: Report) -> None:
    """Each comune is an active Lombard comune, written as ISTAT writes it."""
    comuni = raw.get("municipalities")
    for i, m in enumerate(comuni if isinstance(comuni, list) else []):
        name = m.get("name") if isinstance(m, dict) else None
        if not isinstance(name, str):
            continue
        found = gazetteer().find(name)
        loc = ("municipalities", i, "name")
        if found.comune is None:
            hint = f" Forse: {', '.join(found.suggestions)}." if found.suggestions else ""
            message = f"«{name}» non è un Comune italiano attivo.{hint}"
        elif not found.comune.lombard:
            message = f"«{name}» ({found.comune.province}) non è in Lombardia"
        elif found.comune.name != name:
            message = f"scrivete il nome per intero: «{found.comune.name}»"
        else:
            continue
        report.problems.append(Problem(_line(root, loc), _dotted(loc), message))


def _moment(value: dt.date | dt.datetime, end: bool = False) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time.max if end else dt.time.min)


def _check_cases(notice: Notice, text: str, catalogue: Catalogue, report: Report) -> None:
    def problem(line: int | None, where: str, message: str) -> None:
        report.problems.append(Problem(line, where, message, file="casi"))

    too_much = oversized(text)
    if too_much is not None:
        problem(too_much.line, "", too_much.message)
        return
    try:
        root, data = load(text)
    except yaml.YAMLError as exc:
        problem(*italian(exc)[:1], "", italian(exc)[1])
        return
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        problem(1, "cases", "il file di casi deve avere `notice` e l'elenco `cases`")
        return
    if data.get("notice") != notice.id:
        problem(_line(root, ("notice",)), "notice", f"deve essere l'id dell'avviso: {notice.id}")
    with_notice = catalogue.with_notices([notice])
    base = data.get("base") or {}
    for i, case in enumerate(data["cases"]):
        line = _line(root, ("cases", i))
        name = case.get("name", f"caso {i + 1}") if isinstance(case, dict) else f"caso {i + 1}"
        if not isinstance(case, dict) or "facts" not in case or "expect" not in case:
            problem(line, f"cases.{i}", "ogni caso ha `name`, `facts` ed `expect`")
            continue
        try:
            facts = validate(merge(base, case["facts"]))
        except FactsError as exc:
            for p in exc.problems:
                problem(line, f"cases.{i}.facts", f"«{name}»: {p}")
            continue
        verdict = check(facts, with_notice)
        if (verdict.get("notice") or {}).get("id") != notice.id:
            comuni = ", ".join(m.name for m in notice.municipalities[:3])
            problem(
                line,
                f"cases.{i}.facts.municipality",
                f"«{name}»: «{facts.get('municipality')}» non è un Comune di questo avviso; "
                f"usate uno dei suoi, come {comuni}",
            )
            continue
        for wrong in _italian_mismatches(verdict, case["expect"]):
            problem(line, f"cases.{i}", f"«{name}»: {wrong}")


VERDICT_WORDS = {
    "eligible": "sì",
    "conditional": "sì, con qualcosa da completare",
    "not_eligible": "no",
    "undetermined": "non si sa ancora",
    "absent": "non offerto",
}


def _italian_mismatches(verdict: dict[str, Any], expect: dict[str, Any]) -> list[str]:
    """How the engine's result differs from the case, said for an operator."""
    out = []
    for mid, want in (expect.get("measures") or {}).items():
        m = next((m for m in verdict["measures"] if m["measure"] == mid), None)
        got = m["verdict"] if m else "absent"
        if got != want:
            why = "; ".join(
                r["text"] for r in (m or {}).get("reasons", []) if r["outcome"] == "failed"
            )
            out.append(
                f"per {mid} il caso dice «{VERDICT_WORDS.get(want, want)}», il risultato è "
                f"«{VERDICT_WORDS.get(got, got)}»" + (f" ({why})" if why else "")
            )
    rest = {k: v for k, v in expect.items() if k != "measures"}
    out += [f"il risultato non corrisponde: {w}" for w in mismatches(verdict, rest)]
    return out
