"""An operator manages back-office accounts from the command line."""

from __future__ import annotations

import datetime as dt
import io
import stat
from pathlib import Path

from bot.cli import main
from storage import staff
from storage.db import open_db


def run(args: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, out=out, err=err, stdin=io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


def test_someone_who_left_is_disabled_and_a_forgotten_password_is_reset(
    monkeypatch, tmp_path: Path
):
    monkeypatch.setenv("SPORTELLO_DATA_DIR", str(tmp_path))
    now = dt.datetime.now(dt.UTC)
    code, out, _ = run(
        ["staff", "add", "Anna@Comune.it", "--comune", "Opera", "--password-stdin"],
        "una password lunga\n",
    )
    assert code == 0 and str(tmp_path / "sportello.sqlite3") in out
    db = open_db(tmp_path / "sportello.sqlite3")
    assert staff.verify_login(db, "anna@comune.it", "una password lunga", now, None)
    assert run(["staff", "disable", "anna@comune.it"])[0] == 0
    assert not staff.verify_login(db, "anna@comune.it", "una password lunga", now, None)
    assert "disabled" in run(["staff", "list"])[1]
    assert run(["staff", "enable", "anna@comune.it"])[0] == 0
    code, _, err = run(["staff", "password", "anna@comune.it", "--password-stdin"], "corta\n")
    assert code == 2 and "12" in err
    code, _, _ = run(
        ["staff", "password", "anna@comune.it", "--password-stdin"], "un'altra password lunga\n"
    )
    assert code == 0
    assert staff.verify_login(db, "anna@comune.it", "un'altra password lunga", now, None)
    assert run(["staff", "disable", "nessuno@comune.it"])[0] == 2
    # the database holds personal data: readable by its owner only
    assert stat.S_IMODE((tmp_path / "sportello.sqlite3").stat().st_mode) == 0o600
