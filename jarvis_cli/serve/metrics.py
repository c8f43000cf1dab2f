"""Prometheus text metrics of one server process (each `--workers` process has its own).

Counters by model and outcome: requests, tokens, cost; latency and time-to-first-token
as histograms; requests in flight as a gauge. Updated from the event loop only.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jarvis_cli.core.runs.requests import Outcome

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")[:200]


class Histogram:
    def __init__(self) -> None:
        self.counts = [0] * len(_BUCKETS)
        self.total = 0.0
        self.n = 0

    def observe(self, seconds: float) -> None:
        self.n += 1
        self.total += seconds
        for i, bound in enumerate(_BUCKETS):
            if seconds <= bound:
                self.counts[i] += 1

    def lines(self, name: str, labels: str) -> list[str]:
        out = [
            f'{name}_bucket{{{labels},le="{b}"}} {c}'
            for b, c in zip(_BUCKETS, self.counts, strict=True)
        ]
        out.append(f'{name}_bucket{{{labels},le="+Inf"}} {self.n}')
        out.append(f"{name}_sum{{{labels}}} {self.total:.6f}")
        out.append(f"{name}_count{{{labels}}} {self.n}")
        return out


class Metrics:
    def __init__(self) -> None:
        self.in_flight = 0
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.tokens: dict[tuple[str, str], int] = defaultdict(int)
        self.cost: dict[str, float] = defaultdict(float)
        self.latency: dict[tuple[str, str], Histogram] = defaultdict(Histogram)
        self.ttft: dict[str, Histogram] = defaultdict(Histogram)

    def observe(
        self,
        endpoint: str,
        model: str,
        outcome: str,
        seconds: float,
        *,
        ttft_s: float | None = None,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        cost_usd: float | None = None,
    ) -> None:
        self.requests[(endpoint, model, outcome)] += 1
        self.latency[(model, outcome)].observe(seconds)
        if ttft_s is not None:
            self.ttft[model].observe(ttft_s)
        if prompt_tokens:
            self.tokens[(model, "prompt")] += prompt_tokens
        if completion_tokens:
            self.tokens[(model, "completion")] += completion_tokens
        if cost_usd:
            self.cost[model] += cost_usd

    def observe_answer(
        self, endpoint: str, o: Outcome, outcome: str, seconds: float,
        ttft_s: float | None = None,
    ) -> None:  # fmt: skip
        """`observe` for a request the provider answered: its model, tokens and cost."""
        self.observe(
            endpoint,
            o.model_id,
            outcome,
            seconds,
            ttft_s=ttft_s,
            prompt_tokens=o.usage.prompt_tokens or 0,
            completion_tokens=o.usage.completion_tokens or 0,
            cost_usd=o.cost_usd,
        )

    def render(self) -> str:
        out = [
            "# HELP jarvis_serve_in_flight Requests being served now.",
            "# TYPE jarvis_serve_in_flight gauge",
            f"jarvis_serve_in_flight {self.in_flight}",
            "# HELP jarvis_serve_requests_total Requests by endpoint, model and outcome.",
            "# TYPE jarvis_serve_requests_total counter",
        ]
        for (endpoint, model, outcome), n in sorted(self.requests.items()):
            out.append(
                f'jarvis_serve_requests_total{{endpoint="{_label(endpoint)}",'
                f'model="{_label(model)}",outcome="{_label(outcome)}"}} {n}'
            )
        out += [
            "# HELP jarvis_serve_tokens_total Tokens by model and kind.",
            "# TYPE jarvis_serve_tokens_total counter",
        ]
        for (model, kind), n in sorted(self.tokens.items()):
            out.append(f'jarvis_serve_tokens_total{{model="{_label(model)}",kind="{kind}"}} {n}')
        out += [
            "# HELP jarvis_serve_cost_usd_total Recorded cost by model.",
            "# TYPE jarvis_serve_cost_usd_total counter",
        ]
        for model, usd in sorted(self.cost.items()):
            out.append(f'jarvis_serve_cost_usd_total{{model="{_label(model)}"}} {usd:.8f}')
        out += [
            "# HELP jarvis_serve_latency_seconds Request latency by model and outcome.",
            "# TYPE jarvis_serve_latency_seconds histogram",
        ]
        for (model, outcome), hist in sorted(self.latency.items()):
            out += hist.lines(
                "jarvis_serve_latency_seconds",
                f'model="{_label(model)}",outcome="{_label(outcome)}"',
            )
        out += [
            "# HELP jarvis_serve_ttft_seconds Time to first token of streams by model.",
            "# TYPE jarvis_serve_ttft_seconds histogram",
        ]
        for model, hist in sorted(self.ttft.items()):
            out += hist.lines("jarvis_serve_ttft_seconds", f'model="{_label(model)}"')
        return "\n".join(out) + "\n"
