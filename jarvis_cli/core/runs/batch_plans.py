"""Plans shared by a batch's workers: lines that ask alike reuse one.

Lines with the same model/strategy/max_tokens, schema or not, inferred task and
prompt size class (`plan_key`) get the same plan: the models to try, in order, and
their registry records as they were when it was made (so a line reads nothing from
the store before it is sent). A plan is made again after `REPLAN_S` seconds, and
after any failed attempt (`invalidate`), from the store where that failure is
already recorded.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.runs.attachments import required_capabilities
from jarvis_cli.core.runs.requests import CompletionRequest
from jarvis_cli.core.selection.cost import estimate_tokens
from jarvis_cli.core.selection.task import infer_task

REPLAN_S = 2.0
# Stale plans are dropped once this many are kept: a long-lived `jarvis serve` sees
# keys from its clients (any max_tokens, model name, max cost), which must not pile up.
MAX_PLANS = 256
# The models to try, in order, and their registry records when the plan was made.
Plan = tuple[list[str], dict[str, ModelRecord]]


class Plans:
    """Plans shared by the workers, dropped after REPLAN_S or any failure.

    One worker plans a key while the others asking for it wait (selection is CPU
    work: 32 workers planning the same thing at once would only queue on the GIL).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._plans: dict[tuple[Any, ...], tuple[float, int, Plan]] = {}
        self.generation = 0  # bumped by every failed attempt

    def _fresh(self, key: tuple[Any, ...]) -> Plan | None:
        found = self._plans.get(key)
        if found and found[1] == self.generation and time.monotonic() - found[0] < REPLAN_S:
            return found[2]
        return None

    def get(self, key: tuple[Any, ...], make: Callable[[], Plan]) -> Plan:
        with self._lock:
            plan = self._fresh(key)
            if plan is not None:
                return plan
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                plan = self._fresh(key)  # made by the worker we waited for
                generation = self.generation
            if plan is not None:
                return plan
            started = time.monotonic()
            plan = make()
            with self._lock:
                self._plans[key] = (started, generation, plan)
                if len(self._plans) > MAX_PLANS:
                    self._drop_stale()
            return plan

    def _drop_stale(self) -> None:
        """Forget plans that would be made again anyway, and their idle key locks."""
        now = time.monotonic()
        for key, (made, generation, _) in list(self._plans.items()):
            if generation != self.generation or now - made >= REPLAN_S:
                del self._plans[key]
        for key, lock in list(self._key_locks.items()):
            if key not in self._plans and not lock.locked():
                del self._key_locks[key]

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1


def plan_key(req: CompletionRequest) -> tuple[Any, ...]:
    """Requests with the same key get the same plan (see the module docstring)."""
    prompt = req.prompt_text
    size_class = max(0, math.ceil(math.log2(max(1, estimate_tokens(prompt)))))
    return (
        req.model,
        req.fallbacks,
        req.strategy,
        req.max_tokens,
        req.schema is not None,  # adds structured_output to the required capabilities
        bool(req.tools),  # adds function_calling
        required_capabilities(req.attachments),  # vision, pdf_input (a line's attachments)
        infer_task(prompt).category,
        size_class,
    )
