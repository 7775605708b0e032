"""A ceiling per staff account over every address, and the places that logged in to it.

Locks per address (`storage.staff.locked_until`) and the slowing per new address leave a
stranger who rotates addresses (a routed IPv6 /56 holds 256 /64 networks) about 5,000
guesses an hour at one account. So an account also has a daily budget:
`DAILY_FAILURES` wrong passwords within `DAY`, from anywhere. Once spent, the account
is closed to new places: a login from an address and a browser that never logged in to
it is refused before its password is looked at, until the oldest of those failures is a
day old or an administrator unlocks the account (`sportello staff unlock EMAIL`, which
`sportello staff locked` lists).

A stranger cannot close the account to its owner where she usually works: a place that
logged in successfully keeps its own allowance (the locks per address still apply to it):
- the client address she logged in from (the last `KNOWN_KEPT` days), and
- the browser she logged in with: each successful login leaves a cookie holding a random
  token (`DEVICE_COOKIE`, sent to `/login` only); the database keeps its SHA-256, so a
  copy of the database makes no such cookie.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from sqlite_utils import Database

from common.clock import iso, parse_iso

log = logging.getLogger(__name__)

# `login_attempts.ok`: 1 right, 0 wrong (or unknown e-mail, or disabled account), -1
# refused before the password was looked at (locked, or busy), 2 reserved (being
# verified), 3 an administrator's unlock (no address: the failures before it no longer count)
RIGHT, WRONG, REFUSED, RESERVED, UNLOCKED = 1, 0, -1, 2, 3
DAILY_FAILURES = 100  # wrong passwords on one account in DAY, from anywhere
DAY = dt.timedelta(hours=24)
KNOWN_KEPT = dt.timedelta(days=90)  # a successful login makes its address and browser known
DEVICE_COOKIE = "sportello_device"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_device_token() -> str:
    return secrets.token_urlsafe(32)


def usable_token(token: str | None) -> str | None:
    """A device cookie's value as we make them, else None."""
    if token and 20 <= len(token) <= 100 and token.replace("-", "").replace("_", "").isalnum():
        return token
    return None


def remember_device(db: Database, email: str, token: str, now: dt.datetime) -> None:
    """This browser logged in to this account now."""
    db.execute(
        "INSERT INTO known_devices (token_hash, email, at) VALUES (?, ?, ?) "
        "ON CONFLICT (token_hash, email) DO UPDATE SET at = excluded.at",
        [_digest(token), email, iso(now)],
    )
    db.execute("DELETE FROM known_devices WHERE at < ?", [iso(now - KNOWN_KEPT)])
    db.conn.commit()


def device_known(db: Database, email: str, token: str | None, now: dt.datetime) -> bool:
    token = usable_token(token)
    if token is None:
        return False
    row = db.execute(
        "SELECT 1 FROM known_devices WHERE token_hash = ? AND email = ? AND at > ?",
        [_digest(token), email, iso(now - KNOWN_KEPT)],
    ).fetchone()
    return row is not None


def address_known(db: Database, email: str, remote: str | None) -> bool:
    """This client address logged in to this e-mail (successful logins are kept
    `KNOWN_KEPT`)."""
    row = db.execute(
        "SELECT 1 FROM login_attempts WHERE email = ? AND remote IS ? AND ok = ? LIMIT 1",
        [email, remote, RIGHT],
    ).fetchone()
    return row is not None


def _since(db: Database, email: str, now: dt.datetime) -> str:
    """Where the account's day of failures starts: a day ago, or its last unlock."""
    unlocked = db.execute(
        "SELECT MAX(at) FROM login_attempts WHERE email = ? AND ok = ?", [email, UNLOCKED]
    ).fetchone()[0]
    start = iso(now - DAY)
    return max(start, unlocked) if unlocked else start


def closed_until(db: Database, email: str, now: dt.datetime) -> dt.datetime | None:
    """Until when this account is closed to places that never logged in to it (its day
    of failures spent), or None."""
    rows = db.execute(
        "SELECT at FROM login_attempts WHERE email = ? AND ok = ? AND at > ? "
        "ORDER BY at DESC LIMIT ?",
        [email, WRONG, _since(db, email, now), DAILY_FAILURES],
    ).fetchall()
    if len(rows) < DAILY_FAILURES:
        return None
    return parse_iso(rows[-1][0]) + DAY


def warn_if_closed(db: Database, email: str, now: dt.datetime) -> None:
    """One line for the administrator when a failure spends an account's day (no e-mail,
    no address: `sportello staff locked` lists the account)."""
    rows = db.execute(
        "SELECT COUNT(*) FROM login_attempts WHERE email = ? AND ok = ? AND at > ?",
        [email, WRONG, _since(db, email, now)],
    ).fetchone()[0]
    if rows == DAILY_FAILURES:
        log.warning(
            "%d failed logins on one staff account in a day: closed to new addresses and "
            "browsers; `sportello staff locked` lists it, `sportello staff unlock` opens it",
            DAILY_FAILURES,
        )


@dataclass(frozen=True)
class Closed:
    email: str
    failures: int
    until: dt.datetime


def closed_accounts(db: Database, now: dt.datetime) -> list[Closed]:
    """The staff accounts closed to new places now (unknown e-mails are not listed)."""
    found: list[Closed] = []
    for (email,) in db.execute("SELECT email FROM staff ORDER BY email").fetchall():
        until = closed_until(db, email, now)
        if until is not None:
            failures = db.execute(
                "SELECT COUNT(*) FROM login_attempts WHERE email = ? AND ok = ? AND at > ?",
                [email, WRONG, _since(db, email, now)],
            ).fetchone()[0]
            found.append(Closed(email, failures, until))
    return found


def unlock(db: Database, email: str, now: dt.datetime) -> bool:
    """An administrator opens the account again: the failures until now no longer count.
    False when it was not closed."""
    was_closed = closed_until(db, email, now) is not None
    db.execute(
        "INSERT INTO login_attempts (email, ok, at, remote) VALUES (?, ?, ?, NULL)",
        [email, UNLOCKED, iso(now)],
    )
    db.conn.commit()
    return was_closed
