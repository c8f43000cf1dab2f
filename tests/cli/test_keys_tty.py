"""The terminal paths of `jarvis keys`: a hidden prompt that never echoes the key, and
the confirmation before a delete."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

from tests.conftest import run_jarvis

CANARY = "sk-tty-CANARY-0123456789abcdef"


def _read_until(fd: int, marker: bytes, timeout: float = 30) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while marker not in out:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out waiting for {marker!r}; got {out!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out


def _spawn(*args: str) -> tuple[subprocess.Popen[bytes], int]:
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "jarvis_cli", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    return proc, master


def _drain(fd: int) -> bytes:
    out = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            return out
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return out
        if not chunk:
            return out
        out += chunk


def test_hidden_prompt_stores_the_key_without_echoing_it() -> None:
    proc, master = _spawn("keys", "add", "openai", "--no-validate")
    try:
        shown = _read_until(master, b"(input hidden): ")
        os.write(master, CANARY.encode() + b"\n")
        proc.wait(timeout=30)
        shown += _drain(master)
    finally:
        proc.kill()
        os.close(master)
    assert proc.returncode == 0, shown
    assert CANARY.encode() not in shown  # the terminal never displayed it
    (key,) = json.loads(run_jarvis("keys", "list", "--json").stdout)
    assert key["provider"] == "openai" and key["fingerprint"] == "sk-…cdef"


def test_delete_asks_on_a_terminal_and_keeps_the_key_on_no() -> None:
    added = run_jarvis("keys", "add", "openai", "--stdin", "--no-validate", input=CANARY + "\n")
    assert added.returncode == 0, added.stderr
    proc, master = _spawn("keys", "delete", "openai")
    try:
        _read_until(master, b"delete the openai/default key?")
        os.write(master, b"n\n")
        proc.wait(timeout=30)
        shown = _drain(master)
    finally:
        proc.kill()
        os.close(master)
    assert proc.returncode == 2  # declined: nothing done, like a usage error
    assert b"nothing deleted" in shown
    assert len(json.loads(run_jarvis("keys", "list", "--json").stdout)) == 1
    proc, master = _spawn("keys", "delete", "openai")
    try:
        _read_until(master, b"?")
        os.write(master, b"y\n")
        proc.wait(timeout=30)
    finally:
        proc.kill()
        os.close(master)
    assert proc.returncode == 0
    assert json.loads(run_jarvis("keys", "list", "--json").stdout) == []
