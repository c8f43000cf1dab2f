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
from collections.abc import Callable, Sequence

from jarvis_cli.core.errors import NoSuitableModelError
from jarvis_cli.core.registry.model_table import ModelTable, Shape
from jarvis_cli.core.selection.cost import TOKENS_PER_MTOK, TokenEstimate
from jarvis_cli.core.selection.metrics import MetricColumns
from jarvis_cli.core.selection.types import Exclusion, RankInputs, SelectionRequest


def shape_exclusion(
    shape: Shape, request: SelectionRequest, inputs: RankInputs
) -> tuple[str, str] | None:
    """The first reason models of `shape` do not qualify, whatever their numbers."""
    kind = request.kind
    provider = shape.provider
    if request.preferred_provider and provider != request.preferred_provider:
        return "provider", f"provider is {provider}, not {request.preferred_provider}"
    serves = shape.probe().supports(kind)
    if serves is None:
        return "type", f"not known to serve {kind} requests"
    if not serves:
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


def qualify(
    request: SelectionRequest, table: ModelTable, inputs: RankInputs, metrics: MetricColumns
) -> tuple[list[int], list[float], list[Exclusion]]:
    """The positions of qualifying models (ascending), their estimated costs (NaN =
    unknown) and an Exclusion for every other model, in id order.

    Each check removes models from the running candidate list, in the order of
    precedence of the reasons, so every excluded model gets its first reason.
    """
    ids, cols = table.ids, table.columns
    verdicts = [shape_exclusion(s, request, inputs) for s in table.shapes]
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
                f"cooling down until {time.strftime('%H:%M:%S', time.localtime(cooling[ids[i]]))}",
            ),
        )
    costs = estimated_costs(table, cand, tokens)
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
    dropped.sort()
    return cand, costs, [Exclusion(ids[i], code, reason) for i, code, reason in dropped]


def exclusion_summary(excluded: Sequence[Exclusion], limit: int = 3) -> list[tuple[str, int]]:
    """The most common exclusion categories with counts, most common first."""
    counts = Counter(e.code for e in excluded)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def no_suitable_model(
    request: SelectionRequest, excluded: Sequence[Exclusion], total: int
) -> NoSuitableModelError:
    if total == 0:
        return NoSuitableModelError(
            "no suitable model: the registry is empty",
            hint="run `jarvis models sync` or add a provider with `jarvis providers add`",
        )
    by_code: dict[str, Exclusion] = {}
    for e in excluded:
        by_code.setdefault(e.code, e)
    parts = [
        f"{count} {code.replace('_', ' ')} (e.g. {by_code[code].model_id}: {by_code[code].reason})"
        for code, count in exclusion_summary(excluded)
    ]
    return NoSuitableModelError(
        f"no suitable model for this {request.kind} request: {total} models excluded; "
        f"most common reasons: {'; '.join(parts)}",
        hint="relax the constraints, add a key (`jarvis keys add PROVIDER`), or see "
        "`jarvis select --all --explain`",
    )
