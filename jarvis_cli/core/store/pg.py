"""The PostgreSQL store: a team's shared keys, budgets, attempts and registry.

`PgStore` is what `database.Store` is for a local file, over a libpq connection
(`store/libpq.py`) adapted to the store interface (`connection.Connection`): the
core's SQL, written once in SQLite's dialect with `?`/`:name` placeholders, runs
here as it is. What the adapter does:

- placeholders become libpq's (`$1`, `$2`, ...), translated once per statement;
- `BEGIN IMMEDIATE` (every write transaction) is `BEGIN` plus one transaction-level
  advisory lock that every jarvis writer of the database takes. Writers queue on it
  exactly as SQLite writers queue on its file lock, so each check-then-write (a
  budget reservation, the metrics cache's refresh, a key rotation) is atomic across
  every process of every machine; readers never wait;
- `BEGIN` (several reads that must agree) is a REPEATABLE READ transaction;
- booleans are sent as 0/1 and `numeric` results (a SUM of integers) come back as
  int or float, as SQLite gives them;
- the server's errors become sqlite3's classes (with the password scrubbed), which
  is what the core and the CLI already handle: a lost server is a store error, exit 3.

libpq is loaded only here, and this module only when a PostgreSQL URL is
configured (`Context.store`). psycopg itself is not imported (issue 28: its import
cost more than a whole `select` on SQLite); its binary wheel supplies libpq.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from jarvis_cli.core.errors import StoreError
from jarvis_cli.core.store.connection import Cursor, StoreQueries
from jarvis_cli.core.store.libpq import LibpqMissing, PqConnection, PqError
from jarvis_cli.core.store.migrations import MIGRATIONS, SCHEMA_VERSION
from jarvis_cli.core.store.pg_schema import PG_MIGRATIONS
from jarvis_cli.core.store.url import redact_url, scrub

CONNECT_TIMEOUT_S = 10
# The key of the advisory lock every write transaction takes (any fixed bigint; this
# one is "jarvis" in ASCII), and of the one that serializes schema migrations.
WRITE_LOCK = 0x6A6172766973
MIGRATE_LOCK = WRITE_LOCK + 1

_BEGIN_WRITE = f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
_BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ"


def translate(sql: str) -> str:
    """SQLite-style placeholders (`?`, `:name`) as psycopg's; a literal `%` doubled."""
    out: list[str] = []
    i, n = 0, len(sql)
    quoted = False
    while i < n:
        c = sql[i]
        if c == "'":
            quoted = not quoted
        elif c == "%":
            out.append("%%")
            i += 1
            continue
        elif not quoted and c == "?":
            out.append("%s")
            i += 1
            continue
        elif (
            not quoted
            and c == ":"
            and i + 1 < n
            and (sql[i + 1].isalpha() or sql[i + 1] == "_")
            and (i == 0 or sql[i - 1] != ":")
        ):
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            out.append(f"%({sql[i + 1 : j]})s")
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


_PSYCOPG_PLACEHOLDER = re.compile(r"%%|%s|%\((\w+)\)s")


def native(sql: str) -> tuple[str, tuple[str, ...] | None]:
    """`sql` with libpq's `$n` placeholders, and the parameter names in `$n` order
    (None for positional `?` parameters)."""
    names: list[str] = []
    positional = 0

    def number(match: re.Match[str]) -> str:
        nonlocal positional
        text = match.group(0)
        if text == "%%":
            return "%"
        if text == "%s":
            positional += 1
            return f"${positional}"
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    converted = _PSYCOPG_PLACEHOLDER.sub(number, translate(sql))
    if names and positional:
        raise ValueError(f"a statement mixes ? and :name placeholders: {sql[:80]}")
    return converted, tuple(names) if names else None


_TRANSLATED: dict[str, tuple[str, tuple[str, ...] | None]] = {}


