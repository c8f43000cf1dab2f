"""Built-in providers and the merge with user providers from config.toml.

A provider is resolved from (1) a built-in preset, (2) `[providers.NAME]` in
config.toml, which may override any preset field or define a new provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from jarvis_cli.core.errors import ConfigError
from jarvis_cli.core.store.config import Config


class ProviderSpec(NamedTuple):
    """Everything needed to talk to one OpenAI-compatible endpoint."""

    name: str
    base_url: str
    api_key_env: str | None = None  # the provider's conventional variable, e.g. OPENAI_API_KEY
    needs_key: bool = True
    headers: Mapping[str, str] = {}
    timeout_s: float | None = None
    builtin: bool = False
    catalog_provider: str | None = None  # litellm_provider name in the price map
    description: str = ""

    @property
    def jarvis_env_var(self) -> str:
        """`JARVIS_<NAME>_API_KEY`: beats the conventional variable and the vault."""
        return f"JARVIS_{self.name.upper().replace('-', '_')}_API_KEY"

    def key_env_vars(self) -> tuple[str, ...]:
        """Environment variables consulted for a key, in order."""
        names = [self.jarvis_env_var]
        if self.api_key_env and self.api_key_env not in names:
            names.append(self.api_key_env)
        return tuple(names)


PRESETS: dict[str, ProviderSpec] = {
    p.name: p
    for p in (
        ProviderSpec(
            "openai",
            "https://api.openai.com/v1",
            "OPENAI_API_KEY",
            catalog_provider="openai",
            description="OpenAI",
        ),
        ProviderSpec(
            "anthropic",
            "https://api.anthropic.com/v1/",
            "ANTHROPIC_API_KEY",
            catalog_provider="anthropic",
            description="Anthropic (OpenAI SDK compatibility endpoint)",
        ),
        ProviderSpec(
            "gemini",
            "https://generativelanguage.googleapis.com/v1beta/openai/",
            "GEMINI_API_KEY",
            catalog_provider="gemini",
            description="Google Gemini (OpenAI-compatible endpoint)",
        ),
        ProviderSpec(
            "groq",
            "https://api.groq.com/openai/v1",
            "GROQ_API_KEY",
            catalog_provider="groq",
            description="Groq",
        ),
        ProviderSpec(
            "mistral",
            "https://api.mistral.ai/v1",
            "MISTRAL_API_KEY",
            catalog_provider="mistral",
            description="Mistral AI",
        ),
        ProviderSpec(
            "deepseek",
            "https://api.deepseek.com/v1",
            "DEEPSEEK_API_KEY",
            catalog_provider="deepseek",
            description="DeepSeek",
        ),
        ProviderSpec(
            "together",
            "https://api.together.xyz/v1",
            "TOGETHER_API_KEY",
            catalog_provider="together_ai",
            description="Together AI",
        ),
        ProviderSpec(
            "openrouter",
            "https://openrouter.ai/api/v1",
            "OPENROUTER_API_KEY",
            catalog_provider="openrouter",
            description="OpenRouter",
        ),
        ProviderSpec(
            "fireworks",
            "https://api.fireworks.ai/inference/v1",
            "FIREWORKS_API_KEY",
            catalog_provider="fireworks_ai",
            description="Fireworks AI",
        ),
        ProviderSpec(
            "ollama",
            "http://localhost:11434/v1",
            "OLLAMA_API_KEY",
            needs_key=False,
            catalog_provider="ollama",
            description="Ollama (local)",
        ),
        ProviderSpec(
            "vllm",
            "http://localhost:8000/v1",
            "VLLM_API_KEY",
            needs_key=False,
            description="vLLM OpenAI-compatible server (local)",
        ),
        ProviderSpec(
            "lmstudio",
            "http://localhost:1234/v1",
            "LMSTUDIO_API_KEY",
            needs_key=False,
            description="LM Studio (local)",
        ),
    )
}


def all_providers(config: Config) -> dict[str, ProviderSpec]:
    """Presets merged with config.toml's [providers.*], by name."""
    out = dict(PRESETS)
    for name, user in config.providers.items():
        base = out.get(name)
        if base is None:
            if not user.base_url:
                raise ConfigError(
                    f"[providers.{name}] has no base_url and {name!r} is not a built-in "
                    f"provider (built in: {', '.join(PRESETS)})"
                )
            base = ProviderSpec(name=name, base_url=user.base_url)
        out[name] = base._replace(
            base_url=user.base_url or base.base_url,
            api_key_env=user.api_key_env or base.api_key_env,
            needs_key=base.needs_key if user.needs_key is None else user.needs_key,
            headers={**base.headers, **user.headers},
            timeout_s=user.timeout_s if user.timeout_s is not None else base.timeout_s,
        )
    return out


def get_provider(config: Config, name: str) -> ProviderSpec:
    """The spec for `name`, or a ConfigError listing the known providers."""
    from jarvis_cli.core.errors import UsageError

    providers = all_providers(config)
    try:
        return providers[name]
    except KeyError:
        raise UsageError(
            f"unknown provider {name!r}",
            hint=f"known providers: {', '.join(sorted(providers))}; "
            "add one with `jarvis providers add NAME --base-url URL`",
        ) from None
