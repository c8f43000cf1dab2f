"""The ranking one ModelRecord at a time, with the plain formulas. Kept as an oracle:
tests/core/selection/test_ranking_equivalence.py checks that the fast columnar `rank`
gives exactly the same results on random registries.

Updated deliberately for issue 11: unknown-type models are assumed chat unless their
name says otherwise, variants and versions are left out, quality is absolute (user >
config > bundled table, by id then by name > default), `--min-quality` excludes, and
ties break by quality before the balanced total.

Updated deliberately for issue 24: expected latency is measured TTFT + output tokens /
throughput, else the model's size-class prior (speed.py), and `--max-latency` binds
on either; quality carries its source's margin and ranks on the lower bound; the
cost strategy without --min-quality keeps only rated models at or above its floor."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

from jarvis_cli.core.registry.matching import NameIndex, match_key
from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.selection import scoring
from jarvis_cli.core.selection.cost import cost_usd
from jarvis_cli.core.selection.metrics import ModelMetrics, no_measurements
from jarvis_cli.core.selection.qualify import Exclusion, no_suitable_model
from jarvis_cli.core.selection.quality import Quality, estimate
from jarvis_cli.core.selection.reasoning import explain_choice
from jarvis_cli.core.selection.speed import (
    CLASSES,
    class_from_name,
    class_from_price,
    describe,
    prior_latency_ms,
)
from jarvis_cli.core.selection.task import resolve_task
from jarvis_cli.core.selection.types import (
    PreferredModelOutcome,
    RankInputs,
    ScoredCandidate,
    SelectionRequest,
    SelectionResult,
)
from jarvis_cli.core.selection.variants import (
    WANTED_BY_CAPABILITY,
    base_name,
    not_chat_word,
    variant_kind,
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


def _quality(model: ModelRecord, inputs: RankInputs, task: str | None) -> Quality:
    if model.quality is not None:
        return estimate(model.quality, "user")
    if model.id in inputs.quality_overrides:
        return estimate(inputs.quality_overrides[model.id], "config")
    entries = inputs.quality.entries
    source_id = model.id if model.id in entries else None
    if source_id is None and entries:
        index = NameIndex(entries)
        name = model.name.lower()
        source_id = (
            index.by_name.get(name)
            or index.by_last.get(name.rpartition("/")[2])
            or index.by_key.get(match_key(name))
            or (
                index.by_key.get(match_key(base_name(model.name).lower()))
                if base_name(model.name) != model.name
                else None
            )
        )
    if source_id is None:
        return estimate(inputs.quality.default, "none")
    entry = entries[source_id]
    label = entry.source
    if entry.date and entry.date not in entry.source and not entry.source.startswith("family"):
        label = f"{entry.source} {entry.date}"
    return estimate(entry.for_task(task), label, source_id)


def _speed(
    model: ModelRecord, m: ModelMetrics | None, request: SelectionRequest, out: int
) -> tuple[float, bool, str]:
    """(expected latency, measured, size class) of one model, by speed.py's rules."""
    price = model.output_cost_per_mtok
    size = class_from_name(model.name) or class_from_price(math.nan if price is None else price)
    if m is not None and request.kind != "embedding" and m.ttft_p50_ms is not None:
        rate = m.tps_p50 if m.tps_p50 else CLASSES[size].tokens_per_s
        return m.ttft_p50_ms + out * 1000.0 / rate, True, size
    if m is not None and m.latency_p50_ms is not None:
        return m.latency_p50_ms, True, size
    thinks = bool(model.capabilities.reasoning)
    return prior_latency_ms(size, thinks, out, request.kind), False, size


