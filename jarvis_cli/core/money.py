"""How an amount of USD reads in a message: `$0.7500`, and more decimals under a cent
(`$0.00012`, `$0.00000010`), so that two different small amounts never both read
`$0.0000` (a 1e-7 limit read "up to $0.0000 > limit $0.0000")."""

from __future__ import annotations

import math


def usd(amount: float) -> str:
    """Four decimals; under a cent, enough for two significant digits."""
    if amount == 0 or not math.isfinite(amount) or abs(amount) >= 0.01:
        return f"${amount:.4f}"
    decimals = max(4, 1 - math.floor(math.log10(abs(amount))))
    return f"${amount:.{decimals}f}"
