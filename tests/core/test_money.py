"""core/money.usd: amounts in messages tell small values apart."""

from __future__ import annotations

import pytest

from jarvis_cli.core.money import usd


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (0.75, "$0.7500"),
        (12.5, "$12.5000"),
        (0.0, "$0.0000"),
        (0.0123, "$0.0123"),
        (0.0012, "$0.0012"),
        (0.00012, "$0.00012"),
        (0.000045678, "$0.000046"),
        (1e-7, "$0.00000010"),
        (2.5e-7, "$0.00000025"),
    ],
)
def test_usd_keeps_two_significant_digits_under_a_cent(amount: float, shown: str) -> None:
    assert usd(amount) == shown


def test_two_different_small_amounts_never_read_the_same() -> None:
    assert usd(1e-7) != usd(3e-7) != usd(0.0)
