"""Derived data kept in the store: change counters and snapshots keyed on them.

Triggers bump `data_versions` on every change of `models` or `model_stats`
(migration 3), so a snapshot built at one version is never used after a change,
whoever made it.
"""

from __future__ import annotations

from jarvis_cli.core.store.connection import Connection
from jarvis_cli.core.store.database import write_transaction

# data_version of a table never written to (its migration inserts the counter at 1).
UNCHANGED = "1"


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


def current_snapshot(
    conn: Connection, name: str, *tables: str, prefix: str | None = None
) -> tuple[str, bytes | None]:
    """`data_version(conn, *tables)` (after `prefix:` when given) and the snapshot `name`
    if it was built at that version, in one round trip (issue 28: a team store pays one
    per statement)."""
    rows = conn.execute(
        "SELECT name, CAST(version AS TEXT), NULL FROM data_versions "
        "UNION ALL SELECT NULL, version, data FROM snapshots WHERE name = ?",
        (name,),
    ).fetchall()
    found = {str(r[0]): str(r[1]) for r in rows if r[0] is not None}
    version = ":".join(found[t] for t in tables)
    if prefix is not None:
        version = f"{prefix}:{version}"
    stored = next((r for r in rows if r[0] is None), None)
    if stored is None or stored[1] != version or stored[2] is None:
        return version, None
    return version, bytes(stored[2])


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
