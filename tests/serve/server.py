"""Start `jarvis serve --port 0` as a real subprocess and read the address it prints.

`JarvisServer` owns two loopback fake providers (alpha, beta: tests/fake_provider.py)
configured in its own JARVIS_HOME, syncs their models, gives them prices (so costs
and budgets are real numbers), and starts the server. Tests talk to it with the
official `openai` SDK over HTTP. No fixed port anywhere (pytest-xdist safe).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import TEST_MASTER_KEY, run_jarvis
from tests.fake_provider import FakeProvider

ALPHA_KEY = "sk-alpha-CANARY-serve-0123456789abcdef"
BETA_KEY = "sk-beta-CANARY-serve-0123456789abcdef"
START_TIMEOUT_S = 60.0


def serve_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JARVIS_", "OPENAI_", "PYTHON_KEYRING_"))
    }
    env.update(
        JARVIS_HOME=str(home),
        JARVIS_MASTER_KEY=TEST_MASTER_KEY,
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        JARVIS_ALPHA_API_KEY=ALPHA_KEY,
        JARVIS_BETA_API_KEY=BETA_KEY,
        NO_COLOR="1",
    )
    env.update(extra or {})
    return env


def configure(
    home: Path,
    alpha: FakeProvider,
    beta: FakeProvider,
    extra: str = "",
    env_extra: dict[str, str] | None = None,
) -> None:
    """config.toml with both providers, fast retries; models synced and priced."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'[providers.alpha]\nbase_url = "{alpha.base_url}"\n'
        f'[providers.beta]\nbase_url = "{beta.base_url}"\n'
        "[retry]\nbackoff_base_s = 0.01\nbackoff_max_s = 0.02\n"
        "[defaults]\nretries = 0\n" + extra
    )
    (home / "config.toml").chmod(0o600)
    env = serve_env(home, env_extra)
    for provider in ("alpha", "beta"):
        done = run_jarvis("models", "sync", provider, env=env)
        assert done.returncode == 0, done.stderr
    for model in ("alpha/fake-chat", "beta/fake-chat"):
        done = run_jarvis(
            "models",
            "set",
            model,
            "--quality",
            "0.8",
            "--input-price",
            "1000",
            "--output-price",
            "2000",
            "--capability",
            "vision",
            "--capability",
            "function_calling",
            "--capability",
            "structured_output",
            env=env,
        )
        assert done.returncode == 0, done.stderr


class JarvisServer:
    """A `jarvis serve` subprocess; `url` is its /v1 base URL."""

    def __init__(self, home: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jarvis_cli", "serve", "--port", "0", *args],
            env=serve_env(home, env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr_lines: list[str] = []
        self.url = self._wait_for_address()
        self._drain = threading.Thread(target=self._read_rest, daemon=True)
        self._drain.start()

    def _wait_for_address(self) -> str:
        assert self.proc.stderr is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise AssertionError(f"jarvis serve exited: {''.join(self.stderr_lines)}")
            self.stderr_lines.append(line)
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                return found.group(1)
        raise AssertionError("jarvis serve did not print its address")

    def _read_rest(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    @property
    def root(self) -> str:
        return self.url.removesuffix("/v1")

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._drain.join(timeout=5)
        return self.proc.returncode
