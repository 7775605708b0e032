"""The `sportello` command: `check`, `notices`, `notice`, `console`, `run`, `serve`, `outbox`,
`staff`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import ValidationError

from common.clock import moment_clock, rome_today
from eligibility import CatalogueError, FactsError, check, load_catalogue, validate
from eligibility.describe import describe
from eligibility.facts import parse_date
from eligibility.labels import STATUS_NAMES
from eligibility.schema import Guidance
from eligibility.window import status

if TYPE_CHECKING:
    from common.settings import Settings

EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2


def _today(value: str | None) -> dt.date | dt.datetime:
    if value is None:
        return rome_today()
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
    json.dump(check(facts, _published_too(args, err)), out, ensure_ascii=False, indent=2)
    out.write("\n")
    return EXIT_OK


def _settings(args: argparse.Namespace) -> Settings:
    """The settings, read from the environment once per command (and only by the commands
    that need them: `check` works whatever the environment holds)."""
    if getattr(args, "settings", None) is None:
        from common.settings import Settings

        args.settings = Settings()
    return args.settings


def _published_too(args: argparse.Namespace, err: TextIO) -> Any:
    """The bundled notices and those published into the database under
    SPORTELLO_DATA_DIR, as the bot sees them; the bundled ones alone when there is no
    database (or the settings cannot be read: `check` still answers)."""
    from pydantic import ValidationError

    from dialogs.live_catalogue import full_catalogue

    try:
        db = _existing_db(args)
    except ValidationError:
        print("settings not readable: only the bundled notices are used", file=err)
        return None
    return full_catalogue(db) if db is not None else None


def _existing_db(args: argparse.Namespace) -> Any:
    """The database, only when it exists: reading commands create nothing."""
    from storage.db import open_db

    path = _settings(args).db_path
    return open_db(path) if path.exists() else None


def cmd_notices(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    """Every notice, bundled and published, with its status today and where it comes from."""
    from dialogs.live_catalogue import full_catalogue
    from storage import notices as published

    db = _existing_db(args)
    catalogue = full_catalogue(db)
    bundled = {e.id for e in [*load_catalogue().notices, *load_catalogue().guidance]}
    for entry in [*catalogue.notices, *catalogue.guidance]:
        if isinstance(entry, Guidance):
            state = "guida (nessun bando)"
        else:
            state = STATUS_NAMES[status(entry.window, args.today)]
        origin = "incluso"
        if entry.id not in bundled and db is not None:
            p = published.in_force(db)[entry.id]
            origin = f"pubblicato v{p.version} da {p.published_by} il {p.published_at[:16]}"
        names = ", ".join(m.name for m in entry.municipalities)
        print(f"{entry.id}\t{state}\t{origin}\t{entry.title}\t[{names}]", file=out)
    for p in published.latest(db) if db is not None else []:
        if not p.in_force:
            print(
                f"{p.notice_id}\tritirato\tv{p.version} ritirato da {p.withdrawn_by} il "
                f"{(p.withdrawn_at or '')[:16]}",
                file=out,
            )
    return EXIT_OK


def cmd_notice(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    """`notice ID` prints one notice; `notice check|publish FILE`, `notice unpublish ID`."""
    from .notice_cli import check_file, publish_file, unpublish

    action, rest = args.words[0], args.words[1:]
    if action in ("check", "publish", "unpublish"):
        if len(rest) != 1:
            what = "ID" if action == "unpublish" else "FILE"
            print(f"uso: sportello notice {action} {what}", file=err)
            return EXIT_INVALID
        run = {"check": check_file, "publish": publish_file, "unpublish": unpublish}[action]
        _settings(args)  # args.settings: where the database is
        return run(rest[0], args, out, err)
    if rest:
        print("uso: sportello notice ID (oppure check FILE, publish FILE, unpublish ID)", file=err)
        return EXIT_INVALID
    from dialogs.live_catalogue import full_catalogue

    catalogue = full_catalogue(_existing_db(args))
    entry = catalogue.notice(action)
    if entry is None:
        ids = ", ".join(e.id for e in [*catalogue.notices, *catalogue.guidance])
        print(f"notice: no notice with id {action!r}; known ids: {ids}", file=err)
        return EXIT_INVALID
    programme = catalogue.programmes.get(getattr(entry, "programme", ""))
    print(describe(entry, args.today, programme), file=out)
    return EXIT_OK


def cmd_console(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    from storage.db import open_db

    from .console import run_console

    today = args.today
    settings = _settings(args)
    return run_console(
        open_db(settings.db_path),
        stdin=stdin,
        out=out,
        clock=lambda: today,
        settings=settings,
        new=args.nuova,
        dossier_id=args.pratica,
    )


def cmd_run(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    import asyncio
    import logging

    from common.logs import quiet
    from storage.db import open_db

    from .app import run_polling

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # aiogram's line for every update polled ("Update id=... is handled. Duration ..."):
    # formatted and written for each, read by nobody; its errors still show
    quiet("aiogram.event", level=logging.WARNING)
    settings = _settings(args)
    if settings.bot_token is None:
        print("BOT_TOKEN is not set. To try the bot without Telegram: sportello console", file=err)
        return EXIT_ERROR
    today = args.today if args.today_given else None
    clock = (lambda: today) if today is not None else rome_today
    if today is not None:
        logging.getLogger("sportello").warning(
            "running AS OF %s (--today): families see notices as on that date", today
        )
    db = open_db(settings.db_path)
    try:
        asyncio.run(run_polling(settings, db, clock=clock))
    finally:
        db.close()  # after the jobs have stopped: run_polling waits for them
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    """The production server: webhook, back-office, /healthz, /metrics and the jobs."""
    import logging

    from .serve import run_serve  # light: the server's modules load later

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.workers < 1:
        print("--workers: at least 1", file=err)
        return EXIT_INVALID
    settings = _settings(args)
    if settings.bot_token is None and settings.webhook_url:
        print(
            "BOT_TOKEN is not set but WEBHOOK_URL is: the webhook needs the bot's token "
            "from @BotFather (BOT_TOKEN=123:abc sportello serve). Without both, "
            "`sportello serve` serves the back-office alone.",
            file=err,
        )
        return EXIT_ERROR
    today = args.today if args.today_given else None
    clock = (lambda: today) if today is not None else None
    if today is not None:
        logging.getLogger("sportello").warning(
            "running AS OF %s (--today): families see notices as on that date, and "
            "retention, expiry, reminders and the back-office's dates follow it",
            today,
        )
    run_serve(settings, clock=clock, workers=args.workers)
    return EXIT_OK


def _read_password(args: argparse.Namespace, err: TextIO, stdin: TextIO) -> str | None:
    """The new password: the first line of standard input, or typed twice at the prompt."""
    from storage.staff import MIN_PASSWORD

    if args.password_stdin:
        password = stdin.readline().rstrip("\r\n")
    else:
        import getpass

        if not stdin.isatty():
            print("no terminal to ask the password on: give it with --password-stdin", file=err)
            return None
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Password again: ")
        except (EOFError, KeyboardInterrupt):
            print("\nno password given", file=err)
            return None
        if again != password:
            print("the two passwords differ", file=err)
            return None
    if len(password) < MIN_PASSWORD:
        print(f"the password must have at least {MIN_PASSWORD} characters", file=err)
        return None
    return password


def _comuni(args: argparse.Namespace, err: TextIO) -> list[str] | None:
    """The comuni of `--comune` as the notices spell them; None (explained) if one is not
    in any notice."""
    from dialogs.live_catalogue import full_catalogue

    catalogue = full_catalogue(_existing_db(args))
    found: list[str] = []
    ok = True
    for name in args.comune:
        match = catalogue.find(name, args.today)
        if match.entry is None or match.name is None:
            ok = False
            hint = f"; did you mean: {', '.join(match.suggestions)}?" if match.suggestions else ""
            print(f"--comune {name!r}: no notice names this comune{hint}", file=err)
        elif isinstance(match.entry, Guidance):
            ok = False
            print(f"--comune {name!r}: {match.name} has no B2 notice, so no dossiers", file=err)
        elif match.name not in found:
            found.append(match.name)
    return found if ok else None


def cmd_staff(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    """Back-office accounts: add one, or list them."""
    import sqlite3

    from storage import staff
    from storage.db import open_db

    if args.action == "add":
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", args.email.strip()):
            print(f"{args.email!r}: not an e-mail address", file=err)
            return EXIT_INVALID
        if not args.comune and not args.admin:
            print("name at least one --comune (or give --admin)", file=err)
            return EXIT_INVALID
        comuni = _comuni(args, err)
        if comuni is None:
            return EXIT_INVALID
        db = open_db(_settings(args).db_path)
        if staff.staff_by_email(db, args.email) is not None:
            print(f"{args.email.strip().lower()}: already has an account", file=err)
            return EXIT_INVALID
        password = _read_password(args, err, stdin)
        if password is None:
            return EXIT_INVALID
        try:
            staff_id = staff.add_staff(db, args.email, password, comuni, is_admin=args.admin)
        except (ValueError, sqlite3.IntegrityError) as exc:
            print(f"cannot add the account: {exc}", file=err)
            return EXIT_INVALID
        role = "admin" if args.admin else "staff"
        print(
            f"account {staff_id} ({role}) for {', '.join(comuni) or 'no comune'}, "
            f"in {_settings(args).db_path}",
            file=out,
        )
        return EXIT_OK
    if args.action in ("disable", "enable", "password"):
        db = open_db(_settings(args).db_path)
        member = staff.staff_by_email(db, args.email)
        if member is None:
            print(
                f"{args.email.strip().lower()}: no such account in {_settings(args).db_path}",
                file=err,
            )
            return EXIT_INVALID
        if args.action == "password":
            password = _read_password(args, err, stdin)
            if password is None:
                return EXIT_INVALID
            try:
                staff.set_password(db, member.id, password)
            except ValueError as exc:
                print(f"cannot change the password: {exc}", file=err)
                return EXIT_INVALID
            print(f"{member.email}: new password; open sessions ended", file=out)
        else:
            staff.set_active(db, member.id, args.action == "enable")
            print(f"{member.email}: {args.action}d", file=out)
        return EXIT_OK
    if args.action in ("locked", "unlock"):
        return _staff_locks(args, out, err)
    members = staff.list_staff(open_db(_settings(args).db_path))
    if not members:
        print("no accounts yet: sportello staff add EMAIL --comune NAME", file=err)
    for member in members:
        flags = ",".join(
            f for f, on in (("admin", member.is_admin), ("disabled", not member.active)) if on
        )
        print(f"{member.id}\t{member.email}\t{', '.join(member.comuni)}\t{flags}", file=out)
    return EXIT_OK


def _staff_locks(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The accounts closed to new places after a day of failed logins, or one opened."""
    from common.clock import utcnow
    from storage import lockout, staff
    from storage.db import open_db

    db = open_db(_settings(args).db_path)
    now = utcnow()
    if args.action == "locked":
        closed = lockout.closed_accounts(db, now)
        if not closed:
            print("no account is closed to new addresses", file=out)
        for account in closed:
            print(
                f"{account.email}\t{account.failures} failed logins in a day\t"
                f"closed to new addresses until {account.until.isoformat(timespec='minutes')}",
                file=out,
            )
        return EXIT_OK
    member = staff.staff_by_email(db, args.email)
    if member is None:
        print(
            f"{args.email.strip().lower()}: no such account in {_settings(args).db_path}", file=err
        )
        return EXIT_INVALID
    was_closed = lockout.unlock(db, member.email, now)
    state = "unlocked" if was_closed else "was not closed; failures so far no longer count"
    print(f"{member.email}: {state}", file=out)
    return EXIT_OK


