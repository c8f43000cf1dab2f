"""The arithmetic of selection: strategies as weights, priors, normalization, confidence.

Sub-scores are in [0, 1], 1 = best in the candidate set, computed as
`1 - (best - value) / span` where span = max(range of the set, a minimum span).
The minimum span keeps noise from being blown up to the full scale (two models
that differ by 0.1 % in success rate are not 1.0 vs 0.0); with one candidate or
all values equal every sub-score is 1.0.

- performance: expected latency of the request (selection/speed.py: measured TTFT +
  output tokens / measured throughput, else the model's size-class prior); on a log
  scale (200 -> 400 ms matters as much as 2 -> 4 s); minimum span a factor of 2.
- cost: estimated USD for this request's tokens, on a log scale (prices span four
  orders of magnitude; linear min-max would give every cheap model ~1.0, the
  seed's flaw again), log10(cost + 1e-6 USD) so free local models are finite;
  minimum span one decade. An unknown price scores as the worst known cost.
- reliability: success rate smoothed with a Beta prior of mean 0.9 and weight 10
  calls ((successes + 9) / (calls + 10)): 1/1 is 0.909, not 100 %; minimum span 0.05.
- quality: the absolute 0..1 quality for the request's task (selection/quality.py:
  user override, `[quality]` of config.toml, the bundled table, else its low
  default), NOT normalized over the set: a set of unscored models does not make
  each of them 1.0, and a 0.05 lead in quality stays a 0.05 lead.

Strategies (`BUILTIN_WEIGHTS`; `[selection.weights.NAME]` replaces one):

- quality: quality alone (ties: the balanced total);
- balanced: 0.60 quality + 0.15 cost + 0.15 performance + 0.10 reliability.
  Quality is absolute while cost is a log scale over the set, so where the
  candidates' prices span D decades, a 10x cheaper model wins if it is at most
  0.15 / D / 0.60 quality points worse (~0.10 at D = 2.5, a typical span for
  openai + anthropic + gemini): it takes neither the most expensive strong model
  (paying 10x for +0.05) nor the cheapest weak one (saving 10x for -0.2). With
  equal quality, measured latency and price share the decision;
- cost: "the cheapest model that can do the task": without --min-quality, only
  models whose quality for the task is known and >= COST_QUALITY_FLOOR (0.40) are
  candidates (qualify.py; `--min-quality 0` opts out, any other value replaces the
  floor; embedding requests have no floor). 0.40 on the bundled 0..1 scale is
  roughly where LiveBench's small current models sit (gpt-5-nano,
  gemini-2.5-flash-lite ~0.45-0.5); below it answers are often wrong on the task,
  which is no saving;
- performance: expected latency (selection/speed.py: measured, else the size-class
  prior), so with nothing measured small fast classes lead;
- cost, performance, reliability: that sub-score alone; ties (common: unmeasured
  models, equal prices) break by quality, then the balanced total.
"""

# No `from __future__ import annotations`: typing.NamedTuple compiles each string
# annotation at import (a ForwardRef per field); the few forward references are quoted.

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from jarvis_cli.core.errors import ConfigError, UsageError
from jarvis_cli.core.providers.capabilities import RequestKind

RELIABILITY_PRIOR_MEAN = 0.9
RELIABILITY_PRIOR_CALLS = 10.0
LATENCY_PRIOR_MS: Mapping[RequestKind, float] = {
    "chat": 1500.0,
    "completion": 1500.0,
    "embedding": 300.0,
}
COST_LOG_OFFSET_USD = 1e-6
MIN_SPAN_LOG_LATENCY = math.log10(2.0)
MIN_SPAN_LOG_COST = 1.0
MIN_SPAN_RELIABILITY = 0.05
# `cost` picks among models of known quality >= this (see the module docstring).
COST_QUALITY_FLOOR = 0.40
# A total-score margin of this much (or more) over the runner-up counts as decisive.
DECISIVE_MARGIN = 0.2

