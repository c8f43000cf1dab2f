"""The ranking as it was before it went columnar: one ModelRecord at a time, the plain
formulas. Kept as an oracle: tests/core/selection/test_ranking_equivalence.py checks that the
fast columnar `rank` gives exactly the same results on random registries."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.selection import scoring
from jarvis_cli.core.selection.cost import cost_usd
from jarvis_cli.core.selection.metrics import ModelMetrics, no_measurements
from jarvis_cli.core.selection.qualify import Exclusion, no_suitable_model
from jarvis_cli.core.selection.reasoning import explain_choice
from jarvis_cli.core.selection.types import (
    PreferredModelOutcome,
    RankInputs,
    ScoredCandidate,
    SelectionRequest,
    SelectionResult,
)


def _relative(values: Sequence[float], *, higher_is_better: bool, min_span: float) -> list[float]:
    if not values:
        return []
    lo, hi = min(values), max(values)
    span = max(hi - lo, min_span)
    best = hi if higher_is_better else lo
    return [1.0 - abs(best - v) / span for v in values]


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _exclusion(
    model: ModelRecord,
    request: SelectionRequest,
    inputs: RankInputs,
    metrics: Mapping[str, ModelMetrics],
    cost: float | None,
) -> tuple[str, str] | None:
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
        m = metrics.get(model.id)
        if (
            m is not None
            and m.latency_p50_ms is not None
            and m.latency_p50_ms > request.max_latency_ms
        ):
            return "latency", (
                f"expected latency {m.latency_p50_ms:.0f} ms (p50) > max "
                f"{request.max_latency_ms:g} ms"
            )
    return None


def _score(
    request: SelectionRequest,
    qualifying: Sequence[tuple[ModelRecord, float | None]],
    inputs: RankInputs,
    found: Mapping[str, ModelMetrics],
) -> list[ScoredCandidate]:
    metrics = [found.get(m.id) or no_measurements(m.id) for m, _ in qualifying]
    measured = [x.latency_p50_ms for x in metrics if x.latency_p50_ms is not None]
    prior = _median(measured) if measured else scoring.LATENCY_PRIOR_MS[request.kind]
    latencies = [prior if x.latency_p50_ms is None else x.latency_p50_ms for x in metrics]
    smoothed = [scoring.smoothed_success_rate(x.successes, x.calls) for x in metrics]
    qualities = [inputs.quality_overrides.get(m.id, m.quality) for m, _ in qualifying]
    perf = _relative(
        [math.log10(max(v, 1.0)) for v in latencies],
        higher_is_better=False,
        min_span=scoring.MIN_SPAN_LOG_LATENCY,
    )
    costs = [c for _, c in qualifying]
    known = [c for c in costs if c is not None]
    if known:
        worst = max(known)
        cost = _relative(
            [math.log10((worst if c is None else c) + scoring.COST_LOG_OFFSET_USD) for c in costs],
            higher_is_better=False,
            min_span=scoring.MIN_SPAN_LOG_COST,
        )
    else:
        cost = [1.0 for _ in costs]
    rel = _relative(smoothed, higher_is_better=True, min_span=scoring.MIN_SPAN_RELIABILITY)
    known_q = [q for q in qualities if q is not None]
    if known_q:
        prior_q = _median(known_q)
        qual = _relative(
            [prior_q if q is None else q for q in qualities],
            higher_is_better=True,
            min_span=scoring.MIN_SPAN_QUALITY,
        )
    else:
        qual = [1.0 for _ in qualities]
    unmeasured: tuple[str, ...] = (f"latency unmeasured: prior {prior:.0f} ms",)
    if request.max_latency_ms is not None:
        unmeasured += ("not checked against --max-latency (no measurements)",)
    w, b = inputs.weights, scoring.BALANCED
    out = []
    for i, (model, est_cost) in enumerate(qualifying):
        m = metrics[i]
        p, c, r, q = perf[i], cost[i], rel[i], qual[i]
        notes: tuple[str, ...] = ()
        if est_cost is None:
            notes += ("price unknown: scored as the most expensive candidate",)
        if m.latency_p50_ms is None:
            notes += unmeasured
        if model.context_length is None:
            notes += ("context length unknown",)
        out.append(
            ScoredCandidate(
                model,
                bool(inputs.usable_providers.get(model.provider)),
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
    out.sort(key=lambda s: (-s.total, -s.tiebreak, not s.usable, s.model.id))
    return out


def _fallbacks(candidates: Sequence[ScoredCandidate], limit: int) -> tuple[str, ...]:
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


def reference_rank(
    request: SelectionRequest,
    models: Sequence[ModelRecord],
    inputs: RankInputs,
    metrics: Mapping[str, ModelMetrics],
) -> SelectionResult:
    tokens = inputs.tokens
    qualifying: list[tuple[ModelRecord, float | None]] = []
    excluded: list[Exclusion] = []
    for model in sorted(models, key=lambda m: m.id):
        cost = cost_usd(model, tokens.input_tokens, tokens.output_tokens)
        why = _exclusion(model, request, inputs, metrics, cost)
        if why is None:
            qualifying.append((model, cost))
        else:
            excluded.append(Exclusion(model.id, *why))
    if not qualifying:
        raise no_suitable_model(request, excluded, len(models))
    candidates = _score(request, qualifying, inputs, metrics)
    preferred = None
    if request.preferred_model:
        wanted = request.preferred_model
        at = next((i for i, c in enumerate(candidates) if c.model.id == wanted), None)
        if at is not None:
            preferred = PreferredModelOutcome(wanted, True, None)
            candidates.insert(0, candidates.pop(at))
        else:
            reason = next((e.reason for e in excluded if e.model_id == wanted), None)
            preferred = PreferredModelOutcome(wanted, False, reason or "not in the registry")
    chosen = candidates[0]
    margin = None if len(candidates) < 2 else chosen.total - candidates[1].total
    if preferred is not None and preferred.used:
        margin = None
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
