"""Staff accounts of the back-office, their logins and their sessions.

Passwords are kept as argon2id hashes (argon2-cffi's defaults, RFC 9106 low-memory
profile). Every login attempt is a row of `login_attempts`, written *before* the password
is looked at: a write transaction checks the locks and that no other attempt on the same
e-mail is being verified, and reserves this one; the verification then settles it. So
requests sent together verify one password at a time, and a lock counts every failure.
Locks are per client address (see `locked_until`), an IPv6 address counted by its /64 (one
home or one rented server has a whole /64): a stranger's wrong passwords lock the
stranger out, not the staff member. Strangers rotating addresses are slowed per account:
after `ACCOUNT_SLOW_AFTER` failures on one e-mail in an hour, each address that never
logged in to it gets one password check every `ACCOUNT_SLOW_INTERVAL` (its own slot: a
stranger slows only themselves, never the staff member on a new phone), while the
staff member's own addresses are not slowed; the log says so once, with no personal data.
After `storage.lockout.DAILY_FAILURES` failures in a day the account is closed to places
(addresses, browsers) that never logged in to it, until the day passes or an
administrator unlocks it; the places that did keep their own allowance. An unknown e-mail costs the same work as a known one
(a dummy hash is verified) and is locked the same way, so neither timing nor lockout tells
who has an account.

A session cookie holds a random token; the database keeps only its SHA-256, so a copy of
the database opens no session. Sessions last `SESSION_HOURS`; each has its own CSRF
token for the forms.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import ipaddress
import json
import logging
import secrets
import weakref
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlite_utils import Database

from common.clock import iso, parse_iso, utcnow

from . import lockout
from .lockout import KNOWN_KEPT, REFUSED, RESERVED, RIGHT, WRONG
from .rows import last_id

log = logging.getLogger(__name__)

MAX_FAILURES = 5  # for one e-mail from one client address (an IPv6 /64)
MAX_ADDRESS_FAILURES = 20  # from one client address, whatever the e-mails
WINDOW = dt.timedelta(minutes=15)
LOCKOUT = dt.timedelta(minutes=15)
ACCOUNT_SLOW_AFTER = 30  # failures on one e-mail in ACCOUNT_WINDOW, from any address
ACCOUNT_WINDOW = dt.timedelta(hours=1)
ACCOUNT_SLOW_INTERVAL = dt.timedelta(seconds=60)  # then: one check per interval per new address
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
    row = db.table("staff").insert(
        {
            "email": email,
            "password_hash": hasher.hash(password),
            "comuni": json.dumps(list(comuni), ensure_ascii=False),
            "is_admin": int(is_admin),
            "active": 1,
            "created_at": iso(now or utcnow()),
        }
    )
    return last_id(row)


def set_password(db: Database, staff_id: int, password: str) -> None:
    """A new password; the staff member's open sessions end."""
    _check_password(password)
    with db.atomic():
        db.table("staff").update(staff_id, {"password_hash": hasher.hash(password)})
        db.execute("DELETE FROM staff_sessions WHERE staff_id = ?", [staff_id])


def set_active(db: Database, staff_id: int, active: bool) -> None:
    """Disable (or enable again) an account; a disabled account's sessions end."""
    with db.atomic():
        db.table("staff").update(staff_id, {"active": int(active)})
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

# `login_attempts.ok`: see `storage.lockout` (RIGHT, WRONG, REFUSED, RESERVED, UNLOCKED).
RESERVATION = dt.timedelta(seconds=30)  # older than this, a reservation is a crashed attempt
# A login waits its turn behind the attempts on the same e-mail being verified (a queue,
# first come first served) at most this long, instead of being refused as "busy": a
# stranger keeping an attempt in flight cannot lock the real user out.
BUSY_WAIT = 10.0
ATTEMPTS_KEPT = dt.timedelta(days=2)  # far longer than any lock looks back
_email_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


@dataclass(frozen=True)
class Login:
    """How a login attempt ended: `staff` when it succeeded, else why not: "wrong",
    "locked" (until `until`), "slowed" (the account is under attack: until `until`),
    "closed" (the account's day of failures is spent and this place never logged in to
    it: until `until`, or an administrator's unlock) or "busy" (another attempt on this
    account is being checked)."""

    staff: Staff | None
    refused: str = "wrong"
    until: dt.datetime | None = None


