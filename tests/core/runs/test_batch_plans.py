"""Shared plans stay bounded: a long-lived server sees keys chosen by its clients."""

from __future__ import annotations

import itertools

import pytest

from jarvis_cli.core.runs import batch_plans
from jarvis_cli.core.runs.batch_plans import MAX_PLANS, REPLAN_S, Plan, Plans


def test_stale_plans_and_their_locks_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = itertools.count(0.0, REPLAN_S / 4)
    monkeypatch.setattr(batch_plans.time, "monotonic", lambda: next(clock))
    plans = Plans()
    made: list[int] = []

    def make(i: int) -> Plan:
        made.append(i)
        return [f"m/{i}"], {}

    for i in range(5 * MAX_PLANS):  # a client sending a new max_tokens each time
        assert plans.get(("chat", i), lambda i=i: make(i))[0] == [f"m/{i}"]
    assert len(made) == 5 * MAX_PLANS
    assert len(plans._plans) <= MAX_PLANS + 1
    assert len(plans._key_locks) <= MAX_PLANS + 1
    # A fresh plan is still shared.
    last = ("chat", 5 * MAX_PLANS - 1)
    assert plans.get(last, lambda: make(-1))[0] == [f"m/{5 * MAX_PLANS - 1}"]
    assert -1 not in made
