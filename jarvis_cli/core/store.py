"""The SQLite store: what the program writes (keys, models, calls, events).

WAL mode, a generous busy timeout and `BEGIN IMMEDIATE` for every write, so that
many jarvis processes can write at once without "database is locked". The file is
created 0600 *before* SQLite opens it, so the -wal and -shm files SQLite creates
next to it inherit that mode. Schema changes are small ordered functions recorded
in `schema_migrations`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from jarvis_cli.core.errors import StoreError
from jarvis_cli.core.files import check_not_exposed, create_private_file, ensure_private_dir

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000


def _execute_script(conn: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the caller's transaction.

    (`executescript` would COMMIT the open BEGIN IMMEDIATE first, so a crash or a
    concurrent opener could see a half-migrated store.)
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement.strip()[:60]}")


def _m1_initial(conn: sqlite3.Connection) -> None:
    _execute_script(
        conn,
        """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE api_keys(
            provider TEXT NOT NULL,
            label TEXT NOT NULL,
            key_id TEXT NOT NULL,           -- id of the master key that sealed it
            nonce BLOB NOT NULL,
            ciphertext BLOB NOT NULL,       -- AES-256-GCM ciphertext || tag
            fingerprint TEXT NOT NULL,      -- display form, e.g. sk-...abcd
            created REAL NOT NULL,          -- unix time
            updated REAL NOT NULL,
            last_used REAL,
            usage_count INTEGER NOT NULL DEFAULT 0,
            rotation_count INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'active',
            PRIMARY KEY (provider, label)
        );

        CREATE TABLE key_events(
            id INTEGER PRIMARY KEY,
            provider TEXT NOT NULL,
            label TEXT NOT NULL,
            event TEXT NOT NULL,            -- added, rotated, deleted, validated, ...
            at REAL NOT NULL,
            detail TEXT                     -- never a key value
        );
        CREATE INDEX key_events_provider ON key_events(provider, at);

        CREATE TABLE models(
            id TEXT PRIMARY KEY,            -- provider/name
            provider TEXT NOT NULL,
            name TEXT NOT NULL,
            type TEXT,                      -- chat, completion, embedding; NULL = unknown
            cap_completion INTEGER,         -- capability flags: 1, 0, NULL = unknown
            cap_chat INTEGER,
            cap_embeddings INTEGER,
            cap_function_calling INTEGER,
            cap_vision INTEGER,
            cap_audio INTEGER,
            context_length INTEGER,
            max_output_tokens INTEGER,
            input_cost_per_mtok REAL,       -- USD per million tokens; NULL = unknown
            output_cost_per_mtok REAL,
            quality REAL,                   -- 0..1, optional
            status TEXT NOT NULL DEFAULT 'active',   -- active, unavailable
            source TEXT NOT NULL,           -- catalog, sync, user, import
            synced_at REAL,
            overrides TEXT                  -- JSON object of user-set fields (models set)
        );
        CREATE INDEX models_provider ON models(provider);

        CREATE TABLE calls(
            id INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL,
            at REAL NOT NULL,               -- unix time the attempt started
            model_id TEXT NOT NULL,
            provider TEXT NOT NULL,
            kind TEXT NOT NULL,             -- chat, completion, embedding
            attempt INTEGER NOT NULL,
            ok INTEGER NOT NULL,
            error_class TEXT,
            status_code INTEGER,
            latency_ms REAL,
            ttft_ms REAL,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            cost_usd REAL
        );
        CREATE INDEX calls_model_at ON calls(model_id, at);
        CREATE INDEX calls_at ON calls(at);
        """,
    )


def _m2_model_stats(conn: sqlite3.Connection) -> None:
    # A cache of PerformanceMonitor aggregates for the configured selection window,
    # refreshed incrementally (core/metrics.py): recomputing percentiles over every
    # call row at each selection costs seconds at 100,000 rows.
    _execute_script(
        conn,
        """
        CREATE TABLE model_stats(
            model_id TEXT PRIMARY KEY,
            calls INTEGER NOT NULL,
            successes INTEGER NOT NULL,
            last_at REAL,
            oldest_at REAL,                 -- oldest attempt in the window sample
            latency_p50_ms REAL,
            latency_p95_ms REAL,
            ttft_p50_ms REAL
        );
        """,
    )


def _m3_snapshots(conn: sqlite3.Connection) -> None:
    # Selection scans every model and its metrics; reading 10,000 rows of each costs
    # more than the whole selection may. `snapshots` keeps derived forms of tables
    # (core/model_table.py: the registry and the metrics as columns), each valid
    # while its version matches `data_versions`, which every change to the source
    # table bumps. The oldest_at index makes the metrics cache's "has a sample aged
    # out of the window?" check a lookup instead of a scan.
    _execute_script(
        conn,
        """
        CREATE TABLE data_versions(name TEXT PRIMARY KEY, version INTEGER NOT NULL);
        INSERT INTO data_versions(name, version) VALUES ('models', 1), ('model_stats', 1);
        CREATE TRIGGER models_insert_version AFTER INSERT ON models
        BEGIN UPDATE data_versions SET version = version + 1 WHERE name = 'models'; END;
        CREATE TRIGGER models_update_version AFTER UPDATE ON models
        BEGIN UPDATE data_versions SET version = version + 1 WHERE name = 'models'; END;
        CREATE TRIGGER models_delete_version AFTER DELETE ON models
        BEGIN UPDATE data_versions SET version = version + 1 WHERE name = 'models'; END;
        CREATE TRIGGER model_stats_insert_version AFTER INSERT ON model_stats
        BEGIN UPDATE data_versions SET version = version + 1 WHERE name = 'model_stats'; END;
        CREATE TRIGGER model_stats_update_version AFTER UPDATE ON model_stats
        BEGIN UPDATE data_versions SET version = version + 1 WHERE name = 'model_stats'; END;
        CREATE TRIGGER model_stats_delete_version AFTER DELETE ON model_stats
        BEGIN UPDATE data_versions SET version = version + 1 WHERE name = 'model_stats'; END;

        CREATE TABLE snapshots(
            name TEXT PRIMARY KEY,
            version TEXT NOT NULL,          -- the data_versions it was built from
            data BLOB NOT NULL
        );
        CREATE INDEX model_stats_oldest ON model_stats(oldest_at);
        """,
    )


def data_version(conn: sqlite3.Connection, *tables: str) -> str:
    """The change counters of `tables` ("models", "model_stats") as one string."""
    found = dict(conn.execute("SELECT name, version FROM data_versions").fetchall())
    return ":".join(str(found[t]) for t in tables)


def load_snapshot(conn: sqlite3.Connection, name: str, version: str) -> bytes | None:
    """The snapshot `name` if it was built at `version`, else None."""
    row = conn.execute(
        "SELECT data FROM snapshots WHERE name = ? AND version = ?", (name, version)
    ).fetchone()
    return None if row is None else bytes(row[0])


def save_snapshot(conn: sqlite3.Connection, name: str, version: str, data: bytes) -> None:
    """Store a snapshot in its own write transaction (or not at all inside a caller's)."""
    if conn.in_transaction:
        return
    with write_transaction(conn):
        conn.execute(
            "INSERT INTO snapshots(name, version, data) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET version = excluded.version, data = excluded.data",
            (name, version, data),
        )


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction taken with BEGIN IMMEDIATE: commit on success, else roll back."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def consistent_reads(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
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


Migration = Callable[[sqlite3.Connection], None]

# Ordered; append only. The version of a migration is its 1-based position.
MIGRATIONS: list[tuple[str, Migration]] = [
    ("initial schema", _m1_initial),
    ("model_stats cache of selection metrics", _m2_model_stats),
    ("snapshots: columnar registry and metrics for selection", _m3_snapshots),
]

SCHEMA_VERSION = len(MIGRATIONS)


class Store:
    """An open jarvis.db. Use `Store.open(path)`; writes go through `write()`."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (creating if needed) the store at `path` and bring its schema up to date."""
        ensure_private_dir(path.parent)
        _check_is_sqlite(path)
        check_not_exposed(path, "store")
        create_private_file(path)
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
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

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken with BEGIN IMMEDIATE: commit on success, else roll back."""
        with write_transaction(self.conn) as conn:
            yield conn

    def schema_version(self) -> int:
        row = self.conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        """Set a meta value inside the caller's write transaction."""
        conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

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
        if tables and self.schema_version() >= SCHEMA_VERSION:
            self._check_not_newer()
            return
        with self.write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
            )
            current = self.schema_version()  # re-read: another process may have migrated
            for version, (name, migration) in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                migration(conn)
                conn.execute(
                    "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, time.time()),
                )

    def _check_not_newer(self) -> None:
        version = self.schema_version()
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
