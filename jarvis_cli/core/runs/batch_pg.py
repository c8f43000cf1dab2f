"""How many store connections a batch may open on a PostgreSQL team store (issue 27).

Each batch worker has a store connection of its own; `--concurrency 128` on a default
server (`max_connections` 100, shared with the team) failed part-way with "too many
connections". Before the workers start, the server, the database and the role are
asked how many connections they have free, and the workers are capped to leave a
quarter of that (and the batch's own writer connection) to everyone else.
"""

from __future__ import annotations

from jarvis_cli.core.store.connection import Connection, is_postgres

_FREE_SQL = """
SELECT
  current_setting('max_connections')::int
    - current_setting('superuser_reserved_connections')::int
    - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
  (SELECT datconnlimit FROM pg_database WHERE datname = current_database()),
  (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()),
  (SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user),
  (SELECT count(*) FROM pg_stat_activity WHERE usename = current_user)
"""


def free_connections(conn: Connection) -> int | None:
    """Connections this user may still open to this database; None when not PostgreSQL."""
    if not is_postgres(conn):
        return None
    row = conn.execute(_FREE_SQL).fetchone()
    server_free, db_limit, db_used, role_limit, role_used = (int(v) for v in row)
    free = server_free
    if db_limit >= 0:
        free = min(free, db_limit - db_used)
    if role_limit >= 0:
        free = min(free, role_limit - role_used)
    return max(0, free)


def worker_cap(conn: Connection, concurrency: int) -> int | None:
    """The concurrency the store allows (None: no cap needed or not PostgreSQL)."""
    free = free_connections(conn)
    if free is None:
        return None
    cap = max(1, free * 3 // 4 - 1)  # a quarter for the team; one for the batch's writer
    return cap if cap < concurrency else None
