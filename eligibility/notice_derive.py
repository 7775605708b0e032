"""A new notice from an existing one: what changes from one year to the next (title, year,
the notice's own document, opening and closing, comuni, channel and address, ISEE
ceilings, amounts) written into a copy of the original file, with its structure and
comments kept (ruamel.yaml's round trip), and a list of what the operator must still
look at, with line and field.

The original's cases file cannot simply be copied (dates and comuni change): its dates
are moved by as many days as the opening moved, its comune becomes one of the new
notice's, and only the cases that still hold for the new notice are kept; the others are
named, for the operator to rewrite. Pure: texts in, texts out.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.timestamp import TimeStamp

from .catalogue import Catalogue
from .derive_names import (
    apply,
    children,
    move_isee_points,
    replace_names,
    stale_names,
    without_note,
)
from .labels import ISEE_KIND_NAMES
from .notice_file import Problem, check_notice
from .schema import IseeRule, Notice
from .yaml_guard import load

WHO = {"any": "", "adult": " (adulti)", "minor": " (minori)"}


@dataclass(frozen=True)
class Ceiling:
    """One ISEE ceiling of the notice, where it is in the file."""

    key: str  # "common_requirements.2.limits.0"
    label: str  # "ISEE sociosanitario o ordinario (minori)"
    max: float


@dataclass(frozen=True)
class AmountOf:
    """The amount of one measure."""

    measure: str
    name: str
    max: float | None
    text: str


@dataclass
class Changes:
    """What the form asks: the new notice's values (prefilled from the existing one)."""

    id: str
    title: str
    year: str
    document_title: str = ""
    document_date: dt.date | None = None
    document_address: str = ""
    opens: dt.date | dt.datetime | None = None
    closes: dt.date | dt.datetime | None = None
    window_text: str = ""  # empty: written from the dates
    comuni: list[str] = field(default_factory=list)
    channel: str = "unknown"
    address: str = ""
    submission_text: str = ""
    ambito: str = ""  # empty: the existing notice's
    addressee: str = ""  # whom the applications are addressed to, as the form prints it
    # the other ways to apply (the protocol office...): address, addressee, text
    alternatives: list[dict[str, str]] = field(default_factory=list)
    ceilings: dict[str, float] = field(default_factory=dict)  # Ceiling.key -> max
    amounts: dict[str, tuple[float | None, str]] = field(default_factory=dict)


@dataclass
class Derived:
    text: str
    cases_text: str | None
    notes: list[Problem]  # to look at before publishing, with line and field
    cases_kept: list[str] = field(default_factory=list)
    cases_dropped: list[str] = field(default_factory=list)
    cases_moved: list[str] = field(default_factory=list)  # kept, with dates moved: which


def ceilings_of(notice: Notice) -> list[Ceiling]:
    out = []
    places = [("common_requirements", i, r) for i, r in enumerate(notice.common_requirements)]
    for j, m in enumerate(notice.measures):
        places += [(f"measures.{j}.requirements", i, r) for i, r in enumerate(m.requirements)]
    for where, i, rule in places:
        if not isinstance(rule, IseeRule):
            continue
        measure = "" if "." not in where else f": {notice.measures[int(where.split('.')[1])].name}"
        for k, limit in enumerate(rule.limits):
            kinds = " o ".join(ISEE_KIND_NAMES.get(kind, kind) for kind in limit.kinds)
            label = f"ISEE {kinds}{WHO[limit.who]}{measure}"
            out.append(Ceiling(f"{where}.{i}.limits.{k}", label, limit.max))
    return out


def amounts_of(notice: Notice) -> list[AmountOf]:
    return [
        AmountOf(m.id, m.name, m.amount.max, m.amount.text)
        for m in notice.measures
        if m.amount is not None
    ]


def current(notice: Notice) -> Changes:
    """The form's first values: the existing notice's, the document left empty (a new
    year's notice is a new document) and the id's year moved on by one."""
    window = notice.window
    return Changes(
        id=re.sub(r"(20\d\d)$", lambda m: str(int(m.group(1)) + 1), notice.id),
        title=notice.title,
        year=notice.year,
        opens=window.opens,
        closes=window.closes,
        comuni=[m.name for m in notice.municipalities],
        channel=notice.submission.channel,
        address=notice.submission.address or "",
        submission_text=notice.submission.text,
        ambito=notice.ambito,
        addressee=notice.submission.addressee or "",
        alternatives=[
            {"address": a.address or "", "addressee": a.addressee or "", "text": a.text}
            for a in notice.submission.alternatives
        ],
        ceilings={c.key: c.max for c in ceilings_of(notice)},
        amounts={a.measure: (a.max, a.text) for a in amounts_of(notice)},
    )


