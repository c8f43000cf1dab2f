"""Model facts that `/models` endpoints do not give: prices, context windows, capabilities.

Two sources share one parser: the bundled `jarvis_cli/data/catalog.json` (generated
by `scripts/build_catalog.py` from a LiteLLM-format price map, MIT, with facts the
map lacks merged from models.dev, MIT; see `jarvis_cli/data/NOTICE`) and `jarvis
models import-prices FILE` (any LiteLLM-format file). Prices are stored per million
tokens (USD).

LiteLLM keys are sometimes prefixed with the provider (`groq/llama-3.1-8b-instant`,
`fireworks_ai/accounts/fireworks/models/x`); jarvis uses the provider's own model
id, so such a prefix is stripped when it names the entry's provider.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, cast

from jarvis_cli.core.errors import UsageError
from jarvis_cli.core.providers.capabilities import Capabilities, RequestKind
from jarvis_cli.core.providers.presets import ProviderSpec
from jarvis_cli.core.store.paths import BUNDLED_CATALOG_FILE

CATALOG_FILE = BUNDLED_CATALOG_FILE
# 2: adds structured_output, reasoning, pdf_input, family, release_date, open_weights.
CATALOG_FORMAT = 2

# LiteLLM modes jarvis can serve, and the request kind each one is.
MODES: dict[str, RequestKind] = {
    "chat": "chat",
    "completion": "completion",
    "embedding": "embedding",
}
# LiteLLM provider names that are the same endpoint as a jarvis provider.
LITELLM_ALIASES = {"text-completion-openai": "openai"}
# Price-tier pseudo entries (e.g. "together-ai-up-to-4b"), not models.
_TIER_KEY = re.compile(r"^(?:fireworks-ai|together-ai)-")
# Models the map lists as chat that do not answer prompts with text: image
# generators (FLUX, ControlNet), safety classifiers (llama-guard, prompt-guard,
# gpt-oss-safeguard) and speech (`-tts`). Kept, `select --strategy cost` offered
# flux-1-dev-controlnet-union as a fallback for a chat prompt on a fresh install.
_NOT_TEXT = re.compile(r"flux|controlnet|guard|(?:^|[-_/.:])tts(?:$|[-_/.:])", re.IGNORECASE)

# Column order of a row in catalog.json's "models" array (kept compact: it is read
# on the first run of every new store).
ROW_FIELDS = (
    "provider",
    "name",
    "type",
    "context_length",
    "max_output_tokens",
    "input_cost_per_mtok",
    "output_cost_per_mtok",
    "function_calling",
    "vision",
    "audio",
    "structured_output",
    "reasoning",
    "pdf_input",
    "family",
    "release_date",
    "open_weights",
)


@dataclass(frozen=True)
class CatalogEntry:
    """What the catalog knows about one model."""

    provider: str  # jarvis provider name
    name: str  # the provider's own model id
    type: RequestKind
    context_length: int | None = None
    max_output_tokens: int | None = None
    input_cost_per_mtok: float | None = None
    output_cost_per_mtok: float | None = None
    function_calling: bool | None = None
    vision: bool | None = None
    audio: bool | None = None
    structured_output: bool | None = None
    reasoning: bool | None = None
    pdf_input: bool | None = None
    family: str | None = None  # models.dev family, e.g. claude-sonnet
    release_date: str | None = None  # YYYY-MM-DD
    open_weights: bool | None = None

    @property
    def model_id(self) -> str:
        return f"{self.provider}/{self.name}"

    def capabilities(self) -> Capabilities:
        """Serving flags follow the mode; the rest as the map says (absent = unknown)."""
        return Capabilities(
            completion=True if self.type == "completion" else None,
            chat=True if self.type == "chat" else None,
            embeddings=self.type == "embedding",
            function_calling=self.function_calling,
            vision=self.vision,
            audio=self.audio,
            structured_output=self.structured_output,
            reasoning=self.reasoning,
            pdf_input=self.pdf_input,
        )

    def to_row(self) -> list[Any]:
        return [getattr(self, f) for f in ROW_FIELDS]

    @classmethod
    def from_row(cls, row: list[Any]) -> CatalogEntry:
        return cls(**dict(zip(ROW_FIELDS, row, strict=True)))


@dataclass(frozen=True)
class ParsedPrices:
    """The usable entries of a LiteLLM-format map, and how many were left out."""

    entries: list[CatalogEntry]
    skipped_provider: int  # litellm_provider that no jarvis provider maps to
    skipped_mode: int  # image generation, audio, rerank, classifiers listed as chat...


def per_mtok(per_token: Any) -> float | None:
    """USD per token -> USD per million tokens (rounded to hide float noise)."""
    if isinstance(per_token, bool) or not isinstance(per_token, int | float):
        return None
    if not math.isfinite(per_token) or per_token < 0:
        return None
    return round(float(per_token) * 1_000_000, 6)


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if value > 0 and math.isfinite(value) else None


def _flag(info: Mapping[str, Any], *keys: str) -> bool | None:
    values = [info[k] for k in keys if isinstance(info.get(k), bool)]
    if not values:
        return None
    return any(values)


def provider_names(specs: Iterable[ProviderSpec]) -> dict[str, str]:
    """litellm_provider -> jarvis provider: each spec's catalog_provider and its own name."""
    out: dict[str, str] = {}
    for spec in specs:
        out.setdefault(spec.name, spec.name)
        if spec.catalog_provider:
            out[spec.catalog_provider] = spec.name
    for alias, target in LITELLM_ALIASES.items():
        if target in out.values():
            out.setdefault(alias, target)
    return out


