"""What the "Avvisi" pages of the administrators show and read: every notice with its
status and window, a file under review (its problems and the notice as a family reads
it), and the form of "Nuovo avviso da uno esistente".

The checks are the ones `sportello notice check` and `publish` run
(`dialogs.live_catalogue.check_for_publication`, `eligibility.notice_file`); the new
file is written by `eligibility.notice_derive`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from dialogs.live_catalogue import check_for_publication, full_catalogue
from eligibility import CatalogueError, load_catalogue
from eligibility.catalogue import DATA_DIR
from eligibility.labels import CHANNEL_NAMES, STATUS_NAMES
from eligibility.notice_derive import Changes, amounts_of, ceilings_of, current
from eligibility.notice_file import (
    NOTICE_ID,
    Problem,
    Report,
    parse_notice,
    readable,
)
from eligibility.schema import Guidance, Notice
from eligibility.window import status
from eligibility.yaml_guard import MAX_BYTES
from storage import notices as published

from .deps import Services
from .protocol import read_day
from .views import today

ALT_FIELDS = ("address", "addressee", "text")
CHANNELS = ["pec", "email", "online_platform", "office", "unknown"]
TEXT_MAX = 2000


# -- the list --------------------------------------------------------------------------


@dataclass
class Row:
    id: str
    title: str
    ambito: str
    state: str  # aperto, chiuso, non ancora aperto, date non indicate, guida, ritirato
    state_key: str
    window: str  # "dal 15/03/2027 al 15/04/2027 ore 12:00"
    comuni: list[str]
    origin: str  # "incluso" or "pubblicato"
    version: published.Published | None = None
    derivable: bool = False


def _bundled_ids() -> set[str]:
    base = load_catalogue()
    return {e.id for e in [*base.notices, *base.guidance]}


def rows(svc: Services) -> list[Row]:
    """Bundled and published notices with their status today; withdrawn ones last."""
    day = today(svc)
    bundled = _bundled_ids()
    in_force = published.in_force(svc.db)
    out = []
    catalogue = full_catalogue(svc.db, load_catalogue())
    for entry in [*catalogue.notices, *catalogue.guidance]:
        out.append(_row(entry, day, in_force.get(entry.id) if entry.id not in bundled else None))
    for p in published.latest(svc.db):
        if p.in_force:
            continue
        try:
            entry = parse_notice(p.text, p.notice_id)
        except CatalogueError:
            continue
        row = _row(entry, day, p)
        row.state, row.state_key = "ritirato", "withdrawn"
        out.append(row)
    return out


def _row(entry: Notice | Guidance, day: dt.date, p: published.Published | None) -> Row:
    if isinstance(entry, Guidance):
        state_key, opens, closes, funds = "guidance", None, None, False
        state = "guida (nessun bando)"
    else:
        state_key = status(entry.window, day)
        state = STATUS_NAMES[state_key]
        opens, closes = entry.window.opens, entry.window.closes
        funds = entry.window.until_funds_run_out
    return Row(
        id=entry.id,
        title=entry.title,
        ambito=getattr(entry, "ambito", None) or getattr(entry, "issuer", ""),
        state=state,
        state_key=state_key,
        window=window_words(opens, closes, funds),
        comuni=[m.name for m in entry.municipalities],
        origin="incluso" if p is None else "pubblicato",
        version=p,
        derivable=isinstance(entry, Notice),
    )


def _when(moment: Any) -> str:
    text = moment.strftime("%d/%m/%Y")
    return text + (f" ore {moment:%H:%M}" if isinstance(moment, dt.datetime) else "")


def window_words(opens: Any, closes: Any, funds: bool = False) -> str:
    parts = []
    if opens:
        parts.append(f"dal {_when(opens)}")
    if closes:
        parts.append(f"al {_when(closes)}")
    elif funds:
        parts.append("fino a esaurimento dei fondi")
    return " ".join(parts) or "non indicate"


def source_text(svc: Services, notice_id: str) -> tuple[str, str | None] | None:
    """The file (and cases) of a notice: a bundled one's from the package, a published
    one's newest version (withdrawn too) from the database."""
    if not NOTICE_ID.match(notice_id):
        return None
    if notice_id in _bundled_ids():
        path = DATA_DIR / "notices" / f"{notice_id}.yaml"
        cases = path.with_name(f"{notice_id}.cases.yaml")
        if not path.exists():
            return None
        return path.read_text("utf-8"), cases.read_text("utf-8") if cases.exists() else None
    versions = published.history(svc.db, notice_id)
    if not versions:
        return None
    return versions[-1].text, versions[-1].cases_text


# -- a file under review ----------------------------------------------------------------


@dataclass
class Review:
    draft: published.Draft
    report: Report
    preview: str | None
    notes: list[Problem]
    publishable: bool
    replaces: published.Published | None  # the version in force with the same id


