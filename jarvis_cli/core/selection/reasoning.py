"""One sentence saying why a model was chosen, naming the deciding factors.

The deciding factors are the sub-scores whose weighted lead over the runner-up is
largest (at most two), each phrased with the figure behind it.
"""

from __future__ import annotations

from collections.abc import Sequence

from jarvis_cli.core.selection import scoring
from jarvis_cli.core.selection.types import PreferredModelOutcome, ScoredCandidate


def _usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.6f}".rstrip("0").rstrip(".")


def describe_factor(component: str, c: ScoredCandidate) -> str:
    """The figure behind one sub-score of `c`, for humans."""
    m = c.metrics
    if component == "cost":
        return f"estimated cost {_usd(c.estimated_cost_usd)}"
    if component == "performance":
        if c.latency_measured:
            return (
                f"expected latency {c.expected_latency_ms:,.0f} ms, measured over {m.calls} calls"
            )
        return f"expected latency {c.expected_latency_ms:,.0f} ms (size-class prior, unmeasured)"
    if component == "reliability":
        if m.calls:
            return (
                f"{m.successes}/{m.calls} calls succeeded (smoothed {c.smoothed_success_rate:.3f})"
            )
        return f"no calls yet (prior {c.smoothed_success_rate:.2f})"
    return f"quality {c.quality:.2f} ({c.quality_source})"


_LEAD_WORDS = {
    "cost": "cheaper",
    "performance": "faster",
    "reliability": "more reliable",
    "quality": "higher quality",
}


def explain_choice(
    strategy: str,
    weights: scoring.Weights,
    candidates: Sequence[ScoredCandidate],
    preferred: PreferredModelOutcome | None,
) -> str:
    """A sentence naming why candidates[0] won."""
    chosen = candidates[0]
    head = f"{chosen.model.id} chosen by the {strategy} strategy"
    if preferred is not None and preferred.used:
        return f"{chosen.model.id} used as the preferred model (it meets every constraint)."
    pref = ""
    if preferred is not None:
        pref = f" (preferred {preferred.model_id} not used: {preferred.reason})"
    if len(candidates) == 1:
        return f"{head}: the only qualifying model{pref}."
    runner = candidates[1]
    leads = []
    for comp in scoring.COMPONENTS:
        w = getattr(weights, comp)
        lead = w * (getattr(chosen.scores, comp) - getattr(runner.scores, comp))
        if lead > 1e-9:
            leads.append((lead, comp))
    leads.sort(key=lambda x: (-x[0], x[1]))
    if not leads:
        tie = (
            "tied with the runner-up on every weighted factor; ties break by quality, then "
            "the balanced score, then usable first, then model id"
        )
        return f"{head}: {tie} (runner-up {runner.model.id}){pref}."
    factors = [
        f"{_LEAD_WORDS[comp]} ({describe_factor(comp, chosen)} vs {describe_factor(comp, runner)})"
        for _, comp in leads[:2]
    ]
    return (
        f"{head}: {' and '.join(factors)} than runner-up {runner.model.id}; "
        f"score {chosen.total:.3f} vs {runner.total:.3f} over {len(candidates)} candidates{pref}."
    )
