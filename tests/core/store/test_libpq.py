"""The team store's libpq client (issue 28) against a real PostgreSQL: values both
ways as psycopg gave them, placeholders, errors as sqlite3's classes, pipelined
executemany, a lost connection, and a missing libpq."""

from __future__ import annotations

import math
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator

import psycopg
import pytest

from jarvis_cli.core.errors import StoreError
from jarvis_cli.core.store import libpq, libpq_load
from jarvis_cli.core.store.pg import PgConnection, PgStore, native


@pytest.fixture
def store(pg_url: str) -> Iterator[PgStore]:
    opened = PgStore.connect(pg_url)
    yield opened
    opened.close()


@pytest.fixture
def conn(store: PgStore) -> PgConnection:
    store.conn.execute(
        "CREATE TABLE t(id BIGINT PRIMARY KEY, n INTEGER, x DOUBLE PRECISION, "
        "s TEXT, b BYTEA, f BOOLEAN, j JSONB)"
    )
    return store.conn


def test_the_bundled_libpq_is_found_without_importing_psycopg() -> None:
    from psycopg.pq.misc import find_libpq_full_path

    candidates = list(libpq_load._library_candidates())
    assert "psycopg_binary" in candidates[0] and "libpq" in candidates[0], candidates
    assert sys.platform != "linux" or candidates[1] == "libpq.so.5"  # the system's soname
    assert candidates[2] == find_libpq_full_path()  # the last resort: psycopg's finder
    assert libpq_load.library() is libpq_load.library()  # loaded once


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "SELECT a FROM t WHERE b = ? AND c = ?",
            ("SELECT a FROM t WHERE b = $1 AND c = $2", None),
        ),
        ("SELECT :a, :b, :a", ("SELECT $1, $2, $1", ("a", "b"))),
        ("SELECT '?', ':x', ?", ("SELECT '?', ':x', $1", None)),
        ("SELECT 'a%b' LIKE '%' || ?", ("SELECT 'a%b' LIKE '%' || $1", None)),
        ("SELECT CAST(x AS TEXT)::int, :v", ("SELECT CAST(x AS TEXT)::int, $1", ("v",))),
    ],
)
def test_placeholders_become_numbered(sql: str, expected: tuple[str, object]) -> None:
    assert native(sql) == expected


def test_values_go_and_come_back_as_psycopg_gave_them(conn: PgConnection) -> None:
    big = 2**40
    rows = [
        (1, 7, 0.1, "héllo 'quoted' \\ %s ?", b"\x00\xffbin", '{"k": [1, 2.5]}'),
        (2, -40_000, float("inf"), "", b"", None),
        (big, None, float("-inf"), None, None, "[]"),
    ]
    for row in rows:
        conn.execute("INSERT INTO t(id, n, x, s, b, j) VALUES (?, ?, ?, ?, ?, ?)", row)
    conn.execute("UPDATE t SET f = (id = 1) WHERE id < 3")  # a boolean result is a bool
    assert conn.execute("SELECT ?, ?", (True, False)).fetchone() == (1, 0)  # sent as 0/1
    found = conn.execute("SELECT id, n, x, s, b, f, j FROM t ORDER BY id").fetchall()
    assert found[0] == (1, 7, 0.1, "héllo 'quoted' \\ %s ?", b"\x00\xffbin", True, {"k": [1, 2.5]})
    assert found[1] == (2, -40_000, math.inf, "", b"", False, None)
    assert found[2] == (big, None, -math.inf, None, None, None, [])
    nan = conn.execute("SELECT CAST(? AS DOUBLE PRECISION)", (float("nan"),)).fetchone()[0]
    assert math.isnan(nan)
    # numeric (a SUM of integers, an AVG) as SQLite gives it: int when whole, else float
    assert conn.execute("SELECT SUM(n), AVG(n) FROM t").fetchone() == (-39_993, -19_996.5)
    assert conn.execute("SELECT ? + 1", (2**70,)).fetchone() == (2**70 + 1,)
    named = conn.execute("SELECT s FROM t WHERE id = :id AND :id > 0", {"id": 1}).fetchone()
    assert named == ("héllo 'quoted' \\ %s ?",)
    cursor = conn.execute("SELECT id AS ident, s FROM t WHERE id = ?", (1,))
    assert [d[0] for d in cursor.description] == ["ident", "s"] and cursor.rowcount == 1
    assert list(conn.execute("SELECT id FROM t WHERE id < 3 ORDER BY id")) == [(1,), (2,)]
    assert conn.execute("UPDATE t SET n = 0 WHERE id < ?", (3,)).rowcount == 2


