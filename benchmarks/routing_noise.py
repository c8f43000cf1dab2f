"""How much of the held-out gap is split noise (issue 25's replay): what an honest
single-model choice can reach on the held-out half when it can only see the training half.

- `top_models`: the best models on the training half, with both halves' accuracies
  and their 95 % normal confidence intervals (1.96 * sqrt(p(1-p)/n));
- `train_chosen_sweep`: for each lambda, the one model maximising training accuracy
  - lambda * training cost / dearest, scored on the held-out half. Its AIQ is what a
  router that learns only which single model is best (no per-prompt routing) reaches;
  the single-model hull's AIQ is measured with hindsight on the held-out half.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from routing_data import Point, Task, single_models, train_means

LAMBDAS = (0.0, *(10 ** (x / 4) for x in range(-16, 17)), 1e9)


def ci95(p: float, n: int) -> float:
    return 1.96 * math.sqrt(p * (1 - p) / n) if n else 0.0


def top_models(task: Task, k: int = 5) -> list[tuple[str, float, float, float, float]]:
    """(model, training accuracy, its CI, held-out accuracy, its CI) of the k best on
    the training half, and the held-out half's best if it is not among them."""
    means = train_means(task)
    held = {pt.label: pt.accuracy for pt in single_models(task)}
    ranked = sorted(means, key=lambda m: (-means[m][0], means[m][1]))
    chosen = ranked[:k]
    best_held = max(held, key=lambda m: held[m])
    if best_held not in chosen:
        chosen.append(best_held)
    ntr, nte = len(task.train), len(task.test)
    return [(m, means[m][0], ci95(means[m][0], ntr), held[m], ci95(held[m], nte)) for m in chosen]


def train_chosen_sweep(task: Task, lambdas: Sequence[float] = LAMBDAS) -> list[Point]:
    means = train_means(task)
    held = {pt.label: pt for pt in single_models(task)}
    ref = max(c for _, c in means.values())
    points = []
    for lam in lambdas:
        m = max(means, key=lambda m: (means[m][0] - lam * means[m][1] / ref, -means[m][1]))
        pt = held[m]
        points.append(Point(f"train-chosen lambda={lam:g}", pt.accuracy, pt.cost, pt.shares))
    return points


def rank_of(task: Task, model: str) -> int:
    """1-based rank of `model` by training accuracy."""
    means = train_means(task)
    return 1 + sum(1 for m in means if means[m][0] > means[model][0])
