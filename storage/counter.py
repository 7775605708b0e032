"""Families at the counter (`sportello console`): which ids were given out, and which
family was open last (`common.counter` says which ids are theirs). A row holds no
personal data, only the id and the order of opening, so it outlives an erasure and an
id is never given twice."""

from __future__ import annotations

from sqlite_utils import Database

from common.counter import FIRST, is_counter

from .db import immediate


def new_family(db: Database) -> int:
    """A family's id never given before, now the open one."""
    with immediate(db):
        lowest = db.execute("SELECT MIN(user_id) FROM counter_families").fetchone()[0]
        user_id = FIRST if lowest is None else min(FIRST, int(lowest) - 1)
        _open(db, user_id)
    return user_id


def open_family(db: Database, user_id: int) -> None:
    """This family is the open one (the next `sportello console` takes it up)."""
    with immediate(db):
        _open(db, user_id)


def _open(db: Database, user_id: int) -> None:
    db.execute(
        "INSERT INTO counter_families (user_id, opened) VALUES "
        "(?, (SELECT COALESCE(MAX(opened), 0) + 1 FROM counter_families)) "
        "ON CONFLICT(user_id) DO UPDATE SET opened = excluded.opened",
        [user_id],
    )


def last_open(db: Database) -> int | None:
    """The family open last, if any."""
    row = db.execute("SELECT user_id FROM counter_families ORDER BY opened DESC LIMIT 1").fetchone()
    return None if row is None else int(row[0])


def family_of(db: Database, dossier_id: str) -> int | None:
    """The family at the counter whose application this is; None if there is no such
    application or it was made in a Telegram chat. The code as people type it: in
    small letters, with spaces, without «B2-»."""
    code = "".join(dossier_id.split()).upper()
    if len(code) == 6:  # «zsu9fj»: the code without «B2-»
        code = "B2-" + code
    elif len(code) == 8 and code.startswith("B2"):  # «B2ZSU9FJ»: without its dash
        code = "B2-" + code[2:]
    row = db.execute("SELECT user_id FROM dossiers WHERE id = ?", [code]).fetchone()
    return int(row[0]) if row is not None and is_counter(row[0]) else None
