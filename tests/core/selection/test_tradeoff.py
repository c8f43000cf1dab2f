"""Ties at the top (core/selection/tradeoff.py): the posterior variance and which
learned candidates the outcomes cannot tell from the best."""

from __future__ import annotations

import math

from jarvis_cli.core.selection import tradeoff
from jarvis_cli.core.selection.tradeoff import lift, posterior_var, tied_with_best


def test_the_posterior_variance_shrinks_with_evidence() -> None:
    assert math.isclose(posterior_var(0.9, 99), 0.9 * 0.1 / 100)
    assert posterior_var(0.9, 999) < posterior_var(0.9, 99)
    assert posterior_var(1.0, 10) == 0.0 and posterior_var(1.2, 10) == 0.0  # clamped


def ties(values: list[float], variances: list[float | None]) -> list[int]:
    widest = max((v for v in variances if v is not None), default=0.0)
    return tied_with_best(values, variances.__getitem__, widest)


def test_models_within_one_sd_of_the_difference_tie_with_the_best() -> None:
    var = posterior_var(0.96, 659)  # gsm's training half: SD ~0.0076
    band = tradeoff.TIE_Z * math.sqrt(2 * var)  # ~0.0107
    values = [0.965, 0.965 - band * 0.9, 0.965 - band * 1.1, 0.90]
    assert ties(values, [var] * 4) == [0, 1]
    # no outcomes (None): never tied, and a best without outcomes ties nobody
    assert ties(values, [var, None, var, var]) == [0]
    assert ties([0.97, 0.965], [None, var]) == []
    assert ties([], []) == []
    # more evidence narrows the band: 0.9 of it apart is no longer a tie at 4x the outcomes
    assert ties(values[:2], [posterior_var(0.96, 2639)] * 2) == [0]


def test_only_values_a_band_could_reach_are_asked_for_their_variance() -> None:
    asked: list[int] = []

    def variance(j: int) -> float:
        asked.append(j)
        return 0.0001

    assert tied_with_best([0.9, 0.3, 0.895, 0.1], variance, 0.0001) == [0, 2]
    assert sorted(asked) == [0, 0, 2]  # the best, then those above the widest band


def test_lift_raises_the_tied_to_the_highest_of_them_and_leaves_the_rest() -> None:
    assert lift([0.95, 0.96, 0.80], [0, 1]) == [0.96, 0.96, 0.80]
    assert lift([0.95, 0.80], []) == [0.95, 0.80]