def cmd_outbox(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    """The outbox for the operator: what waits, one sending round, or a deliberate resend."""
    import asyncio

    from dossier.delivery import Outbox
    from storage import leases, outbox
    from storage.db import open_db
    from storage.dossiers import get_dossier

    from .leader import JOBS
    from .places import blob_store_beside

    settings = _settings(args)
    db = open_db(settings.db_path)
    # with --today the round runs on that day, as `sportello run --today` does, and a
    # dossier sent again is due on that day too (else a round on that day finds it not due)
    clock = moment_clock((lambda: args.today) if args.today_given else None)
    if args.requeue:
        if get_dossier(db, args.requeue) is None:
            print(f"no dossier {args.requeue}", file=err)
            return EXIT_INVALID
        queued = outbox.requeue(db, args.requeue, now=clock())
        print(f"{queued} message(s) queued again", file=out)
    if args.send:
        # the round runs as the service's jobs do, holding their lease: never beside them
        me = leases.new_owner()
        if not leases.hold(db, JOBS, me, 600):
            print("the service is running and sends the outbox itself: nothing sent here", file=err)
        else:
            try:
                box = Outbox.from_settings(
                    settings, db, blob_store_beside(db, settings), clock=clock
                )
                box.recover()
                print(f"{asyncio.run(box.run_once())} message(s) handled", file=out)
            finally:
                leases.release(db, JOBS, me)
    for row in outbox.every_message(db):
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
    one = sub.add_parser(
        "notice",
        help="ID: one notice in readable Italian; check FILE, publish FILE, unpublish ID",
    )
    one.add_argument("words", nargs="+", metavar="ID | check FILE | publish FILE | unpublish ID")
    one.add_argument("--by", default=None, help="who publishes or withdraws (default: login)")
    one.set_defaults(func=cmd_notice)
    r = sub.add_parser("run", help="run the Telegram bot (polling; BOT_TOKEN)")
    r.set_defaults(func=cmd_run)
    sv = sub.add_parser(
        "serve", help="the production server: webhook, back-office, /healthz, /metrics"
    )
    sv.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes serving on the one port (they share the database file)",
    )
    sv.set_defaults(func=cmd_serve)
    con = sub.add_parser("console", help="the questionnaire in this terminal, no Telegram")
    con.add_argument(
        "--nuova", action="store_true", help="the next family at the counter (a new application)"
    )
    con.add_argument(
        "--pratica", metavar="B2-XXXXXX", help="open again the family of this application"
    )
    con.set_defaults(func=cmd_console)
    ob = sub.add_parser("outbox", help="the messages waiting to go to the comuni, and their state")
    ob.add_argument("--send", action="store_true", help="run one sending round now")
    ob.add_argument("--requeue", metavar="DOSSIER", help="send a dossier again, after checking")
    ob.set_defaults(func=cmd_outbox)
    st = sub.add_parser("staff", help="accounts of the back-office")
    st_sub = st.add_subparsers(dest="action", required=True)
    add = st_sub.add_parser("add", help="a new account; the password is asked twice")
    add.add_argument("email")
    add.add_argument(
        "--comune",
        action="append",
        default=[],
        help="a comune whose dossiers this person sees (repeat for more)",
    )
    add.add_argument("--admin", action="store_true", help="manages accounts, reads the audit log")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.set_defaults(func=cmd_staff)
    ls = st_sub.add_parser("list", help="every account, its comuni and flags")
    ls.set_defaults(func=cmd_staff)
    locked = st_sub.add_parser(
        "locked", help="accounts closed to new addresses after a day of failed logins"
    )
    locked.set_defaults(func=cmd_staff)
    for action, text in (
        ("disable", "no more logins (someone who left); their sessions end"),
        ("enable", "allow logins again"),
        ("password", "set a new password (asked twice, or --password-stdin)"),
        ("unlock", "open an account closed to new addresses (see `staff locked`)"),
    ):
        one_account = st_sub.add_parser(action, help=text)
        one_account.add_argument("email")
        if action == "password":
            one_account.add_argument(
                "--password-stdin", action="store_true", help="read it from standard input"
            )
        one_account.set_defaults(func=cmd_staff)
    for s in (c, n, one, r, con, sv, ob, add):
        s.add_argument("--today", default=None, help="the date to use (YYYY-MM-DD)")
    return p


def main(
    argv: Sequence[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    out, err, stdin = out or sys.stdout, err or sys.stderr, stdin or sys.stdin
    os.umask(0o077)  # the database and the saved .eml files hold personal data
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
    except ValidationError as exc:  # a setting from the environment is wrong
        for problem in exc.errors():
            message = str(problem["msg"]).removeprefix("Value error, ")
            print(f"{str(problem['loc'][0]).upper()}: {message}", file=err)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