def _early_exclusion(
    model: ModelRecord, request: SelectionRequest, inputs: RankInputs
) -> tuple[str, str] | None:
    """Reasons that do not depend on the other models (before versions are grouped)."""
    kind = request.kind
    if request.preferred_provider and model.provider != request.preferred_provider:
        return "provider", f"provider is {model.provider}, not {request.preferred_provider}"
    serves = model.supports(kind)
    if serves is None and kind != "chat":
        return "type", f"not known to serve {kind} requests"
    if serves is False:
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
    if serves is None:
        word = not_chat_word(model.name)
        if word is not None:
            return "type", (
                f"type unknown and its name says {word!r}: not assumed to serve chat "
                f"(if it does: `jarvis models set {model.id} --type chat`)"
            )
    kind_word = variant_kind(model.name)
    wanted = {k for cap in request.capabilities for k in WANTED_BY_CAPABILITY.get(cap, ())}
    if kind_word is not None and kind_word not in wanted and model.id != request.preferred_model:
        return "variant", (
            f"{kind_word} variant, not a candidate for a plain text request "
            f"(ask for it with --model {model.id})"
        )
    return None


def _late_exclusion(
    model: ModelRecord,
    request: SelectionRequest,
    inputs: RankInputs,
    metrics: Mapping[str, ModelMetrics],
    cost: float | None,
    quality: Quality,
    task: str | None,
) -> tuple[str, str] | None:
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
        return "cooldown", (
            f"cooling down until {time.strftime('%H:%M:%S', time.localtime(until))}"
            f" (wait {math.ceil(until - inputs.now)} s)"
        )
    if request.max_cost_usd is not None:
        if cost is None:
            return "price_unknown", "price unknown (budget given)"
        if cost > request.max_cost_usd:
            return "budget", f"estimated ${cost:.6f} > max ${request.max_cost_usd:g}"
    if request.max_latency_ms is not None:
        out = tokens.output_tokens
        latency, measured, size = _speed(model, metrics.get(model.id), request, out)
        if latency > request.max_latency_ms:
            where = describe(measured, size, bool(model.capabilities.reasoning), out)
            return "latency", (
                f"expected latency {latency:,.0f} ms ({where}) > max {request.max_latency_ms:g} ms"
            )
    floor = request.min_quality
    if floor is None and inputs.strategy == "cost" and request.kind != "embedding":
        if not quality.known:
            return "min_quality", (
                f"quality unknown for task {task or 'general'}: the cost strategy picks among "
                "rated models (--min-quality 0 includes unrated ones)"
            )
        if quality.value < scoring.COST_QUALITY_FLOOR:
            return "min_quality", (
                f"quality {quality.value:.2f} ({quality.source}) < the cost strategy's floor "
                f"{scoring.COST_QUALITY_FLOOR:g} (--min-quality 0 turns it off)"
            )
    if floor is not None and quality.value < floor:
        return "min_quality", (
            f"quality {quality.value:.2f} ({quality.source}) < --min-quality {floor:g}"
        )
    return None


def _versions(
    request: SelectionRequest, survivors: Sequence[ModelRecord]
) -> tuple[dict[str, int], dict[str, str]]:
    """(representative id -> versions, left-out id -> its representative's id)."""
    ids = {m.id for m in survivors}
    groups: dict[str, list[str]] = {}
    for m in survivors:
        stem = base_name(m.name)
        if stem != m.name:
            groups.setdefault(f"{m.provider}/{stem}", []).append(m.id)
    counts: dict[str, int] = {}
    left_out: dict[str, str] = {}
    for group_id, members in groups.items():
        if group_id in ids:
            rep, others = group_id, members
        else:
            rep = max(members)
            others = [i for i in members if i != rep]
        if others:
            counts[rep] = len(others) + 1
            left_out.update((i, rep) for i in others if i != request.preferred_model)
    return counts, left_out