async def review(svc: Services, draft: published.Draft) -> Review:
    """The draft checked as `publish` checks it; the check (the cases run through the
    engine) in a worker thread, the event loop free for the bot and the other pages."""
    catalogue = full_catalogue(svc.db, load_catalogue())  # the database in the loop's thread
    report = await run_in_threadpool(
        check_for_publication, None, draft.text, draft.cases_text, catalogue=catalogue
    )
    preview = None
    if report.notice is not None:
        preview = readable(report.notice, today(svc), load_catalogue())
    notes = [
        Problem(n.get("line"), n.get("field", ""), n.get("message", ""))
        for n in draft.origin.get("notes", [])
    ]
    replaces = None
    if report.notice is not None:
        replaces = published.in_force(svc.db).get(report.notice.id)
    return Review(draft, report, preview, notes, report.publishable, replaces)


def where(problem: Problem, draft: published.Draft) -> str:
    """«avviso.yaml, riga 29», as `sportello notice check` says it."""
    name = cases_name(draft.name) if problem.file == "casi" else draft.name
    return f"{name}, riga {problem.line}" if problem.line else name


def cases_name(name: str) -> str:
    return name.removesuffix(".yaml").removesuffix(".yml") + ".cases.yaml"


async def read_upload(value: Any, what: str) -> tuple[str | None, str | None]:
    """(the text, None) or (None, what is wrong), for an uploaded notice or cases file."""
    if not isinstance(value, UploadFile) or not value.filename:
        return None, None
    data = await value.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return None, f"{what} è troppo grande: un avviso sta in {MAX_BYTES // 1024} KB."
    if not data.strip():
        return None, f"{what} è vuoto."
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, (
            f"{what} non è un testo UTF-8 (forse è un PDF o un documento Word): salvate "
            "l'avviso come testo .yaml, in UTF-8, e riprovate."
        )
    if "\x00" in text:
        return None, f"{what} non è un testo: scegliete il file .yaml dell'avviso."
    return text.replace("\r\n", "\n"), None


def file_name(value: Any) -> str:
    """A safe name for the file, from the one uploaded."""
    raw = getattr(value, "filename", "") or "avviso.yaml"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", raw.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    stem = stem.strip(".-")[:80] or "avviso.yaml"
    return stem if stem.endswith((".yaml", ".yml")) else stem + ".yaml"


# -- "Nuovo avviso da uno esistente" ----------------------------------------------------


