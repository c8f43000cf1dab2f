"""`keys rekey` killed with SIGKILL at random moments: afterwards every key still decrypts
and none is lost (master key in a key file, the case with the most moving parts)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.vault.keys import KeyManager

ROOT = Path(__file__).resolve().parents[2]
N_KEYS = 40
DRIVER_TRIALS = 20
CLI_TRIALS = 6


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    return env


def _check(expected: dict[str, str]) -> str:
    """A fresh process opens every key and gets the value that was stored."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.crash.rekey_driver", "check"],
        capture_output=True, text=True, env=_env(), timeout=30, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["keys"] == expected
    assert data["state"] != "unexpected"
    return str(data["state"])


def _driver() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.crash.rekey_driver"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT,
    )  # fmt: skip


@pytest.fixture
def stored_keys(monkeypatch: pytest.MonkeyPatch, home: Path) -> dict[str, str]:
    monkeypatch.delenv("JARVIS_MASTER_KEY")
    ctx = Context()
    manager = KeyManager(ctx, warn=lambda _: None)
    expected = {}
    for i in range(N_KEYS):
        value = f"sk-crash-{i:04d}-" + "x" * 24
        manager.add("openai", value, f"k{i}", validate=False)
        expected[f"openai/k{i}"] = value
    ctx.close()
    assert (home / "master.key").exists()
    return expected


@pytest.mark.slow(24)
def test_rekey_survives_sigkill_at_random_moments(stored_keys: dict[str, str], home: Path) -> None:
    rng = random.Random(1234)
    # How long a rekey takes once started (no kill), to aim kills inside it.
    proc = _driver()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    duration = float(out.split()[-1])
    _check(stored_keys)

    outcomes = {"killed": 0, "finished": 0}
    states: list[str] = []
    deadline = time.monotonic() + 40
    for _ in range(DRIVER_TRIALS):
        proc = _driver()
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0, duration * 1.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        outcomes["killed" if proc.returncode == -signal.SIGKILL else "finished"] += 1
        proc.stdout.close()
        assert proc.stderr is not None
        proc.stderr.close()
        states.append(_check(stored_keys))
        assert time.monotonic() < deadline
    # The whole CLI, killed anywhere between start-up and exit.
    for _ in range(CLI_TRIALS):
        started = time.monotonic()
        cli = subprocess.Popen(
            [sys.executable, "-m", "jarvis_cli", "keys", "rekey"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(),
        )  # fmt: skip
        time.sleep(rng.uniform(0.2, 0.8))
        cli.send_signal(signal.SIGKILL)
        cli.wait(timeout=10)
        assert time.monotonic() - started < 10
        _check(stored_keys)
    assert outcomes["killed"] >= DRIVER_TRIALS // 4, (outcomes, states)
    # After all that, a rekey that is left alone completes and cleans up its pending key.
    final = subprocess.run(
        [sys.executable, "-m", "jarvis_cli", "keys", "rekey"],
        capture_output=True, text=True, env=_env(), timeout=30,
    )  # fmt: skip
    assert final.returncode == 0, final.stderr
    assert f"re-sealed {N_KEYS} key(s)" in final.stderr
    assert not (home / "master.key.pending").exists()
    _check(stored_keys)
