"""The one store interface the core uses: a DB-API connection, SQLite's dialect.

Every module of the core talks to the store through `Connection`: `execute` and
`executemany` with `?` (or `:name`) placeholders, rows as tuples, explicit
transactions (`BEGIN IMMEDIATE` for a write, `BEGIN` for consistent reads, then
`COMMIT`/`ROLLBACK`), `in_transaction`, and sqlite3's exception classes. An
`sqlite3.Connection` is one as it is; `store/pg.py` adapts a psycopg connection to
it, so the SQL written once runs on both. The few statements that cannot be
written for both (full-text search, a JSON list parameter, the on-disk size of
text) ask `is_postgres(conn)` and say which form is which.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

# The largest INTEGER SQLite and PostgreSQL's bigint hold: a row limit past it (`-n 1e20`)
# is an OverflowError or a datatype mismatch, where it means "all of them".
MAX_ROW_LIMIT = 2**63 - 1


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...

    def close(self) -> None: ...


def is_postgres(conn: Connection) -> bool:
    """Whether `conn` is a PostgreSQL store's connection (else SQLite)."""
    return getattr(conn, "dialect", "sqlite") == "postgresql"


class StoreHandle(Protocol):
    """An open store, SQLite (`database.Store`) or PostgreSQL (`pg.PgStore`)."""

    @property
    def conn(self) -> Connection: ...

    @property
    def location(self) -> str:
        """Where the store is, safe to show: a path, or a URL without its password."""
        ...

    @property
    def migrated_from(self) -> int | None:
        """The schema version this process found and migrated from (0: a new store),
        or None when it was already current."""
        ...

    def write(self, lock: str | None = None) -> AbstractContextManager[Connection]: ...

    def schema_version(self) -> int: ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, conn: Connection, key: str, value: str) -> None: ...

    def close(self) -> None: ...


class StoreQueries:
    """The few queries both stores answer the same way (mixed into `database.Store`
    and `pg.PgStore`, which set `conn`)."""

    conn: Connection

    def schema_version(self) -> int:
        row = self.conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, conn: Connection, key: str, value: str) -> None:
        """Set a meta value inside the caller's write transaction."""
        conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
