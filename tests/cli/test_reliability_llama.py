"""Reliability and cooldowns on a real llama.cpp server (issue 24).

The real server (tests/llama_server.py) answers, streams and rejects for real: a
Ctrl-C mid-stream, a request too long for its 2048-token context (a 400 the request
caused) and a budget refusal are recorded or refused, yet the model keeps its success
rate and is never rested. (A bad key cannot be had from this keyless server; that case
runs on the fake provider in test_reliability_faults.py.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_jarvis
from tests.llama_server import LlamaServer
from tests.store_access import query

STRICT_COOLDOWN = "[cooldown]\nfailures = 1\nwindow_s = 600\nduration_s = 600\n"


def _judged(model_id: str) -> dict[str, Any]:
    proc = run_jarvis("select", "hi", "--json", "--explain", "--provider", "llama")
    assert proc.returncode == 0, proc.stderr  # a cooling model would leave nothing: exit 6
    data = json.loads(proc.stdout)
    (row,) = [c for c in data["candidates"] if c["model_id"] == model_id]
    return dict(row)


def _interrupt(model_id: str) -> None:
    args = [
        "complete", "Write a very long story about a lighthouse keeper.", "--model", model_id,
        "--stream", "--max-tokens", "1500", "--timeout", "120",
    ]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "jarvis_cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert os.read(proc.stdout.fileno(), 10)  # text is streaming
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err


@pytest.mark.slow(16)
def test_real_server_interrupt_rejection_and_budget_leave_reliability_alone(
    llama_server: LlamaServer, home: Path
) -> None:
    llama_server.configure(home, STRICT_COOLDOWN)
    model = llama_server.model_id
    assert run_jarvis("models", "sync", "llama").returncode == 0
    ok = run_jarvis("complete", "Say hi.", "--model", model, "--max-tokens", "4", "--no-stream")
    assert ok.returncode == 0, ok.stderr
    assert (_judged(model)["calls"], _judged(model)["success_rate"]) == (1, 1.0)

    _interrupt(model)
    too_long = run_jarvis(
        "complete", "word " * 5000, "--model", model, "--max-tokens", "4", "--no-stream",
        "--retries", "0",
    )  # fmt: skip
    assert too_long.returncode == 9, too_long.stderr  # the request's fault: 400 from the server
    priced = run_jarvis("models", "set", model, "--input-price", "5", "--output-price", "5")
    assert priced.returncode == 0
    refused = run_jarvis("complete", "hi", "--model", model, "--max-cost", "0.0000001")
    assert refused.returncode == 7, refused.stderr

    rows = query(home, "SELECT ok, error_class FROM calls ORDER BY id")
    outcomes = [(r["ok"], r["error_class"]) for r in rows]
    assert outcomes[0] == (1, None) and outcomes[1] == (0, "interrupted")
    assert outcomes[2][0] == 0 and outcomes[2][1] in ("context_too_long", "bad_request")
    assert len(outcomes) == 3  # the budget refusal sent nothing
    after = _judged(model)  # not cooling (failures = 1 would rest it on any counted fault)
    assert (after["calls"], after["success_rate"]) == (1, 1.0)
    stats = json.loads(run_jarvis("stats", "--json", "--model", model).stdout)["models"]
    assert (stats[0]["calls"], stats[0]["successes"]) == (3, 1)  # stats shows every attempt


@pytest.mark.slow(16)
def test_probe_measures_the_real_server_and_replaces_the_prior(
    llama_server: LlamaServer, home: Path
) -> None:
    llama_server.configure(home)
    model = llama_server.model_id
    assert run_jarvis("models", "sync", "llama").returncode == 0
    before = _judged(model)
    assert before["latency_source"] == "prior"
    proc = run_jarvis("models", "probe", model, "--json")
    assert proc.returncode == 0, proc.stderr
    (probe,) = json.loads(proc.stdout)["models"]
    assert probe["ok"] and probe["ttft_ms"] > 0 and probe["tokens_per_s"] > 0
    assert 0 < probe["completion_tokens"] <= 48
    after = _judged(model)
    assert after["latency_source"] == "measured"
    # expected latency for the default 500 output tokens, from the probe's own figures
    expected = probe["ttft_ms"] + 500 * 1000 / probe["tokens_per_s"]
    assert after["expected_latency_ms"] == pytest.approx(expected, rel=0.01)
    print(f"prior {before['expected_latency_ms']:.0f} ms -> measured {expected:.0f} ms")
