"""Generate jarvis_cli/data/catalog.json from a LiteLLM-format price map and models.dev.

    .venv/bin/python scripts/build_catalog.py [PRICE_MAP] [--models-dev FILE] [--check]

PRICE_MAP defaults to ../shared/data/model_prices_and_context_window.json and
--models-dev to ../shared/data/models.dev/models_dev.json (beside the repository).
Only the built-in providers (via ProviderSpec.catalog_provider) and the modes jarvis
serves (chat, completion, embedding) are kept. The output is committed, so jarvis
never reads either source at run time. `--check` exits 1 if the committed file
differs from what would be generated (for CI).

What models.dev adds (see `merge_models_dev`, and README "License and data"):

- A LiteLLM entry is matched to the models.dev model of the same provider
  (MODELS_DEV_PROVIDERS) with the same name, else the same name without a date
  suffix (`gpt-4.1-2025-04-14` -> `gpt-4.1`).
- Capability flags (tool_call -> function_calling, structured_output, reasoning,
  input modalities image -> vision, pdf -> pdf_input, audio in or out -> audio) come
  from models.dev when it states them: it is curated per model, the price map's
  flags are often absent or copied from a sibling. Otherwise the map's flags stay.
- Context and output limits and prices stay the map's; models.dev only fills what
  the map leaves unknown (a $0/$0 price of a hosted provider stays unknown, as in
  catalog.parse_litellm). Price disagreements between the two are printed.
- Plainly wrong prices are dropped (kept unknown) and flagged in the report
  (`implausible_prices`): a hosted chat or completion model whose output price is $0
  next to a non-zero input price, or whose price is $0/$0 (a free-tier or preview
  listing, not what the API key pays). An unknown price never makes a model
  "cheapest" (selection scores it as the most expensive candidate).
- family, release_date, open_weights are facts of the model, not of the host: from
  the matched entry, else from any models.dev provider listing the same bare name
  (the last path segment, case-insensitive; the most common family wins, ties by
  name).
- A built-in provider the price map has no entry for at all (OpenRouter) gets its
  models.dev models whose only output modality is text, as chat models. models.dev
  entries that only overlay a price on a model listed elsewhere (OpenRouter's
  `openai/gpt-5`) are completed from the vendor's own entry, else from what most
  resellers listing the same bare name state (`_consensus`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
DEFAULT_SOURCE = DATA / "model_prices_and_context_window.json"
DEFAULT_MODELS_DEV = DATA / "models.dev" / "models_dev.json"
SOURCE_LABEL = (
    "LiteLLM model_prices_and_context_window.json (github.com/BerriAI/litellm); "
    "facts merged from models.dev (github.com/anomalyco/models.dev)"
)
LICENSE_LABEL = "MIT (Copyright (c) 2023 Berri AI; models.dev: MIT); see jarvis_cli/data/NOTICE"
# models.dev provider id -> jarvis provider (only built-in providers).
MODELS_DEV_PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "gemini",
    "groq": "groq",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "togetherai": "together",
    "openrouter": "openrouter",
    "fireworks-ai": "fireworks",
    "xai": "xai",
}
# OpenRouter's model-id organisations -> the models.dev provider that is that vendor.
ORGANISATIONS = {"x-ai": "xai", "mistralai": "mistral", "z-ai": "zai", "meta-llama": "llama"}
_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8})$")
# Relative difference above which two prices "disagree" (rounding noise stays quiet).
PRICE_TOLERANCE = 0.02


def strip_date(name: str) -> str:
    """`gpt-4.1-2025-04-14` -> `gpt-4.1`, `claude-opus-4-5-20251101` -> `claude-opus-4-5`."""
    return _DATE_SUFFIX.sub("", name)


def bare_name(name: str) -> str:
    """The last path segment, lower-case, without a `:free`-style tag."""
    return name.rsplit("/", 1)[-1].lower().split(":", 1)[0]


def _dotless(name: str) -> str:
    """`claude-opus-4.5` -> `claude-opus-4-5` (OpenRouter writes versions with dots)."""
    return re.sub(r"(?<=\d)\.(?=\d)", "-", name)


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _price(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return round(float(value), 6)


def _limit(info: dict[str, Any], key: str) -> int | None:
    value = info.get("limit", {}).get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


class ModelsDev:
    """models.dev models by jarvis provider and name, and model facts by bare name."""

    def __init__(self, doc: dict[str, Any], providers: set[str]) -> None:
        self.by_provider: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        families: dict[str, Counter[str]] = defaultdict(Counter)
        self.model_facts: dict[str, tuple[str | None, bool | None]] = {}
        models: dict[str, dict[str, Any]] = doc["models"]
        # Full entries (with a name) by bare name, for entries that only overlay a price
        # or modalities on a model listed elsewhere (OpenRouter's `openai/gpt-5`).
        full: dict[str, list[str]] = defaultdict(list)
        for key in sorted(models):
            if "name" in models[key]:
                full[_dotless(bare_name(key))].append(key)
        for key in sorted(models):
            info = _resolve(key, models, full)
            md_provider, _, name = key.partition("/")
            provider = MODELS_DEV_PROVIDERS.get(md_provider)
            if provider in providers:
                self.by_provider[provider][name] = info
            bare = bare_name(name)
            if isinstance(info.get("family"), str):
                families[bare][info["family"]] += 1
            if bare not in self.model_facts and isinstance(info.get("release_date"), str):
                self.model_facts[bare] = (info["release_date"], _bool(info.get("open_weights")))
        self.family_of = {
            bare: min(counts, key=lambda f: (-counts[f], f)) for bare, counts in families.items()
        }

    def match(self, provider: str, name: str) -> dict[str, Any] | None:
        models = self.by_provider.get(provider, {})
        return models.get(name) or models.get(strip_date(name))


def _resolve(
    key: str, models: dict[str, dict[str, Any]], full: dict[str, list[str]]
) -> dict[str, Any]:
    """The entry `key`, completed from the vendor's own entry when it is only an overlay."""
    info = models[key]
    if "name" in info:
        return info
    parts = key.split("/")
    vendor = ORGANISATIONS.get(parts[1], parts[1]) if len(parts) > 2 else None
    candidates = full.get(_dotless(bare_name(key)), [])
    base_key = next((k for k in candidates if k.split("/", 1)[0] == vendor), None)
    if base_key is not None:
        base = models[base_key]
    elif candidates:
        base = _consensus([models[k] for k in candidates])
    else:
        return info
    merged = {**base, **info}
    merged["modalities"] = {**base.get("modalities", {}), **info.get("modalities", {})}
    return merged