def _strip_prefix(key: str, litellm_provider: str, provider: str) -> str:
    for prefix in (litellm_provider, provider):
        if key.startswith(prefix + "/"):
            return key[len(prefix) + 1 :]
    return key


def parse_litellm(
    data: Any, providers: Mapping[str, str], *, source: str, hosted: Collection[str] = ()
) -> ParsedPrices:
    """The entries of a LiteLLM price map for `providers`; UsageError if it is not one.

    For `hosted` providers (those that bill through an API key) a price of $0 in and
    out marks a free-tier, preview or experimental listing, not a free model: it is
    kept as unknown, so such a model is never chosen as "the cheapest". Local
    providers' $0 stays $0.
    """
    if not isinstance(data, dict) or not data:
        raise UsageError(f"{source}: not a LiteLLM price map (expected a JSON object of models)")
    looks_right = sum(
        1
        for v in data.values()
        if isinstance(v, dict)
        and "litellm_provider" in v
        and ("mode" in v or "input_cost_per_token" in v)
    )
    if looks_right == 0:
        raise UsageError(
            f"{source}: not a LiteLLM price map (no entry has litellm_provider and mode or "
            "input_cost_per_token)"
        )
    found: dict[tuple[str, str], CatalogEntry] = {}
    skipped_provider = skipped_mode = 0
    for key, info in data.items():
        if key == "sample_spec" or not isinstance(info, dict) or _TIER_KEY.match(key):
            continue
        litellm_provider = info.get("litellm_provider")
        provider = providers.get(litellm_provider) if isinstance(litellm_provider, str) else None
        if provider is None or not isinstance(litellm_provider, str):
            skipped_provider += 1
            continue
        mode = info.get("mode")
        kind = MODES.get(mode) if isinstance(mode, str) else None
        if kind is None:  # another mode, or none said (unknown stays unknown)
            skipped_mode += 1
            continue
        name = _strip_prefix(key, litellm_provider, provider)
        if kind != "embedding" and _NOT_TEXT.search(name):
            skipped_mode += 1
            continue
        price_in = per_mtok(info.get("input_cost_per_token"))
        price_out = per_mtok(info.get("output_cost_per_token"))
        if provider in hosted and price_in == 0 and not price_out:
            price_in = price_out = None
        entry = CatalogEntry(
            provider=provider,
            name=name,
            type=kind,
            context_length=_positive_int(info.get("max_input_tokens")),
            max_output_tokens=_positive_int(info.get("max_output_tokens")),
            input_cost_per_mtok=price_in,
            output_cost_per_mtok=price_out,
            function_calling=_flag(info, "supports_function_calling"),
            vision=_flag(info, "supports_vision"),
            audio=_flag(info, "supports_audio_input", "supports_audio_output"),
            structured_output=_flag(info, "supports_response_schema"),
            reasoning=_flag(info, "supports_reasoning"),
            pdf_input=_flag(info, "supports_pdf_input"),
        )
        earlier = found.get((provider, name))
        # The same model under two keys (`deepseek-chat`, `deepseek/deepseek-chat`):
        # the first wins, the second only fills what the first left unknown.
        found[(provider, name)] = entry if earlier is None else _fill(earlier, entry)
    return ParsedPrices(list(found.values()), skipped_provider, skipped_mode)


def _fill(first: CatalogEntry, second: CatalogEntry) -> CatalogEntry:
    missing = {
        f.name: getattr(second, f.name)
        for f in fields(first)
        if getattr(first, f.name) is None and getattr(second, f.name) is not None
    }
    return replace(first, **missing) if missing else first


def read_price_file(path: Path) -> Any:
    """The parsed JSON of a price file; UsageError (exit 2) naming what is wrong."""
    from jarvis_cli.core.store.files import refuse_device

    refuse_device(path, "import-prices")
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path}: not a LiteLLM price map (invalid JSON: {exc})") from None


# --- the bundled catalog ----------------------------------------------------------


def catalog_document(
    entries: list[CatalogEntry],
    *,
    source: str,
    license: str = "MIT (Copyright (c) 2023 Berri AI); see jarvis_cli/data/NOTICE",
) -> dict[str, Any]:
    """The JSON document written to catalog.json."""
    ordered = sorted(entries, key=lambda e: (e.provider, e.name))
    return {
        "format": CATALOG_FORMAT,
        "source": source,
        "license": license,
        "fields": list(ROW_FIELDS),
        "models": [e.to_row() for e in ordered],
    }


@dataclass(frozen=True)
class BundledCatalog:
    digest: str  # sha256 of the file: a changed catalog refreshes source=catalog rows
    raw: bytes

    def entries(self) -> list[CatalogEntry]:
        doc = json.loads(self.raw)
        if doc.get("format") != CATALOG_FORMAT or list(doc.get("fields", [])) != list(ROW_FIELDS):
            from jarvis_cli.core.errors import JarvisError

            raise JarvisError(f"bundled catalog {CATALOG_FILE} has an unknown format")
        return [CatalogEntry.from_row(cast(list[Any], row)) for row in doc["models"]]


def bundled_catalog(path: Path = CATALOG_FILE) -> BundledCatalog:
    """The bundled catalog file and its digest (parsed only when needed)."""
    raw = path.read_bytes()
    return BundledCatalog(hashlib.sha256(raw).hexdigest(), raw)