def client_key(remote: str | None) -> str | None:
    """The client as throttling counts it: an IPv4 address as it is, an IPv6 address by
    its /64 network (what one subscriber or one server gets), an IPv4-mapped one as IPv4."""
    if not remote:
        return remote
    try:
        address = ipaddress.ip_address(remote.strip("[]"))
    except ValueError:
        return remote
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


def _account_slowed(
    db: Database, email: str, remote: str | None, now: dt.datetime, known: bool
) -> Any:
    """When an address that never logged in to this e-mail may have its password checked
    again, while the e-mail is under attack (ACCOUNT_SLOW_AFTER failures in the last
    hour, from anywhere); None if now. Each address has its own slot (one check every
    ACCOUNT_SLOW_INTERVAL), so a stranger keeping the account busy never takes the turn
    of the staff member logging in from a new address; her own addresses are never
    slowed."""
    failures = db.execute(
        "SELECT COUNT(*) FROM login_attempts WHERE email = ? AND ok = ? AND at > ?",
        [email, WRONG, iso(now - ACCOUNT_WINDOW)],
    ).fetchone()[0]
    if failures < ACCOUNT_SLOW_AFTER:
        return None
    if known:
        return None
    last = db.execute(  # this address's own slot: a stranger slows only themselves
        "SELECT MAX(at) FROM login_attempts WHERE email = ? AND remote IS ? AND ok IN (?, ?) "
        "AND at > ?",
        [email, remote, WRONG, RESERVED, iso(now - ACCOUNT_WINDOW)],
    ).fetchone()[0]
    if last is None:
        return None
    until = parse_iso(last) + ACCOUNT_SLOW_INTERVAL
    return until if now < until else None


def _warn_if_under_attack(db: Database, email: str, now: dt.datetime) -> None:
    """One line for the administrator when an account is being tried from many places
    (no e-mail, no address: the audit log has them)."""
    failures, addresses = db.execute(
        "SELECT COUNT(*), COUNT(DISTINCT remote) FROM login_attempts WHERE email = ? "
        "AND ok = ? AND at > ?",
        [email, WRONG, iso(now - ACCOUNT_WINDOW)],
    ).fetchone()
    if failures == ACCOUNT_SLOW_AFTER or (failures and failures % (ACCOUNT_SLOW_AFTER * 10) == 0):
        log.warning(
            "%d failed logins on one staff account in the last hour, from %d client "
            "addresses: password checks slowed to one every %d s per new address; "
            "the audit log (Accesso non riuscito) says which account",
            failures,
            addresses,
            int(ACCOUNT_SLOW_INTERVAL.total_seconds()),
        )


def _dummy_hash() -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hashes[key]


def _lock_end(rows: list[Any], limit: int, now: dt.datetime) -> dt.datetime | None:
    """The end of a lock set by `limit` failures within WINDOW, among `rows` (their `at`)."""
    failures = sorted(parse_iso(r[0]) for r in rows)
    if len(failures) < limit:
        return None
    last = failures[-1]
    recent = [f for f in failures if f > last - WINDOW]
    if len(recent) < limit:
        return None
    until = last + LOCKOUT
    return until if now < until else None


def locked_until(
    db: Database, email: str, now: dt.datetime, remote: str | None = None
) -> dt.datetime | None:
    """When this client address may try this e-mail again, or None if it may now.

    Locks are per client address: MAX_FAILURES failures for one e-mail from one address
    (since that address last logged in to it), or MAX_ADDRESS_FAILURES failures from one
    address whatever the e-mails, within WINDOW, lock that address for LOCKOUT after the
    last failure. Someone else's failures never lock the real user out."""
    email = normalise_email(email)
    since = db.execute(
        "SELECT COALESCE(MAX(id), 0) FROM login_attempts WHERE email = ? AND remote IS ? "
        "AND ok = 1",
        [email, remote],
    ).fetchone()[0]
    horizon = iso(now - WINDOW - LOCKOUT)
    pair = db.execute(
        "SELECT at FROM login_attempts WHERE email = ? AND remote IS ? AND ok = 0 AND id > ? "
        "AND at > ? ORDER BY id DESC LIMIT 50",
        [email, remote, since, horizon],
    ).fetchall()
    address = db.execute(
        "SELECT at FROM login_attempts WHERE remote IS ? AND ok = 0 AND at > ? "
        "ORDER BY id DESC LIMIT 200",
        [remote, horizon],
    ).fetchall()
    ends = [
        e
        for e in (
            _lock_end(pair, MAX_FAILURES, now),
            _lock_end(address, MAX_ADDRESS_FAILURES, now),
        )
        if e is not None
    ]
    return max(ends) if ends else None


