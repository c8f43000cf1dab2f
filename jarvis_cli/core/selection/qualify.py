"""Which models qualify for a request, and the first reason each other model does not.

Checks that depend only on a model's shape (provider, type, capabilities, status,
key) run once per shape of the ModelTable; the numeric ones (context, max output,
cooldown, budget, latency) are list comprehensions over its columns. Every excluded
model gets an Exclusion with a stable code and a human reason.
"""

# No `from __future__ import annotations`: typing.NamedTuple compiles each string
# annotation at import (a ForwardRef per field), ~40 % of its classes' cost.

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from jarvis_cli.core.registry.model_table import ModelTable, Shape
from jarvis_cli.core.selection.calibration import per_model_costs
from jarvis_cli.core.selection.cost import TOKENS_PER_MTOK, TokenEstimate
from jarvis_cli.core.selection.learned_view import LearnedColumn
from jarvis_cli.core.selection.metrics import MetricColumns
from jarvis_cli.core.selection.quality import Quality, ScoredModel, resolve_qualities
from jarvis_cli.core.selection.refusal import (
    NoModelFound,
    exclusion_summary,
    fix_for,
    no_suitable_model,
)
from jarvis_cli.core.selection.scoring import COST_QUALITY_FLOOR
from jarvis_cli.core.selection.speed import (
    Speeds,
    describe,
    expected_latencies,
    size_classes,
)
from jarvis_cli.core.selection.task import GENERAL, resolve_task
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
    speeds: Speeds  # expected latency of each candidate, measured or prior
    learned: LearnedColumn | None = None  # what outcomes taught (None: no outcomes)
    outputs: Mapping[int, int] = {}  # position -> expected output tokens learned from outcomes


def thinks(table: ModelTable, i: int) -> bool | None:
    """Whether the model at position `i` is a reasoning model (None = unknown)."""
    return table.shapes[table.shape_of[i]].capabilities.reasoning


def candidate_speeds(
    request: SelectionRequest,
    table: ModelTable,
    names: NameFacts,
    metrics: MetricColumns,
    output_tokens: int,
    cand: Sequence[int],
    outputs: Mapping[int, int] | None = None,
) -> Speeds:
    """Expected latency of `cand` for this request (selection/speed.py), each at its
    learned output tokens (`outputs`, by position) where it has them."""
    shape_of = table.shape_of
    reasoning = [bool(s.capabilities.reasoning) for s in table.shapes]
    ttft, tps, p50 = metrics.ttft_p50_ms, metrics.tps_p50, metrics.latency_p50_ms
    return expected_latencies(
        request.kind,
        [outputs.get(i, output_tokens) for i in cand] if outputs else output_tokens,
        size_classes(cand, names.speed, table.columns["output_cost_per_mtok"]),
        lambda k: reasoning[shape_of[cand[k]]],
        [ttft[i] for i in cand],
        [tps[i] for i in cand],
        [p50[i] for i in cand],
    )


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
    resolved = resolve_task(request.task, request.prompt)
    outputs: dict[int, int] = {}  # position -> output tokens learned (learned_output.py)
    if inputs.learned is not None and request.output_tokens is None and out:
        from jarvis_cli.core.selection.learned_output import learned_outputs

        expected = inputs.learned.outputs.for_task(resolved.category)
        outputs = learned_outputs(table, cand, expected, inputs.output_limit)
    costs = per_model_costs(  # calibrated models at their typical input (issue 23)
        table, cand, estimated_costs(table, cand, tokens),
        (tokens.input_tokens, tokens.output_tokens), inputs.expected_inputs, outputs,
    )  # fmt: skip
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
    speeds_cand = list(cand)
    speeds = candidate_speeds(request, table, names, metrics, out, cand, outputs)
    max_latency = request.max_latency_ms
    if max_latency is not None:
        latency_of = dict(zip(cand, speeds.latency_ms, strict=True))
        where = dict(zip(cand, zip(speeds.measured, speeds.classes, strict=True), strict=True))
        drop(
            sorted((i for i in cand if latency_of[i] > max_latency), key=latency_of.__getitem__),
            lambda i: (
                "latency",
                f"expected latency {latency_of[i]:,.0f} ms "
                f"({describe(*where[i], bool(thinks(table, i)), outputs.get(i, out))}) "
                f"> max {max_latency:g} ms",
            ),
        )
    task = resolved.quality_key
    quality_col = cols["quality"]
    qualities = resolve_qualities(
        [ids[i] for i in cand],
        [quality_col[i] for i in cand],
        inputs.quality_overrides,
        inputs.quality,
        task,
        [scored.get(i) for i in cand] if (scored := names.scored) else [None] * len(cand),
    )
    learned = None
    if inputs.learned is not None:  # the one place outcomes enter selection: before floors
        learned = inputs.learned.estimate(
            cand, [ids[i] for i in cand], qualities, resolved.category, request.prompt,
            _prior_on(qualities, inputs.quality.entries),
        )  # fmt: skip
        qualities = learned.qualities
    floor = request.min_quality
    # Embedding models have no task quality to speak of: no floor for them.
    by_cost = floor is None and inputs.strategy == "cost" and request.kind != "embedding"
    if by_cost:  # "cheapest that can do the task" (scoring.COST_QUALITY_FLOOR)
        floor = COST_QUALITY_FLOOR
    if floor is not None:
        low = {
            i: q
            for i, q in zip(cand, qualities, strict=True)
            if q.value < floor or (by_cost and not q.known)
        }
        if low:
            qualities = [q for i, q in zip(cand, qualities, strict=True) if i not in low]
            drop(sorted(low), lambda i: _low_quality(low[i], floor, by_cost, task))
    dropped.sort()
    excluded = [Exclusion(ids[i], code, reason) for i, code, reason in dropped]
    if len(cand) != len(speeds.latency_ms):
        final = set(cand)
        kept = [k for k, i in enumerate(speeds_cand) if i in final]
        speeds = Speeds(
            [speeds.latency_ms[k] for k in kept],
            [speeds.measured[k] for k in kept],
            [speeds.classes[k] for k in kept],
        )
    return Qualified(
        cand, costs, qualities, versions, assumed & set(cand), excluded, speeds, learned, outputs
    )


def _prior_on(
    qualities: Sequence[Quality], entries: Mapping[str, ScoredModel]
) -> Callable[[int, str], float | None]:
    """Candidate j's bundled prior on another task (learning.py: outcomes on other tasks
    count as residuals from it); None when its quality is not a bundled per-task score
    (a user or config value, or the default, is the same on every task)."""

    def prior_on(j: int, task: str) -> float | None:
        source_id = qualities[j].model_id
        entry = None if source_id is None else entries.get(source_id)
        return None if entry is None else entry.for_task(None if task == GENERAL else task)

    return prior_on


def _low_quality(q: Quality, floor: float, by_cost: bool, task: str | None) -> tuple[str, str]:
    """The `min_quality` exclusion of a model below the floor (or unrated, for cost)."""
    if not by_cost:
        return "min_quality", f"quality {q.value:.2f} ({q.source}) < --min-quality {floor:g}"
    if not q.known:
        return "min_quality", (
            f"quality unknown for task {task or 'general'}: the cost strategy picks among "
            "rated models (--min-quality 0 includes unrated ones)"
        )
    return "min_quality", (
        f"quality {q.value:.2f} ({q.source}) < the cost strategy's floor {floor:g} "
        "(--min-quality 0 turns it off)"
    )


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


__all__ = [
    "NoModelFound",
    "Qualified",
    "exclusion_summary",
    "fix_for",
    "no_suitable_model",
    "qualify",
    "shape_exclusion",
]
