"""One sentence saying why a model was chosen, naming the deciding factors.

The deciding factors are the sub-scores whose weighted lead over the runner-up is
largest (at most two), each phrased with the two figures behind it; the factor on
which the chosen model is weaker than the runner-up (the largest weighted deficit),
if any, is named too, so a trade-off is never hidden ("... despite lower quality").
The pair of figures is written with as many digits as it takes to tell them apart,
so "cheaper" never reads "$0.0002 vs $0.0002".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from jarvis_cli.core.selection import scoring
from jarvis_cli.core.selection.types import PreferredModelOutcome, ScoredCandidate


def _usd(value: float | None, digits: int = 3) -> str:
    """`$0.000201`: `digits` significant digits (e-notation below $0.00001)."""
    if value is None:
        return "price unknown"
    if value <= 0:
        return "$0"
    if value < 1e-5:
        return f"${value:.{digits - 1}e}"
    decimals = max(0, digits - 1 - math.floor(math.log10(value)))
    text = f"{value:.{decimals}f}"
    return "$" + (text.rstrip("0").rstrip(".") if "." in text else text)


def latency_text(ms: float) -> str:
    """`850 ms` under a second, `5.1 s` above: the unit the table uses."""
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def quality_source_text(source: str) -> str:
    """Where a quality value comes from, for a sentence."""
    if source == "outcomes":
        return "from outcomes"
    if source == "none":
        return "unscored default"
    if source == "user":
        return "set with models set --quality"
    if source == "config":
        return "[quality] in config.toml"
    return source


def _pair(fmt: Callable[[float, int], str], a: float, b: float, least: int = 2) -> tuple[str, str]:
    """`a` and `b` formatted with the fewest digits (`least` to 6) that tell them apart."""
    x = y = ""
    for digits in range(least, 7):
        x, y = fmt(a, digits), fmt(b, digits)
        if x != y:
            return x, y
    return x, y


def _figures(component: str, c: ScoredCandidate, r: ScoredCandidate) -> str:
    """The figures behind one sub-score of the chosen model `c` and the runner-up `r`."""
    if component == "cost":
        if c.estimated_cost_usd is None or r.estimated_cost_usd is None:
            return f"{_usd(c.estimated_cost_usd)} vs {_usd(r.estimated_cost_usd)}"
        x, y = _pair(_usd, c.estimated_cost_usd, r.estimated_cost_usd, least=3)
        return f"{x} vs {y}"
    if component == "performance":
        if not c.latency_measured and not r.latency_measured:
            x, y = latency_text(c.expected_latency_ms), latency_text(r.expected_latency_ms)
            return f"{x} vs {y}, both size-class priors, unmeasured"
        return f"{_latency(c)} vs {_latency(r)}"
    if component == "reliability":
        return f"{_reliability(c)} vs {_reliability(r)}"
    x, y = _pair(lambda v, d: f"{v:.{d}f}", c.quality, r.quality)
    cs, rs = quality_source_text(c.quality_source), quality_source_text(r.quality_source)
    text = f"{x} vs {y}, both {cs}" if cs == rs else f"{x} {cs} vs {y} {rs}"
    if round(c.quality_margin, 2) != round(r.quality_margin, 2):
        # ranked on value - margin: 0.81±.02 beats 0.83±.05, and must not read "higher"
        lx, ly = _pair(lambda v, d: f"{v:.{d}f}", c.scores.quality, r.scores.quality)
        text += f"; ranked on quality less its uncertainty: {lx} vs {ly}"
    return text


def _latency(c: ScoredCandidate) -> str:
    if c.latency_measured:
        calls = c.metrics.calls
        return f"{latency_text(c.expected_latency_ms)} measured over {calls} call{_s(calls)}"
    return f"{latency_text(c.expected_latency_ms)} size-class prior"


def _reliability(c: ScoredCandidate) -> str:
    m = c.metrics
    if m.calls:
        return f"{m.successes}/{m.calls} calls succeeded"
    return "no calls yet"


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def describe_factor(component: str, c: ScoredCandidate) -> str:
    """The figure behind one sub-score of `c`, for humans."""
    if component == "cost":
        return f"estimated cost {_usd(c.estimated_cost_usd)}"
    if component == "performance":
        return f"expected latency {_latency(c)}"
    if component == "reliability":
        return _reliability(c)
    return f"quality {c.quality:.2f} ({quality_source_text(c.quality_source)})"


# A lead or deficit smaller than this (in total score) is not worth a reader's time,
# unless it is the only lead: the table shows totals to three decimals.
MATERIAL = 0.005

_LEAD_WORDS = {
    "cost": "cheaper",
    "performance": "faster",
    "reliability": "more reliable",
    "quality": "higher quality",
}
_DEFICIT_WORDS = {
    "cost": "though dearer",
    "performance": "though slower",
    "reliability": "though less reliable",
    "quality": "despite lower quality",
}


def explain_choice(
    strategy: str,
    weights: scoring.Weights,
    candidates: Sequence[ScoredCandidate],
    preferred: PreferredModelOutcome | None,
) -> str:
    """A sentence naming why candidates[0] won, and what it gave up to win."""
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
    leads, deficits = [], []
    for comp in scoring.COMPONENTS:
        w = getattr(weights, comp)
        lead = w * (getattr(chosen.scores, comp) - getattr(runner.scores, comp))
        if lead > 1e-9:
            leads.append((lead, comp))
        elif lead < -1e-9:
            deficits.append((lead, comp))
    leads.sort(key=lambda x: (-x[0], x[1]))
    deficits.sort()
    if not leads:
        here = ""
        if chosen.quality != runner.quality:
            here = f" (here {_figures('quality', chosen, runner)})"
        return (
            f"{head}: tied with runner-up {runner.model.id} on every weighted factor; ties "
            f"break by quality{here}, then the balanced score, then usable first, then model "
            f"id{pref}."
        )
    factors = [
        f"{_LEAD_WORDS[comp]} ({_figures(comp, chosen, runner)})"
        for k, (lead, comp) in enumerate(leads[:2])
        if k == 0 or lead >= MATERIAL
    ]
    given_up = ""
    if deficits and -deficits[0][0] >= MATERIAL:
        comp = deficits[0][1]
        given_up = f", {_DEFICIT_WORDS[comp]} ({_figures(comp, chosen, runner)})"
    return (
        f"{head}: {' and '.join(factors)} than runner-up {runner.model.id}{given_up}; "
        f"score {chosen.total:.3f} vs {runner.total:.3f} over {len(candidates)} candidates{pref}."
    )
