"""Built-in providers and the merge with user providers from config.toml.

A provider is resolved from (1) a built-in preset, (2) `[providers.NAME]` in
config.toml, which may override any preset field or define a new provider.

A base URL with user info (`http://user@host/v1`) means HTTP Basic auth: the user
name comes from the URL, the password is the provider's key (environment or vault),
applied by the adapter as an `Authorization: Basic` header; the URL the SDK sees has
no user info. A password still written in config.toml (`http://user:PASS@host/v1`)
keeps working, with a warning once per process; it is never displayed
(`display_url` is `http://user:***@host/v1`).
"""

# No `from __future__ import annotations` here: typing.NamedTuple compiles every
# string annotation (a ForwardRef per field), ~40 % of these classes' import cost.

import re
import sys
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import unquote, urlsplit, urlunsplit

from jarvis_cli.core.errors import ConfigError, UsageError
from jarvis_cli.core.redact import MASK, register_secret
from jarvis_cli.core.store.config import Config


class UrlPassword:
    """A password found in a config.toml base URL; its repr never shows it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value
        register_secret(value)

    def __repr__(self) -> str:
        return f"UrlPassword({MASK})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UrlPassword) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


# Compiled on first use (re's cache): only commands that take a base URL check one.
_BASE_URL = r"^https?://[^\s/?#]+[^\s]*$"


def check_base_url(url: str) -> None:
    """UsageError (exit 2) unless `url` can be a base URL: http(s), a host, and no query
    or fragment (each request appends its path, which a `?…` or `#…` would swallow:
    `?key=…` also put a key in config.toml)."""
    try:
        parts = urlsplit(url) if re.match(_BASE_URL, url) else None
    except ValueError:  # "Invalid IPv6 URL"
        parts = None
    if parts is None:
        raise UsageError(f"bad --base-url {url!r}: expected an http:// or https:// URL")
    if "?" in url or "#" in url:
        shown = urlunsplit(parts._replace(query="", fragment=""))
        raise UsageError(
            f"bad --base-url {shown}?…: a base URL takes no query (?…) or fragment (#…); "
            "each request appends its path to it",
            hint="a key goes in the vault (`jarvis keys add NAME`), a header with "
            "--secret-header; a password in the URL (http://user:PASS@host) is sealed too",
        )


def split_url_password(url: str) -> tuple[str, str | None]:
    """(`url` without the password of its user info, that password or None)."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    if not at or not colon:
        return url, None
    return urlunsplit(parts._replace(netloc=f"{user}@{hostport}")), unquote(password)


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
    # Whether OPENAI_ORG_ID / OPENAI_PROJECT_ID go to this provider (the openai preset,
    # or a provider whose config opts in); never to anyone else.
    send_openai_org: bool = False
    url_password: UrlPassword | None = None  # a password left in config.toml's base_url
    # response_format json_schema with "strict": true is honoured (OpenAI); elsewhere
    # jarvis sends strict false and validates the answer itself either way.
    strict_schema: bool = False
    # The chat request's output-token limit: OpenAI's reasoning models refuse
    # `max_tokens` and take `max_completion_tokens` (every OpenAI chat model does).
    max_tokens_param: str = "max_tokens"
    secret_headers: tuple[str, ...] = ()  # header names whose values are in the vault

    @property
    def basic_user(self) -> str | None:
        """The user name of the base URL's user info (HTTP Basic auth), or None."""
        userinfo, at, _ = urlsplit(self.base_url).netloc.rpartition("@")
        return unquote(userinfo.partition(":")[0]) if at else None

    @property
    def request_url(self) -> str:
        """The base URL without user info: what the HTTP client is given."""
        parts = urlsplit(self.base_url)
        _, at, hostport = parts.netloc.rpartition("@")
        return urlunsplit(parts._replace(netloc=hostport)) if at else self.base_url

    @property
    def display_url(self) -> str:
        """The base URL as shown anywhere: `http://user:***@host/v1` when it uses a password."""
        parts = urlsplit(self.base_url)
        userinfo, at, hostport = parts.netloc.rpartition("@")
        if not at:
            return self.base_url
        user = userinfo.partition(":")[0]
        return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{hostport}"))

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
            send_openai_org=True,
            strict_schema=True,
            max_tokens_param="max_completion_tokens",
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


def url_credential_source(spec: ProviderSpec, key_source: str | None) -> str | None:
    """Where the password of a base URL with user info is kept: `vault`, `env`,
    `config.toml` (legacy, in clear) or `missing`; None when the URL names no user."""
    if spec.basic_user is None:
        return None
    if key_source is not None:
        return key_source
    return "config.toml" if spec.url_password is not None else "missing"


