"""How selection trades on learned qualities (issue 25): statistical ties at the top,
and the `--prefer` curve.

**Ties at the top.** A learned quality is a Beta posterior mean with an evidence of
`e` outcomes (learning.py: the task's outcomes plus its pseudo-counts); its posterior
SD is `sqrt(v * (1 - v) / (e + 1))`. When selection ranks on quality alone (the
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
which no longer weighs quality, gives quality away. A candidate without outcomes is
never tied (its quality has no posterior), so without outcomes selection is unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

TIE_Z = 1.0


def posterior_sd(value: float, evidence: float) -> float:
    """The SD of a Beta posterior of mean `value` over `evidence` (pseudo-)outcomes."""
    v = min(max(value, 0.0), 1.0)
    return math.sqrt(v * (1.0 - v) / (max(evidence, 0.0) + 1.0))


def tied_with_best(values: Sequence[float], sds: Sequence[float | None]) -> list[int]:
    """Positions whose value is within TIE_Z SDs of the difference from the best
    learned value (sds[j] None: no outcomes, never tied); [] when no candidate is
    learned or the best value is not a learned one."""
    if not values:
        return []
    best = max(range(len(values)), key=values.__getitem__)
    sd_best = sds[best]
    if sd_best is None:
        return []
    top = values[best]
    return [
        j
        for j, (v, sd) in enumerate(zip(values, sds, strict=True))
        if sd is not None and v >= top - TIE_Z * math.sqrt(sd_best * sd_best + sd * sd)
    ]


def lift_ties(
    values: Sequence[float], sds: Sequence[float | None]
) -> tuple[list[float], frozenset[int]]:
    """`values` with those tied with the best (tied_with_best) raised to the best's,
    and the tied positions (empty, values unchanged, when fewer than two are tied)."""
    tied = tied_with_best(values, sds)
    if len(tied) < 2:
        return list(values), frozenset()
    out = list(values)
    top = max(values[j] for j in tied)
    for j in tied:
        out[j] = top
    return out, frozenset(tied)


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
