"""The pure core of selection: filter, score and rank in-memory models; no I/O.

`rank(...)` takes registry records, per-model metrics, provider usability and
cooldowns, and returns a SelectionResult. `SelectionEngine` (selection.py) only
gathers those inputs from the store, the registry and the key manager.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from jarvis_cli.core import scoring
from jarvis_cli.core.cost import TokenEstimate, cost_usd
from jarvis_cli.core.errors import NoSuitableModelError
from jarvis_cli.core.metrics import ModelMetrics, no_measurements
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
    candidates: tuple[ScoredCandidate, ...]  # best first; [0] is the chosen one
    excluded: tuple[Exclusion, ...]
    preferred_model: PreferredModelOutcome | None = None
    notes: tuple[str, ...] = ()

    @property
    def chosen(self) -> ScoredCandidate:
        return self.candidates[0]


class RankInputs(NamedTuple):
    """Everything `rank` needs besides the request and the models."""

    strategy: str
    weights: scoring.Weights
    tokens: TokenEstimate
    usable_providers: Mapping[str, bool]  # provider -> can be called now
    # provider -> (code, reason) for the unusable ones, e.g. ("no_key", "no key for x (...)")
    unusable_reasons: Mapping[str, tuple[str, str]] = {}
    metrics: Mapping[str, ModelMetrics] = {}
    cooling_until: Mapping[str, float] = {}
    quality_overrides: Mapping[str, float] = {}
    max_fallbacks: int = 2
    now: float = 0.0


def _exclusion(
    model: ModelRecord, request: SelectionRequest, inputs: RankInputs, cost: float | None
) -> tuple[str, str] | None:
    """The first reason `model` does not qualify, as (code, reason); None if it does."""
    kind = request.kind
    if request.preferred_provider and model.provider != request.preferred_provider:
        return "provider", f"provider is {model.provider}, not {request.preferred_provider}"
    serves = model.supports(kind)
    if serves is None:
        return "type", f"not known to serve {kind} requests"
    if not serves:
        return "type", f"does not serve {kind} requests"
    for cap in request.capabilities:
        has = getattr(model.capabilities, cap)
        if has is None:
            return "capability", f"{cap} support unknown"
        if not has:
            return "capability", f"no {cap} support"
    if model.status != "active":
        return "unavailable", f"marked {model.status}"
    usable = inputs.usable_providers.get(model.provider)
    if usable is None:
        return "provider_unknown", f"provider {model.provider} is not configured"
    if not usable:
        why = inputs.unusable_reasons.get(
            model.provider, ("no_key", f"no key for {model.provider}")
        )
        # --all shows what a key would unlock; a local server nobody set up is not
        # one of those (and its $0 catalog models would otherwise always win).
        if not request.include_unusable or why[0] == "not_set_up":
            return why
    tokens = inputs.tokens
    if model.context_length is not None and tokens.total > model.context_length:
        return "context", (
            f"needs {tokens.total} tokens (input + output), context is {model.context_length}"
        )
    if model.max_output_tokens is not None and tokens.output_tokens > model.max_output_tokens:
        return "context", (
            f"expects {tokens.output_tokens} output tokens, max is {model.max_output_tokens}"
        )
    until = inputs.cooling_until.get(model.id)
    if until is not None and until > inputs.now:
        return "cooldown", f"cooling down until {time.strftime('%H:%M:%S', time.localtime(until))}"
    if request.max_cost_usd is not None:
        if cost is None:
            return "price_unknown", "price unknown (budget given)"
        if cost > request.max_cost_usd:
            return "budget", f"estimated ${cost:.6f} > max ${request.max_cost_usd:g}"
    if request.max_latency_ms is not None:
        m = inputs.metrics.get(model.id)
        if (
            m is not None
            and m.latency_p50_ms is not None
            and (m.latency_p50_ms > request.max_latency_ms)
        ):
            return "latency", (
                f"expected latency {m.latency_p50_ms:.0f} ms (p50) > max "
                f"{request.max_latency_ms:g} ms"
            )
    return None


def rank(
    request: SelectionRequest, models: Sequence[ModelRecord], inputs: RankInputs
) -> SelectionResult:
    """Filter, score and rank `models` for `request`; NoSuitableModelError if none qualifies."""
    tokens = inputs.tokens
    qualifying: list[tuple[ModelRecord, float | None]] = []
    excluded: list[Exclusion] = []
    for model in models:
        cost = cost_usd(model, tokens.input_tokens, tokens.output_tokens)
        why = _exclusion(model, request, inputs, cost)
        if why is None:
            qualifying.append((model, cost))
        else:
            excluded.append(Exclusion(model.id, *why))
    if not qualifying:
        raise _no_suitable_model(request, excluded, len(models))
    candidates = _score(request, qualifying, inputs)
    preferred, candidates = _apply_preference(request, candidates, excluded)
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
        fallbacks=_fallbacks(candidates, inputs.max_fallbacks),
        estimated_cost_usd=chosen.estimated_cost_usd,
        estimated_latency_ms=chosen.expected_latency_ms if chosen.latency_measured else None,
        confidence=conf,
        reasoning=explain_choice(inputs.strategy, inputs.weights, candidates, preferred),
        strategy=inputs.strategy,
        weights=inputs.weights,
        tokens=tokens,
        candidates=tuple(candidates),
        excluded=tuple(excluded),
        preferred_model=preferred,
    )


def _score(
    request: SelectionRequest,
    qualifying: Sequence[tuple[ModelRecord, float | None]],
    inputs: RankInputs,
) -> list[ScoredCandidate]:
    found = inputs.metrics
    metrics = [found.get(m.id) or no_measurements(m.id) for m, _ in qualifying]
    measured_p50s = [x.latency_p50_ms for x in metrics if x.latency_p50_ms is not None]
    prior = scoring.latency_prior_ms(measured_p50s, request.kind)
    latencies = [prior if x.latency_p50_ms is None else x.latency_p50_ms for x in metrics]
    smoothed = [scoring.smoothed_success_rate(x.successes, x.calls) for x in metrics]
    overrides = inputs.quality_overrides
    qualities = [overrides.get(m.id, m.quality) for m, _ in qualifying]
    perf = scoring.performance_scores(latencies)
    cost = scoring.cost_scores([c for _, c in qualifying])
    rel = scoring.reliability_scores(smoothed)
    qual = scoring.quality_scores(qualities)
    # The same few notes repeat across thousands of candidates: build them once.
    unmeasured_notes: tuple[str, ...] = (f"latency unmeasured: prior {prior:.0f} ms",)
    if request.max_latency_ms is not None:
        unmeasured_notes += ("not checked against --max-latency (no measurements)",)
    no_price_note = ("price unknown: scored as the most expensive candidate",)
    no_context_note = ("context length unknown",)
    w, b = inputs.weights, scoring.BALANCED
    usable = inputs.usable_providers
    out: list[ScoredCandidate] = []
    for i, (model, est_cost) in enumerate(qualifying):
        m = metrics[i]
        p, c, r, q = perf[i], cost[i], rel[i], qual[i]
        notes: tuple[str, ...] = ()
        if est_cost is None:
            notes += no_price_note
        if m.latency_p50_ms is None:
            notes += unmeasured_notes
        if model.context_length is None:
            notes += no_context_note
        out.append(
            ScoredCandidate(
                model,
                bool(usable.get(model.provider)),
                m,
                est_cost,
                latencies[i],
                m.latency_p50_ms is not None,
                smoothed[i],
                qualities[i],
                scoring.SubScores(p, c, r, q),
                w.performance * p + w.cost * c + w.reliability * r + w.quality * q,
                b.performance * p + b.cost * c + b.reliability * r + b.quality * q,
                notes,
            )
        )
    # Deterministic: total, then the balanced total, then usable first, then the id.
    out.sort(key=lambda s: (-s.total, -s.tiebreak, not s.usable, s.model.id))
    return out


def _apply_preference(
    request: SelectionRequest,
    candidates: list[ScoredCandidate],
    excluded: Sequence[Exclusion],
) -> tuple[PreferredModelOutcome | None, list[ScoredCandidate]]:
    wanted = request.preferred_model
    if not wanted:
        return None, candidates
    for i, c in enumerate(candidates):
        if c.model.id == wanted:
            return PreferredModelOutcome(wanted, True, None), [
                c,
                *candidates[:i],
                *candidates[i + 1 :],
            ]
    for e in excluded:
        if e.model_id == wanted:
            return PreferredModelOutcome(wanted, False, e.reason), candidates
    return PreferredModelOutcome(wanted, False, "not in the registry"), candidates


def _fallbacks(candidates: Sequence[ScoredCandidate], limit: int) -> tuple[str, ...]:
    """Up to `limit` runners-up: one per other provider first (best first), then the rest."""
    chosen = candidates[0]
    rest = [c for c in candidates[1:] if c.usable or not chosen.usable]
    picked: list[str] = []
    providers = {chosen.model.provider}
    for c in rest:
        if len(picked) >= limit:
            break
        if c.model.provider not in providers:
            picked.append(c.model.id)
            providers.add(c.model.provider)
    for c in rest:
        if len(picked) >= limit:
            break
        if c.model.id not in picked:
            picked.append(c.model.id)
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
