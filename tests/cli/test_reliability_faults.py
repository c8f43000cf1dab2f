"""Reliability and cooldowns count only the model's own faults (issue 24).

Ctrl-C, a budget refusal, a bad key and a 4xx the request caused are recorded (and
`jarvis stats` shows them) but leave the model's success rate and cooldown alone; a
server error still counts. Real CLI in subprocesses against loopback fake providers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Any

import pytest

from tests.cli.test_complete import Pair, pair, write_config  # noqa: F401 - fixture
from tests.fake_provider import Behavior

MODEL = "alpha/fake-chat"
# One failure is enough to rest a model: any fault that counts would show at once.
STRICT_COOLDOWN = "[cooldown]\nfailures = 1\nwindow_s = 600\nduration_s = 600\n"


def _strict(fx: Pair) -> None:
    config = (fx.home / "config.toml").read_text()
    write_config(fx.home, config + STRICT_COOLDOWN)
    assert fx.run("models", "sync", "alpha").returncode == 0
    assert (
        fx.run("models", "set", MODEL, "--input-price", "1", "--output-price", "2").returncode == 0
    )


def _judged(fx: Pair) -> dict[str, Any]:
    """What selection sees of MODEL: its candidate row, or its exclusion."""
    proc = fx.run("select", "hi", "--json", "--explain", "--provider", "alpha")
    assert proc.returncode in (0, 6), proc.stderr
    if proc.returncode == 6:
        return {"excluded": proc.stderr}
    data = json.loads(proc.stdout)
    for c in data["candidates"]:
        if c["model_id"] == MODEL:
            return dict(c)
    return {"excluded": [e for e in data["excluded"] if e["model_id"] == MODEL]}


def _stats(fx: Pair) -> dict[str, Any]:
    proc = fx.run("stats", "--json", "--model", MODEL)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)["models"]
    return row  # type: ignore[no-any-return]


def _interrupt(fx: Pair) -> None:
    chunks = [f"w{i} " for i in range(100)]
    fx.alpha.always("fake-chat", Behavior(chunks=chunks, chunk_delay_s=0.1))
    args = ["complete", "hi", "--model", MODEL, "--stream", "--timeout", "60"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "jarvis_cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **fx.env},
    )
    try:
        assert proc.stdout is not None
        assert os.read(proc.stdout.fileno(), 100).startswith(b"w0")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err


@pytest.mark.slow(16)
def test_ctrl_c_budget_bad_key_and_bad_request_leave_reliability_and_cooldown_alone(
    pair: Pair,  # noqa: F811
) -> None:
    _strict(pair)
    assert pair.run("complete", "hi", "--model", MODEL, "--no-stream").returncode == 0
    healthy = _judged(pair)
    assert (healthy["calls"], healthy["success_rate"]) == (1, 1.0)

    _interrupt(pair)  # Ctrl-C mid-stream: recorded as `interrupted`
    refused = pair.run("complete", "hi", "--model", MODEL, "--max-cost", "0.0000001")
    assert refused.returncode == 7, refused.stderr  # budget: refused before sending
    pair.alpha.always("fake-chat", Behavior(status=400, error_message="messages: bad role"))
    rejected = pair.run("complete", "hi", "--model", MODEL, "--no-stream", "--retries", "0")
    assert rejected.returncode == 9, rejected.stderr  # the request's fault
    wrong = run_with_key(pair, "sk-alpha-WRONG-0123456789abcdef")
    assert wrong.returncode == 5, wrong.stderr  # the key's fault

    outcomes = [(r["ok"], r["error_class"]) for r in pair.calls()]
    assert outcomes == [(1, None), (0, "interrupted"), (0, "bad_request"), (0, "auth")]
    after = _judged(pair)
    assert "excluded" not in after, after  # no cooldown
    assert (after["calls"], after["success_rate"]) == (1, 1.0)  # nothing counted against it
    shown = _stats(pair)  # stats still shows every attempt with its outcome
    assert (shown["calls"], shown["successes"]) == (4, 1)
    assert shown["outcomes"] == {"answered": 1, "auth": 1, "bad_request": 1, "interrupted": 1}
    assert shown["not_model_faults"] == 3
    human = pair.run("stats")
    assert (
        f"{MODEL}: 1 answered, 1 auth, 1 bad_request, 1 interrupted; 3 not counted against "
        "the model by selection" in human.stderr
    )

    # A server error is the model's fault: it counts, and (failures = 1) rests it.
    pair.alpha.always("fake-chat", Behavior(status=503))
    down = pair.run("complete", "hi", "--model", MODEL, "--no-stream", "--retries", "0")
    assert down.returncode == 8, down.stderr
    rested = _judged(pair)
    assert "cooling down" in json.dumps(rested["excluded"]), rested


def run_with_key(fx: Pair, key: str) -> subprocess.CompletedProcess[str]:
    from tests.conftest import run_jarvis

    fx.alpha.always("fake-chat", Behavior())
    env = {**fx.env, "JARVIS_ALPHA_API_KEY": key}
    args = ("complete", "hi", "--model", MODEL, "--no-stream", "--retries", "0")
    return run_jarvis(*args, env=env)
