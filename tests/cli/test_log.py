"""`jarvis log`: search (-q), filters, `log show`, `log prune` and automatic retention."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from jarvis_cli.core.runs.budget import period_start
from jarvis_cli.core.store.database import Store
from tests.cli.test_complete import Pair, pair, write_config  # noqa: F401 - fixture
from tests.conftest import JarvisRunner
from tests.fake_provider import Behavior

DAY = 86_400.0


def _count(home: Path, table: str) -> int:
    conn = sqlite3.connect(home / "jarvis.db")
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def seed(home: Path, rows: list[tuple[str, str, float, str, str, str, float]]) -> None:
    """(request_id, conversation_id, at, model_id, prompt, answer, cost) -> one attempt and
    one content row each."""
    store = Store.open(home / "jarvis.db")
    try:
        with store.write() as conn:
            for rid, cid, at, model_id, prompt, answer, cost in rows:
                conn.execute(
                    "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok,"
                    " cost_usd) VALUES (?, ?, ?, ?, 'chat', 1, 1, ?)",
                    (rid, at, model_id, model_id.split("/")[0], cost),
                )
                conn.execute(
                    "INSERT INTO log_requests(request_id, conversation_id, at, kind, model_id,"
                    " provider, prompt, answer) VALUES (?, ?, ?, 'chat', ?, ?, ?, ?)",
                    (rid, cid, at, model_id, model_id.split("/")[0], prompt, answer),
                )
    finally:
        store.close()


def test_search_finds_a_word_from_an_answer(pair: Pair) -> None:  # noqa: F811
    pair.alpha.script("fake-chat", Behavior(text="The axolotl regrows its limbs."))
    assert pair.run("complete", "tell me a fact", "-m", "alpha/fake-chat").returncode == 0
    assert pair.run("complete", "another one", "-m", "alpha/fake-chat").returncode == 0
    result = pair.run("log", "-q", "axolotl", "--json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["prompt"] == "tell me a fact"
    assert row["answer"] == "The axolotl regrows its limbs."
    assert row["model_id"] == "alpha/fake-chat" and row["conversation_id"]
    table = pair.run("log", "-q", "axolotl")
    assert table.returncode == 0 and "axolotl" in table.stdout and "another" not in table.stdout


def test_search_newest_first_with_filters(home: Path, jarvis: JarvisRunner) -> None:
    now = time.time()
    seed(
        home,
        [
            ("r1", "c1", now - 3 * DAY, "a/one", "zebra stripes", "black and white", 0.0),
            ("r2", "c1", now - 2 * DAY, "b/two", "more about the zebra", "they run", 0.0),
            ("r3", "c2", now - 60, "a/one", "lions", "a zebra is prey", 0.0),
        ],
    )
    ids = lambda *args: [r["request_id"] for r in json.loads(jarvis("log", *args, "--json").stdout)]  # noqa: E731
    assert ids("-q", "zebra") == ["r3", "r2", "r1"]
    assert ids("-q", "zebra", "-m", "a/one") == ["r3", "r1"]
    assert ids("-q", "zebra", "--since", "1d") == ["r3"]
    assert ids("--cid", "c1") == ["r2", "r1"]
    assert ids("-q", "zebra", "-n", "1") == ["r3"]
    assert ids("-q", "giraffe") == []
    assert ids("-q", 'zebra" OR "x') == []  # FTS syntax in the text is just text


def test_log_without_filters_keeps_its_attempt_rows(home: Path, jarvis: JarvisRunner) -> None:
    seed(home, [("r1", "c1", time.time(), "a/one", "hi", "hello", 0.0)])
    (row,) = json.loads(jarvis("log", "--json").stdout)
    assert {"id", "request_id", "at", "model_id", "ok", "latency_ms", "cost_usd"} <= set(row)
    assert (row["conversation_id"], row["prompt"], row["answer"]) == ("c1", "hi", "hello")


def test_empty_search_text_is_a_usage_error(home: Path, jarvis: JarvisRunner) -> None:
    result = jarvis("log", "-q", "  ")
    assert result.returncode == 2 and "-q needs some text" in result.stderr


def test_search_without_fts5_is_a_store_error(home: Path, jarvis: JarvisRunner) -> None:
    seed(home, [("r1", "c1", time.time(), "a/one", "hi", "hello", 0.0)])
    conn = sqlite3.connect(home / "jarvis.db")
    conn.executescript(
        "DROP TRIGGER log_requests_fts_insert; DROP TRIGGER log_requests_fts_delete;"
        " DROP TABLE log_fts;"
    )
    conn.close()
    result = jarvis("log", "-q", "hello")
    assert result.returncode == 3
    assert "full-text search needs SQLite's FTS5" in result.stderr and "hint:" in result.stderr
    assert jarvis("log", "--cid", "c1").returncode == 0  # the other filters still work


def test_show_prints_one_request_with_its_attempts(pair: Pair) -> None:  # noqa: F811
    pair.alpha.script("fake-chat", Behavior(status=503, error_message="busy"))
    pair.beta.script("fake-chat", Behavior(text="from beta"))
    done = pair.run(
        "complete",
        "question",
        "-s",
        "be kind",
        "-m",
        "alpha/fake-chat",
        "--fallback",
        "beta/fake-chat",
        "--retries",
        "0",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    rid = json.loads(done.stdout)["request_id"]
    shown = pair.run("log", "show", rid, "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert (data["system"], data["prompt"], data["answer"]) == ("be kind", "question", "from beta")
    assert data["model_id"] == "beta/fake-chat" and data["finish_reason"] == "stop"
    assert [(a["model_id"], a["ok"]) for a in data["attempts"]] == [
        ("alpha/fake-chat", False),
        ("beta/fake-chat", True),
    ]
    text = pair.run("log", "show", rid)
    assert text.returncode == 0
    assert "--- prompt\nquestion\n" in text.stdout and "--- answer\nfrom beta\n" in text.stdout


def test_show_unknown_id_is_a_usage_error(home: Path, jarvis: JarvisRunner) -> None:
    result = jarvis("log", "show", "nope")
    assert result.returncode == 2
    assert "no request 'nope' in the log" in result.stderr and "hint:" in result.stderr


def test_prune_removes_what_it_reports_and_keeps_budget_periods(
    home: Path, jarvis: JarvisRunner
) -> None:
    now = time.time()
    month_start = period_start("monthly", now)
    if now - month_start < 120:
        pytest.skip("the month began less than two minutes ago")
    write_config(home, "[budgets]\nmonthly_usd = 10.0\n")
    seed(
        home,
        [
            ("old", "c1", now - 200 * DAY, "a/one", "ancient", "reply", 1.0),
            ("month", "c2", month_start + 1, "a/one", "this month", "reply", 2.0),
            ("fresh", "c3", now + 5, "a/one", "today", "reply", 3.0),
        ],
    )
    spent_before = json.loads(jarvis("stats", "--json").stdout)["budgets"][0]["spent_usd"]
    result = jarvis("log", "prune", "--older-than", "60s", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["requests_deleted"] == 2  # content is not needed by budgets
    assert report["content_bytes"] == len("ancientreply") + len("this monthreply")
    assert report["attempts_deleted"] == 1  # "month" stays: the monthly budget sums it
    assert report["attempts_kept_from"] < report["cutoff"]
    assert _count(home, "calls") == 2 and _count(home, "log_requests") == 1
    assert json.loads(jarvis("log", "-q", "ancient", "--json").stdout) == []
    assert [r["request_id"] for r in json.loads(jarvis("log", "--json").stdout)] == [
        "fresh",
        "month",
    ]
    spent_after = json.loads(jarvis("stats", "--json").stdout)["budgets"][0]["spent_usd"]
    assert spent_after == spent_before == 5.0
    text = jarvis("log", "prune", "--older-than", "60s")
    assert "pruned 0 logged request(s)" in text.stderr and "kept for budgets" in text.stderr


def test_prune_without_budgets_removes_old_attempts(home: Path, jarvis: JarvisRunner) -> None:
    now = time.time()
    seed(
        home,
        [
            ("old", "c1", now - 100 * DAY, "a/one", "p", "a", 0.0),
            ("new", "c1", now - 60, "a/one", "p", "a", 0.0),
        ],
    )
    result = jarvis("log", "prune", "--older-than", "90d")
    assert result.returncode == 0, result.stderr
    assert "pruned 1 logged request(s)" in result.stderr and "1 attempt(s)" in result.stderr
    assert _count(home, "calls") == 1 and _count(home, "log_requests") == 1


def test_prune_needs_a_valid_duration(home: Path, jarvis: JarvisRunner) -> None:
    result = jarvis("log", "prune", "--older-than", "ninety")
    assert result.returncode == 2 and "bad duration 'ninety'" in result.stderr
    missing = jarvis("log", "prune")
    assert missing.returncode == 2 and "--older-than" in missing.stderr


def test_retention_days_prunes_at_most_once_a_day(pair: Pair) -> None:  # noqa: F811
    config = (pair.home / "config.toml").read_text()
    write_config(pair.home, config + "\n[log]\nretention_days = 30\n")
    now = time.time()
    seed(pair.home, [("old", "c1", now - 40 * DAY, "alpha/fake-chat", "p", "a", 0.0)])
    assert pair.run("complete", "hi", "-m", "alpha/fake-chat").returncode == 0
    assert _count(pair.home, "log_requests") == 1  # the old one went, the new one stays
    seed(pair.home, [("old2", "c1", now - 40 * DAY, "alpha/fake-chat", "p", "a", 0.0)])
    assert pair.run("complete", "hi", "-m", "alpha/fake-chat").returncode == 0
    assert _count(pair.home, "log_requests") == 3  # pruned less than a day ago: not again


def test_doctor_shows_store_size_and_logged_requests(home: Path, jarvis: JarvisRunner) -> None:
    seed(home, [("r1", "c1", time.time(), "a/one", "p" * 5000, "a", 0.0)])
    data = json.loads(jarvis("doctor", "--json").stdout)
    # The WAL is checkpointed when doctor closes the store, so sizes move a little.
    assert data["store"]["size_bytes"] >= (home / "jarvis.db").stat().st_size > 5000
    assert data["store"]["logged_requests"] == 1
    human = jarvis("doctor")
    assert "MiB" in human.stdout and "1 logged requests" in human.stdout