def test_the_same_rows_as_psycopg(conn: PgConnection, pg_url: str) -> None:
    conn.execute("INSERT INTO t(id, n, x, s) VALUES (1, 2, 2.5, 'a'), (2, NULL, 1e300, 'b')")
    sql = "SELECT id, n, x, s, COUNT(*) OVER (), now() > '2000-01-01' FROM t ORDER BY id"
    with psycopg.connect(pg_url) as other:
        assert conn.execute(sql).fetchall() == other.execute(sql).fetchall()


def test_parameters_have_the_types_psycopg_gave_them(conn: PgConnection, pg_url: str) -> None:
    values = (5, 70_000, 2**40, 2**70, 1.5, b"ab", True)
    sql = "SELECT " + ", ".join("CAST(pg_typeof(?) AS TEXT)" for _ in values)
    found = conn.execute(sql, values).fetchone()
    assert found == (
        "smallint",
        "integer",
        "bigint",
        "numeric",
        "double precision",
        "bytea",
        "smallint",
    )
    with psycopg.connect(pg_url) as other:  # bools were sent as 0/1 before too
        ints = tuple(int(v) if isinstance(v, bool) else v for v in values)
        assert other.execute(sql.replace("?", "%s"), ints).fetchone() == found


def test_executemany_pipelines_every_row_and_counts_them(conn: PgConnection) -> None:
    n = libpq.PIPELINE_CHUNK * 2 + 7  # several chunks
    cursor = conn.executemany(
        "INSERT INTO t(id, s) VALUES (?, ?)", ((i, f"r{i}") for i in range(n))
    )
    assert cursor.rowcount == n
    assert conn.execute("SELECT COUNT(*), MAX(s) FROM t WHERE s LIKE 'r%'").fetchone() == (n, "r99")
    assert not conn.in_transaction


def test_an_error_in_executemany_is_sqlite3s_and_the_transaction_rolls_back(
    store: PgStore, conn: PgConnection
) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="duplicate key value"), store.write() as w:
        w.executemany("INSERT INTO t(id) VALUES (?)", [(1,), (2,), (1,), (3,)])
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)
    assert not conn.in_transaction
    assert conn.execute("SELECT 1").fetchone() == (1,)  # the connection is usable


def test_notices_and_warnings_are_not_printed(store: PgStore, pg_url: str) -> None:
    # the store exists: CREATE TABLE IF NOT EXISTS meta is a NOTICE, a stray COMMIT a WARNING
    code = (
        "from jarvis_cli.core.store.pg import PgStore\n"
        f"s = PgStore.connect({pg_url!r})\n"
        "s.conn.execute('CREATE TABLE IF NOT EXISTS meta(key TEXT)')\n"
        "s.conn.execute('COMMIT')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "" and done.stdout == ""


def test_errors_are_sqlite3s_classes_with_the_servers_message(conn: PgConnection) -> None:
    conn.execute("INSERT INTO t(id) VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError) as dup:
        conn.execute("INSERT INTO t(id) VALUES (?)", (1,))
    assert str(dup.value).startswith('duplicate key value violates unique constraint "t_pkey"')
    with pytest.raises(sqlite3.DatabaseError) as syntax:
        conn.execute("SELEC 1")
    assert type(syntax.value) is sqlite3.DatabaseError
    assert str(syntax.value).startswith('syntax error at or near "SELEC"')
    assert "ERROR" not in str(syntax.value)


def test_a_connection_lost_between_statements_is_reopened_inside_a_transaction_not(
    store: PgStore, conn: PgConnection, pg_url: str
) -> None:
    def cut() -> None:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'jarvis' AND pid <> pg_backend_pid() "
                "AND datname = current_database()"  # this test's database: the server is shared
            )

    cut()
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)  # reconnected once
    conn.execute("BEGIN")
    cut()
    with pytest.raises(sqlite3.OperationalError, match=r"PostgreSQL store postgresql://"):
        conn.execute("SELECT 1")
    assert conn.raw.broken and conn.in_transaction  # the status is unknown, not idle