# -- writing the new file --------------------------------------------------------------


def _yaml() -> YAML:
    y = YAML()  # round trip: comments, order, quotes and block styles kept
    y.preserve_quotes = True
    y.width = 4096  # long sentences stay on their line, as written
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _dump(doc: Any) -> str:
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _moment(value: dt.date | dt.datetime) -> Any:
    if isinstance(value, dt.datetime):
        stamp = TimeStamp(value.year, value.month, value.day, value.hour, value.minute)
        stamp._yaml["t"] = True  # 2027-04-15T12:00:00, as the notices write it
        return stamp
    return value


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _text(mapping: CommentedMap, key: str, new: str) -> None:
    """A sentence replaced only when it changed (a folded block stays as it was)."""
    if new and not _same(new, str(mapping.get(key, ""))):
        mapping[key] = new


def _put(mapping: CommentedMap, key: str, value: Any, after: str | None = None) -> None:
    """Set `key` (where it is; else after `after`, else at the end); None removes it."""
    if value is None or value == "":
        mapping.pop(key, None)
    elif key in mapping:
        mapping[key] = value
    elif after is not None and after in mapping:
        mapping.insert(list(mapping).index(after) + 1, key, value)
    else:
        mapping[key] = value


def _at(doc: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def window_sentence(
    opens: dt.date | dt.datetime | None, closes: dt.date | dt.datetime | None
) -> str:
    def day(d: dt.date | dt.datetime) -> str:
        return d.strftime("%d/%m/%Y")

    def end(d: dt.date | dt.datetime) -> str:
        if isinstance(d, dt.datetime):
            return f"alle ore {d:%H:%M} del {day(d)}"
        return f"al {day(d)}"

    if opens and closes:
        start = f"dal {day(opens)}" + (
            f" alle ore {opens:%H:%M}" if isinstance(opens, dt.datetime) else ""
        )
        return f"Domande {start} {end(closes)}."
    if closes:
        return f"Domande fino {end(closes)}."
    if opens:
        return f"Domande dal {day(opens)}."
    return "L'avviso non indica le date."


def derive(
    original_text: str,
    original: Notice,
    changes: Changes,
    catalogue: Catalogue,
    original_cases: str | None = None,
) -> Derived:
    """The new notice's file (and cases), and what to look at in it."""
    doc = _yaml().load(original_text)
    doc.ca.comment = None  # the original's heading describes the original
    doc.yaml_set_start_comment(
        f"{changes.title}\n"
        f"Avviso derivato da «{original.id}» (modulo «Nuovo avviso da uno esistente»).\n"
        "Prima di pubblicarlo rileggete ogni frase con l'avviso nuovo davanti: date,\n"
        "importi, articoli citati (source) e documenti vengono dall'avviso di prima."
    )
    doc["id"] = changes.id
    doc["title"] = changes.title
    doc["year"] = changes.year
    document = CommentedMap()
    document["title"] = changes.document_title
    if changes.document_date is not None:
        document["date"] = changes.document_date
    document["address"] = changes.document_address
    doc.pop("source", None)  # the seed file of a bundled notice: the new one has its own
    _put(doc, "document", document, after="programme")

    window = doc["window"]
    if (changes.opens, changes.closes) != (original.window.opens, original.window.closes):
        window.ca.comment = None  # what the comments said of the old dates
        window.ca.items.clear()
        doc.ca.items.pop("window", None)
    _put(window, "opens", _moment(changes.opens) if changes.opens else None)
    if changes.opens and "opens" in window and list(window).index("opens") != 0:
        window.move_to_end("opens", last=False)
    _put(window, "closes", _moment(changes.closes) if changes.closes else None, after="opens")
    window["text"] = changes.window_text or window_sentence(changes.opens, changes.closes)
    window.pop("reading", None)  # our reading of the old dates; the new ones are typed

    kept = {m["name"]: m for m in doc["municipalities"]}
    comuni = CommentedSeq(
        kept.get(name) or CommentedMap([("name", name)]) for name in changes.comuni
    )
    doc["municipalities"] = comuni

    submission = doc["submission"]
    submission["channel"] = changes.channel
    _put(submission, "address", changes.address or None, after="channel")
    _text(submission, "text", changes.submission_text)

    ambito = changes.ambito or original.ambito
    _put(doc, "ambito", ambito)
    apply(submission, "addressee", changes.addressee, _put)
    others = submission.get("alternatives") or []
    for i, typed in reversed(list(enumerate(changes.alternatives[: len(others)]))):
        if not any(typed.values()):
            del others[i]  # emptied in the form: that way of applying is gone
            continue
        for key in ("address", "addressee", "text"):
            apply(others[i], key, typed.get(key, ""), _put)
    if "alternatives" in submission and not others:
        del submission["alternatives"]
    pairs = [(original.submission.addressee or "", changes.addressee)]
    if ambito != original.ambito:
        pairs += [(original.ambito, ambito), (without_note(original.ambito), without_note(ambito))]
    replace_names(doc, pairs, skip={"ambito", "submission.addressee"})

    old_top = _tops(doc, original)
    for key, value in changes.ceilings.items():
        _at(doc, key)["max"] = _number(value)
    moved = move_isee_points(doc, old_top, _tops(doc, original))

    stale = stale_names(doc, original, ambito, changes.comuni, skip=set())
    doc.pop("before_publishing", None)
    if stale:
        doc["before_publishing"] = CommentedSeq(f"{where}: {what}" for where, what in stale)
        doc.yaml_set_comment_before_after_key(
            "before_publishing",
            before=(
                "Scritto da «Nuovo avviso da uno esistente»: il controllo rifiuta il file\n"
                "finché c'è. Correggete ogni frase indicata, poi togliete il campo."
            ),
        )
    for measure in doc["measures"]:
        if measure["id"] in changes.amounts and measure.get("amount") is not None:
            top, text = changes.amounts[measure["id"]]
            _put(measure["amount"], "max", None if top is None else _number(top), after="min")
            _text(measure["amount"], "text", text)

    text = _dump(doc)
    notes = _to_look_at(text, original, changes)
    notes += [Problem(_line_of(text, "ranking"), "ranking.components.isee", m) for m in moved]
    derived = Derived(text, None, notes)
    if original_cases is not None:
        _derive_cases(derived, original_cases, original, changes, catalogue)
    return derived


def _tops(doc: Any, original: Notice) -> dict[str, float]:
    """The highest ISEE ceiling for adults and for minors, as the document says now."""
    top: dict[str, float] = {}
    for c in ceilings_of(original):
        limit = _at(doc, c.key)
        who = limit.get("who", "any")
        for group in ("adult", "minor") if who == "any" else (who,):
            top[group] = max(top.get(group, 0.0), float(limit["max"]))
    return top


def _line_of(text: str, key: str) -> int | None:
    m = re.search(rf"^{re.escape(key)}:", text, re.MULTILINE)
    return text.count("\n", 0, m.start()) + 1 if m else None


# -- what is left of the old notice ------------------------------------------------------


def _scalars(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any, int]]:
    """Every scalar of a composed document (libyaml: fast): (path, value, line), a date
    as a date."""
    if isinstance(node, yaml.MappingNode):
        for key, child in node.value:
            yield from _scalars(child, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            yield from _scalars(child, (*path, i))
    elif isinstance(node, yaml.ScalarNode):
        value: Any = node.value
        if node.tag == "tag:yaml.org,2002:timestamp":
            try:
                value = dt.datetime.fromisoformat(value.replace(" ", "T"))
                value = value.date() if len(node.value) == 10 else value
            except ValueError:
                pass
        elif node.tag != "tag:yaml.org,2002:str":
            return
        yield path, value, node.start_mark.line + 1


def _years(*moments: dt.date | dt.datetime | None) -> set[str]:
    return {str(m.year) for m in moments if m is not None}


# The fields the form asks: what the operator typed there is not "left over".
_TYPED = {"id", "title", "year", "ambito", "programme", "submission.text", "submission.address"}
_TYPED_UNDER = ("document.", "window.", "submission.addressee", "submission.alternatives.")


def _typed(where: str) -> bool:
    return (
        where in _TYPED
        or where.startswith((*_TYPED_UNDER, "before_publishing"))
        or re.fullmatch(r"measures\.\d+\.amount\.text", where) is not None
    )


_DATE_BEFORE = re.compile(r"(?:\b\d{1,2}/\d{1,2}/|\b(?:0?[1-9]|1[0-2])/)$")


def _old_year_in(value: str, years: set[str]) -> str | None:
    """The first of `years` the sentence names as a year: "nel 2024", "FNA 2025",
    "20/06/2025"; not a law's number ("DGR 3719/2024", "D.lgs 29/2024")."""
    for m in re.finditer(r"(?<!\d)(20\d\d)(?!\d)", value):
        if m.group(1) not in years:
            continue
        before = value[: m.start()]
        if before.endswith("/") and not _DATE_BEFORE.search(before):
            continue  # number/year of an act
        return m.group(1)
    return None


def _forms(value: float) -> set[str]:
    """How an amount is written in a sentence: 25000, 25.000, 25.000,00."""
    whole = int(value)
    dotted = f"{whole:,}".replace(",", ".")
    return {str(whole), dotted} if whole >= 1000 else {str(whole)}


def _to_look_at(text: str, original: Notice, changes: Changes) -> list[Problem]:
    notes: list[Problem] = []
    was = _years(original.window.opens, original.window.closes)
    was |= {str(int(y) - 1) for y in was}  # "chi aveva il buono nel 2024", a year before
    old_years = was - _years(changes.opens, changes.closes, changes.document_date)
    old_numbers: set[str] = set()
    for c in ceilings_of(original):
        if changes.ceilings.get(c.key, c.max) != c.max:
            old_numbers |= _forms(c.max)
    for a in amounts_of(original):
        new_max = changes.amounts.get(a.measure, (a.max, ""))[0]
        if a.max is not None and new_max != a.max:
            old_numbers |= _forms(a.max)
    first = (
        min(
            (m if isinstance(m, dt.date) and not isinstance(m, dt.datetime) else m.date())
            for m in (changes.opens, changes.closes)
            if m is not None
        )
        if (changes.opens or changes.closes)
        else None
    )
    root, _data = load(text)
    for path, value, line in _scalars(root):
        where = ".".join(str(p) for p in path)
        if _typed(where):
            continue
        if isinstance(value, dt.date) and first is not None:
            day = value.date() if isinstance(value, dt.datetime) else value
            if day < first:
                notes.append(
                    Problem(
                        line,
                        where,
                        f"la data {day:%d/%m/%Y} viene prima del nuovo avviso: è di quello di prima?",
                    )
                )
        if not isinstance(value, str):
            continue
        year = _old_year_in(value, old_years)
        if year is not None:
            notes.append(
                Problem(
                    line,
                    where,
                    f"dice ancora «{year}»: correggete la frase se è dell'avviso di prima",
                )
            )
        for number in sorted(old_numbers, key=len, reverse=True):
            if re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", value):
                notes.append(
                    Problem(
                        line,
                        where,
                        f"dice ancora «{number}», l'importo di prima: correggete la frase",
                    )
                )
                break
    if original.window.reading:
        notes.append(
            Problem(
                None,
                "window.reading",
                "tolta: spiegava come avevamo letto le date dell'avviso di prima",
            )
        )
    if original.submission.alternatives or any(m.submission for m in original.municipalities):
        notes.append(
            Problem(
                None,
                "submission",
                "l'avviso di prima ha altri canali (alternatives, o per Comune): controllateli",
            )
        )
    notes.append(
        Problem(
            None,
            "source",
            "gli articoli citati sono quelli dell'avviso di prima: controllate che il nuovo li numeri allo stesso modo",
        )
    )
    return notes


# -- the cases ------------------------------------------------------------------------------

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$")


def _shift(value: Any, days: int) -> Any:
    """A date (a date object, or a string written as one) moved by `days`."""
    delta = dt.timedelta(days=days)
    if isinstance(value, dt.datetime):
        return _moment(value + delta)
    if isinstance(value, dt.date):
        return value + delta
    if isinstance(value, str) and _ISO.match(value):
        moved = (dt.datetime.fromisoformat(value) + delta).isoformat()
        return type(value)(moved if "T" in value else moved[:10])  # its quotes kept
    return value


def _shift_all(node: Any, days: int) -> None:
    for key, value in children(node):
        if isinstance(value, dict | list):
            _shift_all(value, days)
        else:
            node[key] = _shift(value, days)


_DAY = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)")


