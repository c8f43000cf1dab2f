"""The SQLite store: private files, migrations, refusal of foreign files, concurrency."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jarvis_cli.core.errors import ExitCode, StoreError, UnsafePermissionsError
from jarvis_cli.core.store.database import Store
from jarvis_cli.core.store.migrations import MIGRATIONS, SCHEMA_VERSION
from tests.conftest import JarvisRunner


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_store_has_schema_and_wal(home: Path) -> None:
    store = Store.open(home / "jarvis.db")
    assert store.schema_version() == SCHEMA_VERSION
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = [r[0] for r in store.conn.execute("SELECT name FROM schema_migrations")]
    assert names == [name for name, _ in MIGRATIONS]
    store.close()
    # Reopening is a no-op migration-wise.
    again = Store.open(home / "jarvis.db")
    count = again.conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    assert count == SCHEMA_VERSION
    again.close()


def test_files_are_private_under_umask_022(tmp_path: Path) -> None:
    home = tmp_path / "umask-home"
    script = textwrap.dedent(
        f"""
        import os
        os.umask(0o022)
        from pathlib import Path
        from jarvis_cli.core.store.database import Store
        s = Store.open(Path({str(home / "data" / "jarvis.db")!r}))
        with s.write() as c:
            c.execute("INSERT INTO meta VALUES ('k', 'v')")
        print(sorted(p.name for p in Path({str(home / "data")!r}).iterdir()))
        s.close()
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "jarvis.db-wal" in out.stdout and "jarvis.db-shm" in out.stdout
    data = home / "data"
    assert mode(data) == 0o700
    for name in ("jarvis.db", "jarvis.db-wal", "jarvis.db-shm"):
        path = data / name
        if path.exists():  # -wal/-shm vanish when the last connection closes cleanly
            assert mode(path) == 0o600, name


def test_wal_files_are_private_while_open(tmp_path: Path) -> None:
    import os

    old = os.umask(0o022)
    try:
        store = Store.open(tmp_path / "d" / "jarvis.db")
        with store.write() as conn:
            conn.execute("INSERT INTO meta VALUES ('a', 'b')")
        for name in ("jarvis.db", "jarvis.db-wal", "jarvis.db-shm"):
            assert mode(tmp_path / "d" / name) == 0o600, name
        store.close()
    finally:
        os.umask(old)


def test_text_file_is_refused_and_left_untouched(home: Path) -> None:
    home.mkdir(mode=0o700)
    path = home / "jarvis.db"
    path.write_bytes(b"my notes, not a database\n" * 10)
    path.chmod(0o600)
    before = path.read_bytes()
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert str(path) in info.value.message
    assert "not a jarvis store" in info.value.message
    assert path.read_bytes() == before
    assert not (home / "jarvis.db-wal").exists()


def test_foreign_sqlite_database_is_refused_and_left_untouched(home: Path) -> None:
    home.mkdir(mode=0o700)
    path = home / "jarvis.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos(id INTEGER)")
    conn.commit()
    conn.close()
    path.chmod(0o600)
    before = path.read_bytes()
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert "not a jarvis store" in info.value.message and "photos" in info.value.message
    assert path.read_bytes() == before


def test_truncated_store_gives_exit_3_naming_the_file(home: Path, jarvis: JarvisRunner) -> None:
    store = Store.open(home / "jarvis.db")
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO key_events(provider, label, event, at, detail) VALUES (?,?,?,?,?)",
            [("p", "l", "added", 0.0, "x" * 500)] * 200,
        )
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    path = home / "jarvis.db"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    before = path.read_bytes()
    result = jarvis("doctor")
    assert result.returncode == ExitCode.CONFIG
    assert str(path) in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == before


def test_cli_refuses_non_store_file_with_exit_3(home: Path, jarvis: JarvisRunner) -> None:
    home.mkdir(mode=0o700)
    path = home / "jarvis.db"
    path.write_text("hello")
    path.chmod(0o600)
    result = jarvis("doctor")
    assert result.returncode == 3
    assert f"{path} is not a jarvis store" in result.stderr
    assert path.read_text() == "hello"


