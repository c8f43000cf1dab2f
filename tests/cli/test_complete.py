"""`jarvis complete`: retries, fallbacks, recording, budgets and stdin, end to end.

Two loopback providers, `alpha` and `beta`, are real HTTP servers (tests/fake_provider.py)
configured in config.toml; every test drives the real CLI in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_jarvis
from tests.fake_provider import Behavior, FakeProvider
from tests.store_access import Row, execute, query

ALPHA_KEY = "sk-alpha-CANARY-0123456789abcdef"
BETA_KEY = "sk-beta-CANARY-0123456789abcdef"


@dataclass
class Pair:
    alpha: FakeProvider
    beta: FakeProvider
    home: Path
    env: dict[str, str]

    def run(
        self, *args: str, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return run_jarvis(*args, input=input, env=self.env, timeout=timeout)

    def calls(self) -> list[Row]:
        return query(self.home, "SELECT * FROM calls ORDER BY id")


def write_config(home: Path, text: str) -> None:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    (home / "config.toml").write_text(text)
    (home / "config.toml").chmod(0o600)


@pytest.fixture
def pair(home: Path) -> Iterator[Pair]:
    with (
        FakeProvider(api_key=ALPHA_KEY, models=["fake-chat", "small", "tiny"]) as alpha,
        FakeProvider(api_key=BETA_KEY, models=["fake-chat", "big", "fake-embed"]) as beta,
    ):
        write_config(
            home,
            f"""
