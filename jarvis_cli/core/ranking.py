"""The pure core of selection: filter, score and rank in-memory models; no I/O.

`rank(...)` takes registry records, per-model metrics, provider usability and
cooldowns, and returns a SelectionResult. `SelectionEngine` (selection.py) only
gathers those inputs from the store, the registry and the key manager.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple, overload

from jarvis_cli.core import scoring
from jarvis_cli.core.cost import TOKENS_PER_MTOK, TokenEstimate
from jarvis_cli.core.errors import NoSuitableModelError
from jarvis_cli.core.metrics import MetricColumns, ModelMetrics
from jarvis_cli.core.model_table import ModelTable, Shape
from jarvis_cli.core.providers.base import RequestKind
from jarvis_cli.core.reasoning import explain_choice
from jarvis_cli.core.records import ModelRecord


class SelectionRequest(NamedTuple):
    """What to select a model for (seed §6.1); every field acts."""

    kind: RequestKind = "chat"
    prompt: str | None = None  # used only to estimate input tokens
    input_tokens: int | None = None  # beats the estimate from `prompt`
    output_tokens: int | None = None  # expected; default 500 (0 for embeddings)
    capabilities: tuple[str, ...] = ()
    preferred_model: str | None = None
    preferred_provider: str | None = None
    strategy: str | None = None  # None = config defaults.strategy
    max_cost_usd: float | None = None  # budget_constraint
    max_latency_ms: float | None = None  # timeout_constraint, vs expected (p50) latency
    include_unusable: bool = False  # --all: models of providers without a key too


class Exclusion(NamedTuple):
    model_id: str
    code: str  # stable category: provider, type, capability, unavailable, no_key, ...
    reason: str  # one human sentence fragment


class ScoredCandidate(NamedTuple):
    """One qualifying model with its figures and scores (immutable; a NamedTuple because
    selection builds one per candidate, 10,000 in the benchmark)."""

    model: ModelRecord
    usable: bool
    metrics: ModelMetrics
    estimated_cost_usd: float | None
    expected_latency_ms: float  # measured p50, or the prior
    latency_measured: bool
    smoothed_success_rate: float
    quality: float | None
    scores: scoring.SubScores
    total: float
    tiebreak: float  # the balanced total, used when totals tie
    notes: tuple[str, ...] = ()


class PreferredModelOutcome(NamedTuple):
    model_id: str
    used: bool
    reason: str | None  # why it was not used


class SelectionResult(NamedTuple):
    model_id: str
    provider: str
    model_name: str
    usable: bool
    fallbacks: tuple[str, ...]
    estimated_cost_usd: float | None
    estimated_latency_ms: float | None  # None when the chosen model is unmeasured
    confidence: float
    reasoning: str
    strategy: str
    weights: scoring.Weights
    tokens: TokenEstimate
    candidates: Sequence[ScoredCandidate]  # best first; [0] is the chosen one (built lazily)
    excluded: tuple[Exclusion, ...]
    preferred_model: PreferredModelOutcome | None = None
    notes: tuple[str, ...] = ()

    @property
    def chosen(self) -> ScoredCandidate:
        return self.candidates[0]


class RankInputs(NamedTuple):
    """Everything `rank` needs besides the request, the models and their metrics."""

    strategy: str
    weights: scoring.Weights
    tokens: TokenEstimate
    usable_providers: Mapping[str, bool]  # provider -> can be called now
    # provider -> (code, reason) for the unusable ones, e.g. ("no_key", "no key for x (...)")
    unusable_reasons: Mapping[str, tuple[str, str]] = {}
    cooling_until: Mapping[str, float] = {}
    quality_overrides: Mapping[str, float] = {}
    max_fallbacks: int = 2
    now: float = 0.0


def rank(
    request: SelectionRequest,
    models: Sequence[ModelRecord],
    inputs: RankInputs,
    metrics: Mapping[str, ModelMetrics] | None = None,
) -> SelectionResult:
    """Filter, score and rank `models` for `request`; NoSuitableModelError if none qualifies.

    `metrics` maps model ids to their measurements (absent = unmeasured).
    """
    table = ModelTable.from_records(models)
    return rank_table(request, table, inputs, MetricColumns.from_mapping(table.ids, metrics or {}))


def rank_table(
    request: SelectionRequest, table: ModelTable, inputs: RankInputs, metrics: MetricColumns
) -> SelectionResult:
    """`rank` over a ModelTable and metrics aligned with it (what SelectionEngine uses).

    Works on columns (lists of floats) and builds a ScoredCandidate only for the
    candidates a caller looks at: the result's `candidates` is a lazy sequence.
    """
    tokens = inputs.tokens
    cand, costs, excluded = _qualify(request, table, inputs, metrics)
    if not cand:
        raise _no_suitable_model(request, excluded, len(table))
    scored = _Scored(request, table, inputs, metrics, cand, costs)
    order = scored.order()
    preferred = _apply_preference(request, table, scored, order, excluded)
    candidates = _Candidates(scored, order)
    chosen = candidates[0]
    runner_up = candidates[1] if len(candidates) > 1 else None
    margin = None if runner_up is None else chosen.total - runner_up.total
    if preferred is not None and preferred.used:
        margin = None  # the user decided; there is no contest to be unsure about
    conf = scoring.confidence(
        inputs.weights,
        margin=margin,
        calls=chosen.metrics.calls,
        cost_known=chosen.estimated_cost_usd is not None,
        quality_known=chosen.quality is not None,
    )
    return SelectionResult(
        model_id=chosen.model.id,
        provider=chosen.model.provider,
        model_name=chosen.model.name,
        usable=chosen.usable,
        fallbacks=_fallbacks(table, scored, order, inputs.max_fallbacks),
        estimated_cost_usd=chosen.estimated_cost_usd,
        estimated_latency_ms=chosen.expected_latency_ms if chosen.latency_measured else None,
        confidence=conf,
        reasoning=explain_choice(inputs.strategy, inputs.weights, candidates, preferred),
        strategy=inputs.strategy,
        weights=inputs.weights,
        tokens=tokens,
        candidates=candidates,
        excluded=tuple(excluded),
        preferred_model=preferred,
    )


def _shape_exclusion(
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


def _costs(table: ModelTable, cand: Sequence[int], tokens: TokenEstimate) -> list[float]:
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


def _qualify(
    request: SelectionRequest, table: ModelTable, inputs: RankInputs, metrics: MetricColumns
) -> tuple[list[int], list[float], list[Exclusion]]:
    """The positions of qualifying models (ascending), their estimated costs (NaN =
    unknown) and an Exclusion for every other model, in id order.

    Each check removes models from the running candidate list, in the order of
    precedence of the reasons, so every excluded model gets its first reason.
    """
    ids, cols = table.ids, table.columns
    verdicts = [_shape_exclusion(s, request, inputs) for s in table.shapes]
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
    costs = _costs(table, cand, tokens)
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


class _Scored:
    """Sub-scores and totals of the qualifying models, as lists aligned with `cand`
    (position j is the model at table position cand[j])."""

    def __init__(
        self,
        request: SelectionRequest,
        table: ModelTable,
        inputs: RankInputs,
        metrics: MetricColumns,
        cand: list[int],
        costs: list[float],
    ) -> None:
        self.table, self.metrics, self.cand = table, metrics, cand
        usable_of = inputs.usable_providers
        shape_usable = [bool(usable_of.get(s.provider)) for s in table.shapes]
        shape_of = table.shape_of
        self.usable = [shape_usable[shape_of[i]] for i in cand]
        self.costs: list[float | None] = [None if c != c else c for c in costs]
        p50 = [metrics.latency_p50_ms[i] for i in cand]
        self.measured = [x == x for x in p50]
        self.prior = scoring.latency_prior_ms([x for x in p50 if x == x], request.kind)
        prior = self.prior
        self.latencies = [x if x == x else prior for x in p50]
        calls, successes = metrics.calls, metrics.successes
        self.smoothed = scoring.smoothed_success_rates(
            [successes[i] for i in cand], [calls[i] for i in cand]
        )
        quality = table.columns["quality"]
        qualities: list[float | None] = [
            None if quality[i] != quality[i] else quality[i] for i in cand
        ]
        overrides = inputs.quality_overrides
        if overrides:
            ids = table.ids
            qualities = [overrides.get(ids[i], q) for i, q in zip(cand, qualities, strict=True)]
        self.qualities = qualities
        self.perf = scoring.performance_scores(self.latencies)
        self.cost = scoring.cost_scores(self.costs)
        self.rel = scoring.reliability_scores(self.smoothed)
        self.qual = scoring.quality_scores(qualities)
        subs = (self.perf, self.cost, self.rel, self.qual)
        self.totals = inputs.weights.totals(*subs)
        self.tiebreaks = (
            self.totals if inputs.weights == scoring.BALANCED else scoring.BALANCED.totals(*subs)
        )
        # The same few notes repeat across thousands of candidates: build them once.
        self.unmeasured_notes: tuple[str, ...] = (f"latency unmeasured: prior {prior:.0f} ms",)
        if request.max_latency_ms is not None:
            self.unmeasured_notes += ("not checked against --max-latency (no measurements)",)

    def order(self) -> list[int]:
        """Positions best first. Deterministic: total, then the balanced total, then
        usable first, then the id (stable sorts, least significant key first; `cand`
        is in id order)."""
        order = list(range(len(self.cand)))
        if not all(self.usable):
            order.sort(key=self.usable.__getitem__, reverse=True)
        if self.tiebreaks is not self.totals:
            order.sort(key=self.tiebreaks.__getitem__, reverse=True)
        order.sort(key=self.totals.__getitem__, reverse=True)
        return order

    def candidate(self, j: int) -> ScoredCandidate:
        i = self.cand[j]
        model = self.table.record(i)
        cost = self.costs[j]
        notes: tuple[str, ...] = ()
        if cost is None:
            notes += _NO_PRICE_NOTE
        if not self.measured[j]:
            notes += self.unmeasured_notes
        if model.context_length is None:
            notes += _NO_CONTEXT_NOTE
        return ScoredCandidate(
            model,
            self.usable[j],
            self.metrics.metrics(i, model.id),
            cost,
            self.latencies[j],
            self.measured[j],
            self.smoothed[j],
            self.qualities[j],
            scoring.SubScores(self.perf[j], self.cost[j], self.rel[j], self.qual[j]),
            self.totals[j],
            self.tiebreaks[j],
            notes,
        )


_NO_PRICE_NOTE = ("price unknown: scored as the most expensive candidate",)
_NO_CONTEXT_NOTE = ("context length unknown",)


class _Candidates(Sequence[ScoredCandidate]):
    """The scored candidates best first, each built on first access (selection over
    10,000 models shows ten of them)."""

    def __init__(self, scored: _Scored, order: list[int]) -> None:
        self._scored = scored
        self._order = order
        self._built: dict[int, ScoredCandidate] = {}

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, index: int) -> ScoredCandidate: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[ScoredCandidate, ...]: ...

    def __getitem__(self, index: int | slice) -> ScoredCandidate | tuple[ScoredCandidate, ...]:
        if isinstance(index, slice):
            return tuple(self._at(k) for k in range(*index.indices(len(self._order))))
        return self._at(range(len(self._order))[index])  # IndexError like a tuple

    def _at(self, k: int) -> ScoredCandidate:
        found = self._built.get(k)
        if found is None:
            found = self._built[k] = self._scored.candidate(self._order[k])
        return found

    def __repr__(self) -> str:
        return f"<{len(self)} scored candidates>"


def _apply_preference(
    request: SelectionRequest,
    table: ModelTable,
    scored: _Scored,
    order: list[int],
    excluded: Sequence[Exclusion],
) -> PreferredModelOutcome | None:
    """Move the preferred model to the front of `order` if it qualifies; say why not."""
    wanted = request.preferred_model
    if not wanted:
        return None
    i = table.index(wanted)
    if i is not None:
        j = bisect_left(scored.cand, i)
        if j < len(scored.cand) and scored.cand[j] == i:
            order.remove(j)
            order.insert(0, j)
            return PreferredModelOutcome(wanted, True, None)
    for e in excluded:
        if e.model_id == wanted:
            return PreferredModelOutcome(wanted, False, e.reason)
    return PreferredModelOutcome(wanted, False, "not in the registry")


def _fallbacks(table: ModelTable, scored: _Scored, order: list[int], limit: int) -> tuple[str, ...]:
    """Up to `limit` runners-up: one per other provider first (best first), then the rest."""
    if limit <= 0:
        return ()
    cand, usable = scored.cand, scored.usable
    chosen_usable = usable[order[0]]
    picked: list[str] = []
    providers = {table.provider(cand[order[0]])}
    for j in order[1:]:
        if len(picked) >= limit:
            break
        provider = table.provider(cand[j])
        if (usable[j] or not chosen_usable) and provider not in providers:
            picked.append(table.ids[cand[j]])
            providers.add(provider)
    for j in order[1:]:
        if len(picked) >= limit:
            break
        model_id = table.ids[cand[j]]
        if (usable[j] or not chosen_usable) and model_id not in picked:
            picked.append(model_id)
    return tuple(picked)


def exclusion_summary(excluded: Sequence[Exclusion], limit: int = 3) -> list[tuple[str, int]]:
    """The most common exclusion categories with counts, most common first."""
    counts = Counter(e.code for e in excluded)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def _no_suitable_model(
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