_warned_url_password = False


def _warn_url_password(names: list[str]) -> None:
    """Once per process: config.toml keeps a base-URL password in clear."""
    global _warned_url_password
    if _warned_url_password:
        return
    _warned_url_password = True
    which = ", ".join(names)
    name = names[0] if len(names) == 1 else "NAME"
    sys.stderr.write(
        f"warning: config.toml holds the password of the base_url of {which} in clear; "
        f"it still works, but move it into the vault: `jarvis keys add {name}` (type the "
        "password at the prompt), then delete `:PASSWORD` from base_url\n"
    )


def all_providers(config: Config) -> dict[str, ProviderSpec]:
    """Presets merged with config.toml's [providers.*], by name."""
    out = dict(PRESETS)
    if not config.providers:
        return out  # nothing to merge or warn about (header_secrets stays unloaded)
    from jarvis_cli.core.providers.header_secrets import check_clear_headers, warn_clear_headers

    in_clear: list[str] = []
    clear_headers: list[tuple[str, str]] = []
    for name, user in config.providers.items():
        base = out.get(name)
        if base is None:
            if not user.base_url:
                raise ConfigError(
                    f"[providers.{name}] has no base_url and {name!r} is not a built-in "
                    f"provider (built in: {', '.join(PRESETS)})"
                )
            base = ProviderSpec(name=name, base_url=user.base_url)
        base_url, password = split_url_password(user.base_url or base.base_url)
        if password:
            in_clear.append(name)
        out[name] = base._replace(
            base_url=base_url,
            api_key_env=user.api_key_env or base.api_key_env,
            needs_key=base.needs_key if user.needs_key is None else user.needs_key,
            headers={**base.headers, **user.headers},
            timeout_s=user.timeout_s if user.timeout_s is not None else base.timeout_s,
            send_openai_org=(
                base.send_openai_org if user.send_openai_org is None else user.send_openai_org
            ),
            url_password=UrlPassword(password) if password else None,
            secret_headers=user.secret_headers,
        )
        clear_headers += [(name, h) for h in check_clear_headers(name, user.headers)]
    if in_clear:
        _warn_url_password(in_clear)
    warn_clear_headers(clear_headers)
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


# Attachment size limits, bytes per file before base64 (images, PDFs), from each
# provider's documentation (checked 2026-12):
# - openai: images 20 MB (platform.openai.com/docs/guides/images-vision), PDFs 32 MB
#   per request (platform.openai.com/docs/guides/pdf-files).
# - anthropic: images 5 MB each via the API (docs.anthropic.com/en/docs/build-with-claude/vision),
#   PDFs 32 MB per request (docs.anthropic.com/en/docs/build-with-claude/pdf-support).
# - gemini: 20 MB of inline data per request (ai.google.dev/gemini-api/docs/image-understanding).
# - groq: 4 MB for a base64 image (console.groq.com/docs/vision); no PDF input.
# - mistral: images 10 MB (docs.mistral.ai/capabilities/vision).
# Other and custom endpoints get DEFAULT_ATTACHMENT_LIMIT: 5 MB, the smallest
# common limit, so a file that passes is unlikely to be refused by a server.
MB = 1024 * 1024
DEFAULT_ATTACHMENT_LIMIT = 5 * MB
ATTACHMENT_LIMITS: dict[str, dict[str, int]] = {
    "openai": {"image": 20 * MB, "pdf": 32 * MB},
    "anthropic": {"image": 5 * MB, "pdf": 32 * MB},
    "gemini": {"image": 20 * MB, "pdf": 20 * MB},
    "groq": {"image": 4 * MB, "pdf": DEFAULT_ATTACHMENT_LIMIT},
    "mistral": {"image": 10 * MB, "pdf": DEFAULT_ATTACHMENT_LIMIT},
}


def attachment_limit(provider: str, kind: str) -> int:
    """The largest attachment of `kind` ("image"/"pdf") `provider` takes, in bytes."""
    return ATTACHMENT_LIMITS.get(provider, {}).get(kind, DEFAULT_ATTACHMENT_LIMIT)


def largest_attachment_limit() -> int:
    """No provider takes a file larger than this: bigger files are not even read."""
    return max(
        DEFAULT_ATTACHMENT_LIMIT, *(n for d in ATTACHMENT_LIMITS.values() for n in d.values())
    )
