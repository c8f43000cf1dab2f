"""Ctrl-C during `jarvis models sync` ends it at once with exit 130, and what arrived
before is kept; it used to wait until every listing in flight had timed out (20 s)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from jarvis_cli.core.errors import ExitCode
from tests.fake_provider import Behavior, FakeProvider


def test_ctrl_c_during_sync_exits_130_at_once(home: Path) -> None:
    with FakeProvider() as slow:
        slow.always(None, Behavior(delay_s=30))  # /models answers after 30 s
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        (home / "config.toml").write_text(
            f'[providers.slow]\nbase_url = "{slow.base_url}"\nneeds_key = false\n'
        )
        (home / "config.toml").chmod(0o600)
        proc = subprocess.Popen(
            [sys.executable, "-m", "jarvis_cli", "models", "sync", "slow"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ),
        )
        try:
            deadline = time.monotonic() + 30
            while slow.count("/models") == 0:  # the listing request is in flight
                assert time.monotonic() < deadline, "sync never asked for /models"
                time.sleep(0.05)
            interrupted = time.monotonic()
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
            took = time.monotonic() - interrupted
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert b"Traceback" not in err
    assert took < 5, f"Ctrl-C took {took:.1f} s to end the sync"
