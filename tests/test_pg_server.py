"""The test session's own PostgreSQL server (tests/pg_server.py) is real and isolates tests."""

from __future__ import annotations

import os

from tests.pg_server import PgServer


def test_pg_server_is_a_real_postgresql_on_loopback(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT version(), inet_server_addr()::text").fetchone()
    assert row is not None
    assert row[0].startswith("PostgreSQL ")
    assert row[1].startswith("127.0.0.1")


def test_each_test_gets_a_fresh_empty_database(pg_server: PgServer) -> None:
    import psycopg

    first = pg_server.fresh_database()
    second = pg_server.fresh_database()
    assert first != second
    try:
        with psycopg.connect(first) as conn:
            conn.execute("CREATE TABLE marker (x INTEGER)")
            conn.execute("INSERT INTO marker VALUES (1)")
        with psycopg.connect(second) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE tablename = 'marker'"
            ).fetchone()
        assert row == (0,)
    finally:
        pg_server.drop_database(first)
        pg_server.drop_database(second)


def test_pg_server_directory_is_private(pg_server: PgServer) -> None:
    assert pg_server.root.is_dir()
    assert os.stat(pg_server.root).st_mode & 0o077 == 0
