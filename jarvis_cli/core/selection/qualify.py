"""Which models qualify for a request, and the first reason each other model does not.

Checks that depend only on a model's shape (provider, type, capabilities, status,
key) run once per shape of the ModelTable; the numeric ones (context, max output,
cooldown, budget, latency) are list comprehensions over its columns. Every excluded
model gets an Exclusion with a stable code and a human reason.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from jarvis_cli.core.errors import NoSuitableModelError
from jarvis_cli.core.registry.model_table import ModelTable, Shape
from jarvis_cli.core.selection.calibration import per_model_costs
from jarvis_cli.core.selection.cost import TOKENS_PER_MTOK, TokenEstimate
from jarvis_cli.core.selection.metrics import MetricColumns
from jarvis_cli.core.selection.quality import Quality, resolve_qualities
from jarvis_cli.core.selection.task import resolve_task
from jarvis_cli.core.selection.types import Exclusion, RankInputs, SelectionRequest
from jarvis_cli.core.selection.variants import WANTED_BY_CAPABILITY, NameFacts


def shape_exclusion(
    shape: Shape, request: SelectionRequest, inputs: RankInputs
) -> tuple[str, str] | None:
    """The first reason models of `shape` do not qualify, whatever their numbers."""
    kind = request.kind
    provider = shape.provider
    if request.preferred_provider and provider != request.preferred_provider:
        return "provider", f"provider is {provider}, not {request.preferred_provider}"
    serves = shape.probe().supports(kind)
    if serves is None and kind != "chat":  # unknown-type models are assumed chat (qualify)
        return "type", f"not known to serve {kind} requests"
    if serves is False:
        return "type", f"does not serve {kind} requests"
    for cap in request.capabilities:
        has = getattr(shape.capabilities, cap)
        if has is None:
            return "capability", f"{cap} support unknown"
        if not has:
            return "capability", f"no {cap} support"
    if shape.status != "active":
        return "unavailable", f"marked {shape.status}"
    usable = inputs.usable_providers.get(provider)
    if usable is None:
        return "provider_unknown", f"provider {provider} is not configured"
    if not usable:
        why = inputs.unusable_reasons.get(provider, ("no_key", f"no key for {provider}"))
        # --all shows what a key would unlock; a local server nobody set up is not
        # one of those (and its $0 catalog models would otherwise always win).
        if not request.include_unusable or why[0] == "not_set_up":
            return why
    return None


def estimated_costs(table: ModelTable, cand: Sequence[int], tokens: TokenEstimate) -> list[float]:
    """Estimated USD of `cand` (NaN = a needed price is unknown), exactly as cost_usd."""
    n_in, n_out = tokens.input_tokens, tokens.output_tokens
    price_in = table.columns["input_cost_per_mtok"]
    price_out = table.columns["output_cost_per_mtok"]
    m = TOKENS_PER_MTOK
    if n_in and n_out:
        return [0.0 + n_in * price_in[i] / m + n_out * price_out[i] / m for i in cand]
    if n_in:
        return [0.0 + n_in * price_in[i] / m for i in cand]
    if n_out:
        return [0.0 + n_out * price_out[i] / m for i in cand]
    return [0.0 if price_in[i] == price_in[i] else math.nan for i in cand]


class Qualified(NamedTuple):
    """The qualifying models of a request (positions in the table, ascending) and what
    qualification learnt about them, aligned with `cand`."""

    cand: list[int]
    costs: list[float]  # estimated USD, NaN = unknown
    qualities: list[Quality]
    versions: dict[int, int]  # position -> versions grouped into its row (only when > 1)
    assumed: set[int]  # positions whose type is unknown and assumed chat
    excluded: list[Exclusion]  # every other model, in id order


def qualify(
    request: SelectionRequest, table: ModelTable, inputs: RankInputs, metrics: MetricColumns
) -> Qualified:
    """Which models qualify for `request`, and an Exclusion for every other model.

    Each check removes models from the running candidate list, in the order of
    precedence of the reasons, so every excluded model gets its first reason.
    """
    ids, cols = table.ids, table.columns
    names = inputs.names
    if names is None:
        names = NameFacts.of(table, inputs.quality.entries.keys())
    verdicts = [shape_exclusion(s, request, inputs) for s in table.shapes]
    unknown_type = [s.probe().supports(request.kind) is None for s in table.shapes]
    dropped: list[tuple[int, str, str]] = []
    cand: list[int] = []
    for i, k in enumerate(table.shape_of):
        v = verdicts[k]
        if v is None:
            cand.append(i)
        else:
            dropped.append((i, *v))

    costs: list[float] = []  # aligned with `cand` once computed (after the cooldown check)

    def drop(bad: list[int], why: Callable[[int], tuple[str, str]]) -> None:
        nonlocal cand, costs
        if not bad:
            return
        dropped.extend((i, *why(i)) for i in bad)
        gone = set(bad)
        if costs:
            kept = [(i, c) for i, c in zip(cand, costs, strict=True) if i not in gone]
            cand, costs = [i for i, _ in kept], [c for _, c in kept]
        else:
            cand = [i for i in cand if i not in gone]

    shape_of = table.shape_of
    assumed = {i for i in cand if unknown_type[shape_of[i]]}
    if assumed:
        not_chat = names.not_chat
        drop(
            sorted(i for i in assumed if i in not_chat),
            lambda i: (
                "type",
                f"type unknown and its name says {not_chat[i]!r}: not assumed to serve chat "
                f"(if it does: `jarvis models set {ids[i]} --type chat`)",
            ),
        )
        assumed -= set(not_chat)
    _drop_variants(request, table, names, cand, drop)
    versions = {} if request.all_versions else _drop_versions(request, table, names, cand, drop)
    tokens = inputs.tokens
    total, out = tokens.total, tokens.output_tokens
    context, max_out = cols["context_length"], cols["max_output_tokens"]
    drop(
        [i for i in cand if context[i] < total],
        lambda i: (
            "context",
            f"needs {total} tokens (input + output), context is {int(context[i])}",
        ),
    )
    drop(
        [i for i in cand if max_out[i] < out],
        lambda i: ("context", f"expects {out} output tokens, max is {int(max_out[i])}"),
    )
    now = inputs.now
    cooling = {m: t for m, t in inputs.cooling_until.items() if t > now}
    if cooling:
        drop(
            [i for i in cand if ids[i] in cooling],
            lambda i: (
                "cooldown",
                f"cooling down until {time.strftime('%H:%M:%S', time.localtime(cooling[ids[i]]))}"
                f" (wait {math.ceil(cooling[ids[i]] - now)} s)",
            ),
        )
    costs = estimated_costs(table, cand, tokens)
    if inputs.expected_inputs:  # calibrated models: their own typical input (issue 23)
        costs = per_model_costs(table, cand, costs, tokens.output_tokens, inputs.expected_inputs)
    limit = request.max_cost_usd
    if limit is not None:
        cost_of = dict(zip(cand, costs, strict=True))
        drop(
            [i for i, c in zip(cand, costs, strict=True) if not c <= limit],
            lambda i: (
                ("price_unknown", "price unknown (budget given)")
                if cost_of[i] != cost_of[i]
                else ("budget", f"estimated ${cost_of[i]:.6f} > max ${limit:g}")
            ),
        )
    max_latency = request.max_latency_ms
    if max_latency is not None:
        p50 = metrics.latency_p50_ms
        drop(
            [i for i in cand if p50[i] > max_latency],
            lambda i: (
                "latency",
                f"expected latency {p50[i]:.0f} ms (p50) > max {max_latency:g} ms",
            ),
        )
    task = resolve_task(request.task, request.prompt).quality_key
    quality_col = cols["quality"]
    qualities = resolve_qualities(
        [ids[i] for i in cand],
        [quality_col[i] for i in cand],
        inputs.quality_overrides,
        inputs.quality,
        task,
        [scored.get(i) for i in cand] if (scored := names.scored) else [None] * len(cand),
    )
    floor = request.min_quality
    if floor is not None:
        low = {i: q for i, q in zip(cand, qualities, strict=True) if q.value < floor}
        if low:
            qualities = [q for i, q in zip(cand, qualities, strict=True) if i not in low]
            drop(
                sorted(low),
                lambda i: (
                    "min_quality",
                    f"quality {low[i].value:.2f} ({low[i].source}) < --min-quality {floor:g}",
                ),
            )
    dropped.sort()
    excluded = [Exclusion(ids[i], code, reason) for i, code, reason in dropped]
    return Qualified(cand, costs, qualities, versions, assumed & set(cand), excluded)


def _drop_variants(
    request: SelectionRequest,
    table: ModelTable,
    names: NameFacts,
    cand: list[int],
    drop: Callable[[list[int], Callable[[int], tuple[str, str]]], None],
) -> None:
    """Leave out preview, audio, search, ... variants unless asked for (variants.py)."""
    variant = names.variant
    if not variant:
        return
    wanted: set[str] = set()
    for cap in request.capabilities:
        wanted |= WANTED_BY_CAPABILITY.get(cap, frozenset())
    keep = table.index(request.preferred_model) if request.preferred_model else None
    bad = [i for i in cand if i in variant and variant[i] not in wanted and i != keep]
    drop(
        bad,
        lambda i: (
            "variant",
            f"{variant[i]} variant, not a candidate for a plain text request "
            f"(ask for it with --model {table.ids[i]})",
        ),
    )


def _drop_versions(
    request: SelectionRequest,
    table: ModelTable,
    names: NameFacts,
    cand: list[int],
    drop: Callable[[list[int], Callable[[int], tuple[str, str]]], None],
) -> dict[int, int]:
    """One candidate per model: the alias (`gpt-5-nano`) stands for its dated snapshots
    (`gpt-5-nano-2025-08-07`); without an alias among the candidates, the latest version
    does. Returns position -> versions in its group, for groups of more than one."""
    base = names.base
    if not base:
        return {}
    candidates = set(cand)
    groups: dict[str, list[int]] = {}
    for i in sorted(i for i in base if i in candidates):
        groups.setdefault(f"{table.provider(i)}/{base[i]}", []).append(i)
    if not groups:
        return {}
    keep = table.index(request.preferred_model) if request.preferred_model else None
    versions: dict[int, int] = {}
    rep_of: dict[int, int] = {}
    for group_id, members in groups.items():
        alias = table.index(group_id)
        if alias is not None and alias in candidates:
            rep, others = alias, members
        else:
            rep = max(members, key=table.ids.__getitem__)  # latest date sorts last
            others = [i for i in members if i != rep]
        if others:
            versions[rep] = len(others) + 1
            rep_of.update((i, rep) for i in others if i != keep)
    drop(
        sorted(rep_of),
        lambda i: (
            "version",
            f"a version of {table.ids[rep_of[i]]} (--all-versions lists every version)",
        ),
    )
    return versions


def exclusion_summary(excluded: Sequence[Exclusion], limit: int = 3) -> list[tuple[str, int]]:
    """The most common exclusion categories with counts, most common first."""
    counts = Counter(e.code for e in excluded)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


# Exclusions of models that a small change would make qualify, nearest first, with the
# one-line fix for each; "no key" and the like are only counted after them.
CLOSEST_CODES = (
    "type",
    "cooldown",
    "price_unknown",
    "budget",
    "min_quality",
    "latency",
    "context",
    "capability",
    "variant",
    "version",
    "unavailable",
)
# Codes about the provider rather than the model: counted, never listed first.
PROVIDER_CODES = frozenset({"no_key", "not_set_up", "provider", "provider_unknown"})
CLOSEST_SHOWN = 5


class NoModelFound(NoSuitableModelError):
    """NoSuitableModelError that keeps every exclusion, for `select --explain`."""

    def __init__(self, message: str, *, hint: str | None, excluded: Sequence[Exclusion]) -> None:
        super().__init__(message, hint=hint)
        self.excluded = tuple(excluded)


def fix_for(e: Exclusion, request: SelectionRequest) -> str:
    """The one-line fix for a model excluded by `e`."""
    code, model_id = e.code, e.model_id
    if code == "type":
        return f"jarvis models set {model_id} --type {request.kind}"
    if code == "cooldown":
        return e.reason.rpartition("(")[2].rstrip(")") or "wait for the cooldown to end"
    if code == "price_unknown":
        return f"jarvis models set {model_id} --input-price USD --output-price USD"
    if code == "budget":
        return f"raise --max-cost to {e.reason.split()[1]}"
    if code == "min_quality":
        return "lower --min-quality"
    if code == "latency":
        return "raise --max-latency"
    if code == "context":
        return "shorten the input or lower --output-tokens"
    if code == "capability":
        return "drop the --capability it lacks, if the request can do without it"
    if code == "variant":
        return f"--model {model_id}"
    if code == "version":
        return "--all-versions"
    if code == "unavailable":
        return f"jarvis models sync {model_id.partition('/')[0]}"
    return "see `jarvis select --all --explain`"


def no_suitable_model(
    request: SelectionRequest,
    excluded: Sequence[Exclusion],
    total: int,
    usable_providers: Mapping[str, bool] | None = None,
) -> NoModelFound:
    """The exit-6 error: the models closest to qualifying with their fixes first (those
    of providers that can be called now), then the counts of the other reasons."""
    if total == 0:
        return NoModelFound(
            "no suitable model: the registry is empty",
            hint="run `jarvis models sync` or add a provider with `jarvis providers add`",
            excluded=excluded,
        )
    usable = usable_providers or {}
    rank = {code: k for k, code in enumerate(CLOSEST_CODES)}
    close = sorted(
        (
            e
            for e in excluded
            if e.code in rank and usable.get(e.model_id.partition("/")[0], not usable)
        ),
        key=lambda e: (rank[e.code], e.model_id),
    )
    lines = [
        f"no suitable model for this {request.kind} request: {total} models excluded",
    ]
    if close:
        lines.append("closest to qualifying:")
        seen: set[str] = set()
        for e in close:
            if len(seen) >= CLOSEST_SHOWN:
                break
            if e.code in seen and len(close) > CLOSEST_SHOWN:
                continue  # one per reason first, so different fixes are shown
            seen.add(e.code)
            lines.append(f"  {e.model_id}: {e.reason} -> {fix_for(e, request)}")
    by_code: dict[str, Exclusion] = {}
    for e in excluded:
        by_code.setdefault(e.code, e)
    counts = sorted(
        exclusion_summary(excluded, limit=len(by_code)),
        key=lambda kv: (kv[0] in PROVIDER_CODES, -kv[1], kv[0]),
    )
    parts = [
        f"{count} {code.replace('_', ' ')} (e.g. {by_code[code].model_id}: {by_code[code].reason})"
        for code, count in counts
    ]
    lines.append(f"exclusions by reason: {'; '.join(parts)}")
    return NoModelFound(
        "\n".join(lines),
        hint="relax the constraints, add a key (`jarvis keys add PROVIDER`), or see "
        "`jarvis select --all --explain`",
        excluded=excluded,
    )
