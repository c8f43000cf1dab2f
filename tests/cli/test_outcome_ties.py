"""Ties at the top (issue 25, core/selection/tradeoff.py): when outcomes cannot tell the
best models apart, `quality` and `--prefer` do not pay for the luckier sample. Real
CLI subprocesses, a real SQLite store, the loopback fake provider."""

from __future__ import annotations

import re
from typing import Any

from tests.cli.test_complete import Pair, pair  # noqa: F401 - fixture
from tests.cli.test_outcomes import (  # noqa: F401
    _lines,
    add_models,
    choose,
    explain,
    set_prices,
    two,
)


def _cheaper_beta(p: Pair) -> None:
    set_prices("beta/fake-chat", 0.1, 0.2)


def _import(p: Pair, right: dict[str, int], n: int = 100) -> None:
    records: list[dict[str, Any]] = [
        {"prompt": f"question number {i}", "model": m, "score": int(i < k)}
        for m, k in right.items()
        for i in range(n)
    ]
    path = p.home / "evals.jsonl"
    path.write_text(_lines(*records))
    proc = p.run("outcomes", "import", str(path))
    assert proc.returncode == 0, proc.stderr


def test_near_tied_outcomes_let_quality_take_the_cheaper_model(two: Pair) -> None:  # noqa: F811
    _cheaper_beta(two)
    _import(two, {"alpha/fake-chat": 96, "beta/fake-chat": 94})  # 2 points apart, n=100
    data = choose(two, "Say hi")
    assert data["model_id"] == "beta/fake-chat"
    quality = {c["model_id"]: c["quality"] for c in data["candidates"]}
    # alpha's learned quality is higher: without the tie rule it would be chosen
    assert quality["alpha/fake-chat"] > quality["beta/fake-chat"]
    assert re.search(
        r"learned: beta/fake-chat 0\.\d\d: prior 0\.30 \(unscored default\); .*outcomes.* "
        r"0\.94 \(n=100\) \(quality tied with the best: outcomes cannot tell them "
        r"apart \(within 1 SD\)",
        explain(two),
    )
    assert choose(two, "Say hi", "--prefer", "1")["model_id"] == "beta/fake-chat"
    # balanced is untouched by ties: it weighs the learned values as they are
    proc = two.run("select", "Say hi", "--json", "--no-stdin", "--strategy", "balanced")
    assert proc.returncode == 0, proc.stderr


def test_a_clear_lead_is_not_a_tie(two: Pair) -> None:  # noqa: F811
    _cheaper_beta(two)
    _import(two, {"alpha/fake-chat": 96, "beta/fake-chat": 80})
    data = choose(two, "Say hi")
    assert data["model_id"] == "alpha/fake-chat"
    assert "quality tied with the best" not in explain(two)
    assert two.run("outcomes", "delete", "--all").returncode == 0
    assert choose(two, "Say hi")["model_id"] == "beta/fake-chat"  # equal priors: cheaper