def _consensus(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Per field, the value most of `entries` state (ties: the smallest JSON form).

    Used when the vendor's own entry is missing and only resellers list the model:
    one reseller's slip (gpt-5 without structured output) does not decide.
    """
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for entry in entries:
        for field, value in entry.items():
            votes[field][json.dumps(value, sort_keys=True)] += 1
    return {
        field: json.loads(min(counts, key=lambda v: (-counts[v], v)))
        for field, counts in sorted(votes.items())
    }


def merge_entry(entry: Any, info: dict[str, Any] | None, md: ModelsDev, hosted: bool) -> Any:
    """`entry` (a CatalogEntry) with what models.dev adds, by the rules in the docstring."""
    changes: dict[str, Any] = {}
    if info is not None:
        inputs = info.get("modalities", {}).get("input")
        outputs = info.get("modalities", {}).get("output")
        flags = {
            "function_calling": _bool(info.get("tool_call")),
            "structured_output": _bool(info.get("structured_output")),
            "reasoning": _bool(info.get("reasoning")),
        }
        if isinstance(inputs, list) and inputs:
            flags["vision"] = "image" in inputs
            flags["pdf_input"] = "pdf" in inputs
            flags["audio"] = "audio" in inputs or (isinstance(outputs, list) and "audio" in outputs)
        changes.update({k: v for k, v in flags.items() if v is not None})
        if entry.context_length is None:
            changes["context_length"] = _limit(info, "context")
        if entry.max_output_tokens is None:
            changes["max_output_tokens"] = _limit(info, "output")
        cost = info.get("cost", {})
        price_in, price_out = _price(cost.get("input")), _price(cost.get("output"))
        if hosted and price_in == 0 and not price_out:
            price_in = price_out = None
        if entry.input_cost_per_mtok is None and entry.output_cost_per_mtok is None:
            changes["input_cost_per_mtok"] = price_in
            changes["output_cost_per_mtok"] = price_out
        changes["family"] = info.get("family") if isinstance(info.get("family"), str) else None
        changes["release_date"] = info.get("release_date")
        changes["open_weights"] = _bool(info.get("open_weights"))
    bare = bare_name(entry.name)
    if changes.get("family") is None:
        changes["family"] = md.family_of.get(bare) or md.family_of.get(strip_date(bare))
    if changes.get("release_date") is None:
        facts = md.model_facts.get(bare) or md.model_facts.get(strip_date(bare))
        if facts is not None:
            changes["release_date"] = facts[0]
            if changes.get("open_weights") is None:
                changes["open_weights"] = facts[1]
    if not isinstance(changes.get("release_date"), str):
        changes["release_date"] = None
    return replace(entry, **changes)


def models_dev_only(provider: str, md: ModelsDev, hosted: bool) -> list[Any]:
    """Chat entries for a provider the price map lacks entirely (text-only output)."""
    from jarvis_cli.core.registry.catalog import _NOT_TEXT, CatalogEntry

    out = []
    for name, info in sorted(md.by_provider.get(provider, {}).items()):
        if info.get("modalities", {}).get("output") != ["text"] or _NOT_TEXT.search(name):
            continue
        entry = CatalogEntry(provider=provider, name=name, type="chat")
        out.append(merge_entry(entry, info, md, hosted))
    return out


def price_disagreements(entries: list[Any], md: ModelsDev) -> list[tuple[str, str, float, float]]:
    """(model id, in|out, LiteLLM price, models.dev price) where they differ."""
    found = []
    for e in entries:
        info = md.match(e.provider, e.name)
        if info is None:
            continue
        cost = info.get("cost", {})
        for label, ours, theirs in (
            ("in", e.input_cost_per_mtok, _price(cost.get("input"))),
            ("out", e.output_cost_per_mtok, _price(cost.get("output"))),
        ):
            if ours is None or theirs is None:
                continue
            if abs(ours - theirs) > PRICE_TOLERANCE * max(ours, theirs, 1e-9):
                found.append((e.model_id, label, ours, theirs))
    return found


def implausible_prices(entries: list[Any], hosted: set[str]) -> list[tuple[str, str]]:
    """(model id, why) of each entry whose price is plainly wrong (see the docstring)."""
    found = []
    for e in entries:
        if e.provider not in hosted or e.type not in ("chat", "completion"):
            continue
        price_in, price_out = e.input_cost_per_mtok, e.output_cost_per_mtok
        if price_out == 0 and price_in:
            found.append((e.model_id, f"output price $0 next to input price ${price_in:g}/Mtok"))
        elif price_out == 0 and price_in == 0:
            found.append((e.model_id, "free ($0/$0) on a paid provider"))
    return found


def drop_implausible_prices(entries: list[Any], hosted: set[str]) -> list[Any]:
    """`entries` with the prices `implausible_prices` flags set to unknown."""
    bad = {model_id for model_id, _ in implausible_prices(entries, hosted)}
    return [
        replace(e, input_cost_per_mtok=None, output_cost_per_mtok=None) if e.model_id in bad else e
        for e in entries
    ]


def build(source: Path, models_dev: Path, *, report: bool = False) -> str:
    sys.path.insert(0, str(REPO))
    from jarvis_cli.core.providers.presets import PRESETS
    from jarvis_cli.core.registry.catalog import (
        catalog_document,
        parse_litellm,
        provider_names,
        read_price_file,
    )

    hosted = {p.name for p in PRESETS.values() if p.needs_key}
    parsed = parse_litellm(
        read_price_file(source),
        provider_names(PRESETS.values()),
        source=str(source),
        hosted=hosted,
    )
    md = ModelsDev(json.loads(models_dev.read_bytes()), set(PRESETS))
    litellm_entries = parsed.entries
    entries = [
        merge_entry(e, md.match(e.provider, e.name), md, e.provider in hosted)
        for e in litellm_entries
    ]
    in_price_map = {e.provider for e in entries}
    for provider in sorted(set(PRESETS) - in_price_map):
        entries += models_dev_only(provider, md, provider in hosted)
    if report:
        _report(litellm_entries, entries, md)
        flagged = implausible_prices(entries, hosted)
        print(f"implausible prices, kept unknown: {len(flagged)}")
        for model_id, why in flagged:
            print(f"  {model_id}: {why}")
    entries = drop_implausible_prices(entries, hosted)
    doc = catalog_document(entries, source=SOURCE_LABEL, license=LICENSE_LABEL)
    # One model per line: diffs stay readable, the file stays small.
    rows = ",\n".join(json.dumps(row, separators=(",", ":")) for row in doc.pop("models"))
    head = json.dumps(doc, indent=1)[:-2]
    return f'{head},\n "models": [\n{rows}\n]}}\n'


def _report(litellm_entries: list[Any], entries: list[Any], md: ModelsDev) -> None:
    matched = sum(1 for e in litellm_entries if md.match(e.provider, e.name) is not None)
    with_family = sum(1 for e in entries if e.family is not None)
    print(
        f"models.dev: {matched} of {len(litellm_entries)} price-map entries matched; "
        f"{len(entries) - len(litellm_entries)} added for providers the map lacks; "
        f"{with_family} of {len(entries)} have a family"
    )
    disagree = price_disagreements(litellm_entries, md)
    by_provider = Counter(model_id.split("/", 1)[0] for model_id, *_ in disagree)
    print(
        f"price disagreements (> {PRICE_TOLERANCE:.0%}, the price map's kept): {len(disagree)} "
        + (f"({', '.join(f'{p} {n}' for p, n in sorted(by_provider.items()))})" if disagree else "")
    )
    worst = sorted(disagree, key=lambda d: -abs(d[2] - d[3]) / max(d[2], d[3]))
    for model_id, label, ours, theirs in worst[:15]:
        print(f"  {model_id} {label}: LiteLLM {ours:g} vs models.dev {theirs:g} USD/Mtok")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--models-dev", type=Path, default=DEFAULT_MODELS_DEV)
    parser.add_argument("--check", action="store_true", help="fail if catalog.json is stale")
    args = parser.parse_args()
    from_source = build(args.source, args.models_dev, report=not args.check)
    target = REPO / "jarvis_cli" / "data" / "catalog.json"
    if args.check:
        if not target.exists() or target.read_text() != from_source:
            print(f"{target} is stale; run scripts/build_catalog.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(from_source)
    count = from_source.count("\n[")
    print(f"wrote {target} ({count} models, {len(from_source) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
