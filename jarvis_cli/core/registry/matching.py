"""The same model under another name: a listed model the catalog does not know under
its own provider is matched to a catalog entry of another provider by name.

Rules, first that finds something wins (every comparison lower-cased):

1. the same name (`box/gpt-4o-mini` -> `openai/gpt-4o-mini`);
2. the same last path segment (`vllm/openai/gpt-4o-mini` -> `openai/gpt-4o-mini`);
3. the same `match_key`: the last path segment without an Ollama `:tag`, a leading
   `meta-`, and trailing serving suffixes (`-turbo`, `-instant`, `-fp8`, `-awq`, ...):
   `vllm/meta-llama/Llama-3.1-8B-Instruct` and
   `together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo` share `llama-3.1-8b-instruct`.

Among several matches, a first-party provider of the model wins (PREFERRED order),
then the smallest id. The match gives type, capabilities and limits, never a price:
another provider's price says nothing about what this endpoint charges.
"""

from __future__ import annotations

from collections.abc import Iterable

_SERVING_SUFFIXES = (
    "-turbo",
    "-instant",
    "-fp8",
    "-fp16",
    "-bf16",
    "-awq",
    "-gptq",
    "-gguf",
    "-hf",
)
# First-party providers first: their entry describes the model as its maker serves it.
PREFERRED = (
    "openai",
    "anthropic",
    "gemini",
    "mistral",
    "deepseek",
    "xai",
    "groq",
    "together",
    "fireworks",
    "openrouter",
)


def match_key(name: str) -> str:
    """The normalised name rule 3 compares (see the module docstring)."""
    key = name.lower().rpartition("/")[2].partition(":")[0]
    key = key.removeprefix("meta-")
    changed = True
    while changed:
        changed = False
        for suffix in _SERVING_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key = key[: -len(suffix)]
                changed = True
    return key


def _rank(model_id: str) -> tuple[int, str]:
    provider = model_id.partition("/")[0]
    return (PREFERRED.index(provider) if provider in PREFERRED else len(PREFERRED), model_id)


class NameIndex:
    """Catalog model ids by the three keys of the module docstring."""

    def __init__(self, model_ids: Iterable[str]) -> None:
        self.by_name: dict[str, str] = {}
        self.by_last: dict[str, str] = {}
        self.by_key: dict[str, str] = {}
        for model_id in sorted(model_ids, key=_rank):
            name = model_id.partition("/")[2].lower()
            self.by_name.setdefault(name, model_id)
            self.by_last.setdefault(name.rpartition("/")[2], model_id)
            self.by_key.setdefault(match_key(name), model_id)

    def find(self, provider: str, name: str) -> str | None:
        """The catalog id of the same model under another provider, or None."""
        lowered = name.lower()
        for found in (
            self.by_name.get(lowered),
            self.by_last.get(lowered.rpartition("/")[2]),
            self.by_key.get(match_key(lowered)),
        ):
            if found is not None and found.partition("/")[0] != provider:
                return found
        return None
