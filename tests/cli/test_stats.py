"""`jarvis stats` and `jarvis log` through the real CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

from jarvis_cli.core.store.database import Store
from tests.conftest import JarvisRunner


def seed_calls(home: Path) -> None:
    store = Store.open(home / "jarvis.db")
    now = time.time()
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok, error_class,"
            " status_code, latency_ms, ttft_ms, prompt_tokens, completion_tokens, cost_usd)"
            " VALUES (?, ?, ?, ?, 'chat', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    "r1",
                    now - 10,
                    "a/one",
                    "a",
                    1,
                    0,
                    "unavailable",
                    503,
                    50,
                    None,
                    None,
                    None,
                    None,
                ),
                ("r1", now - 9, "b/two", "b", 2, 1, None, None, 400, 120, 12, 8, 0.0005),
                ("r2", now - 5, "b/two", "b", 1, 1, None, None, 600, 150, 20, 10, 0.0007),
            ],
        )
    store.close()


def test_stats_json(home: Path, jarvis: JarvisRunner) -> None:
    seed_calls(home)
    result = jarvis("stats", "--since", "1d", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    models = {m["model_id"]: m for m in data["models"]}
    assert models["b/two"]["calls"] == 2
    assert models["b/two"]["success_rate"] == 1.0
    assert models["b/two"]["prompt_tokens"] == 32
    assert models["a/one"]["success_rate"] == 0.0
    assert data["totals"]["calls"] == 3
    assert abs(data["totals"]["cost_usd"] - 0.0012) < 1e-12
    assert data["budgets"] == []


def test_stats_shows_budget_status(home: Path, jarvis: JarvisRunner) -> None:
    seed_calls(home)
    (home / "config.toml").write_text("[budgets]\ndaily_usd = 1.0\n")
    (home / "config.toml").chmod(0o600)
    data = json.loads(jarvis("stats", "--json").stdout)
    assert data["budgets"][0]["scope"] == "all"
    assert data["budgets"][0]["limit_usd"] == 1.0
    assert abs(data["budgets"][0]["spent_usd"] - 0.0012) < 1e-12
    human = jarvis("stats")
    assert "budget daily all: $0.0012 of $1.0000" in human.stderr
    assert "b/two" in human.stdout


def test_stats_model_filter_and_bad_since(home: Path, jarvis: JarvisRunner) -> None:
    seed_calls(home)
    data = json.loads(jarvis("stats", "--model", "a/one", "--json").stdout)
    assert [m["model_id"] for m in data["models"]] == ["a/one"]
    bad = jarvis("stats", "--since", "soon")
    assert bad.returncode == 2
    assert "bad duration 'soon'" in bad.stderr


def test_log_json_newest_first(home: Path, jarvis: JarvisRunner) -> None:
    seed_calls(home)
    result = jarvis("log", "-n", "2", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["request_id"] for r in rows] == ["r2", "r1"]
    assert rows[1]["ok"] is True and rows[1]["attempt"] == 2
    assert rows[0]["at"].endswith("+00:00")


def test_log_and_stats_on_empty_store(jarvis: JarvisRunner) -> None:
    assert json.loads(jarvis("log", "--json").stdout) == []
    assert "no calls recorded yet" in jarvis("log").stderr
    assert json.loads(jarvis("stats", "--json").stdout)["models"] == []


def test_log_rejects_zero(jarvis: JarvisRunner) -> None:
    result = jarvis("log", "-n", "0")
    assert result.returncode == 2
    assert "-n" in result.stderr
