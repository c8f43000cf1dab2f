"""/models metadata: what is kept of OpenRouter's and vLLM's extra fields (untrusted)."""

from __future__ import annotations

from jarvis_cli.core.providers.base import Capabilities
from jarvis_cli.core.providers.model_info import model_info


def test_openrouter_pricing_context_and_modalities_are_kept() -> None:
    info = model_info(
        "anthropic/claude-x",
        {
            "context_length": 200000,
            "pricing": {"prompt": "0.000003", "completion": "0.000015", "image": "0.0048"},
            "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"]},
            "top_provider": {"context_length": 200000, "max_completion_tokens": 8192},
        },
        "anthropic",
    )
    assert (info.input_cost_per_mtok, info.output_cost_per_mtok) == (3.0, 15.0)
    assert info.context_length == 200000 and info.max_output_tokens == 8192
    assert info.capabilities == Capabilities(chat=True, embeddings=False, vision=True, audio=False)
    assert info.owned_by == "anthropic"


def test_vllm_max_model_len_is_the_context_window() -> None:
    info = model_info("meta-llama/Llama-3.1-8B-Instruct", {"max_model_len": 32768}, "vllm")
    assert info.context_length == 32768
    assert info.input_cost_per_mtok is None and info.capabilities == Capabilities()


def test_implausible_values_are_ignored() -> None:
    info = model_info(
        "x",
        {
            "context_length": -5,
            "context_window": True,
            "pricing": {"prompt": "-1", "completion": "nan"},
            "architecture": {"input_modalities": "text"},
            "top_provider": ["not", "a", "mapping"],
        },
        42,
    )
    assert info.context_length is None and info.owned_by is None
    assert (info.input_cost_per_mtok, info.output_cost_per_mtok) == (None, None)
    assert info.capabilities == Capabilities()
