"""The SQLite store: what the program writes (keys, models, calls, events).

WAL mode, a generous busy timeout and `BEGIN IMMEDIATE` for every write, so that
many jarvis processes can write at once without "database is locked". The file is
created 0600 *before* SQLite opens it, so the -wal and -shm files SQLite creates
next to it inherit that mode. Schema changes are small ordered functions recorded
in `schema_migrations`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jarvis_cli.core.errors import StoreError
from jarvis_cli.core.store.connection import Connection, StoreQueries
from jarvis_cli.core.store.files import check_not_exposed, create_private_file, ensure_private_dir
from jarvis_cli.core.store.migrations import MIGRATIONS, SCHEMA_VERSION

SQLITE_MAGIC = b"SQLite format 3\x00"
# One lock per store file for this process's writers (a batch's worker threads each
# have a connection): they queue here and hand over at once, instead of meeting in
# SQLite's busy handler, which sleeps in steps of up to 100 ms. Other processes are
# still serialized by BEGIN IMMEDIATE and busy_timeout.
_WRITERS: dict[str, threading.Lock] = {}
_WRITERS_LOCK = threading.Lock()


def _writer_lock(path: Path) -> threading.Lock:
    key = str(path)
    with _WRITERS_LOCK:
        return _WRITERS.setdefault(key, threading.Lock())


BUSY_TIMEOUT_MS = 30_000


@contextmanager
def write_transaction(conn: Connection) -> Iterator[Connection]:
    """A write transaction taken with BEGIN IMMEDIATE: commit on success, else roll back."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def consistent_reads(conn: Connection) -> Iterator[Connection]:
    """One consistent view of the store for several reads (a deferred transaction;
    inside a caller's transaction, that one)."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


class Store(StoreQueries):
    """An open jarvis.db. Use `Store.open(path)`; writes go through `write()`."""

    conn: sqlite3.Connection

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self._writers = _writer_lock(path)
        self.migrated_from: int | None = None

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (creating if needed) the store at `path` and bring its schema up to date."""
        ensure_private_dir(path.parent)
        with _WRITERS_LOCK:
            opened_before = str(path) in _WRITERS
        if not opened_before:
            # Both open and close the file. Closing any descriptor of a file drops every
            # POSIX lock this process holds on it, so once this process has SQLite
            # connections to it (a server's or a batch's threads open theirs as they
            # start), doing so would silently unlock them: another process could then
            # checkpoint and reset the WAL under them, and their commits were lost.
            _check_is_sqlite(path)
        check_not_exposed(path, "store")
        if not opened_before:
            create_private_file(path)
        try:
            # A connection is used by one thread at a time (a batch gives each worker its
            # own), but may be closed by the thread that made the workers.
            conn = sqlite3.connect(
                path,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {path}: {exc}") from None
        store = cls(path, conn)
        try:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            tables = store._check_is_jarvis_store()  # before WAL: that would write the header
            store._enable_wal()
            conn.execute("PRAGMA synchronous=NORMAL")
            store._migrate(tables)
        except StoreError:
            conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(
                f"store {path} is not a usable jarvis database: {exc}",
                hint="move the file aside (jarvis will create a new store) or restore a backup",
            ) from None
        return store

    @property
    def location(self) -> str:
        return str(self.path)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def write(self, lock: str | None = None) -> Iterator[Connection]:
        """A write transaction taken with BEGIN IMMEDIATE: commit on success, else roll back.

        `lock` names a check-then-write that must be atomic across processes (e.g.
        "budget"). SQLite needs nothing more: BEGIN IMMEDIATE already serializes every
        writer, and reads inside the transaction see the latest commit.
        """
        del lock
        with self._writers, write_transaction(self.conn) as conn:
            yield conn

    def _enable_wal(self) -> None:
        # Switching to WAL needs a moment of exclusive access; when many processes
        # open a new store at once, some see SQLITE_BUSY here despite busy_timeout.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _check_is_jarvis_store(self) -> set[str]:
        tables = {
            r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if tables and "schema_migrations" not in tables:
            raise StoreError(
                f"{self.path} is an SQLite database but not a jarvis store "
                f"(it has tables: {', '.join(sorted(tables)[:5])}); it was left untouched",
                hint="point JARVIS_HOME elsewhere or move the file aside",
            )
        return tables

    def _migrate(self, tables: set[str]) -> None:
        version = self.schema_version() if tables else 0
        if version >= SCHEMA_VERSION:
            self._check_not_newer(version)
            return
        conn = self.conn
        with self._writers, write_transaction(conn):
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
            )
            current = self.schema_version()  # re-read: another process may have migrated
            if current < SCHEMA_VERSION:
                self.migrated_from = current
            for version, (name, migration) in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                migration(conn)
                conn.execute(
                    "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, time.time()),
                )

    def _check_not_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path} has schema version {version}, newer than this jarvis "
                f"understands ({SCHEMA_VERSION})",
                hint="upgrade jarvis",
            )


def _check_is_sqlite(path: Path) -> None:
    """Refuse, without touching it, a non-empty file that is not an SQLite database."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise StoreError(f"store path {path} is a directory") from None
    except OSError as exc:
        raise StoreError(f"cannot read store {path}: {exc.strerror}") from None
    if head and head != SQLITE_MAGIC:
        raise StoreError(
            f"{path} is not a jarvis store (not an SQLite database); it was left untouched",
            hint="point JARVIS_HOME elsewhere or move the file aside",
        )
