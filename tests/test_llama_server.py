"""The real llama.cpp server fixture (tests/llama_server.py) and jarvis through it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_jarvis
from tests.llama_server import LlamaServer


@pytest.mark.slow(15)
def test_jarvis_completes_through_a_real_llama_server(
    llama_server: LlamaServer, home: Path
) -> None:
    llama_server.configure(home)
    result = run_jarvis(
        "complete", "Say hello.", "--model", llama_server.model_id,
        "--max-tokens", "8", "--no-stream", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["model_id"] == "llama/smollm2"
    assert data["text"].strip()
    usage = data["usage"]
    # The real chat template adds SmolLM2's default system prompt: far more prompt tokens
    # than the two words typed, and the output limit sent was honoured.
    assert usage["prompt_tokens"] > 20
    assert 0 < usage["completion_tokens"] <= 8