class DateMover:
    """A case's dates moved to the new notice: the old opening and closing become the new
    ones, any other date moves by as many days as the opening moved; each move said as
    «20/06/2025 → 15/01/2027»."""

    def __init__(self, original: Notice, changes: Changes, days: int) -> None:
        self.days = dt.timedelta(days=days)
        self.exact: dict[Any, Any] = {}
        for old, new in (
            (original.window.opens, changes.opens),
            (original.window.closes, changes.closes),
        ):
            if old is not None and new is not None:
                self.exact[old] = new
                self.exact[_start(old)] = _start(new)

    def _moment(self, value: dt.date | dt.datetime) -> dt.date | dt.datetime:
        if value in self.exact:
            new = self.exact[value]
            if isinstance(value, dt.datetime) and not isinstance(new, dt.datetime):
                return dt.datetime.combine(new, value.time())
            return new if isinstance(value, dt.datetime) else _start(new) or new
        return value + self.days

    def value(self, value: Any, said: list[str]) -> Any:
        if isinstance(value, dt.datetime | dt.date):
            new = self._moment(value)
            said.append(f"{_italian_day(value)} → {_italian_day(new)}")
            return _moment(new) if isinstance(new, dt.datetime) else new
        if not isinstance(value, str):
            return value
        if _ISO.match(value):
            old = dt.datetime.fromisoformat(value)
            moment = old.date() if "T" not in value else old
            new = self._moment(moment)
            said.append(f"{_italian_day(moment)} → {_italian_day(new)}")
            text = new.isoformat() if isinstance(new, dt.datetime) else new.isoformat()[:10]
            if "T" in value and not isinstance(new, dt.datetime):
                text = dt.datetime.combine(new, old.time()).isoformat()
            return type(value)(text)

        def day(m: re.Match[str]) -> str:
            try:
                old = dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            except ValueError:
                return m.group(0)
            new = _start(self._moment(old)) or old
            said.append(f"{old:%d/%m/%Y} → {new:%d/%m/%Y}")
            return f"{new:%d/%m/%Y}"

        text = _DAY.sub(day, value)
        return value if text == value else type(value)(text)

    def move_all(self, node: Any, said: list[str]) -> None:
        items = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else []
        )
        for key, value in list(items):
            if isinstance(value, dict | list):
                self.move_all(value, said)
            else:
                node[key] = self.value(value, said)


