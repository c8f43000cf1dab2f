"""Third-party clients through `jarvis serve`: `llm` (its OpenAI-compatible endpoint
support) and LiteLLM's proxy (pinned, in .venv-litellm) with jarvis as its upstream."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.serve.conftest import Served

REPO = Path(__file__).resolve().parents[2]
LITELLM = REPO / ".venv-litellm" / "bin" / "litellm"
LLM = Path(sys.executable).parent / "llm"
HI = [{"role": "user", "content": "hi"}]


def test_llm_answers_a_prompt_through_jarvis_serve(srv: Served, tmp_path: Path) -> None:
    assert LLM.exists() or shutil.which("llm"), "llm is in the test extra"
    (tmp_path / "extra-openai-models.yaml").write_text(
        f'- model_id: jarvis\n  model_name: jarvis/auto\n  api_base: "{srv.url}"\n'
        "  api_key_name: jarvis\n"
    )
    env = {**os.environ, "LLM_USER_PATH": str(tmp_path), "LLM_JARVIS_KEY": "unused"}
    keys = subprocess.run(
        [str(LLM), "keys", "set", "jarvis", "--value", "unused"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert keys.returncode == 0, keys.stderr
    done = subprocess.run(
        [str(LLM), "-m", "jarvis", "--no-log", "say hi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Hello from fake"
    assert srv.alpha.count("/chat/completions") + srv.beta.count("/chat/completions") == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def litellm_over_jarvis(srv: Served, tmp_path: Path) -> Iterator[str]:
    if not LITELLM.exists():
        pytest.skip(f"LiteLLM proxy not installed at {LITELLM} (.ci/run creates .venv-litellm)")
    config = tmp_path / "config.yaml"
    config.write_text(
        "model_list:\n  - model_name: via-jarvis\n    litellm_params:\n"
        f"      model: openai/jarvis/auto\n      api_base: {srv.url}\n"
        "      api_key: unused\nlitellm_settings:\n  telemetry: false\n"
    )
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
        "DISABLE_SCHEMA_UPDATE": "True",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    log = (tmp_path / "litellm.log").open("wb")
    proc = subprocess.Popen(
        [str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            assert proc.poll() is None, (tmp_path / "litellm.log").read_text()
            try:
                with urllib.request.urlopen(f"{base}/health/liveliness", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "litellm did not start"
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


def test_litellm_proxy_uses_jarvis_serve_as_upstream(srv: Served, litellm_over_jarvis: str) -> None:
    c = openai.OpenAI(base_url=litellm_over_jarvis, api_key="unused", max_retries=0)
    plain = c.chat.completions.create(model="via-jarvis", messages=HI)
    assert plain.choices[0].message.content == "Hello from fake"
    chunks = c.chat.completions.create(model="via-jarvis", messages=HI, stream=True)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == "Hello from fake"
    assert srv.alpha.count("/chat/completions") + srv.beta.count("/chat/completions") == 2
