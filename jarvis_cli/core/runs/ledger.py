"""A run's own spending limit (`jarvis batch --max-total-cost`), safe across threads.

The same rule as the store's budgets (core/runs/budget.py), kept in memory because
the limit belongs to this run only: before a model is tried, its worst-case cost is
reserved (refused with BudgetExceededError when spent + reserved + this would pass
the limit); when the model's turn ends, the reservation is replaced by what its
attempts actually cost. Concurrent workers therefore can never overspend.
"""

from __future__ import annotations

import threading

from jarvis_cli.core.errors import BudgetExceededError
from jarvis_cli.core.money import usd


class RunLedger:
    """Spent and reserved USD of one run against its limit."""

    def __init__(self, limit_usd: float) -> None:
        self.limit_usd = limit_usd
        self.spent_usd = 0.0
        self.reserved_usd = 0.0
        self.refused = 0
        self._lock = threading.Lock()

    def reserve(self, amount_usd: float | None, model_id: str) -> float:
        """Hold `amount_usd` (None = unknown price, held as 0); return what was held."""
        amount = amount_usd or 0.0
        with self._lock:
            if self.spent_usd + self.reserved_usd + amount > self.limit_usd:
                self.refused += 1
                raise BudgetExceededError(
                    f"--max-total-cost {usd(self.limit_usd)} reached: spent "
                    f"{usd(self.spent_usd)} + {usd(self.reserved_usd)} in flight + "
                    f"up to {usd(amount)} (the cost bound) for {model_id}",
                    hint="raise --max-total-cost; rerun with the same -o to answer the rest",
                )
            self.reserved_usd += amount
        return amount

    def settle(self, held_usd: float, actual_usd: float) -> None:
        """Replace a reservation of `held_usd` by the `actual_usd` its attempts cost."""
        with self._lock:
            self.reserved_usd = max(0.0, self.reserved_usd - held_usd)
            self.spent_usd += actual_usd
