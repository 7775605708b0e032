"""Small helpers over sqlite-utils' tables."""

from __future__ import annotations

from sqlite_utils.db import Table


def last_id(table: Table) -> int:
    """The integer primary key of the row `table` has just inserted."""
    if not isinstance(table.last_pk, int):
        raise RuntimeError(f"{table.name}: no row inserted")
    return table.last_pk
