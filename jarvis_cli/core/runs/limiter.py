"""Per-provider concurrency for batches: additive increase, multiplicative decrease.

Each provider starts at the batch's `--concurrency`. A 429 halves that provider's
limit (never below 1), at most once per `DECREASE_GAP_S`, because the requests
already in flight when the first 429 arrived report the same overload. Every
`limit` successes in a row add 1 back, up to the starting limit. Calls wait in
`slot()` while the provider is at its limit, so a rate-limited provider is sent
less while the others go on at full speed.

Every change of a limit is kept in `history` with its time, so tests and the batch
summary can show the slowdown and the recovery from what happened, not from a clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

DECREASE_GAP_S = 0.5


@dataclass
class _ProviderState:
    limit: int
    in_flight: int = 0
    successes: int = 0  # in a row since the last change
    last_decrease: float = float("-inf")
    peak_in_flight: int = 0
    history: list[tuple[float, int]] = field(default_factory=list)  # (unix time, new limit)


class ProviderLimiter:
    """AIMD concurrency limits, one per provider, shared by a batch's workers."""

    def __init__(self, concurrency: int, *, clock: Callable[[], float] = time.time) -> None:
        self.concurrency = concurrency
        self._clock = clock
        self._cond = threading.Condition()
        self._providers: dict[str, _ProviderState] = {}

    def _state(self, provider: str) -> _ProviderState:
        state = self._providers.get(provider)
        if state is None:
            state = self._providers[provider] = _ProviderState(limit=self.concurrency)
        return state

    @contextmanager
    def slot(self, provider: str) -> Iterator[None]:
        """Hold one of `provider`'s slots for the duration of a call."""
        with self._cond:
            state = self._state(provider)
            while state.in_flight >= state.limit:
                self._cond.wait()
            state.in_flight += 1
            state.peak_in_flight = max(state.peak_in_flight, state.in_flight)
        try:
            yield
        finally:
            with self._cond:
                state.in_flight -= 1
                self._cond.notify_all()

    def throttled(self, provider: str) -> None:
        """A 429 from `provider`: halve its limit (once per DECREASE_GAP_S)."""
        with self._cond:
            state = self._state(provider)
            now = self._clock()
            state.successes = 0
            if now - state.last_decrease < DECREASE_GAP_S or state.limit == 1:
                return
            state.limit = max(1, state.limit // 2)
            state.last_decrease = now
            state.history.append((now, state.limit))

    def succeeded(self, provider: str) -> None:
        """A success from `provider`: +1 to its limit after `limit` in a row."""
        with self._cond:
            state = self._state(provider)
            if state.limit >= self.concurrency:
                return
            state.successes += 1
            if state.successes >= state.limit:
                state.limit += 1
                state.successes = 0
                state.history.append((self._clock(), state.limit))
                self._cond.notify_all()

    def limit(self, provider: str) -> int:
        with self._cond:
            return self._state(provider).limit

    def history(self, provider: str) -> list[tuple[float, int]]:
        """Every change of `provider`'s limit: (unix time, new limit)."""
        with self._cond:
            return list(self._state(provider).history)

    def report(self) -> dict[str, dict[str, int]]:
        """Per provider: the lowest limit reached, the limit now, the most calls at once."""
        with self._cond:
            return {
                name: {
                    "min_limit": min([s.limit, *(limit for _, limit in s.history)]),
                    "limit": s.limit,
                    "peak_in_flight": s.peak_in_flight,
                }
                for name, s in sorted(self._providers.items())
            }
