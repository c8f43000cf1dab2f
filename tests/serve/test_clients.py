"""Third-party clients through `jarvis serve`: `llm` (its OpenAI-compatible endpoint
support) and LiteLLM's proxy (pinned, in .venv-litellm) with jarvis as its upstream."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.litellm_proxy import LITELLM, NOT_INSTALLED, start_litellm
from tests.serve.conftest import Served

# One worker runs this module (--dist loadgroup): its module-scoped fixture starts once.
pytestmark = pytest.mark.xdist_group("serve_clients")

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


@pytest.fixture
def litellm_over_jarvis(srv: Served, tmp_path: Path) -> Iterator[str]:
    if not LITELLM.exists():
        pytest.skip(NOT_INSTALLED)
    yield from start_litellm(
        tmp_path,
        "model_list:\n  - model_name: via-jarvis\n    litellm_params:\n"
        f"      model: openai/jarvis/auto\n      api_base: {srv.url}\n"
        "      api_key: unused\nlitellm_settings:\n  telemetry: false\n",
    )


def test_litellm_proxy_uses_jarvis_serve_as_upstream(srv: Served, litellm_over_jarvis: str) -> None:
    c = openai.OpenAI(base_url=litellm_over_jarvis, api_key="unused", max_retries=0)
    plain = c.chat.completions.create(model="via-jarvis", messages=HI)
    assert plain.choices[0].message.content == "Hello from fake"
    chunks = c.chat.completions.create(model="via-jarvis", messages=HI, stream=True)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == "Hello from fake"
    assert srv.alpha.count("/chat/completions") + srv.beta.count("/chat/completions") == 2
