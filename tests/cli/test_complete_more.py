"""Concurrency, learning from measurements, embeddings and the interactive chat."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.cli.test_complete import ALPHA_KEY, Pair, pair  # noqa: F401 - fixture
from tests.fake_provider import Behavior
from tests.store_access import query
from tests.terminal import terminal


@pytest.mark.slow(25)
def test_16_concurrent_completions_all_recorded(pair: Pair) -> None:  # noqa: F811
    # The key comes from the vault so that its usage_count is what is counted.
    env = {**os.environ, **pair.env}
    del env["JARVIS_ALPHA_API_KEY"]
    added = subprocess.run(
        [sys.executable, "-m", "jarvis_cli", "keys", "add", "alpha", "--stdin", "--no-validate"],
        input=ALPHA_KEY + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jarvis_cli",
                "complete",
                f"hi {i}",
                "--model",
                "alpha/fake-chat",
                "--no-stream",
                "--no-stdin",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(16)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out == "Hello from fake\n"
        assert "locked" not in err
    rows = pair.calls()
    assert len(rows) == 16 and all(r["ok"] == 1 for r in rows)
    assert len({r["request_id"] for r in rows}) == 16
    keys = json.loads(
        subprocess.run(
            [sys.executable, "-m", "jarvis_cli", "keys", "list", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        ).stdout
    )
    entry = next(k for k in _key_rows(keys) if k["provider"] == "alpha")
    assert entry["usage_count"] == 16
    assert pair.alpha.count("/chat/completions") == 16


def _key_rows(data: object) -> list[dict[str, object]]:
    if isinstance(data, dict):
        return list(data.get("keys", []))
    return list(data)  # type: ignore[arg-type]


def test_selection_learns_that_beta_is_faster(pair: Pair) -> None:  # noqa: F811
    """After 20 calls (alpha slow, beta fast) performance selection picks beta."""
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.providers.base import Message
    from jarvis_cli.core.runs.orchestrator import CompletionRequest, Orchestrator

    for name in ("alpha", "beta"):
        synced = pair.run("models", "sync", name)
        assert synced.returncode == 0, synced.stderr
    pair.alpha.always("fake-chat", Behavior(delay_s=0.25))
    os.environ.update(pair.env)  # in-process orchestrator reads keys from the environment
    try:
        ctx = Context()
        orchestrator = Orchestrator(ctx)
        for i in range(20):
            model = "alpha/fake-chat" if i % 2 == 0 else "beta/fake-chat"
            request = CompletionRequest(
                messages=(Message("user", "hi"),), model=model, no_fallback=True
            )
            assert orchestrator.complete(request).model_id == model
        ctx.close()
    finally:
        for key in pair.env:
            os.environ.pop(key, None)
    chosen = pair.run("select", "hi", "--strategy", "performance", "--capability", "chat", "--json")
    assert chosen.returncode == 0, chosen.stderr
    data = json.loads(chosen.stdout)
    assert data["model_id"] == "beta/fake-chat", data
    stats = json.loads(pair.run("stats", "--json").stdout)
    p50 = {m["model_id"]: m["latency_p50_ms"] for m in stats["models"]}
    assert p50["alpha/fake-chat"] > p50["beta/fake-chat"] + 150


def test_embed_json(pair: Pair) -> None:  # noqa: F811
    result = pair.run("embed", "first", "second", "--model", "beta/fake-embed", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["model_id"] == "beta/fake-embed"
    assert len(data["embeddings"]) == 2 and data["dimensions"] == len(data["embeddings"][0]) > 0
    assert data["attempts"][0]["kind"] == "embedding"
    assert query(pair.home, "SELECT kind, ok FROM calls") == [("embedding", 1)]


def test_embed_plain_output_one_vector_per_line(pair: Pair) -> None:  # noqa: F811
    result = pair.run("embed", "--model", "beta/fake-embed", input="from stdin\n")
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert isinstance(json.loads(line), list)
    (request,) = [r for r in pair.beta.requests if r.path.endswith("/embeddings")]
    assert request.body["input"] == ["from stdin"]


def test_embed_without_text_is_usage_error(pair: Pair) -> None:  # noqa: F811
    result = pair.run("embed", "--model", "beta/fake-embed")
    assert result.returncode == 2
    assert "no text to embed" in result.stderr


def test_chat_reads_piped_stdin_as_messages(pair: Pair) -> None:  # noqa: F811
    # issue 27: chat used to refuse piped input (exit 2); it is read a message a line.
    result = pair.run("chat", "--model", "alpha/fake-chat", input="hello\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello from fake\n"
    assert "you> " not in result.stdout + result.stderr


def test_chat_session_keeps_history_and_switches_model(pair: Pair) -> None:  # noqa: F811
    pair.alpha.always("fake-chat", Behavior(text="alpha says hi"))
    pair.beta.always("fake-chat", Behavior(text="beta says hi"))
    with terminal("chat", "--model", "alpha/fake-chat", env={**os.environ, **pair.env}) as term:
        assert b"chatting with alpha/fake-chat" in term.read_until(b"you> ")
        term.type("first question")
        assert b"alpha says hi" in term.read_until(b"you> ")
        term.type("/model beta/fake-chat")
        assert b"model is beta/fake-chat" in term.read_until(b"you> ")
        term.type("second question")
        assert b"beta says hi" in term.read_until(b"you> ")
        term.type("/exit")
        assert term.wait() == 0
    (second,) = [r for r in pair.beta.requests if r.path.endswith("/chat/completions")]
    assert second.body["messages"] == [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "alpha says hi"},
        {"role": "user", "content": "second question"},
    ]


@pytest.mark.usefixtures("store_backend")  # SQLite and PostgreSQL
def test_failures_recorded_by_complete_put_the_model_in_cooldown(pair: Pair) -> None:  # noqa: F811
    """3 retryable failures within the window: the next selection skips the model."""
    assert pair.run("models", "sync", "alpha").returncode == 0
    pair.alpha.always("fake-chat", Behavior(status=503))  # alpha's other models: type unknown
    failed = pair.run(
        "complete", "hi", "--model", "alpha/fake-chat", "--no-fallback", "--retries", "2"
    )
    assert failed.returncode == 8
    assert [r["error_class"] for r in pair.calls()] == ["unavailable"] * 3
    assert pair.run("models", "sync", "beta").returncode == 0
    chosen = pair.run("select", "hi", "--capability", "chat", "--explain", "--json")
    assert chosen.returncode == 0, chosen.stderr
    data = json.loads(chosen.stdout)
    assert data["model_id"] == "beta/fake-chat"
    excluded = {e["model_id"]: e for e in data["excluded"]}
    assert excluded["alpha/fake-chat"]["code"] == "cooldown"
    assert excluded["alpha/fake-chat"]["reason"].startswith("cooling down until")
    # alpha's unknown-type models would be assumed chat (issue 11): ask for known chat.
    only_alpha = pair.run("select", "hi", "--provider", "alpha", "--capability", "chat")
    assert only_alpha.returncode == 6
    assert "closest to qualifying:\n  alpha/fake-chat: cooling down until" in only_alpha.stderr
    assert "1 cooldown (e.g. alpha/fake-chat: cooling down until" in only_alpha.stderr


def test_complete_streams_by_default_on_a_terminal(pair: Pair) -> None:  # noqa: F811
    pair.alpha.always("fake-chat", Behavior(chunks=["stream", "ed ", "text"]))
    args = ("complete", "hi", "--model", "alpha/fake-chat")
    with terminal(*args, env={**os.environ, **pair.env}) as term:
        shown = term.read_until(b"answered by")
        assert term.wait() == 0
    assert b"streamed text" in shown
    (request,) = [r for r in pair.alpha.requests if r.path.endswith("/chat/completions")]
    assert request.body["stream"] is True
    (row,) = pair.calls()
    assert row["ttft_ms"] is not None
