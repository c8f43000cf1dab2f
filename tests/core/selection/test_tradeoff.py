"""Ties at the top (core/selection/tradeoff.py): the posterior SD and which learned
candidates the outcomes cannot tell from the best."""

from __future__ import annotations

import math

from jarvis_cli.core.selection import tradeoff
from jarvis_cli.core.selection.tradeoff import lift_ties, posterior_sd, tied_with_best


def test_the_posterior_sd_shrinks_with_evidence() -> None:
    assert math.isclose(posterior_sd(0.9, 99), math.sqrt(0.9 * 0.1 / 100))
    assert posterior_sd(0.9, 999) < posterior_sd(0.9, 99)
    assert posterior_sd(1.0, 10) == 0.0 and posterior_sd(1.2, 10) == 0.0  # clamped


def test_models_within_one_sd_of_the_difference_tie_with_the_best() -> None:
    sd = posterior_sd(0.96, 659)  # gsm's training half: ~0.0076
    band = tradeoff.TIE_Z * math.sqrt(2) * sd  # ~0.0107
    values = [0.965, 0.965 - band * 0.9, 0.965 - band * 1.1, 0.90]
    assert tied_with_best(values, [sd] * 4) == [0, 1]
    # no outcomes (None): never tied, and a best without outcomes ties nobody
    assert tied_with_best(values, [sd, None, sd, sd]) == [0]
    assert tied_with_best([0.97, 0.965], [None, sd]) == []
    assert tied_with_best([], []) == []


def test_lift_raises_the_tied_to_the_best_and_leaves_the_rest() -> None:
    sd = 0.01
    lifted, tied = lift_ties([0.95, 0.96, 0.80], [sd, sd, sd])
    assert lifted == [0.96, 0.96, 0.80] and tied == frozenset({0, 1})
    same, none = lift_ties([0.95, 0.80], [sd, sd])
    assert same == [0.95, 0.80] and none == frozenset()
