"""`jarvis doctor` checks the SQLite store's integrity (PRAGMA quick_check): a store file
damaged on disk is reported, human and --json, with what to do and exit 3, as doctor's
other store problems are; a sound store reports `integrity: ok`. Real store files,
damaged by overwriting one page of a table, and the CLI as a subprocess."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from jarvis_cli.core.errors import ExitCode
from tests.conftest import JarvisRunner

pytestmark = pytest.mark.usefixtures("sqlite_only")


@pytest.fixture
def sqlite_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JARVIS_STORE_URL", raising=False)


def _store_with_rows(home: Path, jarvis: JarvisRunner) -> Path:
    """A real store (made by jarvis) whose calls and log tables span many pages."""
    done = jarvis("store", "migrate")
    assert done.returncode == 0, done.stderr
    db = home / "jarvis.db"
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok) "
            "VALUES (?, ?, 'p/m', 'p', 'chat', 1, 1)",
            [(f"r{i:05d}", 1.7e9 + i) for i in range(3000)],
        )
    conn.close()
    return db


def _damage(db: Path, table: str) -> None:
    """Overwrite the root page of `table` with garbage (what a torn write or a bad
    disk leaves); the header and the schema page stay intact, so the store opens."""
    conn = sqlite3.connect(db)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    conn.close()
    assert root is not None and root[0] > 1
    with db.open("r+b") as f:
        f.seek((root[0] - 1) * page_size)
        f.write(b"\xa5" * page_size)


def test_sound_store_reports_integrity_ok(home: Path, jarvis: JarvisRunner) -> None:
    _store_with_rows(home, jarvis)
    result = jarvis("doctor", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["store"]["integrity"] == "ok"
    assert data["ok"] is True
    human = jarvis("doctor")
    assert human.returncode == 0 and "integrity ok" in human.stdout


@pytest.mark.parametrize("table", ["calls", "log_requests"])
def test_damaged_store_is_reported_with_the_fix_and_exit_3(
    home: Path, jarvis: JarvisRunner, table: str
) -> None:
    db = _store_with_rows(home, jarvis)
    _damage(db, table)

    result = jarvis("doctor", "--json")
    assert result.returncode == ExitCode.CONFIG == 3, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["store"]["integrity"] == "damaged"
    [problem] = [p for p in data["problems"] if p["what"] == "store"]
    assert problem["exit_code"] == 3
    assert problem["message"].startswith(f"store {db} is damaged (PRAGMA quick_check: ")
    assert "restore a backup" in problem["hint"] and f"move it aside (mv {db} " in problem["hint"]
    assert "keys must be added again" in problem["hint"] and ".recover" in problem["hint"]
    assert "Traceback" not in result.stderr

    human = jarvis("doctor")
    assert human.returncode == 3
    assert "integrity DAMAGED" in human.stdout
    assert f"error: store: store {db} is damaged" in human.stderr
    assert "hint: " in human.stderr and ".recover" in human.stderr
    assert "run `jarvis doctor`" not in human.stderr  # doctor is where the user already is
    assert "Traceback" not in human.stderr


def test_the_hint_s_remedy_gives_a_working_store(home: Path, jarvis: JarvisRunner) -> None:
    db = _store_with_rows(home, jarvis)
    _damage(db, "log_requests")
    hint = json.loads(jarvis("doctor", "--json").stdout)["problems"][0]["hint"]
    command = hint.split("(", 1)[1].split(")", 1)[0]  # mv DB DB.damaged
    assert command.startswith("mv ")
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (home / "jarvis.db.damaged").exists()
    assert jarvis("store", "migrate").returncode == 0
    result = jarvis("doctor", "--json")
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["store"]["integrity"] == "ok"