def _italian_day(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        return f"{value:%d/%m/%Y %H:%M}"
    return f"{value:%d/%m/%Y}"


def _short(message: str, limit: int = 240) -> str:
    return message if len(message) <= limit else message[: limit - 1].rstrip() + "…"


def _start(m: dt.date | dt.datetime | None) -> dt.date | None:
    return m.date() if isinstance(m, dt.datetime) else m


def _derive_cases(
    derived: Derived, original_cases: str, original: Notice, changes: Changes, catalogue: Catalogue
) -> None:
    y = _yaml()
    try:
        cases = y.load(original_cases)
    except Exception:  # the original's cases are read, not trusted
        cases = None
    if not isinstance(cases, dict) or not isinstance(cases.get("cases"), list):
        return
    old = _start(original.window.opens) or _start(original.window.closes)
    new = _start(changes.opens) or _start(changes.closes)
    days = (new - old).days if old and new else 0
    cases["notice"] = changes.id
    base = cases.get("base")
    if isinstance(base, dict):
        if base.get("municipality") not in changes.comuni and changes.comuni:
            base["municipality"] = changes.comuni[0]
        _shift_all(base, days)
    names = [
        str(c.get("name", i + 1)) if isinstance(c, dict) else str(i + 1)
        for i, c in enumerate(cases["cases"])
    ]
    mover = DateMover(original, changes, days)
    moved: list[list[str]] = []
    for case in cases["cases"]:
        said: list[str] = []
        if isinstance(case, dict):
            for key in ("facts", "expect"):  # the expected texts too: "entro il 20/06/2025"
                if isinstance(case.get(key), dict):
                    mover.move_all(case[key], said)
        moved.append(list(dict.fromkeys(said)))
    report = check_notice(derived.text, catalogue, _dump(cases))
    failing: dict[int, str] = {}  # each case is tried alone: dropping one changes no other
    for p in report.problems:
        m = re.match(r"cases\.(\d+)", p.field)
        if p.file == "casi" and m:
            failing.setdefault(int(m.group(1)), p.message)
        elif p.file == "casi":
            return  # the file as a whole no longer fits: the operator writes new cases
    derived.cases_dropped = [
        _short(failing[i]) + (f" (date spostate: {', '.join(moved[i])})" if moved[i] else "")
        for i in sorted(failing)
    ]
    for i in sorted(failing, reverse=True):
        names.pop(i)
        moved.pop(i)
        del cases["cases"][i]
    derived.cases_moved = [f"«{n}»: {', '.join(m)}" for n, m in zip(names, moved, strict=True) if m]
    if not cases["cases"]:
        return
    cases.ca.comment = None
    cases.yaml_set_start_comment(
        f"Casi ripresi da «{original.id}»: le date spostate di {days} giorni, come l'apertura.\n"
        "Sono rimasti solo i casi che valgono anche per il nuovo avviso. Aggiungete casi\n"
        "per quello che è cambiato (limiti ISEE, importi, Comuni, date)."
    )
    derived.cases_text = _dump(cases)
    derived.cases_kept = names
