"""Protocol numbers, checked before they are kept: the number on one line, the date as
people type it (16/06/2025, 16062025, 16 06 2025, 16/6/25; today when left empty), only
for a dossier that reached the comune, with a warning when another dossier has the same
number. Several at once from the protocol register, one "pratica;numero;data" a line."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from dialogs.parsing import AnswerError, parse_date
from storage import worklist

from .deps import Services
from .labels import PASTE_MAX_LINES, PROTOCOL_MAX, REACHED, STATUS_LABELS


@dataclass
class Entry:
    """One protocol number to record, with what is wrong with it."""

    dossier_id: str
    number: str
    typed_date: str
    day: dt.date | None = None
    errors: dict[str, str] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)  # other dossiers with this number
    line: int = 0
    dossier: dict[str, Any] | None = None


def read_day(typed: str, today: dt.date) -> tuple[dt.date | None, str | None]:
    """(the date, None) or (None, what is wrong), for a date of this century."""
    try:
        day = parse_date(typed.strip(), today)
    except AnswerError:
        return None, "Questa data non è valida: scrivetela come 16/06/2025."
    if day.year < 2000:
        return None, "Questa data non è valida: scrivetela come 16/06/2025."
    return day, None


def read_date(typed: str, today: dt.date) -> tuple[dt.date | None, str | None]:
    """(the date, None) or (None, what is wrong), for a protocol date (today if empty)."""
    if not typed.strip():
        return today, None
    day, problem = read_day(typed, today)
    if day is None:
        return None, problem
    if day > today:
        return None, "La data di protocollo non può essere nel futuro."
    return day, None


def check_entry(
    svc: Services,
    entry: Entry,
    dossier: dict[str, Any],
    today: dt.date,
    comuni: tuple[str, ...],
) -> Entry:
    """Check one protocol entry; numbers already used are looked for among the dossiers
    of `comuni` (the staff member's) only: another comune's dossiers are not hers to
    know about."""
    entry.dossier = dossier
    number = entry.number.strip()
    entry.number = number
    if dossier["status"] not in REACHED:
        entry.errors["dossier"] = (
            "Questa domanda non è arrivata al Comune "
            f"(stato: {STATUS_LABELS.get(dossier['status'], dossier['status'])}): "
            "non può avere un numero di protocollo."
        )
    if not number:
        entry.errors["protocol_number"] = "Scrivete il numero di protocollo."
    elif len(number) > PROTOCOL_MAX or any(ord(c) < 32 for c in number):
        entry.errors["protocol_number"] = (
            f"Il numero di protocollo ha al massimo {PROTOCOL_MAX} caratteri, su una riga."
        )
    entry.day, problem = read_date(entry.typed_date, today)
    if problem:
        entry.errors["protocol_date"] = problem
    if number and not entry.errors.get("protocol_number"):
        entry.duplicates = worklist.with_protocol_number(
            svc.db, number, other_than=dossier["id"], comuni=comuni
        )
    return entry


def duplicate_warning(entry: Entry) -> str:
    others = ", ".join(entry.duplicates)
    return (
        f"Il numero {entry.number} è già registrato per la pratica {others}. Controllate: "
        "se è giusto così, confermate."
    )


_LINE = re.compile(r"\s*[;\t]\s*")


def parse_paste(text: str) -> tuple[list[Entry], list[str]]:
    """The lines of a paste as entries (dossier code, number, date), and the lines that
    are not in the form "pratica;numero;data" (with their number)."""
    entries: list[Entry] = []
    bad: list[str] = []
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > PASTE_MAX_LINES:
        bad.append(
            f"Al massimo {PASTE_MAX_LINES} righe alla volta (ne avete incollate {len(lines)})."
        )
        return [], bad
    for n, line in enumerate(lines, start=1):
        parts = _LINE.split(line.strip())
        if parts and parts[0].casefold() in ("pratica", "codice"):
            continue  # a header row copied with the register
        if len(parts) not in (2, 3) or not parts[0]:
            bad.append(f"Riga {n}: scrivetela come «B2-7K3M9Q;2025/0012345;16/06/2025».")
            continue
        entries.append(
            Entry(
                dossier_id=parts[0].strip().upper(),
                number=parts[1],
                typed_date=parts[2] if len(parts) == 3 else "",
                line=n,
            )
        )
    return entries, bad