def _score(
    request: SelectionRequest,
    qualifying: Sequence[tuple[ModelRecord, float | None, Quality]],
    inputs: RankInputs,
    found: Mapping[str, ModelMetrics],
    versions: Mapping[str, int],
) -> list[ScoredCandidate]:
    metrics = [found.get(m.id) or no_measurements(m.id) for m, _, _ in qualifying]
    out_tokens = inputs.tokens.output_tokens
    speeds = [
        _speed(m, x if x.measured else None, request, out_tokens)
        for (m, _, _), x in zip(qualifying, metrics, strict=True)
    ]
    latencies = [v for v, _, _ in speeds]
    smoothed = [scoring.smoothed_success_rate(x.successes, x.calls) for x in metrics]
    qualities = [q for _, _, q in qualifying]
    perf = _relative(
        [math.log10(max(v, 1.0)) for v in latencies],
        higher_is_better=False,
        min_span=scoring.MIN_SPAN_LOG_LATENCY,
    )
    costs = [c for _, c, _ in qualifying]
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
    qual = [min(1.0, max(0.0, q.lower)) for q in qualities]
    w, b = inputs.weights, scoring.BALANCED
    out = []
    for i, (model, est_cost, quality) in enumerate(qualifying):
        m = metrics[i]
        p, c, r, q = perf[i], cost[i], rel[i], qual[i]
        notes: tuple[str, ...] = ()
        if est_cost is None:
            notes += ("price unknown: scored as the most expensive candidate",)
        _, was_measured, size = speeds[i]
        if not was_measured:
            source = describe(False, size, bool(model.capabilities.reasoning), out_tokens)
            notes += (
                f"latency unmeasured: {source} -> {latencies[i]:,.0f} ms "
                f"(`jarvis models probe {model.id}` measures it)",
            )
        if model.context_length is None:
            notes += ("context length unknown",)
        assumed = model.supports(request.kind) is None
        if assumed:
            notes += (
                f"type assumed: chat (unknown to the catalog; `jarvis models set {model.id} "
                "--type chat` confirms it)",
            )
        out.append(
            ScoredCandidate(
                model,
                bool(inputs.usable_providers.get(model.provider)),
                m,
                est_cost,
                latencies[i],
                was_measured,
                smoothed[i],
                quality.value,
                scoring.SubScores(p, c, r, q),
                w.performance * p + w.cost * c + w.reliability * r + w.quality * q,
                b.performance * p + b.cost * c + b.reliability * r + b.quality * q,
                notes,
                quality.source,
                quality.model_id,
                versions.get(model.id, 1),
                assumed,
                quality.margin,
            )
        )
    out.sort(
        key=lambda s: (
            -s.total,
            -(s.quality - s.quality_margin),
            -s.tiebreak,
            not s.usable,
            s.model.id,
        )
    )
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
    task = resolve_task(request.task, request.prompt)
    qualifying: list[tuple[ModelRecord, float | None, Quality]] = []
    excluded: list[Exclusion] = []
    survivors: list[ModelRecord] = []
    ordered = sorted(models, key=lambda m: m.id)
    for model in ordered:
        why = _early_exclusion(model, request, inputs)
        if why is None:
            survivors.append(model)
        else:
            excluded.append(Exclusion(model.id, *why))
    counts, left_out = ({}, {}) if request.all_versions else _versions(request, survivors)
    for model in survivors:
        if model.id in left_out:
            reason = f"a version of {left_out[model.id]} (--all-versions lists every version)"
            excluded.append(Exclusion(model.id, "version", reason))
            continue
        cost = cost_usd(model, tokens.input_tokens, tokens.output_tokens)
        quality = _quality(model, inputs, task.quality_key)
        why = _late_exclusion(model, request, inputs, metrics, cost, quality, task.quality_key)
        if why is None:
            qualifying.append((model, cost, quality))
        else:
            excluded.append(Exclusion(model.id, *why))
    excluded.sort(key=lambda e: e.model_id)
    if not qualifying:
        raise no_suitable_model(request, excluded, len(models), inputs.usable_providers)
    candidates = _score(request, qualifying, inputs, metrics, counts)
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
        quality_known=chosen.quality_known,
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
        task=task,
    )