def test_group_readable_store_is_refused(home: Path, jarvis: JarvisRunner) -> None:
    Store.open(home / "jarvis.db").close()
    (home / "jarvis.db").chmod(0o644)
    with pytest.raises(UnsafePermissionsError):
        Store.open(home / "jarvis.db")
    result = jarvis("doctor")
    assert result.returncode == 3
    assert "accessible by group or others" in result.stderr
    assert "chmod 600" in result.stderr


def test_newer_schema_is_refused(home: Path) -> None:
    store = Store.open(home / "jarvis.db")
    with store.write() as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 0)")
    store.close()
    with pytest.raises(StoreError) as info:
        Store.open(home / "jarvis.db")
    assert "newer than this jarvis understands" in info.value.message


def test_write_rolls_back_on_error(home: Path) -> None:
    store = Store.open(home / "jarvis.db")
    with pytest.raises(RuntimeError), store.write() as conn:
        conn.execute("INSERT INTO meta VALUES ('x', '1')")
        raise RuntimeError("boom")
    assert store.get_meta("x") is None
    store.close()


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from jarvis_cli.core.store.database import Store
    path, worker, n = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    # Start together: every writer opens (and possibly migrates) a brand-new store.
    while time.time() < float(sys.argv[4]):
        time.sleep(0.001)
    store = Store.open(path)
    for i in range(n):
        with store.write() as conn:
            conn.execute(
                "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok)"
                " VALUES (?, ?, 'p/m', 'p', 'chat', 1, 1)",
                (f"w{worker}-{i}", time.time()),
            )
    store.close()
    """
)


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    import time

    path = tmp_path / "conc" / "jarvis.db"
    start_at = str(time.time() + 1.5)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(w), "50", start_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(8)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
    store = Store.open(path)
    assert store.conn.execute("SELECT count(*) FROM calls").fetchone()[0] == 400
    assert store.conn.execute("SELECT count(DISTINCT request_id) FROM calls").fetchone()[0] == 400
    assert store.schema_version() == SCHEMA_VERSION
    store.close()


def test_home_that_cannot_be_created_is_exit_3(jarvis: JarvisRunner) -> None:
    result = jarvis("log", env={"JARVIS_HOME": "/proc/jarvis-cannot-be-here"})
    assert result.returncode == ExitCode.CONFIG
    assert "cannot create directory /proc/jarvis-cannot-be-here" in result.stderr
    assert "JARVIS_HOME" in result.stderr
    assert "internal error" not in result.stderr


def test_store_path_that_is_a_directory_is_exit_3(home: Path, jarvis: JarvisRunner) -> None:
    (home / "jarvis.db").mkdir(parents=True)
    result = jarvis("log")
    assert result.returncode == ExitCode.CONFIG
    assert f"store path {home / 'jarvis.db'} is a directory" in result.stderr


def _other_process(path: Path, sql: str) -> str:
    """Run `sql` from another process (SQLite shares locks within one) and close."""
    code = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "print(c.execute(sys.argv[2]).fetchall()); c.close()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), sql], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_opening_a_second_connection_keeps_the_first_ones_commits_visible(
    tmp_path: Path,
) -> None:
    # A server's worker threads open their connections as they start, while others are
    # open. Opening must not close a descriptor of the store file: that drops every
    # POSIX lock the process holds on it, another process closing its connection then
    # believes it is the last one, checkpoints and deletes the WAL, and the first
    # connection's later commits go to a deleted file.
    path = tmp_path / "jarvis.db"
    first = Store.open(path)
    second = Store.open(path)
    try:
        assert _other_process(path, "SELECT COUNT(*) FROM meta") != ""
        with first.write() as conn:
            conn.execute("INSERT INTO meta(key, value) VALUES ('probe', 'kept')")
        assert _other_process(path, "SELECT value FROM meta WHERE key = 'probe'") == "[('kept',)]"
    finally:
        second.close()
        first.close()