def test_a_missing_libpq_is_a_store_error_saying_what_to_install(
    monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    monkeypatch.setattr(libpq_load, "_LIB", None)
    monkeypatch.setattr(libpq_load, "_library_candidates", lambda: ["/nonexistent/libpq.so.5"])
    with pytest.raises(StoreError) as info:
        PgStore.connect(pg_url)
    assert "is on PostgreSQL, but libpq is not installed" in info.value.message
    assert "postgres extra" in (info.value.hint or "")
    assert info.value.exit_code == 3


_WAITER = """
import sys
from jarvis_cli.core.store.pg import PgStore
store = PgStore.connect(sys.argv[1])
print("connected", flush=True)
try:
    with store.write() as w:  # queues on the writers' lock the test holds
        w.execute("INSERT INTO meta(key, value) VALUES ('waiter', 'x')")
except KeyboardInterrupt:
    pass
rows = store.conn.execute("SELECT COUNT(*) FROM meta WHERE key = 'waiter'").fetchone()
print(store.conn.in_transaction, rows, flush=True)
"""


def test_ctrl_c_while_waiting_for_the_writers_lock_cancels_the_wait(
    store: PgStore, pg_url: str
) -> None:
    from jarvis_cli.core.store.pg import WRITE_LOCK

    with psycopg.connect(pg_url) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        proc = subprocess.Popen(
            [sys.executable, "-c", _WAITER, pg_url], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline() == "connected\n"
        deadline = time.monotonic() + 30
        waiting: list[tuple[object, ...]] = []
        while not waiting and time.monotonic() < deadline:
            waiting = holder.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'jarvis' "
                "AND wait_event_type = 'Lock'"
            ).fetchall()
            time.sleep(0.05)
        assert waiting, "the writer never queued on the lock"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)  # while the test still holds the lock
        assert proc.returncode == 0 and out == "False (0,)\n"
        still = holder.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'jarvis' "
            "AND wait_event_type = 'Lock'"
        ).fetchone()
        assert still == (0,)  # the server stopped waiting too: the statement was cancelled


def test_a_connection_on_a_descriptor_past_1023_works(pg_url: str) -> None:
    """A busy `serve` has many sockets open; select() would refuse this one."""
    import os
    import resource

    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 1200:
        pytest.skip("the open-files limit is below 1200")
    fds = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        opened = PgStore.connect(pg_url)
        try:
            assert opened.conn.execute("SELECT ?", ("past 1023",)).fetchone() == ("past 1023",)
        finally:
            opened.close()
    finally:
        for fd in fds:
            os.close(fd)


def test_a_connection_replaced_after_it_broke_is_freed(
    conn: PgConnection, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libpq's memory for a dropped connection is released (PQfinish), as psycopg's was."""
    import gc

    lib = libpq_load.library()
    finished: list[int] = []
    real_finish = lib.PQfinish

    def finish(handle: int) -> None:
        finished.append(handle)
        real_finish(handle)

    monkeypatch.setattr(lib, "PQfinish", finish)
    before = conn.raw
    handle = before._conn
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'jarvis' AND pid <> pg_backend_pid() "
            "AND datname = current_database()"  # this test's database: the server is shared
        )
    assert conn.execute("SELECT 1").fetchone() == (1,)  # reconnected
    assert conn.raw is not before and handle not in finished
    del before
    gc.collect()
    assert handle in finished