COMPONENTS = ("performance", "cost", "reliability", "quality")


class Weights(NamedTuple):
    """A strategy: non-negative weights of the sub-scores, summing to 1.

    Immutable like the frozen dataclass it was, but a NamedTuple: a frozen dataclass
    costs ~1 ms to create at import (dataclasses generates and compiles its methods),
    and every `select` imports this module."""

    performance: float = 0.0
    cost: float = 0.0
    reliability: float = 0.0
    quality: float = 0.0

    @classmethod
    def normalized(cls, raw: Mapping[str, float], *, name: str) -> "Weights":
        total = sum(raw.get(k, 0.0) for k in COMPONENTS)
        if total <= 0:
            raise ConfigError(
                f"strategy {name!r}: weights sum to 0",
                hint=f"give at least one of {', '.join(COMPONENTS)} a weight > 0 "
                f"in [selection.weights.{name}]",
            )
        return cls(**{k: raw.get(k, 0.0) / total for k in COMPONENTS})

    def as_dict(self) -> dict[str, float]:
        return {k: round(getattr(self, k), 4) for k in COMPONENTS}

    def totals(
        self,
        performance: Sequence[float],
        cost: Sequence[float],
        reliability: Sequence[float],
        quality: Sequence[float],
    ) -> list[float]:
        """`total` of many candidates, from their sub-scores as columns (same arithmetic)."""
        wp, wc, wr, wq = self.performance, self.cost, self.reliability, self.quality
        return [
            wp * p + wc * c + wr * r + wq * q
            for p, c, r, q in zip(performance, cost, reliability, quality, strict=True)
        ]

    def total(self, scores: "SubScores") -> float:
        return (
            self.performance * scores.performance
            + self.cost * scores.cost
            + self.reliability * scores.reliability
            + self.quality * scores.quality
        )


# Built-in strategies (see the module docstring for why balanced weighs what it does).
BUILTIN_WEIGHTS: Mapping[str, Mapping[str, float]] = {
    "quality": {"quality": 1.0},
    "balanced": {"quality": 0.6, "cost": 0.15, "performance": 0.15, "reliability": 0.1},
    "cost": {"cost": 1.0},
    "performance": {"performance": 1.0},
    "reliability": {"reliability": 1.0},
}
BALANCED = Weights.normalized(BUILTIN_WEIGHTS["balanced"], name="balanced")


def strategy_names(config_weights: Mapping[str, Mapping[str, float]]) -> list[str]:
    return sorted(set(BUILTIN_WEIGHTS) | set(config_weights))


def resolve_weights(strategy: str, config_weights: Mapping[str, Mapping[str, float]]) -> Weights:
    """The weights of `strategy`: a `[selection.weights.NAME]` table replaces the built-in
    one of the same name entirely (missing components weigh 0)."""
    raw = config_weights.get(strategy)
    if raw is None:
        raw = BUILTIN_WEIGHTS.get(strategy)
    if raw is None:
        raise UsageError(
            f"unknown strategy {strategy!r}",
            hint=f"known strategies: {', '.join(strategy_names(config_weights))}; "
            f"define one in config.toml as [selection.weights.{strategy}]",
        )
    return Weights.normalized(raw, name=strategy)


class SubScores(NamedTuple):
    """Normalized sub-scores of one candidate (a NamedTuple: one is built per candidate)."""

    performance: float = 1.0
    cost: float = 1.0
    reliability: float = 1.0
    quality: float = 1.0

    def as_dict(self) -> dict[str, float]:
        return {k: round(getattr(self, k), 4) for k in COMPONENTS}


def smoothed_success_rate(successes: int, calls: int) -> float:
    """Beta-prior smoothed success rate: (successes + 9) / (calls + 10)."""
    a = RELIABILITY_PRIOR_MEAN * RELIABILITY_PRIOR_CALLS
    return (successes + a) / (calls + RELIABILITY_PRIOR_CALLS)