@dataclass
class DeriveForm:
    """The form's values as typed (strings), and what is wrong with them."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    ceilings: list[tuple[str, str]] = field(default_factory=list)  # (key, label)
    amounts: list[tuple[str, str]] = field(default_factory=list)  # (measure, name)
    alternatives: list[tuple[int, str]] = field(default_factory=list)  # (index, channel)
    restored: bool = False  # what was typed before the session ended, given back


def _day(d: Any) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


def _time(d: Any) -> str:
    return d.strftime("%H:%M") if isinstance(d, dt.datetime) else ""


def _euro(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".").removesuffix(",00")


def prefill(notice: Notice) -> DeriveForm:
    c = current(notice)
    values = {
        "id": c.id,
        "title": c.title,
        "year": c.year,
        "ambito": c.ambito,
        "document_title": "",
        "document_date": "",
        "document_address": "",
        "opens_day": _day(c.opens),
        "opens_time": _time(c.opens),
        "closes_day": _day(c.closes),
        "closes_time": _time(c.closes),
        "window_text": "",
        "comuni": "\n".join(c.comuni),
        "channel": c.channel,
        "address": c.address,
        "addressee": c.addressee,
        "submission_text": c.submission_text,
    }
    for i, alt in enumerate(c.alternatives):
        for key in ALT_FIELDS:
            values[f"alt_{key}:{i}"] = alt[key]
    form = DeriveForm(
        values,
        alternatives=[
            (i, CHANNEL_NAMES.get(a.channel, a.channel))
            for i, a in enumerate(notice.submission.alternatives)
        ],
    )
    for ceiling in ceilings_of(notice):
        values[f"isee:{ceiling.key}"] = _euro(ceiling.max)
        form.ceilings.append((ceiling.key, ceiling.label))
    for amount in amounts_of(notice):
        values[f"amount:{amount.measure}"] = _euro(amount.max)
        values[f"amount_text:{amount.measure}"] = amount.text
        form.amounts.append((amount.measure, amount.name))
    return form


def _money(typed: str) -> float | None:
    cleaned = typed.replace("€", "").replace(" ", "").strip()
    if not cleaned:
        return None
    if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d{1,2})?", cleaned) or "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return -1.0
    return value


def _moment(
    day_text: str, time_text: str, today_: dt.date, what: str, errors: dict[str, str], key: str
) -> Any:
    if not day_text.strip():
        if time_text.strip():
            errors[f"{key}_day"] = f"Scrivete anche il giorno di {what}."
        return None
    day, problem = read_day(day_text, today_)
    if day is None:
        errors[f"{key}_day"] = problem or "Data non valida."
        return None
    if not time_text.strip():
        return day
    m = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})\s*", time_text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        errors[f"{key}_time"] = "Scrivete l'ora come 12:00, oppure lasciatela vuota."
        return None
    return dt.datetime.combine(day, dt.time(int(m.group(1)), int(m.group(2))))


def read_form(notice: Notice, form: FormData, today_: dt.date) -> tuple[DeriveForm, Changes | None]:
    """The form as typed, checked; the changes when everything can be read."""
    shown = prefill(notice)
    values = {k: (str(form.get(k) or "").strip()[:TEXT_MAX]) for k in shown.values}
    result = DeriveForm(
        values, ceilings=shown.ceilings, amounts=shown.amounts, alternatives=shown.alternatives
    )
    errors = result.errors
    if not NOTICE_ID.match(values["id"]):
        errors["id"] = "Usate lettere minuscole, cifre e trattini, come ambito-melzo-2026."
    elif values["id"] == notice.id:
        errors["id"] = (
            "È l'id dell'avviso di partenza: il nuovo ne vuole uno suo, come quello proposto."
        )
    for key, what in (
        ("title", "il titolo"),
        ("year", "l'anno"),
        ("ambito", "il nome dell'Ambito"),
        ("document_title", "il titolo del documento"),
        ("document_address", "l'indirizzo dove è pubblicato"),
    ):
        if not values[key]:
            errors[key] = f"Scrivete {what}."
    doc_date = None
    if not values["document_date"]:
        errors["document_date"] = "Scrivete la data del documento, come 01/03/2026."
    else:
        doc_date, problem = read_day(values["document_date"], today_)
        if problem:
            errors["document_date"] = problem
    opens = _moment(values["opens_day"], values["opens_time"], today_, "apertura", errors, "opens")
    closes = _moment(
        values["closes_day"], values["closes_time"], today_, "chiusura", errors, "closes"
    )
    if opens and closes and _start(opens) > _start(closes, end=True):
        errors["closes_day"] = "La chiusura viene prima dell'apertura."
    comuni = [c.strip() for c in re.split(r"[\n;]+", values["comuni"]) if c.strip()]
    if not comuni:
        errors["comuni"] = "Scrivete almeno un Comune, uno per riga."
    if values["channel"] not in CHANNELS:
        errors["channel"] = "Scegliete come si fa domanda."
    ceilings: dict[str, float] = {}
    for key, label in result.ceilings:
        typed = str(form.get(f"isee:{key}") or "").strip()[:40]
        values[f"isee:{key}"] = typed
        value = _money(typed)
        if value is None or value <= 0:
            errors[f"isee:{key}"] = f"Scrivete il limite per {label}, in euro, come 25.000."
        else:
            ceilings[key] = value
    amounts: dict[str, tuple[float | None, str]] = {}
    for measure, name in result.amounts:
        typed = str(form.get(f"amount:{measure}") or "").strip()[:40]
        text = str(form.get(f"amount_text:{measure}") or "").strip()[:TEXT_MAX]
        values[f"amount:{measure}"], values[f"amount_text:{measure}"] = typed, text
        value = _money(typed)
        if value is not None and value < 0:
            errors[f"amount:{measure}"] = (
                f"Scrivete l'importo massimo di «{name}» in euro, come 600, o lasciatelo vuoto."
            )
        if not text:
            errors[f"amount_text:{measure}"] = f"Scrivete come l'avviso dice l'importo di «{name}»."
        amounts[measure] = (value, text)
    for i, channel in result.alternatives:
        if values[f"alt_address:{i}"] and not values[f"alt_text:{i}"]:
            errors[f"alt_text:{i}"] = (
                f"Scrivete come l'avviso spiega «{channel}», o svuotate anche l'indirizzo "
                "e chi riceve la domanda per toglierlo."
            )
    if errors:
        return result, None
    return result, Changes(
        id=values["id"],
        title=values["title"],
        year=values["year"],
        document_title=values["document_title"],
        document_date=doc_date,
        document_address=values["document_address"],
        opens=opens,
        closes=closes,
        window_text=values["window_text"],
        comuni=comuni,
        channel=values["channel"],
        address=values["address"],
        submission_text=values["submission_text"],
        ambito=values["ambito"],
        addressee=values["addressee"],
        alternatives=[
            {key: values[f"alt_{key}:{i}"] for key in ALT_FIELDS} for i, _ in result.alternatives
        ],
        ceilings=ceilings,
        amounts=amounts,
    )


def _start(moment: Any, end: bool = False) -> dt.datetime:
    if isinstance(moment, dt.datetime):
        return moment
    return dt.datetime.combine(moment, dt.time.max if end else dt.time.min)


CHANNEL_CHOICES = [(c, CHANNEL_NAMES.get(c, c)) for c in CHANNELS]
