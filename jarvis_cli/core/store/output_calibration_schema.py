"""Issue 23's output calibration (migration 14): per model, how many answered attempts
had a limit sent and billed completion tokens, and the most completion tokens billed past
the limit sent (core/selection/calibration.py). Reservations add it, with a margin, to
the limit when it exceeds the rule's allowance. Kept here so migrations.py stays under
400 lines."""

from __future__ import annotations

import sqlite3

SQL = (
    "ALTER TABLE token_calibration ADD COLUMN output_n INTEGER NOT NULL DEFAULT 0;",
    "ALTER TABLE token_calibration ADD COLUMN output_overshoot INTEGER NOT NULL DEFAULT 0;",
)
POSTGRES = "\n".join(SQL)


def migrate(conn: sqlite3.Connection) -> None:
    """The SQLite migration (inside the caller's transaction)."""
    for statement in SQL:
        conn.execute(statement)
