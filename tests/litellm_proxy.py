"""A real LiteLLM proxy for tests: the pinned 1.106.12 in its own venv, `<repo>/.venv-litellm`
(.ci/run creates it: `litellm[proxy]` pins an `openai` other than jarvis's).

`start_litellm` binds 127.0.0.1 on a free port with the local cost map, telemetry off
and any outbound proxy traffic pointed at a dead port, so it makes no network traffic.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LITELLM = REPO / ".venv-litellm" / "bin" / "litellm"
START_TIMEOUT_S = 120.0  # litellm imports a lot; the machine may be loaded
NOT_INSTALLED = f"LiteLLM proxy not installed at {LITELLM} (.ci/run creates .venv-litellm)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_litellm(work: Path, config_text: str) -> Iterator[str]:
    """Run a LiteLLM proxy with `config_text` in `work`; yield its base URL (…/v1)."""
    config = work / "config.yaml"
    config.write_text(config_text)
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(work),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
        "LITELLM_DONT_SHOW_FEEDBACK_BOX": "True",
        "DISABLE_SCHEMA_UPDATE": "True",
        "PYTHONDONTWRITEBYTECODE": "1",  # the venv may be shared: write nothing into it
        # The scenario is an endpoint without a key; it listens on 127.0.0.1 only.
        "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true",
        # Anything that tries to leave the machine fails fast instead.
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    log = (work / "litellm.log").open("wb")
    proc = subprocess.Popen(
        [str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"litellm exited {proc.returncode}: {(work / 'litellm.log').read_text()}"
                )
            try:
                with urllib.request.urlopen(f"{base}/health/liveliness", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"litellm not up after {START_TIMEOUT_S:.0f} s")
            time.sleep(0.5)
        yield f"{base}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
