"""How selection trades on learned qualities (issue 25): statistical ties at the top,
and the `--prefer` curve.

**Ties at the top.** A learned quality is a Beta posterior mean with an evidence of
`e` outcomes (learning.py: the task's outcomes plus its pseudo-counts); its posterior
SD is `sqrt(v * (1 - v) / (e + 1))` (posterior_var: its square). When selection ranks
on quality alone (the
`quality` strategy, other weights giving quality alone, `--prefer 1`), a learned
candidate whose value is within TIE_Z standard deviations of the difference,
`TIE_Z * sqrt(sd_best^2 + sd_m^2)`, of the best learned candidate's is tied with it,
and the documented tie-break of `quality` decides among the tied ones: the balanced
total (cost, speed, reliability). Why: between models the outcomes cannot tell apart,
the one that merely drew the luckier sample is not better in expectation, it only
looks better (the winner's curse); paying more for it buys nothing. TIE_Z = 1.0: a
tied model has at least a ~16 % posterior chance of being the better one. On the
replay's development tasks (benchmarks/routing.py): on gsm the nine best models of
the training half lie within 1.1 points (95 % intervals of +-1.4) and `quality`
took the training half's best (held out: 95.3 %); on math-l5 o1-mini leads by 4.8
points and stays chosen. TIE_Z was measured at 0.5 / 1 / 2 on the replay (gsm
`quality` 95.6 / 96.2 / 95.0 %, sweep AIQ 0.955 / 0.961 / 0.950; math-l5 the same
for all): a wider band ties models that are really worse, and then the tie-break,
which no longer weighs quality, gives quality away. Over 20 random gsm splits
(`benchmarks/routing.py --splits 20`) TIE_Z 0.5 / 0.75 / 1 gave `quality` within 1.5
points of the held-out best in 20 / 19 / 19 splits and the sweep's AIQ within 0.002
of the hull in 7 / 9 / 8; `quality` averaged 95.9 % under all three. A candidate
without outcomes is never tied (its quality has no posterior), so without outcomes
selection is unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

TIE_Z = 1.0


def posterior_var(value: float, evidence: float) -> float:
    """The variance of a Beta posterior of mean `value` over `evidence` (pseudo-)outcomes
    (its SD squared: comparing squares spares a square root per candidate)."""
    v = min(max(value, 0.0), 1.0)
    return v * (1.0 - v) / (max(evidence, 0.0) + 1.0)


def tied_with_best(
    values: Sequence[float], variance_of: Callable[[int], float | None], widest: float
) -> list[int]:
    """Positions whose value is within TIE_Z SDs of the difference from the best
    learned value; [] when the best value is not a learned one. `variance_of(j)` is
    position j's posterior variance (None: no outcomes, never tied), asked only of
    the values near enough to the best that `widest`, the largest variance any
    candidate has, could tie them (over 10,000 candidates most are not)."""
    if not values:
        return []
    best = max(range(len(values)), key=values.__getitem__)
    var_best = variance_of(best)
    if var_best is None:
        return []
    top, z2 = values[best], TIE_Z * TIE_Z
    cutoff = top - TIE_Z * math.sqrt(var_best + widest)
    tied = []
    for j in [j for j, v in enumerate(values) if v >= cutoff]:
        var = variance_of(j)
        gap = top - values[j]
        if var is not None and gap * gap <= z2 * (var_best + var):
            tied.append(j)
    return tied


def lift(values: Sequence[float], tied: Sequence[int]) -> list[float]:
    """`values` with the `tied` positions raised to the highest of them."""
    out = list(values)
    if tied:
        top = max(values[j] for j in tied)
        for j in tied:
            out[j] = top
    return out


def prefer_totals(
    qualities: Sequence[float], costs: Sequence[float | None], prefer: float
) -> list[float]:
    """The `--prefer P` totals: quality - lambda(P) * cost / (dearest candidate's cost).

    lambda(P) = 10^(3 - 6P): at P = 0.5 a model may cost the dearest candidate's
    whole price for +1.0 quality, and each 1/6 of P is a factor 10 on what a point of
    quality is worth. P = 1 is quality alone, P = 0 the cheapest (by quality among
    equal costs). Costs are linear, not logarithmic, so sweeping P traces the
    cost-accuracy frontier (a per-request Lagrangian)."""
    known = [c for c in costs if c is not None]
    ref = max(known) if known else 0.0
    if prefer >= 1.0 or ref <= 0.0:
        return list(qualities)
    rel = [1.0 if c is None else c / ref for c in costs]
    if prefer <= 0.0:
        return [-r for r in rel]
    lam = math.pow(10.0, 3.0 - 6.0 * prefer)
    return [q - lam * r for q, r in zip(qualities, rel, strict=True)]
