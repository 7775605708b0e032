"""The `sportello` command: `check`, `notices`, `notice`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from eligibility import CatalogueError, FactsError, check, load_catalogue, validate
from eligibility.describe import describe
from eligibility.facts import parse_date
from eligibility.labels import STATUS_NAMES
from eligibility.schema import Guidance
from eligibility.window import status

EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2


def _today(value: str | None) -> dt.date | dt.datetime:
    if value is None:
        return dt.date.today()
    parsed = parse_date(value)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"--today: must be a date as YYYY-MM-DD, got {value!r}")
    return parsed


def _read(path: str, stdin: TextIO) -> Any:
    text = stdin.read() if path == "-" else open(path, encoding="utf-8").read()  # noqa: SIM115
    return json.loads(text)


def cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    try:
        raw = _read(args.file, stdin)
    except OSError as exc:
        print(f"{args.file}: cannot read the file: {exc.strerror}", file=err)
        return EXIT_INVALID
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        print(f"facts: not valid JSON: {exc}", file=err)
        return EXIT_INVALID
    if isinstance(raw, dict) and "application_date" not in raw:
        raw = {**raw, "application_date": args.today.isoformat()}
    try:
        facts = validate(raw)
    except FactsError as exc:
        for line in exc.problems:
            print(line, file=err)
        return EXIT_INVALID
    json.dump(check(facts), out, ensure_ascii=False, indent=2)
    out.write("\n")
    return EXIT_OK


def cmd_notices(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    catalogue = load_catalogue()
    for entry in [*catalogue.notices, *catalogue.guidance]:
        if isinstance(entry, Guidance):
            state = "guida (nessun bando)"
        else:
            state = STATUS_NAMES[status(entry.window, args.today)]
        names = ", ".join(m.name for m in entry.municipalities)
        print(f"{entry.id}\t{state}\t{entry.title}\t[{names}]", file=out)
    return EXIT_OK


def cmd_notice(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    catalogue = load_catalogue()
    entry = catalogue.notice(args.id)
    if entry is None:
        ids = ", ".join(e.id for e in [*catalogue.notices, *catalogue.guidance])
        print(f"notice: no notice with id {args.id!r}; known ids: {ids}", file=err)
        return EXIT_INVALID
    programme = catalogue.programmes.get(getattr(entry, "programme", ""))
    print(describe(entry, args.today, programme), file=out)
    return EXIT_OK


def cmd_console(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    from storage.db import open_db

    from .console import run_console
    from .settings import Settings

    today = args.today
    run_console(open_db(Settings().db_path), stdin=stdin, out=out, clock=lambda: today)
    return EXIT_OK


def cmd_run(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    import asyncio
    import logging

    from storage.db import open_db

    from .app import run_polling
    from .settings import Settings

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings()
    if settings.bot_token is None:
        print("BOT_TOKEN is not set. To try the bot without Telegram: sportello console", file=err)
        return EXIT_ERROR
    today = args.today if args.today_given else None
    clock = (lambda: today) if today is not None else dt.date.today
    asyncio.run(run_polling(settings, open_db(settings.db_path), clock=clock))
    return EXIT_OK


def cmd_outbox(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    """The outbox for the operator: what waits, one sending round, or a deliberate resend."""
    import asyncio

    from dossier.delivery import Outbox
    from storage import outbox
    from storage.db import open_db
    from storage.dossiers import get_dossier

    from .app import blob_store_beside
    from .settings import Settings

    settings = Settings()
    db = open_db(settings.db_path)
    if args.requeue:
        if get_dossier(db, args.requeue) is None:
            print(f"no dossier {args.requeue}", file=err)
            return EXIT_INVALID
        print(f"{outbox.requeue(db, args.requeue)} message(s) queued again", file=out)
    if args.send:
        box = Outbox.from_settings(settings, db, blob_store_beside(db, settings))
        box.recover()
        print(f"{asyncio.run(box.run_once())} message(s) handled", file=out)
    for row in db.query(
        "SELECT dossier_id, part, parts, status, attempts, recipient, last_error FROM outbox "
        "ORDER BY id"
    ):
        error = f"\t{row['last_error']}" if row["last_error"] else ""
        print(
            f"{row['dossier_id']}\t{row['part']}/{row['parts']}\t{row['status']}\t"
            f"{row['attempts']}\t{row['recipient']}{error}",
            file=out,
        )
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sportello", description="Sportello B2: pre-check Misura B2.")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="facts JSON in, verdict JSON out")
    c.add_argument("file", help="facts JSON file, or - for standard input")
    c.set_defaults(func=cmd_check)
    n = sub.add_parser("notices", help="list the notices and their status today")
    n.set_defaults(func=cmd_notices)
    one = sub.add_parser("notice", help="one notice in readable Italian, with its sources")
    one.add_argument("id")
    one.set_defaults(func=cmd_notice)
    r = sub.add_parser("run", help="run the Telegram bot (polling; BOT_TOKEN)")
    r.set_defaults(func=cmd_run)
    con = sub.add_parser("console", help="the questionnaire in this terminal, no Telegram")
    con.set_defaults(func=cmd_console)
    ob = sub.add_parser("outbox", help="the messages waiting to go to the comuni, and their state")
    ob.add_argument("--send", action="store_true", help="run one sending round now")
    ob.add_argument("--requeue", metavar="DOSSIER", help="send a dossier again, after checking")
    ob.set_defaults(func=cmd_outbox)
    for s in (c, n, one, r, con):
        s.add_argument("--today", default=None, help="the date to use (YYYY-MM-DD)")
    return p


def main(
    argv: Sequence[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    out, err, stdin = out or sys.stdout, err or sys.stderr, stdin or sys.stdin
    args = parser().parse_args(argv)
    args.today_given = getattr(args, "today", None) is not None
    try:
        args.today = _today(getattr(args, "today", None))
    except argparse.ArgumentTypeError as exc:
        print(exc, file=err)
        return EXIT_INVALID
    try:
        return args.func(args, out, err, stdin)
    except BrokenPipeError:  # the reader stopped early (`| head`): not an error of ours
        sys.stderr.close()
        return EXIT_OK
    except CatalogueError as exc:
        print(f"notice data is broken: {exc}", file=err)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