[providers.alpha]
base_url = "{alpha.base_url}"
[providers.beta]
base_url = "{beta.base_url}"
[retry]
backoff_base_s = 0.05
backoff_max_s = 0.1
""",
        )
        env = {"JARVIS_ALPHA_API_KEY": ALPHA_KEY, "JARVIS_BETA_API_KEY": BETA_KEY}
        yield Pair(alpha, beta, home, env)


def assert_no_canary(*texts: str) -> None:
    for text in texts:
        assert ALPHA_KEY not in text and BETA_KEY not in text


def test_success_prints_answer_and_records_one_attempt(pair: Pair) -> None:
    result = pair.run("complete", "hi", "--model", "alpha/fake-chat", "--no-stream")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello from fake\n"
    assert "answered by alpha/fake-chat" in result.stderr
    (row,) = pair.calls()
    assert row["ok"] == 1 and row["model_id"] == "alpha/fake-chat" and row["kind"] == "chat"
    assert row["prompt_tokens"] == 10 and row["completion_tokens"] == 5
    assert row["latency_ms"] > 0


def test_json_contract(pair: Pair) -> None:
    result = pair.run("complete", "hi", "--model", "alpha/fake-chat", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {
        "request_id",
        "conversation_id",  # issue 13: the logged conversation (null with --no-log)
        "model_id",
        "provider",
        "text",
        "usage",
        "cost_usd",
        "latency_ms",
        "ttft_ms",
        "finish_reason",
        "attempts",
        # issue 23: what the request was expected to cost and at most could cost
        "expected_cost_usd",
        "max_cost_usd",
        "cost_estimate",
    }
    assert data["text"] == "Hello from fake"
    assert data["model_id"] == "alpha/fake-chat" and data["provider"] == "alpha"
    assert data["usage"] == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    assert data["finish_reason"] == "stop"
    assert data["cost_usd"] is None  # a custom provider's model has no known price
    (attempt,) = data["attempts"]
    assert attempt["ok"] is True and attempt["attempt"] == 1
    assert set(attempt) >= {
        "model_id",
        "provider",
        "kind",
        "ok",
        "latency_ms",
        "error_class",
        "status_code",
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
        "at",
    }


def test_429_with_retry_after_waits_then_succeeds(pair: Pair) -> None:
    pair.alpha.script("fake-chat", Behavior(status=429, headers={"Retry-After": "1"}))
    start = time.monotonic()
    result = pair.run("complete", "hi", "--model", "alpha/fake-chat", "--json")
    elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    assert elapsed >= 1.0
    data = json.loads(result.stdout)
    assert [a["ok"] for a in data["attempts"]] == [False, True]
    assert data["attempts"][0]["error_class"] == "rate_limited"
    assert data["attempts"][0]["status_code"] == 429
    assert "retrying in 1.0 s" in result.stderr
    assert [r["ok"] for r in pair.calls()] == [0, 1]
    assert pair.alpha.count("/chat/completions") == 2


def test_primary_503_falls_back_to_other_provider(pair: Pair) -> None:
    pair.alpha.always("fake-chat", Behavior(status=503))
    result = pair.run(
        "complete",
        "hi",
        "--model",
        "alpha/fake-chat",
        "--fallback",
        "beta/fake-chat",
        "--retries",
        "1",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["model_id"] == "beta/fake-chat"
    assert "falling back to beta/fake-chat" in result.stderr
    rows = pair.calls()
    assert [(r["model_id"], r["ok"]) for r in rows] == [
        ("alpha/fake-chat", 0),
        ("alpha/fake-chat", 0),
        ("beta/fake-chat", 1),
    ]
    assert {r["error_class"] for r in rows[:2]} == {"unavailable"}


def test_all_fail_exits_8_and_records_each_attempt(pair: Pair) -> None:
    pair.alpha.always("fake-chat", Behavior(status=503))
    pair.beta.always("fake-chat", Behavior(status=500))
    result = pair.run(
        "complete",
        "hi",
        "--model",
        "alpha/fake-chat",
        "--fallback",
        "beta/fake-chat",
        "--retries",
        "1",
    )
    assert result.returncode == 8
    assert "all providers failed after 4 attempt(s) on 2 model(s)" in result.stderr
    assert result.stdout == ""
    assert [(r["model_id"], r["ok"]) for r in pair.calls()] == [
        ("alpha/fake-chat", 0),
        ("alpha/fake-chat", 0),
        ("beta/fake-chat", 0),
        ("beta/fake-chat", 0),
    ]


def test_401_skips_the_provider_and_never_shows_the_key(pair: Pair) -> None:
    pair.env["JARVIS_ALPHA_API_KEY"] = "sk-alpha-WRONG-0000000000000000"
    pair.alpha.always(None, Behavior(status=401, echo_auth=True))
    result = pair.run(
        "complete",
        "hi",
        "--model",
        "alpha/fake-chat",
        "--fallback",
        "alpha/small",
        "--fallback",
        "beta/fake-chat",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["model_id"] == "beta/fake-chat"
    assert "skipping provider alpha" in result.stderr
    assert pair.alpha.count("/chat/completions") == 1  # alpha/small was not tried
    assert "sk-alpha-WRONG-0000000000000000" not in result.stderr + result.stdout
    assert_no_canary(result.stdout, result.stderr)


def test_only_bad_keys_exit_5(pair: Pair) -> None:
    pair.env["JARVIS_ALPHA_API_KEY"] = "sk-alpha-WRONG-0000000000000000"
    result = pair.run("complete", "hi", "--model", "alpha/fake-chat", "--no-fallback")
    assert result.returncode == 5
    assert "rejected" in result.stderr or "401" in result.stderr
    assert "sk-alpha-WRONG" not in result.stderr


def test_context_too_long_moves_to_a_larger_context_model(pair: Pair) -> None:
    for model_id, context in (("alpha/small", 1000), ("alpha/tiny", 500), ("beta/big", 100000)):
        set_result = pair.run("models", "set", model_id, "--context", str(context))
        assert set_result.returncode == 0, set_result.stderr
    pair.alpha.always(
        "small",
        Behavior(
            status=400,
            error_code="context_length_exceeded",
            error_message="This model's maximum context length is 1000 tokens.",
        ),
    )
    result = pair.run(
        "complete",
        "hi",
        "--model",
        "alpha/small",
        "--fallback",
        "alpha/tiny",
        "--fallback",
        "beta/big",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["model_id"] == "beta/big"
    assert pair.alpha.count(model="tiny") == 0  # smaller context: skipped, not tried
    assert [r["error_class"] for r in pair.calls()] == ["context_too_long", None]


def test_bad_request_exits_9_without_fallback(pair: Pair) -> None:
    pair.alpha.always("fake-chat", Behavior(status=400, error_message="temperature too high"))
    result = pair.run(
        "complete", "hi", "--model", "alpha/fake-chat", "--fallback", "beta/fake-chat"
    )
    assert result.returncode == 9
    assert "400" in result.stderr
    assert pair.beta.count("/chat/completions") == 0
    assert len(pair.calls()) == 1


def test_drop_mid_stream_keeps_partial_text_and_exits_8(pair: Pair) -> None:
    pair.alpha.always(
        "fake-chat", Behavior(chunks=["one ", "two ", "three ", "four"], drop_after_chunks=3)
    )
    result = pair.run(
        "complete",
        "hi",
        "--model",
        "alpha/fake-chat",
        "--fallback",
        "beta/fake-chat",
        "--stream",
    )
    assert result.returncode == 8
    # The role chunk, then two deltas: what was shown stays; nothing is repeated.
    assert result.stdout == "one two \n"
    assert "stream broke after text was shown" in result.stderr
    assert pair.beta.count("/chat/completions") == 0
    assert [(r["ok"], r["error_class"]) for r in pair.calls()] == [(0, "unavailable")]


def test_failure_before_first_token_falls_back_invisibly_when_streaming(pair: Pair) -> None:
    pair.alpha.always("fake-chat", Behavior(chunks=["x"], drop_after_chunks=0))
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


def test_streaming_records_ttft(pair: Pair) -> None:
    pair.alpha.always("fake-chat", Behavior(chunks=["a", "b", "c"], chunk_delay_s=0.05))
    result = pair.run("complete", "hi", "--model", "alpha/fake-chat", "--stream")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "abc\n"
    (row,) = pair.calls()
    assert 0 < row["ttft_ms"] < row["latency_ms"]


@pytest.mark.usefixtures("store_backend")  # SQLite and PostgreSQL
def test_budget_exhausted_refuses_before_sending(pair: Pair) -> None:
    write_config(
        pair.home,
        (pair.home / "config.toml").read_text() + "\n[budgets]\ndaily_usd = 0.5\n",
    )
    assert pair.run("log").returncode == 0  # creates the store
    execute(
        pair.home,
        "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok, cost_usd)"
        " VALUES ('old', ?, 'alpha/fake-chat', 'alpha', 'chat', 1, 1, 0.75)",
        [(time.time(),)],
    )
    result = pair.run(
        "complete", "hi", "--model", "alpha/fake-chat", "--fallback", "beta/fake-chat"
    )
    assert result.returncode == 7
    assert "daily total budget exceeded: spent $0.7500" in result.stderr
    assert "limit $0.5000" in result.stderr
    assert pair.alpha.count() == 0 and pair.beta.count() == 0


def test_a_tiny_budget_reads_in_amounts_that_tell_apart(pair: Pair) -> None:
    # A 1e-7 daily budget read "spent $0.0000 + up to $0.0000 ... > limit $0.0000".
    write_config(
        pair.home,
        (pair.home / "config.toml").read_text() + "\n[budgets]\ndaily_usd = 0.0000001\n",
    )
    priced = pair.run(
        "models", "set", "alpha/fake-chat", "--input-price", "1", "--output-price", "1"
    )
    assert priced.returncode == 0, priced.stderr
    result = pair.run("complete", "hi", "--model", "alpha/fake-chat")
    assert result.returncode == 7, result.stderr
    assert "daily total budget exceeded: spent $0.0000 + up to $0.0" in result.stderr
    assert "> limit $0.00000010" in result.stderr
    assert "up to $0.0000 for" not in result.stderr
    assert pair.alpha.count() == 0


def _reservations(pair: Pair) -> list[tuple[str, float]]:
    rows = query(pair.home, "SELECT model_id, amount_usd FROM budget_reservations")
    return [(str(m), float(a)) for m, a in rows]


@pytest.mark.usefixtures("store_backend")  # SQLite and PostgreSQL
def test_budgeted_request_settles_its_reservation_with_the_actual_cost(pair: Pair) -> None:
    write_config(
        pair.home,
        (pair.home / "config.toml").read_text() + "\n[budgets]\ndaily_usd = 5.0\n",
    )
    for model in ("alpha/fake-chat", "beta/fake-chat"):
        priced = pair.run("models", "set", model, "--input-price", "1", "--output-price", "1")
        assert priced.returncode == 0, priced.stderr
    pair.alpha.always("fake-chat", Behavior(status=503))
    result = pair.run(
        "complete", "hi", "--model", "alpha/fake-chat", "--fallback", "beta/fake-chat",
        "--retries", "0", "--max-tokens", "1000", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # alpha failed (its reservation released), beta answered (settled): nothing held.
    assert _reservations(pair) == []
    rows = pair.calls()
    assert [(r["model_id"], r["ok"]) for r in rows] == [
        ("alpha/fake-chat", 0),
        ("beta/fake-chat", 1),
    ]
    stats = json.loads(pair.run("stats", "--json").stdout)
    (budget,) = stats["budgets"]
    assert budget["reserved_usd"] == 0
    assert budget["spent_usd"] == pytest.approx(rows[1]["cost_usd"])
    assert 0 < budget["spent_usd"] < 1000 / 1e6  # actual tokens, not the 1000-token worst case


@pytest.mark.usefixtures("store_backend")  # SQLite and PostgreSQL
def test_reservation_of_a_killed_request_counts_until_it_expires(pair: Pair) -> None:
    write_config(
        pair.home,
        (pair.home / "config.toml").read_text() + "\n[budgets]\ndaily_usd = 0.5\n",
    )
    assert pair.run("log").returncode == 0  # creates the store
    now = time.time()
    execute(
        pair.home,
        "INSERT INTO budget_reservations(id, provider, model_id, amount_usd, created_at,"
        " expires_at) VALUES (?, 'alpha', 'alpha/fake-chat', 0.45, ?, ?)",
        [("live", now, now + 600), ("stale", now - 700, now - 100)],
    )
    priced = pair.run(
        "models", "set", "alpha/fake-chat", "--input-price", "100", "--output-price", "100"
    )
    assert priced.returncode == 0, priced.stderr
    refused = pair.run(
        "complete", "hi", "--model", "alpha/fake-chat", "--no-fallback", "--max-tokens", "1000"
    )
    assert refused.returncode == 7
    assert "+ $0.4500 reserved by requests in flight" in refused.stderr
    assert pair.alpha.count("/chat/completions") == 0
    stats = pair.run("stats")
    assert "+ $0.4500 in flight ($0.0500 left)" in stats.stderr


@pytest.mark.usefixtures("store_backend")  # SQLite and PostgreSQL
def test_max_cost_refuses_a_priced_model(pair: Pair) -> None:
    assert (
        pair.run(
            "models", "set", "alpha/fake-chat", "--input-price", "1000", "--output-price", "1000"
        ).returncode
        == 0
    )
    result = pair.run(
        "complete", "hi", "--model", "alpha/fake-chat", "--no-fallback", "--max-cost", "0.0001"
    )
    assert result.returncode == 7
    assert "exceeds --max-cost $0.000100" in result.stderr
    assert pair.alpha.count("/chat/completions") == 0


def test_piped_stdin_is_sent_before_the_prompt(pair: Pair, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("line one\nline two\n")
    with notes.open() as stdin:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "jarvis_cli",
                "complete",
                "summarize",
                "--model",
                "alpha/fake-chat",
            ],
            stdin=stdin,
            capture_output=True,
            text=True,
            env=_env(pair),
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr
    (request,) = [r for r in pair.alpha.requests if r.path.endswith("/chat/completions")]
    assert request.body["messages"] == [
        {"role": "user", "content": "line one\nline two\n\nsummarize"}
    ]


def test_system_message_and_devnull_stdin(pair: Pair) -> None:
    result = pair.run("complete", "hello", "-s", "be brief", "--model", "alpha/fake-chat")
    assert result.returncode == 0, result.stderr
    (request,) = [r for r in pair.alpha.requests if r.path.endswith("/chat/completions")]
    assert request.body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello"},
    ]


def test_no_stdin_never_touches_an_open_pipe(pair: Pair) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jarvis_cli",
            "complete",
            "hi",
            "--no-stdin",
            "--model",
            "alpha/fake-chat",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(pair),
    )
    try:
        out = proc.stdout.read() if proc.stdout else ""  # stdin stays open, never written
        proc.wait(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert out == "Hello from fake\n"


def test_no_prompt_is_a_usage_error(pair: Pair) -> None:
    result = pair.run("complete")
    assert result.returncode == 2
    assert "no prompt" in result.stderr


def test_completion_type_uses_completions_endpoint(pair: Pair) -> None:
    result = pair.run("complete", "once upon", "--type", "completion", "--model", "alpha/fake-chat")
    assert result.returncode == 0, result.stderr
    assert pair.alpha.count("/completions") == 1
    assert pair.alpha.count("/chat/completions") == 0
    assert pair.calls()[0]["kind"] == "completion"


def test_malformed_model_id_is_usage_error(pair: Pair) -> None:
    result = pair.run("complete", "hi", "--model", "no-slash")
    assert result.returncode == 2
    # issue 27: a bare name is looked up in the registry first
    assert "unknown model 'no-slash': no provider in the registry has a model of that name" in (
        result.stderr
    )
    empty = pair.run("complete", "hi", "--model", "alpha/")
    assert empty.returncode == 2
    assert "bad model id 'alpha/'" in empty.stderr


def test_missing_key_exits_5_with_hint(pair: Pair) -> None:
    del pair.env["JARVIS_ALPHA_API_KEY"]
    result = pair.run("complete", "hi", "--model", "alpha/fake-chat", "--no-fallback")
    assert result.returncode == 5
    assert "alpha" in result.stderr
    assert pair.alpha.count() == 0


def _env(pair: Pair) -> dict[str, str]:
    import os

    return {**os.environ, **pair.env}


@pytest.mark.parametrize("status", [400, 422, 404, 429, 503])
def test_key_echoed_by_provider_never_appears_in_any_output(pair: Pair, status: int) -> None:
    """The canary key, echoed back in every error body, is absent from stdout (--json
    attempts included), stderr, the store and a debug traceback."""
    pair.alpha.always(None, Behavior(status=status, echo_auth=True, error_message="bad"))
    pair.env["JARVIS_DEBUG"] = "1"
    result = pair.run(
        "complete",
        "hi",
        "--model",
        "alpha/fake-chat",
        "--fallback",
        "beta/fake-chat",
        "--retries",
        "0",
        "--json",
    )
    assert result.returncode in (0, 9), result.stderr
    assert_no_canary(result.stdout, result.stderr)
    for path in pair.home.iterdir():
        assert ALPHA_KEY.encode() not in path.read_bytes(), path
    assert pair.alpha.requests[0].headers["authorization"] == f"Bearer {ALPHA_KEY}"


def test_prompt_alone_works_with_stdin_closed(pair: Pair) -> None:
    """Descriptor 0 closed under a running process: no stdin at all is not an error."""
    script = (
        "import os, sys, runpy\n"
        "os.close(0)\n"
        "sys.argv = ['jarvis', 'complete', 'hi', '--model', 'alpha/fake-chat']\n"
        "runpy.run_module('jarvis_cli', run_name='__main__')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=_env(pair), timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello from fake\n"
    (request,) = [r for r in pair.alpha.requests if r.path.endswith("/chat/completions")]
    assert request.body["messages"] == [{"role": "user", "content": "hi"}]


def test_prompt_alone_works_when_the_shell_closes_stdin(pair: Pair) -> None:
    command = f"{sys.executable} -m jarvis_cli complete hi --model alpha/fake-chat <&-"
    proc = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, env=_env(pair), timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello from fake\n"


def test_total_timeout_stops_a_slow_provider_with_exit_8(pair: Pair) -> None:
    """The deadline starts when the request is built, so it holds however long process
    start-up takes; it is checked from the recorded attempt, not the wall clock."""
    pair.alpha.always("fake-chat", Behavior(delay_s=5))
    pair.beta.always("fake-chat", Behavior(delay_s=5))
    result = pair.run(
        "complete",
        "hi",
        "--model",
        "alpha/fake-chat",
        "--fallback",
        "beta/fake-chat",
        "--timeout",
        "1.5",
        "--no-stream",
    )
    assert result.returncode == 8, result.stderr
    assert "all providers failed" in result.stderr
    assert pair.beta.count("/chat/completions") == 0  # no time left for the fallback
    (row,) = pair.calls()
    # The attempt got the whole deadline and was cut there, never waiting the 5 s delay.
    assert row["error_class"] == "unavailable" and 1300 <= row["latency_ms"] < 4500


def test_recorded_latency_is_the_provider_not_the_sdk_import(pair: Pair) -> None:
    """The first call of a process builds the SDK client (importing openai takes most of
    a second here); that set-up must not be recorded as the provider's latency, or
    selection would learn it."""
    pair.alpha.always("fake-chat", Behavior(delay_s=0.05))
    result = pair.run("complete", "hi", "--model", "alpha/fake-chat", "--json")
    assert result.returncode == 0, result.stderr
    (row,) = pair.calls()
    assert 50 <= row["latency_ms"] < 400
