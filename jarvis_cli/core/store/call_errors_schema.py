"""Issue 27's migration: `calls.error_message`, the provider's own reason for a failed
attempt (redacted, whole), which `jarvis log show` and `--json` show; messages carry it
cut short. Kept here so migrations.py stays under 400 lines."""

from __future__ import annotations

import sqlite3

SQL = "ALTER TABLE calls ADD COLUMN error_message TEXT;"
POSTGRES = SQL


def migrate(conn: sqlite3.Connection) -> None:
    """The SQLite migration (inside the caller's transaction)."""
    conn.execute(SQL)