def _statement(sql: str) -> tuple[str, tuple[str, ...] | None]:
    found = _TRANSLATED.get(sql)
    if found is None:
        found = _TRANSLATED[sql] = native(sql)
    return found


def _params(names: tuple[str, ...] | None, parameters: Any) -> Sequence[Any]:
    if names is not None:
        return tuple(parameters[name] for name in names)
    if isinstance(parameters, dict):
        return ()
    return tuple(parameters)


class PgConnection:
    """A libpq connection with `sqlite3.Connection`'s interface (see the module doc)."""

    dialect = "postgresql"

    def __init__(self, raw: PqConnection, url: str) -> None:
        self.raw = raw
        self.url = url

    @property
    def in_transaction(self) -> bool:
        return not self.raw.idle

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        idle = not self.in_transaction
        try:
            return self._execute(sql, parameters)
        except sqlite3.OperationalError:
            # A connection lost between transactions (a server restart, a proxy's idle
            # timeout, an admin's pg_terminate_backend): reconnect once and run the
            # statement again. Inside a transaction the server rolled it back; that is
            # the caller's error to see, never silently half-redone.
            if not (idle and self.raw.broken):
                raise
            self.raw = open_connection(self.url)
            return self._execute(sql, parameters)

    def _execute(self, sql: str, parameters: Any) -> Cursor:
        with self._errors():
            if sql == "BEGIN IMMEDIATE":
                return self.raw.execute(_BEGIN_WRITE)
            if sql == "BEGIN":
                return self.raw.execute(_BEGIN_READ)
            statement, names = _statement(sql)
            return self.raw.execute(statement, _params(names, parameters))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor:
        statement, names = _statement(sql)
        with self._errors():
            return self.raw.executemany(statement, (_params(names, p) for p in parameters))

    def close(self) -> None:
        self.raw.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except PqError as exc:
            raise as_sqlite_error(exc, self.url) from None


def open_connection(url: str) -> PqConnection:
    """A new autocommit connection to `url`; StoreError (exit 3) if there is none."""
    try:
        return PqConnection(url, connect_timeout=CONNECT_TIMEOUT_S, application_name="jarvis")
    except LibpqMissing:
        raise StoreError(
            f"the store {redact_url(url)} is on PostgreSQL, but libpq is not installed",
            hint="install jarvis with its postgres extra: pip install '.[postgres]' in "
            "jarvis's checkout (or unset JARVIS_STORE_URL / [store] url)",
        ) from None
    except PqError as exc:
        raise StoreError(
            f"cannot connect to the PostgreSQL store {redact_url(url)}: "
            f"{_first_line(scrub(str(exc), url))}",
            hint="check that the server is up and the URL (JARVIS_STORE_URL or "
            "[store] url) is right",
        ) from None


# SQLSTATE classes that psycopg reports as OperationalError (connection, resources, an
# operator's intervention, serialization failures, ...): sqlite3's OperationalError.
_OPERATIONAL = {"08", "27", "28", "2F", "38", "39", "3B", "40", "53", "54", "55", "57", "58"}
_OPERATIONAL |= {"F0", "HV"}


def as_sqlite_error(exc: PqError, url: str) -> sqlite3.Error:
    """The server's error as the sqlite3 class the core handles, password scrubbed."""
    message = scrub(str(exc).strip() or type(exc).__name__, url)
    state = exc.sqlstate or ""
    if state.startswith("23"):
        return sqlite3.IntegrityError(message)
    if exc.lost or state[:2] in _OPERATIONAL:
        return sqlite3.OperationalError(f"PostgreSQL store {redact_url(url)}: {message}")
    return sqlite3.DatabaseError(message)


# One lock per database for this process's writers (a batch's threads each have a
# connection), as for SQLite files: they queue here before queueing on the server.
_WRITERS: dict[str, threading.Lock] = {}
_WRITERS_LOCK = threading.Lock()


