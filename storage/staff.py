"""Staff accounts of the back-office, their logins and their sessions.

Passwords are kept as argon2id hashes (argon2-cffi's defaults, RFC 9106 low-memory
profile). Every login attempt is recorded in `login_attempts` (`ok`: 1 success, 0 wrong
password or unknown e-mail, -1 refused because the e-mail was locked, password not
looked at). Lockout: after `MAX_FAILURES` failures for an e-mail within `WINDOW` (since
its last successful login), every login for that e-mail is refused, even with the right
password, until `LOCKOUT` after the last failure. Attempts refused while locked do not
extend the lock. An unknown e-mail costs the same work as a known one (a dummy hash is
verified) and is locked the same way, so neither timing nor lockout tells who has an
account.

A session cookie holds a random token; the database keeps only its SHA-256, so a copy of
the database opens no session. Sessions last `SESSION_HOURS`; each has its own CSRF
token for the forms.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlite_utils import Database

MAX_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)
LOCKOUT = dt.timedelta(minutes=15)
SESSION_HOURS = 8
MIN_PASSWORD = 12

# argon2id with argon2-cffi's defaults (t=3, m=64 MiB, p=4). Tests may swap in a cheaper
# hasher; logins made with another one are rehashed to this one on success.
hasher = PasswordHasher()
_dummy_hashes: dict[tuple[int, int, int], str] = {}


@dataclass(frozen=True)
class Staff:
    id: int
    email: str
    comuni: tuple[str, ...]
    is_admin: bool
    active: bool
    created_at: str

    def sees(self, municipality: str | None) -> bool:
        """Whether a dossier of this comune is theirs to see (admins included: an admin
        account manages staff and reads the whole audit log, not every family's file)."""
        return municipality is not None and municipality in self.comuni


@dataclass(frozen=True)
class Session:
    staff: Staff
    csrf: str
    token_hash: str
    expires_at: dt.datetime


def _iso(when: dt.datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("times must be aware")
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def _parse(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _staff(row: dict[str, Any]) -> Staff:
    return Staff(
        id=int(row["id"]),
        email=row["email"],
        comuni=tuple(json.loads(row["comuni"] or "[]")),
        is_admin=bool(row["is_admin"]),
        active=bool(row["active"]),
        created_at=row["created_at"],
    )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password must have at least {MIN_PASSWORD} characters")


def add_staff(
    db: Database,
    email: str,
    password: str,
    comuni: list[str],
    is_admin: bool = False,
    *,
    now: dt.datetime | None = None,
) -> int:
    """A new staff account; returns its id. The e-mail is kept in lower case; the comuni
    are validated by the caller (names as the notices spell them)."""
    email = normalise_email(email)
    if "@" not in email:
        raise ValueError("not an e-mail address")
    _check_password(password)
    row = db["staff"].insert(
        {
            "email": email,
            "password_hash": hasher.hash(password),
            "comuni": json.dumps(list(comuni), ensure_ascii=False),
            "is_admin": int(is_admin),
            "active": 1,
            "created_at": _iso(now or dt.datetime.now(dt.UTC)),
        }
    )
    return int(row.last_pk)


def set_password(db: Database, staff_id: int, password: str) -> None:
    """A new password; the staff member's open sessions end."""
    _check_password(password)
    with db.atomic():
        db["staff"].update(staff_id, {"password_hash": hasher.hash(password)})
        db.execute("DELETE FROM staff_sessions WHERE staff_id = ?", [staff_id])


def set_active(db: Database, staff_id: int, active: bool) -> None:
    """Disable (or enable again) an account; a disabled account's sessions end."""
    with db.atomic():
        db["staff"].update(staff_id, {"active": int(active)})
        if not active:
            db.execute("DELETE FROM staff_sessions WHERE staff_id = ?", [staff_id])


def get_staff(db: Database, staff_id: int) -> Staff | None:
    rows = list(db.query("SELECT * FROM staff WHERE id = ?", [staff_id]))
    return _staff(rows[0]) if rows else None


def staff_by_email(db: Database, email: str) -> Staff | None:
    rows = list(db.query("SELECT * FROM staff WHERE email = ?", [normalise_email(email)]))
    return _staff(rows[0]) if rows else None


def list_staff(db: Database) -> list[Staff]:
    return [_staff(r) for r in db.query("SELECT * FROM staff ORDER BY email")]


# -- logins ----------------------------------------------------------------------------


def _dummy_hash() -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hashes[key]


def locked_until(db: Database, email: str, now: dt.datetime) -> dt.datetime | None:
    """When logins for this e-mail are allowed again, or None if they are allowed now."""
    email = normalise_email(email)
    rows = list(
        db.query(
            "SELECT ok, at FROM login_attempts WHERE email = ? AND ok != -1 "
            "AND id > COALESCE((SELECT MAX(id) FROM login_attempts WHERE email = ? AND ok = 1), 0) "
            "ORDER BY id DESC LIMIT ?",
            [email, email, 50],
        )
    )
    failures = [_parse(r["at"]) for r in rows if r["ok"] == 0]
    if not failures:
        return None
    last = max(failures)
    recent = [f for f in failures if f > last - WINDOW]
    if len(recent) < MAX_FAILURES:
        return None
    until = last + LOCKOUT
    return until if now < until else None


def _record(db: Database, email: str, ok: int, now: dt.datetime, remote: str | None) -> None:
    db["login_attempts"].insert({"email": email, "ok": ok, "at": _iso(now), "remote": remote})


def _begin(
    db: Database, email: str, now: dt.datetime, remote: str | None
) -> tuple[dict[str, Any] | None, str] | None:
    """Before the password is looked at: None when locked (the attempt is recorded),
    else the account row (None for an unknown e-mail) and the hash to verify against."""
    if locked_until(db, email, now) is not None:
        _record(db, email, -1, now, remote)
        return None
    rows = list(db.query("SELECT * FROM staff WHERE email = ?", [email])) if email else []
    row = rows[0] if rows else None
    return row, (row["password_hash"] if row else _dummy_hash())


def _matches(stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _finish(
    db: Database,
    email: str,
    row: dict[str, Any] | None,
    matched: bool,
    password: str,
    now: dt.datetime,
    remote: str | None,
) -> Staff | None:
    if not matched or row is None or not row["active"]:
        _record(db, email, 0, now, remote)
        return None
    if hasher.check_needs_rehash(row["password_hash"]):
        db["staff"].update(row["id"], {"password_hash": hasher.hash(password)})
    _record(db, email, 1, now, remote)
    return _staff(row)


def verify_login(
    db: Database, email: str, password: str, now: dt.datetime, remote: str | None
) -> Staff | None:
    """The staff member if the e-mail and password are right and the e-mail is not locked
    (see `locked_until`); None otherwise. Every attempt is recorded."""
    email = normalise_email(email)[:320]
    begun = _begin(db, email, now, remote)
    if begun is None:
        return None
    row, stored = begun
    return _finish(db, email, row, _matches(stored, password), password, now, remote)


async def verify_login_async(
    db: Database, email: str, password: str, now: dt.datetime, remote: str | None
) -> Staff | None:
    """`verify_login` for a web server: the argon2 work (a third of a second) runs in a
    worker thread, the database is used only from the caller's thread (SQLite
    connections stay in the thread that opened them)."""
    email = normalise_email(email)[:320]
    begun = _begin(db, email, now, remote)
    if begun is None:
        return None
    row, stored = begun
    matched = await asyncio.to_thread(_matches, stored, password)
    return _finish(db, email, row, matched, password, now, remote)


# -- sessions --------------------------------------------------------------------------


def create_session(db: Database, staff_id: int, now: dt.datetime) -> tuple[str, str]:
    """A new session: returns (the cookie token, the CSRF token of its forms). Expired
    sessions of anyone are cleared on the way."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with db.atomic():
        db.execute("DELETE FROM staff_sessions WHERE expires_at <= ?", [_iso(now)])
        db["staff_sessions"].insert(
            {
                "token_hash": token_hash(token),
                "staff_id": staff_id,
                "csrf": csrf,
                "created_at": _iso(now),
                "expires_at": _iso(now + dt.timedelta(hours=SESSION_HOURS)),
            }
        )
    return token, csrf


def session_for(db: Database, token: str | None, now: dt.datetime) -> Session | None:
    """The live session of this cookie token (its staff member active), or None."""
    if not token or len(token) > 200:
        return None
    digest = token_hash(token)
    rows = list(db.query("SELECT * FROM staff_sessions WHERE token_hash = ?", [digest]))
    if not rows:
        return None
    expires = _parse(rows[0]["expires_at"])
    if now >= expires:
        db.execute("DELETE FROM staff_sessions WHERE token_hash = ?", [digest])
        return None
    staff = get_staff(db, rows[0]["staff_id"])
    if staff is None or not staff.active:
        return None
    return Session(staff=staff, csrf=rows[0]["csrf"], token_hash=digest, expires_at=expires)


def end_session(db: Database, token: str | None) -> None:
    if token:
        db.execute("DELETE FROM staff_sessions WHERE token_hash = ?", [token_hash(token)])


def extend_session(db: Database, token_hash: str, now: dt.datetime) -> dt.datetime:
    """The staff member asked for more time: the session lasts `SESSION_HOURS` from now."""
    until = now + dt.timedelta(hours=SESSION_HOURS)
    db.execute(
        "UPDATE staff_sessions SET expires_at = ? WHERE token_hash = ?", [_iso(until), token_hash]
    )
    return until
