"""How often issue 25's bars hold over many random splits, not one (routing.py --splits N).

The acceptance bars compare a router, which learns from the training half, with the
best single model *of the held-out half*, chosen with hindsight. Which model that is,
and by how much it leads, changes with the split: on gsm the best models lie within
about a point, inside each other's confidence intervals. One fixed split (SPLIT_SEED)
gives one draw; this module replays the same protocol on seeds 0..N-1 and counts, per
task and bar, how many splits pass, for jarvis and for the baselines that the same bar
can be asked of:

- quality: the kNN router's most accurate point (lambda = 0) and the model best on
  the training half;
- the sweep's AIQ: the kNN sweep and the train-chosen single-model sweep
  (routing_noise.train_chosen_sweep).
"""

from __future__ import annotations

import contextlib
import io
import statistics
from collections.abc import Callable, Sequence
from typing import Any

Replay = Callable[[str, int], dict[str, Any]]

BARS = ("quality", "balanced", "AIQ")


def _passes(r: dict[str, Any]) -> dict[str, dict[str, bool]]:
    """Per bar, which routers pass it on this split."""
    best = r["best"]
    hull = r["aiq"]["single-model hull"]
    quality_ok = lambda acc: acc >= best.accuracy - 0.015  # noqa: E731
    knn_top = max(r["knn"], key=lambda p: p.accuracy)
    trained = next(p for p in r["base"] if p.label.startswith("most accurate"))
    jarvis = list(r["checks"].values())
    return {
        "quality": {
            "jarvis": jarvis[0],
            "kNN": quality_ok(knn_top.accuracy),
            "train-chosen": quality_ok(trained.accuracy),
        },
        "balanced": {"jarvis": jarvis[1]},
        "AIQ": {
            "jarvis": jarvis[2],
            "kNN": r["aiq"]["kNN sweep"] >= hull - 0.002,
            "train-chosen": r["aiq"]["train-chosen single"] >= hull - 0.002,
        },
    }


def run(replay: Replay, tasks: Sequence[str], splits: int) -> dict[str, list[dict[str, Any]]]:
    """Every task replayed on seeds 0..splits-1 (their tables unprinted)."""
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in tasks}
    for seed in range(splits):
        for t in tasks:
            with contextlib.redirect_stdout(io.StringIO()):
                out[t].append(replay(t, seed))
            print(f"  split {seed + 1}/{splits} of {t} done", flush=True)
    return out


def summarize(results: dict[str, list[dict[str, Any]]]) -> None:
    routers = ("jarvis", "kNN", "train-chosen")
    for task, rs in results.items():
        n = len(rs)
        print(f"\n== {task}: the bars over {n} random splits (seeds 0..{n - 1})")
        print(f"  {'bar':34s} " + " ".join(f"{r:>13s}" for r in routers))
        names = {
            "quality": "quality within 1.5 pt of the best",
            "balanced": "balanced: 97 % at <= 25 % cost",
            "AIQ": "sweep AIQ >= hull AIQ - 0.002",
        }
        passes = [_passes(r) for r in rs]
        for bar in BARS:
            cells = []
            for router in routers:
                got = [p[bar][router] for p in passes if router in p[bar]]
                cells.append(f"{sum(got)}/{n}" if got else "-")
            print(f"  {names[bar]:34s} " + " ".join(f"{c:>13s}" for c in cells))
        gaps = {
            "jarvis": [
                r["aiq"]["jarvis --prefer sweep"] - r["aiq"]["single-model hull"] for r in rs
            ],
            "kNN": [r["aiq"]["kNN sweep"] - r["aiq"]["single-model hull"] for r in rs],
            "train-chosen": [
                r["aiq"]["train-chosen single"] - r["aiq"]["single-model hull"] for r in rs
            ],
        }
        print(
            f"  {'AIQ - hull AIQ, median':34s} "
            + " ".join(f"{statistics.median(gaps[k]):>+13.4f}" for k in routers)
        )
        print(
            f"  {'AIQ - hull AIQ, worst / best':34s} "
            + " ".join(f"{min(gaps[k]):+.3f}/{max(gaps[k]):+.3f}".rjust(13) for k in routers)
        )
        by = [{p.label: p for p in r["mine"]} for r in rs]
        for name in ("quality", "balanced"):
            pts = [b[f"jarvis {name}"] for b in by]
            acc = statistics.mean(p.accuracy for p in pts) * 100
            cost = statistics.mean(p.cost for p in pts) * 1000
            print(f"  jarvis {name}: mean {acc:.2f} % at ${cost:.3f} per 1k prompts")
        best_acc = statistics.mean(r["best"].accuracy for r in rs) * 100
        print(f"  the held-out best single model: mean {best_acc:.2f} %")
        qual = [r["mine"][0].accuracy - r["best"].accuracy for r in rs]
        hulls = [r["aiq"]["single-model hull"] for r in rs]
        print(
            f"  jarvis quality - held-out best: median {statistics.median(qual) * 100:+.1f} pt"
            f" (worst {min(qual) * 100:+.1f}); hull AIQ: median {statistics.median(hulls):.4f}"
            f" ({min(hulls):.4f}..{max(hulls):.4f})"
        )
        bests: dict[str, int] = {}
        for r in rs:
            bests[r["best"].label] = bests.get(r["best"].label, 0) + 1
        top = ", ".join(f"{m} {c}" for m, c in sorted(bests.items(), key=lambda kv: -kv[1]))
        print(f"  the held-out half's best single model: {top}")