class PgStore(StoreQueries):
    """An open PostgreSQL store. Use `PgStore.connect(url)`; writes go through `write()`."""

    conn: PgConnection

    dialect = "postgresql"

    def __init__(self, url: str, conn: PgConnection) -> None:
        self.url = url
        self.conn = conn
        self.migrated_from: int | None = None
        with _WRITERS_LOCK:
            self._writers = _WRITERS.setdefault(redact_url(url), threading.Lock())

    @property
    def location(self) -> str:
        return redact_url(self.url)

    @classmethod
    def connect(cls, url: str) -> PgStore:
        """Connect to `url` and bring its schema up to date; StoreError (exit 3) if not."""
        raw = open_connection(url)
        store = cls(url, PgConnection(raw, url))
        try:
            store._migrate()
        except BaseException:
            raw.close()
            raise
        return store

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def write(self, lock: str | None = None) -> Iterator[PgConnection]:
        """A write transaction holding the writers' advisory lock: commit on success,
        else roll back. (`lock` names the check-then-write that needs it; every write
        takes the same lock, as every SQLite write takes the file's.)"""
        del lock
        conn = self.conn
        with self._writers:
            try:
                conn.execute("BEGIN IMMEDIATE")  # Ctrl-C may stop its wait for the lock
                yield conn
            except BaseException:
                if conn.in_transaction and not conn.raw.broken:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def tables(self) -> set[str]:
        rows = self.conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
        return {str(r[0]) for r in rows}

    def _found_version(self) -> int:
        """The schema version, in one round trip for an existing store (every command
        opens the store); only a database without `schema_migrations` is looked at
        further: empty (0, a new store) or someone else's (StoreError)."""
        try:
            with self.conn._errors():
                row = self.conn.raw.execute("SELECT max(version) FROM schema_migrations")
                return int(row.fetchone()[0] or 0)
        except sqlite3.DatabaseError:
            if self.conn.raw.broken:
                raise
        tables = self.tables()
        if tables and "schema_migrations" not in tables:
            raise StoreError(
                f"the database {self.location} is not a jarvis store (it has tables: "
                f"{', '.join(sorted(tables)[:5])}); it was left untouched",
                hint="give jarvis a database of its own",
            )
        return self.schema_version() if tables else 0

    def _migrate(self) -> None:
        version = self._found_version()
        if version >= SCHEMA_VERSION:
            self._check_not_newer(version)
            return
        raw = self.conn.raw
        with self._errors_as_store_error():
            raw.execute(f"BEGIN; SELECT pg_advisory_xact_lock({MIGRATE_LOCK})")
            try:
                raw.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations("
                    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                    "applied_at DOUBLE PRECISION NOT NULL)"
                )
                current = self.schema_version()  # re-read: another process may have migrated
                if current < SCHEMA_VERSION:
                    self.migrated_from = current
                for version, ((name, _), script) in enumerate(
                    zip(MIGRATIONS, PG_MIGRATIONS, strict=True), start=1
                ):
                    if version <= current:
                        continue
                    raw.execute(script)
                    raw.execute(
                        "INSERT INTO schema_migrations(version, name, applied_at) "
                        "VALUES ($1, $2, $3)",
                        (version, name, time.time()),
                    )
            except BaseException:
                if not raw.broken:
                    raw.execute("ROLLBACK")
                raise
            raw.execute("COMMIT")
        self._check_not_newer(current)

    @contextmanager
    def _errors_as_store_error(self) -> Iterator[None]:
        try:
            yield
        except (PqError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot prepare the PostgreSQL store {self.location}: "
                f"{_first_line(scrub(str(exc), self.url))}",
                hint="the database user needs CREATE on its schema; see `jarvis doctor`",
            ) from None

    def _check_not_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the PostgreSQL store {self.location} has schema version {version}, newer "
                f"than this jarvis understands ({SCHEMA_VERSION})",
                hint="upgrade jarvis on this machine to the version the team uses",
            )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