def smoothed_success_rates(successes: Sequence[int], calls: Sequence[int]) -> list[float]:
    """`smoothed_success_rate` of many models (same arithmetic)."""
    a = RELIABILITY_PRIOR_MEAN * RELIABILITY_PRIOR_CALLS
    k = RELIABILITY_PRIOR_CALLS
    return [(s + a) / (c + k) for s, c in zip(successes, calls, strict=True)]


def data_weight(calls: int) -> float:
    """How much measured data stands behind a model: calls / (calls + 10), in [0, 1)."""
    return calls / (calls + RELIABILITY_PRIOR_CALLS)


def median(values: Sequence[float]) -> float:
    """The median (statistics.median, without importing `statistics` at start-up)."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def relative_scores(
    values: Sequence[float], *, higher_is_better: bool, min_span: float
) -> list[float]:
    """1 - distance from the best value / span, span = max(range, min_span)."""
    if not values:
        return []
    lo, hi = min(values), max(values)
    span = max(hi - lo, min_span)
    if span <= 0:
        return [1.0 for _ in values]
    # 1 - |best - v| / span, without abs(): v <= hi and v >= lo (exactly, in floats).
    if higher_is_better:
        return [1.0 - (hi - v) / span for v in values]
    return [1.0 - (v - lo) / span for v in values]


def latency_prior_ms(measured_p50s: Sequence[float], kind: RequestKind) -> float:
    """Expected latency of an unmeasured candidate (see the module docstring)."""
    if measured_p50s:
        return median(measured_p50s)
    return LATENCY_PRIOR_MS[kind]


def performance_scores(latencies_ms: Sequence[float]) -> list[float]:
    log10 = math.log10
    logs = [log10(v) if v > 1.0 else 0.0 for v in latencies_ms]  # log10(max(v, 1 ms))
    return relative_scores(logs, higher_is_better=False, min_span=MIN_SPAN_LOG_LATENCY)


def cost_scores(costs_usd: Sequence[float | None]) -> list[float]:
    """Log-scale cost scores; an unknown cost scores as the worst known one."""
    known = [c for c in costs_usd if c is not None]
    if not known:
        return [1.0 for _ in costs_usd]
    worst = max(known)
    log10, offset = math.log10, COST_LOG_OFFSET_USD
    logs = [log10((worst if c is None else c) + offset) for c in costs_usd]
    return relative_scores(logs, higher_is_better=False, min_span=MIN_SPAN_LOG_COST)


def reliability_scores(smoothed: Sequence[float]) -> list[float]:
    return relative_scores(smoothed, higher_is_better=True, min_span=MIN_SPAN_RELIABILITY)


def quality_scores(qualities: Sequence[float]) -> list[float]:
    """The quality sub-score is the absolute quality, clamped to [0, 1]."""
    return [0.0 if q < 0.0 else 1.0 if q > 1.0 else q for q in qualities]


def confidence(
    weights: Weights,
    *,
    margin: float | None,
    calls: int,
    cost_known: bool,
    quality_known: bool,
) -> float:
    """How sure the choice is, in [0, 1]: evidence x decisiveness.

    evidence = the strategy's weight on facts that back the chosen model: the
    measured components (performance, reliability) count data_weight(calls), a
    known price counts fully for cost, a known quality for quality.
    decisiveness = 0.5 + 0.5 * min(1, margin / 0.2): a tie with the runner-up is a
    coin flip (0.5), a margin of 0.2 or more is decisive; no runner-up = decisive.
    """
    d = data_weight(calls)
    evidence = (
        (weights.performance + weights.reliability) * d
        + weights.cost * (1.0 if cost_known else 0.0)
        + weights.quality * (1.0 if quality_known else 0.0)
    )
    decisive = 1.0 if margin is None else min(1.0, max(margin, 0.0) / DECISIVE_MARGIN)
    return round(evidence * (0.5 + 0.5 * decisive), 3)