def _reserve(
    db: Database,
    email: str,
    now: dt.datetime,
    remote: str | None,
    *,
    record_busy: bool = True,
    device: str | None = None,
) -> Login | int:
    """Before the password is looked at, in one write transaction: refuse (the attempt is
    recorded) when locked or when another attempt on this e-mail is being verified, else
    reserve this one and return its row id. So 100 requests at once verify one password.
    With `record_busy` False, a "busy" answer writes nothing (the caller waits and asks
    again). An account whose day of failures is spent refuses places that never logged
    in to it (`storage.lockout`; `device`: the token of the browser's device cookie)."""
    conn = db.conn
    if conn.in_transaction:
        conn.commit()
    conn.execute("BEGIN IMMEDIATE")
    try:
        until = locked_until(db, email, now, remote)
        known = lockout.device_known(db, email, device, now) or lockout.address_known(
            db, email, remote
        )
        closed = None if until is not None or known else lockout.closed_until(db, email, now)
        slowed = (
            None
            if until is not None or closed is not None
            else _account_slowed(db, email, remote, now, known)
        )
        busy = conn.execute(
            "SELECT 1 FROM login_attempts WHERE email = ? AND ok = ? AND at > ? LIMIT 1",
            [email, RESERVED, iso(now - RESERVATION)],
        ).fetchone()
        refused = until is not None or closed is not None or slowed is not None
        ok = REFUSED if refused or busy else RESERVED
        cursor = None
        if refused or not busy or record_busy:
            cursor = conn.execute(
                "INSERT INTO login_attempts (email, ok, at, remote) VALUES (?, ?, ?, ?)",
                [email, ok, iso(now), remote],
            )
        if cursor is not None and (cursor.lastrowid or 0) % 100 == 0:  # now and then
            conn.execute(  # a successful login is kept longer: its address is known
                "DELETE FROM login_attempts WHERE (at < ? AND ok != ?) OR at < ?",
                [iso(now - ATTEMPTS_KEPT), RIGHT, iso(now - KNOWN_KEPT)],
            )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    if until is not None:
        return Login(None, "locked", until)
    if closed is not None:
        return Login(None, "closed", closed)
    if slowed is not None:
        return Login(None, "slowed", slowed)
    if busy or cursor is None:
        return Login(None, "busy")
    return int(cursor.lastrowid or 0)


def _stored_hash(db: Database, email: str) -> tuple[dict[str, Any] | None, str]:
    """The account row (None for an unknown e-mail) and the hash to verify against: an
    unknown e-mail costs the same work as a known one."""
    rows = list(db.query("SELECT * FROM staff WHERE email = ?", [email])) if email else []
    row = rows[0] if rows else None
    return row, (row["password_hash"] if row else _dummy_hash())


