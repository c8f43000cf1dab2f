"""A ModelInfo from one `/models` item of an OpenAI-compatible server (untrusted)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jarvis_cli.core.providers.base import Capabilities, ModelInfo


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _per_mtok(value: Any) -> float | None:
    """An OpenRouter per-token USD price (a string or number) per million tokens; None
    for anything that is not a plausible price (negative means "varies" there)."""
    try:
        per_token = float(value)
    except (TypeError, ValueError):
        return None
    if not 0.0 <= per_token < 1.0:  # NaN and inf fail too
        return None
    return round(per_token * 1_000_000, 6)


def model_info(model_id: str, extra: Mapping[str, Any], owned_by: Any) -> ModelInfo:
    """A ModelInfo from one /models item and its non-standard fields (untrusted).

    Context window: `context_length` (OpenRouter, Together), `context_window` (Groq),
    `max_model_len` (vLLM), `top_provider.context_length`. OpenRouter also gives
    `pricing.prompt`/`pricing.completion` (USD per token),
    `top_provider.max_completion_tokens` and `architecture.input_modalities`
    (image -> vision, audio -> audio) with `output_modalities` ["text"] -> chat.
    """
    top = extra.get("top_provider")
    top = top if isinstance(top, Mapping) else {}
    context = (
        _positive_int(extra.get("context_length"))
        or _positive_int(extra.get("context_window"))
        or _positive_int(extra.get("max_model_len"))
        or _positive_int(top.get("context_length"))
    )
    pricing = extra.get("pricing")
    pricing = pricing if isinstance(pricing, Mapping) else {}
    arch = extra.get("architecture")
    arch = arch if isinstance(arch, Mapping) else {}
    inputs = arch.get("input_modalities")
    outputs = arch.get("output_modalities")
    caps = Capabilities()
    if isinstance(inputs, list) and all(isinstance(m, str) for m in inputs):
        caps = caps._replace(vision="image" in inputs, audio="audio" in inputs)
        if outputs == ["text"] and "text" in inputs:
            caps = caps._replace(chat=True, embeddings=False)
    return ModelInfo(
        id=model_id,
        name=model_id,
        capabilities=caps,
        context_length=context,
        owned_by=owned_by if isinstance(owned_by, str) else None,
        input_cost_per_mtok=_per_mtok(pricing.get("prompt")) if pricing else None,
        output_cost_per_mtok=_per_mtok(pricing.get("completion")) if pricing else None,
        max_output_tokens=_positive_int(top.get("max_completion_tokens")),
    )
