"""Moving into a team store: `jarvis store copy`, `[store] url`, and the content log
on PostgreSQL (issue 16). Real PostgreSQL, real subprocesses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jarvis_cli.core.errors import ExitCode
from tests.conftest import run_jarvis
from tests.fake_provider import FakeProvider

KEY = "sk-copy-CANARY-0123456789abcdef"
PASSWORD = "pw-CANARY-copy-1a2b3c4d"


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return list(conn.execute(sql).fetchall())  # type: ignore[arg-type]


@pytest.fixture
def fake() -> Any:
    with FakeProvider(api_key=KEY, models=["fake-chat"]) as server:
        yield server


def local_config(home: Path, fake: FakeProvider, extra: str = "") -> None:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'[providers.alpha]\nbase_url = "{fake.base_url}"\n{extra}')
    (home / "config.toml").chmod(0o600)


@pytest.mark.slow(15)
def test_copy_moves_keys_attempts_log_and_overrides_once(
    home: Path, pg_url: str, fake: FakeProvider
) -> None:
    local_config(home, fake)
    assert run_jarvis("keys", "add", "alpha", "--stdin", input=KEY + "\n").returncode == 0
    for prompt in ("first question", "second question"):
        done = run_jarvis("complete", prompt, "--model", "alpha/fake-chat")
        assert done.returncode == 0, done.stderr
    priced = run_jarvis("models", "set", "alpha/fake-chat", "--input-price", "2")
    assert priced.returncode == 0, priced.stderr

    url = pg_url.replace("postgres@", f"postgres:{PASSWORD}@")
    first = run_jarvis("store", "copy", "--json", env={"JARVIS_STORE_URL": url})
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["target"] == url.replace(PASSWORD, "***")
    assert report["copied"]["api_keys"] == 1
    assert report["copied"]["calls"] == 2 and report["copied"]["log_requests"] == 2
    assert report["copied"]["models"] >= 1
    again = run_jarvis("store", "copy", "--to", url, "--json")  # idempotent
    assert again.returncode == 0, again.stderr
    assert set(json.loads(again.stdout)["copied"].values()) == {0}
    assert json.loads(again.stdout)["already_there"]["calls"] == 2
    for proc in (first, again):
        assert PASSWORD not in proc.stdout + proc.stderr and KEY not in proc.stdout + proc.stderr

    # Another machine (no local store, same master key) now works from the team store.
    team_env = {"JARVIS_HOME": str(home.parent / "other"), "JARVIS_STORE_URL": url}
    local_config(home.parent / "other", fake)
    answered = run_jarvis("complete", "third question", "--model", "alpha/fake-chat", env=team_env)
    assert answered.returncode == 0, answered.stderr  # the key came from the team store
    found = run_jarvis("log", "-q", "second", "--json", env=team_env)
    assert found.returncode == 0, found.stderr
    assert [r["prompt"] for r in json.loads(found.stdout)] == ["second question"]
    stats = json.loads(run_jarvis("stats", "--json", env=team_env).stdout)
    assert stats["totals"]["calls"] == 3
    assert rows(pg_url, "SELECT count(*) FROM api_keys") == [(1,)]
    assert rows(
        pg_url, "SELECT overrides IS NOT NULL FROM models WHERE id = 'alpha/fake-chat'"
    ) == [(True,)]


def test_copy_refuses_keys_sealed_under_another_master_key(
    home: Path, pg_url: str, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_config(home, fake)
    other_home = home.parent / "other"
    local_config(other_home, fake)
    other_master = "A" * 43 + "="  # 32 bytes of base64, not the test's master key
    team = {"JARVIS_HOME": str(other_home), "JARVIS_STORE_URL": pg_url,
            "JARVIS_MASTER_KEY": other_master}  # fmt: skip
    added = run_jarvis(
        "keys", "add", "alpha", "--stdin", "--no-validate", input=KEY + "\n", env=team
    )
    assert added.returncode == 0, added.stderr
    assert (
        run_jarvis("keys", "add", "alpha", "--stdin", "--no-validate", input=KEY + "\n").returncode
        == 0
    )
    refused = run_jarvis("store", "copy", "--to", pg_url)
    assert refused.returncode == ExitCode.VAULT
    assert "refusing to mix master keys (nothing was copied)" in refused.stderr
    assert rows(pg_url, "SELECT count(*) FROM key_events") == [(1,)]  # only the team's own


def test_copy_needs_a_target_and_a_local_store(home: Path, pg_url: str) -> None:
    no_target = run_jarvis("store", "copy")
    assert no_target.returncode == ExitCode.USAGE
    assert "store copy needs a team store: give --to postgresql://" in no_target.stderr
    bad = run_jarvis("store", "copy", "--to", f"mysql://u:{PASSWORD}@h/db")
    assert bad.returncode == ExitCode.CONFIG
    assert "--to: expected a URL like postgresql://USER@HOST:PORT/DATABASE" in bad.stderr
    assert PASSWORD not in bad.stderr and "mysql://u:***@h/db" in bad.stderr
    nothing = run_jarvis("store", "copy", "--to", pg_url)
    assert nothing.returncode == ExitCode.USAGE
    assert "there is no local store to copy at" in nothing.stderr


def test_config_store_url_selects_the_team_store_and_bad_urls_are_exit_3(
    home: Path, pg_url: str, fake: FakeProvider
) -> None:
    url = pg_url.replace("postgres@", f"postgres:{PASSWORD}@")
    local_config(home, fake, f'[store]\nurl = "{url}"\n')
    migrated = run_jarvis("store", "migrate", "--json")
    assert migrated.returncode == 0, migrated.stderr
    assert json.loads(migrated.stdout)["store"] == url.replace(PASSWORD, "***")
    doctor = run_jarvis("doctor", "--json")
    store = json.loads(doctor.stdout)["store"]
    assert store["set_by"] == "config.toml [store] url" and store["reachable"] is True
    assert not (home / "jarvis.db").exists()
    assert PASSWORD not in doctor.stdout + migrated.stdout

    local_config(home, fake, f'[store]\nurl = "sqlite://x:{PASSWORD}@h/db"\n')
    bad = run_jarvis("stats")
    assert bad.returncode == ExitCode.CONFIG
    assert "store.url: expected a postgresql:// URL, got 'sqlite://x:***@h/db'" in bad.stderr
    assert PASSWORD not in bad.stderr
    env_bad = run_jarvis("stats", env={"JARVIS_STORE_URL": "postgresql://"})
    assert env_bad.returncode == ExitCode.CONFIG
    assert "JARVIS_STORE_URL: expected a URL like postgresql://USER@HOST:PORT/DATABASE" in (
        env_bad.stderr
    )


@pytest.mark.slow(15)
def test_copy_carries_outcomes_once_and_a_later_rating_replaces_the_copied_one(
    home: Path, pg_url: str, fake: FakeProvider
) -> None:
    local_config(home, fake)
    assert run_jarvis("keys", "add", "alpha", "--stdin", input=KEY + "\n").returncode == 0
    assert run_jarvis("models", "sync", "alpha").returncode == 0
    done = run_jarvis("complete", "q", "--model", "alpha/fake-chat", "--json")
    assert done.returncode == 0, done.stderr
    request = json.loads(done.stdout)["request_id"]
    assert run_jarvis("rate", "bad").returncode == 0
    line = json.dumps({"prompt": "q", "model": "alpha/fake-chat", "score": 1, "output_tokens": 9})
    assert run_jarvis("outcomes", "import", "-", input=line + "\n").returncode == 0

    first = run_jarvis("store", "copy", "--to", pg_url, "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["copied"]["outcomes"] == 2
    sql = "SELECT request_id, source, score, output_tokens FROM outcomes ORDER BY source"
    assert rows(pg_url, sql) == [(None, "import", 1.0, 9), (request, "rate", 0.0, 5)]
    again = run_jarvis("store", "copy", "--to", pg_url, "--json")
    assert json.loads(again.stdout)["copied"]["outcomes"] == 0
    assert json.loads(again.stdout)["already_there"]["outcomes"] == 2

    # rated again locally: the later rating replaces the copied one (the last one counts)
    assert run_jarvis("rate", request, "good").returncode == 0
    third = run_jarvis("store", "copy", "--to", pg_url, "--json")
    assert json.loads(third.stdout)["copied"]["outcomes"] == 1
    assert rows(pg_url, sql) == [(None, "import", 1.0, 9), (request, "rate", 1.0, 5)]

    # the team store's machines learn from them
    team_env = {"JARVIS_HOME": str(home.parent / "other"), "JARVIS_STORE_URL": pg_url}
    local_config(home.parent / "other", fake)
    listed = run_jarvis("outcomes", "list", "--json", env=team_env)
    assert listed.returncode == 0, listed.stderr
    assert sorted(o["source"] for o in json.loads(listed.stdout)) == ["import", "rate"]
    chosen = run_jarvis("select", "q", "--provider", "alpha", "--json", "--no-stdin", env=team_env)
    assert chosen.returncode == 0, chosen.stderr
    (alpha,) = json.loads(chosen.stdout)["candidates"]
    assert alpha["model_id"] == "alpha/fake-chat"
    assert alpha["learned"]["you"]["n"] == 2
