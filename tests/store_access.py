"""Direct access to a test's store, whichever it is: the SQLite file under the test's
JARVIS_HOME, or the PostgreSQL team store JARVIS_STORE_URL names (`store_backend`).

Tests read rows to check what jarvis recorded, and plant rows (a stale reservation,
an old call) that the CLI cannot make. Rows support both r[0] and r["column"].
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


class Row(tuple[Any, ...]):
    names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names.index(key))
        return tuple.__getitem__(self, key)

    def keys(self) -> tuple[str, ...]:
        return self.names


def _row(names: tuple[str, ...], values: Sequence[Any]) -> Row:
    row = Row(values)
    row.names = names
    return row


def _pg_url() -> str | None:
    return os.environ.get("JARVIS_STORE_URL") or None


def query(home: Path, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    """Rows of `sql` (SQLite placeholders) from the test's store."""
    url = _pg_url()
    if url is not None:
        import psycopg

        from jarvis_cli.core.store.pg import translate

        with psycopg.connect(url, autocommit=True) as conn:
            cursor = conn.execute(translate(sql), tuple(params))  # type: ignore[arg-type]
            names = tuple(d.name for d in cursor.description or ())
            return [_row(names, r) for r in cursor.fetchall()]
    conn = sqlite3.connect(home / "jarvis.db")
    try:
        cursor = conn.execute(sql, tuple(params))
        names = tuple(d[0] for d in cursor.description or ())
        return [_row(names, r) for r in cursor.fetchall()]
    finally:
        conn.close()


def execute(home: Path, sql: str, rows: Iterable[Sequence[Any]] = ((),)) -> None:
    """Run `sql` once per parameter row in one committed transaction."""
    url = _pg_url()
    if url is not None:
        import psycopg

        from jarvis_cli.core.store.pg import translate

        with psycopg.connect(url) as conn:  # commits on leaving the block
            for params in rows:
                conn.execute(translate(sql), tuple(params))  # type: ignore[arg-type]
        return
    conn = sqlite3.connect(home / "jarvis.db")
    try:
        conn.executemany(sql, rows)
        conn.commit()
    finally:
        conn.close()
