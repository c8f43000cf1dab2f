"""Many `jarvis keys` processes at once: nothing is lost, every increment counts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.vault.keys import KeyManager

# Every test runs on the local SQLite store and on a PostgreSQL team store (issue 16).
pytestmark = pytest.mark.usefixtures("store_backend")


def spawn(*args: str, key: str, env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "jarvis_cli", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdin is not None
    proc.stdin.write(key + "\n")
    proc.stdin.close()
    return proc


def finish(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        err = wait(proc)
        assert proc.returncode == 0, err


def wait(proc: subprocess.Popen[str]) -> str:
    """Wait for `proc` (stdin already closed; its output is a few lines) and return stderr."""
    proc.wait(timeout=60)
    assert proc.stderr is not None and proc.stdout is not None
    err = proc.stderr.read()
    proc.stderr.close()
    proc.stdout.close()
    return err


def values(manager: KeyManager) -> dict[str, str]:
    return {
        k.label: manager.get(k.provider, k.label)
        for k in manager.list_keys("openai")
        if k.source == "vault"
    }


def test_16_concurrent_adds_with_distinct_labels_make_16_rows() -> None:
    env = dict(os.environ)
    procs = [
        spawn("keys", "add", "openai", "-l", f"l{i}", "--stdin", "--no-validate",
              key=f"sk-conc-{i:02d}-" + "y" * 20, env=env)
        for i in range(16)
    ]  # fmt: skip
    finish(procs)
    manager = KeyManager(Context())
    assert values(manager) == {f"l{i}": f"sk-conc-{i:02d}-" + "y" * 20 for i in range(16)}
    events = [e.event for e in manager.history("openai")]
    assert events.count("added") == 16


@pytest.mark.slow(10)
def test_16_concurrent_first_adds_agree_on_one_new_master_key(home: Path) -> None:
    # No JARVIS_MASTER_KEY and no keyring: all of them race to create the key file.
    env = {k: v for k, v in os.environ.items() if k != "JARVIS_MASTER_KEY"}
    procs = [
        spawn("keys", "add", "openai", "-l", f"l{i}", "--stdin", "--no-validate",
              key=f"sk-first-{i:02d}-" + "z" * 20, env=env)
        for i in range(16)
    ]  # fmt: skip
    warnings = 0
    for proc in procs:
        err = wait(proc)
        assert proc.returncode == 0, err
        warnings += err.count("storing a new master key")
    assert warnings == 1
    ctx = Context(env=env)
    assert len(values(KeyManager(ctx))) == 16


def test_8_concurrent_rotations_all_count() -> None:
    env = dict(os.environ)
    manager = KeyManager(Context())
    manager.add("openai", "sk-rot-start-" + "w" * 20, validate=False)
    new_keys = [f"sk-rot-{i}-" + "v" * 20 for i in range(8)]
    procs = [
        spawn("keys", "rotate", "openai", "--stdin", "--no-validate", key=k, env=env)
        for k in new_keys
    ]
    finish(procs)
    [info] = [k for k in manager.list_keys("openai") if k.source == "vault"]
    assert info.rotation_count == 8
    assert manager.get("openai") in new_keys
    assert [e.event for e in manager.history()].count("rotated") == 8
