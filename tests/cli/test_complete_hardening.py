"""Streams, deadlines, explicit models, per-kind cooldowns, embeddings shape and token
estimates, end to end against the loopback fake providers of test_complete.py.

Timing assertions use the attempt times jarvis recorded (`calls` rows), never the
wall clock of the whole process, so they hold on a loaded machine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.cli.test_complete import Pair, pair  # noqa: F401 - fixture
from tests.fake_provider import Behavior


def test_clean_early_stream_close_is_truncated_exit_8_partial_text_kept(
    pair: Pair,  # noqa: F811
) -> None:
    # Role chunk + two deltas, then a well-formed end of body: no finish_reason, no [DONE].
    pair.alpha.always(
        "fake-chat", Behavior(chunks=["one ", "two ", "three ", "four"], close_early_after=3)
    )
    result = pair.run(
        "complete", "hi", "--model", "alpha/fake-chat", "--fallback", "beta/fake-chat", "--stream"
    )
    assert result.returncode == 8, result.stderr
    assert result.stdout == "one two \n"
    assert "truncated" in result.stderr and "partial answer above" in result.stderr
    assert "answered by" not in result.stderr
    assert pair.beta.count("/chat/completions") == 0  # nothing appended from another model
    assert [(r["ok"], r["error_class"]) for r in pair.calls()] == [(0, "bad_response")]


def test_clean_close_before_any_text_falls_back(pair: Pair) -> None:  # noqa: F811
    pair.alpha.always("fake-chat", Behavior(close_early_after=1))  # only the role chunk
    result = pair.run(
        "complete",
        "hi",
        "--model",
        "alpha/fake-chat",
        "--fallback",
        "beta/fake-chat",
        "--stream",
        "--retries",
        "0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello from fake\n"
    assert [(r["model_id"], r["error_class"]) for r in pair.calls()] == [
        ("alpha/fake-chat", "bad_response"),
        ("beta/fake-chat", None),
    ]


def test_total_deadline_stops_a_slow_trickle_stream(pair: Pair) -> None:  # noqa: F811
    # 30 chunks 0.2 s apart: 6 s of answer; every chunk resets the SDK's read timeout.
    chunks = [f"w{i} " for i in range(30)]
    pair.alpha.always("fake-chat", Behavior(chunks=chunks, chunk_delay_s=0.2))
    result = pair.run("complete", "hi", "--model", "alpha/fake-chat", "--stream", "--timeout", "1")
    assert result.returncode == 8, result.stderr
    assert "total deadline passed while streaming" in result.stderr
    assert result.stdout.startswith("w0 ") and "w29" not in result.stdout
    (row,) = pair.calls()
    assert row["ok"] == 0 and row["error_class"] == "unavailable"
    # Stopped at the deadline (plus at most a chunk or two), far from the 6 s answer.
    assert 900 <= row["latency_ms"] < 3500


def test_stream_without_usage_records_an_estimate(pair: Pair) -> None:  # noqa: F811
    text = "word " * 40
    pair.alpha.always("fake-chat", Behavior(text=text, stream_usage=False))
    result = pair.run("complete", "hi", "--model", "alpha/fake-chat", "--stream")
    assert result.returncode == 0, result.stderr
    (request,) = [r for r in pair.alpha.requests if r.path.endswith("/chat/completions")]
    assert request.body["stream_options"] == {"include_usage": True}
    (row,) = pair.calls()
    assert row["tokens_estimated"] == 1
    assert row["completion_tokens"] == len(text) // 4 and row["prompt_tokens"] >= 1
    stats = pair.run("stats")
    assert stats.returncode == 0
    assert f"~{row['prompt_tokens'] + row['completion_tokens']}" in stats.stdout
    assert "estimates" in stats.stderr


def test_stream_with_usage_records_the_providers_counts(pair: Pair) -> None:  # noqa: F811
    pair.alpha.always("fake-chat", Behavior(prompt_tokens=11, completion_tokens=7))
    result = pair.run("complete", "hi", "--model", "alpha/fake-chat", "--stream")
    assert result.returncode == 0, result.stderr
    (row,) = pair.calls()
    assert (row["prompt_tokens"], row["completion_tokens"], row["tokens_estimated"]) == (11, 7, 0)


def test_unknown_cost_is_shown_as_unknown_not_zero(pair: Pair) -> None:  # noqa: F811
    assert pair.run("complete", "hi", "--model", "alpha/fake-chat").returncode == 0
    stats = pair.run("stats")
    assert stats.returncode == 0, stats.stderr
    row = next(line for line in stats.stdout.splitlines() if "alpha/fake-chat" in line)
    assert "unknown" in row and "0.0000" not in row
    assert "total: 1 calls" in stats.stderr and "unknown" in stats.stderr
    log = pair.run("log")
    assert "unknown" in log.stdout
    priced = pair.run(
        "models", "set", "alpha/fake-chat", "--input-price", "1", "--output-price", "2"
    )
    assert priced.returncode == 0, priced.stderr
    assert pair.run("complete", "hi", "--model", "alpha/fake-chat").returncode == 0
    mixed = pair.run("stats")
    assert "+ unknown" in mixed.stderr


def test_ctrl_c_mid_stream_is_recorded_as_interrupted(pair: Pair) -> None:  # noqa: F811
    chunks = [f"w{i} " for i in range(100)]
    pair.alpha.always("fake-chat", Behavior(chunks=chunks, chunk_delay_s=0.1))
    args = ["complete", "hi", "--model", "alpha/fake-chat", "--stream", "--timeout", "60"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "jarvis_cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **pair.env},
    )
    try:
        assert proc.stdout is not None
        first = os.read(proc.stdout.fileno(), 100)  # blocks until text is shown
        assert first.startswith(b"w0")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert b"Traceback" not in err
    (row,) = pair.calls()
    assert (row["ok"], row["error_class"]) == (0, "interrupted")


def test_explicit_model_fails_with_its_own_error_without_fallback(pair: Pair) -> None:  # noqa: F811
    for name in ("alpha", "beta"):
        assert pair.run("models", "sync", name).returncode == 0
    pair.alpha.always("fake-chat", Behavior(status=503))
    result = pair.run("complete", "hi", "--model", "alpha/fake-chat", "--retries", "0")
    assert result.returncode == 8
    assert "1 attempt(s) on 1 model(s): alpha: HTTP 503" in result.stderr
    assert pair.beta.count("/chat/completions") == 0
    assert {r["model_id"] for r in pair.calls()} == {"alpha/fake-chat"}


def test_fallback_auto_opts_in_to_selections_models(pair: Pair) -> None:  # noqa: F811
    for name in ("alpha", "beta"):
        assert pair.run("models", "sync", name).returncode == 0
    pair.alpha.always("fake-chat", Behavior(status=503))
    result = pair.run(
        "complete", "hi", "--model", "alpha/fake-chat", "--fallback", "auto", "--retries", "0"
    )
    assert result.returncode == 0, result.stderr
    # Which of beta's models selection prefers is selection's business; that it is
    # another provider's model, tried after the explicit one failed, is the point.
    assert "answered by beta/" in result.stderr
    assert pair.beta.count("/chat/completions") == 1


@pytest.mark.slow(30)
@pytest.mark.usefixtures("store_backend")  # SQLite and PostgreSQL
def test_embedding_failures_do_not_cool_down_the_chat_endpoint(pair: Pair) -> None:  # noqa: F811
    for name in ("alpha", "beta"):
        assert pair.run("models", "sync", name).returncode == 0
    pair.alpha.always("fake-chat", Behavior(status=500))  # what /v1/embeddings answers
    for _ in range(3):
        failed = pair.run("embed", "some text", "--model", "alpha/fake-chat")
        assert failed.returncode == 8
    embed_failures = [r for r in pair.calls() if r["kind"] == "embedding" and r["ok"] == 0]
    assert len(embed_failures) >= 3
    pair.alpha.always("fake-chat", Behavior())  # chat is healthy
    chosen = pair.run("select", "hi", "--provider", "alpha", "--capability", "chat", "--json")
    assert chosen.returncode == 0, chosen.stderr
    assert json.loads(chosen.stdout)["model_id"] == "alpha/fake-chat"
    # ...while the same failures do rest it for chat when they are chat failures.
    pair.alpha.always("fake-chat", Behavior(status=500))
    assert pair.run("complete", "hi", "--model", "alpha/fake-chat").returncode == 8
    cooled = pair.run("select", "hi", "--provider", "alpha", "--capability", "chat")
    assert cooled.returncode == 6 and "cooldown" in cooled.stderr


def test_one_vector_per_token_is_a_bad_response(pair: Pair) -> None:  # noqa: F811
    pair.beta.always("fake-embed", Behavior(embedding_per_token=True))
    result = pair.run("embed", "two words", "--model", "beta/fake-embed", "--json")
    assert result.returncode == 8
    assert "not one flat list of numbers" in result.stderr
    assert result.stdout == ""
    assert {r["error_class"] for r in pair.calls()} == {"bad_response"}


def test_stream_with_json_is_a_usage_error(pair: Pair) -> None:  # noqa: F811
    result = pair.run("complete", "hi", "--model", "alpha/fake-chat", "--stream", "--json")
    assert result.returncode == 2
    assert "--stream cannot be combined with --json" in result.stderr
    assert pair.alpha.count("/chat/completions") == 0