def _matches(stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _settle(
    db: Database,
    attempt: int,
    row: dict[str, Any] | None,
    matched: bool,
    password: str,
    now: dt.datetime,
) -> Login:
    right = matched and row is not None and bool(row["active"])
    with db.atomic():
        db.execute(
            "UPDATE login_attempts SET ok = ? WHERE id = ?", [RIGHT if right else WRONG, attempt]
        )
        if right and row is not None and hasher.check_needs_rehash(row["password_hash"]):
            db.table("staff").update(row["id"], {"password_hash": hasher.hash(password)})
    if right and row is not None:
        return Login(_staff(row))
    found = db.execute(
        "SELECT email, remote FROM login_attempts WHERE id = ?", [attempt]
    ).fetchone()
    if found and row is not None:  # a real account: the administrator is told
        _warn_if_under_attack(db, found[0], now)
        lockout.warn_if_closed(db, found[0], now)
    until = locked_until(db, found[0], now, found[1]) if found else None
    return Login(None, "locked", until) if until is not None else Login(None, "wrong")


def attempt_login(
    db: Database,
    email: str,
    password: str,
    now: dt.datetime,
    remote: str | None,
    device: str | None = None,
) -> Login:
    """One login attempt, recorded: reserved, verified (argon2), settled. `device`: the
    token of the browser's device cookie, if any."""
    email = normalise_email(email)[:320]
    remote = client_key(remote)
    reserved = _reserve(db, email, now, remote, device=device)
    if isinstance(reserved, Login):
        return reserved
    try:
        row, stored = _stored_hash(db, email)
        matched = _matches(stored, password)
    except BaseException:
        _settle(db, reserved, None, False, password, now)
        raise
    return _settle(db, reserved, row, matched, password, now)


async def attempt_login_async(
    db: Database,
    email: str,
    password: str,
    now: dt.datetime,
    remote: str | None,
    device: str | None = None,
) -> Login:
    """`attempt_login` for a web server: the argon2 work (a third of a second) runs in a
    worker thread, the database is used only from the caller's thread (SQLite
    connections stay in the thread that opened them). The reservation is taken before
    the first await, so concurrent requests see it."""
    email = normalise_email(email)[:320]
    remote = client_key(remote)
    lock = _email_locks.setdefault(email, asyncio.Lock())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BUSY_WAIT
    try:  # in turn behind the attempts on this e-mail already running here (FIFO)
        await asyncio.wait_for(lock.acquire(), BUSY_WAIT)
    except TimeoutError:
        return Login(None, "busy")
    try:
        while True:  # another process may be verifying: wait for it, a little at a time
            reserved = _reserve(db, email, now, remote, record_busy=False, device=device)
            if not (isinstance(reserved, Login) and reserved.refused == "busy"):
                break
            if loop.time() > deadline:
                return reserved
            await asyncio.sleep(0.05)
        if isinstance(reserved, Login):
            return reserved
        return await _verify_async(db, reserved, email, password, now)
    finally:
        lock.release()


async def _verify_async(
    db: Database, reserved: int, email: str, password: str, now: dt.datetime
) -> Login:
    matched = False
    row: dict[str, Any] | None = None
    try:
        row, stored = _stored_hash(db, email)
        matched = await asyncio.to_thread(_matches, stored, password)
    finally:
        result = _settle(db, reserved, row, matched, password, now)
    return result


def verify_login(
    db: Database, email: str, password: str, now: dt.datetime, remote: str | None
) -> Staff | None:
    """The staff member if the e-mail and password are right and this address is not
    locked out (see `locked_until`); None otherwise. Every attempt is recorded."""
    return attempt_login(db, email, password, now, remote).staff


async def verify_login_async(
    db: Database, email: str, password: str, now: dt.datetime, remote: str | None
) -> Staff | None:
    return (await attempt_login_async(db, email, password, now, remote)).staff


# -- sessions --------------------------------------------------------------------------


def create_session(db: Database, staff_id: int, now: dt.datetime) -> tuple[str, str]:
    """A new session: returns (the cookie token, the CSRF token of its forms). Expired
    sessions of anyone are cleared on the way (after `ENDED_KEPT`: see `session_owner`)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with db.atomic():
        db.execute("DELETE FROM staff_sessions WHERE expires_at <= ?", [iso(now - ENDED_KEPT)])
        db.table("staff_sessions").insert(
            {
                "token_hash": token_hash(token),
                "staff_id": staff_id,
                "csrf": csrf,
                "created_at": iso(now),
                "expires_at": iso(now + dt.timedelta(hours=SESSION_HOURS)),
            }
        )
    return token, csrf


# An ended session's row stays this long (it opens nothing): a form sent just after the
# end is kept as a draft for the same staff member (`session_owner`, `storage.drafts`).
ENDED_KEPT = dt.timedelta(hours=1)


def session_owner(db: Database, token: str | None, now: dt.datetime) -> int | None:
    """The staff id of this cookie's session, live or ended less than `ENDED_KEPT` ago;
    None for a cookie that is not one of ours."""
    if not token or len(token) > 200:
        return None
    row = db.execute(
        "SELECT staff_id, expires_at FROM staff_sessions WHERE token_hash = ?", [token_hash(token)]
    ).fetchone()
    if row is None or now >= parse_iso(row[1]) + ENDED_KEPT:
        return None
    return int(row[0])


def session_for(db: Database, token: str | None, now: dt.datetime) -> Session | None:
    """The live session of this cookie token (its staff member active), or None."""
    if not token or len(token) > 200:
        return None
    digest = token_hash(token)
    rows = list(db.query("SELECT * FROM staff_sessions WHERE token_hash = ?", [digest]))
    if not rows:
        return None
    expires = parse_iso(rows[0]["expires_at"])
    if now >= expires:
        if now >= expires + ENDED_KEPT:
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
        "UPDATE staff_sessions SET expires_at = ? WHERE token_hash = ?", [iso(until), token_hash]
    )
    return until
