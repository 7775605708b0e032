"""`sportello notice check FILE`, `publish FILE`, `unpublish ID`: an Ambito's operator puts
a new notice in use without a release. Messages are in Italian, for the operator."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path
from typing import TextIO

from dialogs.live_catalogue import check_for_publication, publish_checked
from eligibility import load_catalogue
from eligibility.notice_file import Report, readable
from storage import audit
from storage import notices as published
from storage.db import open_db

EXIT_OK, EXIT_INVALID = 0, 2


def cases_beside(path: Path) -> Path:
    """`avviso.yaml` → `avviso.cases.yaml`, in the same folder."""
    return path.with_name(path.name.removesuffix(".yaml").removesuffix(".yml") + ".cases.yaml")


def _read(path: Path, err: TextIO) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        print(f"{path}: il file non c'è", file=err)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{path}: non si legge ({exc})", file=err)
    return None


def _check(path: Path, db_path: Path, err: TextIO) -> tuple[Report, str, str | None] | None:
    text = _read(path, err)
    if text is None:
        return None
    cases_path = cases_beside(path)
    cases = _read(cases_path, err) if cases_path.exists() else None
    db = open_db(db_path) if db_path.exists() else None
    return check_for_publication(db, text, cases), text, cases


def _print_problems(report: Report, path: Path, err: TextIO) -> None:
    cases = cases_beside(path).name
    for title, items in (("Problemi", report.problems), ("Da guardare", report.warnings)):
        if items:
            print(f"{title} ({len(items)}):", file=err)
            for p in items:
                name = cases if p.file == "casi" else path.name
                where = f"{name}, riga {p.line}" if p.line else name
                print(f"  {where}, {p.field or 'file'}: {p.message}", file=err)


def check_file(file: str, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The notice as a family would read it, then every problem; exit 0 if publishable."""
    path = Path(file)
    checked = _check(path, args.settings.db_path, err)
    if checked is None:
        return EXIT_INVALID
    report, _text, _cases = checked
    if report.notice is not None:
        print(readable(report.notice, args.today, load_catalogue()), file=out)
        print(file=out)
    _print_problems(report, path, err)
    if report.publishable:
        print(f"Si può pubblicare: sportello notice publish {file}", file=err)
        return EXIT_OK
    count = len(report.problems)
    what = "1 problema" if count == 1 else f"{count} problemi"
    print(f"Non si può pubblicare: {what} da correggere.", file=err)
    return EXIT_INVALID


def publish_file(file: str, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Check, then publish into the database: in use by the bot within 30 seconds."""
    path = Path(file)
    checked = _check(path, args.settings.db_path, err)
    if checked is None:
        return EXIT_INVALID
    report, text, cases = checked
    p = None
    if report.publishable:  # checked again against the database it goes into
        report, p = publish_checked(
            open_db(args.settings.db_path), text, cases, args.by or getpass.getuser()
        )
    _print_problems(report, path, err)  # the warnings too, when it is published
    if p is None:
        print("Non pubblicato: correggete i problemi e riprovate.", file=err)
        return EXIT_INVALID
    audit.log(
        open_db(args.settings.db_path),
        p.published_by,
        "publish_notice",
        detail={"notice": p.notice_id, "version": p.version, "file": path.name, "via": "cli"},
    )
    replaced = " (le versioni precedenti restano nello storico)" if p.version > 1 else ""
    print(
        f"Pubblicato: {p.notice_id}, versione {p.version}{replaced}, da {p.published_by} il "
        f"{p.published_at}, in {args.settings.db_path}. Il bot lo usa entro 30 secondi.",
        file=out,
    )
    return EXIT_OK


def unpublish(notice_id: str, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Withdraw a published notice: the bot stops using it within 30 seconds."""
    db = open_db(args.settings.db_path)
    p = published.unpublish(db, notice_id, args.by or getpass.getuser())
    if p is None:
        ids = ", ".join(published.in_force(db)) or "nessuno"
        print(f"{notice_id}: non è un avviso pubblicato in vigore (pubblicati: {ids})", file=err)
        return EXIT_INVALID
    audit.log(
        db,
        p.withdrawn_by,
        "unpublish_notice",
        detail={"notice": p.notice_id, "version": p.version, "via": "cli"},
    )
    print(
        f"Ritirato: {p.notice_id}, versione {p.version}, da {p.withdrawn_by} il "
        f"{p.withdrawn_at}. Il bot smette di usarlo entro 30 secondi.",
        file=out,
    )
    return EXIT_OK
