"""Derived data kept in the store: change counters and snapshots keyed on them.

Triggers bump `data_versions` on every change of `models` or `model_stats`
(migration 3), so a snapshot built at one version is never used after a change,
whoever made it.
"""

from __future__ import annotations

from jarvis_cli.core.store.connection import Connection
from jarvis_cli.core.store.database import write_transaction


def data_version(conn: Connection, *tables: str) -> str:
    """The change counters of `tables` ("models", "model_stats") as one string."""
    found = dict(conn.execute("SELECT name, version FROM data_versions").fetchall())
    return ":".join(str(found[t]) for t in tables)


def load_snapshot(conn: Connection, name: str, version: str) -> bytes | None:
    """The snapshot `name` if it was built at `version`, else None."""
    row = conn.execute(
        "SELECT data FROM snapshots WHERE name = ? AND version = ?", (name, version)
    ).fetchone()
    return None if row is None else bytes(row[0])


def save_snapshot(conn: Connection, name: str, version: str, data: bytes) -> None:
    """Store a snapshot in its own write transaction (or not at all inside a caller's)."""
    if conn.in_transaction:
        return
    with write_transaction(conn):
        conn.execute(
            "INSERT INTO snapshots(name, version, data) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET version = excluded.version, data = excluded.data",
            (name, version, data),
        )
