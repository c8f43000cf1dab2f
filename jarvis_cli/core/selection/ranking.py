"""The pure core of selection: filter, score and rank in-memory models; no I/O.

`rank(...)` takes registry records, per-model metrics, provider usability and
cooldowns, and returns a SelectionResult; `rank_table(...)` does the same on a
ModelTable and MetricColumns (core/registry/model_table.py), which is what SelectionEngine
(selection.py) passes after gathering the inputs from the store, the registry and
the key manager. Which models qualify is decided in qualify.py; scoring here.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from typing import overload

from jarvis_cli.core.registry.model_table import ModelTable
from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.selection import scoring, tradeoff
from jarvis_cli.core.selection.metrics import MetricColumns, ModelMetrics
from jarvis_cli.core.selection.qualify import Qualified, no_suitable_model, qualify
from jarvis_cli.core.selection.reasoning import explain_choice
from jarvis_cli.core.selection.speed import describe
from jarvis_cli.core.selection.task import resolve_task
from jarvis_cli.core.selection.types import (
    Exclusion,
    PreferredModelOutcome,
    RankInputs,
    ScoredCandidate,
    SelectionRequest,
    SelectionResult,
)


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
    task = resolve_task(request.task, request.prompt)
    q = qualify(request, table, inputs, metrics)
    excluded = q.excluded
    if not q.cand:
        raise no_suitable_model(request, excluded, len(table), inputs.usable_providers)
    scored = _Scored(request, table, inputs, metrics, q)
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
        quality_known=chosen.quality_known,
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
        task=task,
        learned_outputs={}
        if inputs.learned is None or request.kind == "embedding"
        else inputs.learned.outputs.for_task(task.category),
    )


class _Scored:
    """Sub-scores and totals of the qualifying models, as lists aligned with `cand`
    (position j is the model at table position cand[j])."""

    def __init__(
        self,
        request: SelectionRequest,
        table: ModelTable,
        inputs: RankInputs,
        metrics: MetricColumns,
        q: Qualified,
    ) -> None:
        cand, costs = q.cand, q.costs
        self.table, self.metrics, self.cand = table, metrics, cand
        self.versions, self.assumed = q.versions, q.assumed
        usable_of = inputs.usable_providers
        shape_usable = [bool(usable_of.get(s.provider)) for s in table.shapes]
        shape_of = table.shape_of
        self.usable = [shape_usable[shape_of[i]] for i in cand]
        self.costs: list[float | None] = [None if c != c else c for c in costs]
        speeds = q.speeds
        self.measured = speeds.measured
        self.latencies = speeds.latency_ms
        self.classes = speeds.classes
        self.output_tokens = inputs.tokens.output_tokens
        self.outputs = q.outputs  # position -> output tokens learned from outcomes
        calls, successes = metrics.calls, metrics.successes
        self.smoothed = scoring.smoothed_success_rates(
            [successes[i] for i in cand], [calls[i] for i in cand]
        )
        self.qualities = q.qualities
        self.learned = q.learned  # outcomes entered at qualification (floors see them)
        qualities = [x.value - x.margin for x in q.qualities]  # ranked on the lower bound
        self.perf = scoring.performance_scores(self.latencies)
        self.cost = scoring.cost_scores(self.costs)
        self.rel = scoring.reliability_scores(self.smoothed)
        self.qual = scoring.quality_scores(qualities)
        self.quality_values = qualities
        self.tied: frozenset[int] = frozenset()
        if self.learned is not None and (request.prefer is not None or inputs.weights.quality >= 1):
            # quality alone or the --prefer curve: noise does not decide (tradeoff.py)
            variance, widest = self.learned.variance_of(cand, q.qualities)
            tied = tradeoff.tied_with_best(self.qual, variance, widest)
            if len(tied) > 1:
                self.qual = tradeoff.lift(self.qual, tied)
                self.quality_values = tradeoff.lift(qualities, tied)
                self.tied = frozenset(tied)
        subs = (self.perf, self.cost, self.rel, self.qual)
        if request.prefer is None:
            self.totals = inputs.weights.totals(*subs)
        else:
            self.totals = tradeoff.prefer_totals(self.qual, self.costs, request.prefer)
        self.tiebreaks = (
            self.totals if inputs.weights == scoring.BALANCED else scoring.BALANCED.totals(*subs)
        )

    def order(self) -> list[int]:
        """Positions best first. Deterministic: total, then quality, then the balanced
        total, then usable first, then the id (stable sorts, least significant key
        first; `cand` is in id order)."""
        order = list(range(len(self.cand)))
        if not all(self.usable):
            order.sort(key=self.usable.__getitem__, reverse=True)
        if self.tiebreaks is not self.totals:
            order.sort(key=self.tiebreaks.__getitem__, reverse=True)
        order.sort(key=self.quality_values.__getitem__, reverse=True)
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
            thinks = bool(model.capabilities.reasoning)
            out = self.outputs.get(i, self.output_tokens)
            source = describe(False, self.classes[j], thinks, out)
            notes += (
                f"latency unmeasured: {source} -> {self.latencies[j]:,.0f} ms "
                f"(`jarvis models probe {model.id}` measures it)",
            )
        if model.context_length is None:
            notes += _NO_CONTEXT_NOTE
        if j in self.tied:
            notes += (_TIED_NOTE,)
        assumed = i in self.assumed
        if assumed:
            notes += (
                f"type assumed: chat (unknown to the catalog; `jarvis models set {model.id} "
                "--type chat` confirms it)",
            )
        quality = self.qualities[j]
        learned = None if self.learned is None else self.learned.detail(i, quality.value)
        return ScoredCandidate(
            model,
            self.usable[j],
            self.metrics.metrics(i, model.id),
            cost,
            self.latencies[j],
            self.measured[j],
            self.smoothed[j],
            quality.value,
            scoring.SubScores(self.perf[j], self.cost[j], self.rel[j], self.qual[j]),
            self.totals[j],
            self.tiebreaks[j],
            notes,
            quality.source,
            quality.model_id,
            self.versions.get(i, 1),
            assumed,
            quality.margin,
            learned,
        )


_NO_PRICE_NOTE = ("price unknown: scored as the most expensive candidate",)
_NO_CONTEXT_NOTE = ("context length unknown",)
_TIED_NOTE = (
    "quality tied with the best: outcomes cannot tell them apart (within 1 SD), "
    "the balanced total decides"
)


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
