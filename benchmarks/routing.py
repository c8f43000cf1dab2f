"""Routing replay (issue 25): does selection that learns from outcomes choose well?

Usage: python benchmarks/routing.py [--tasks gsm,math-l5] [--plot docs/routing_replay.png]
       [--check N] [--data DIR] [--seed N] [--splits N]

Replays ../shared/data/routing/zeroeval/ (its README: source, licence, protocol) per
task, on a fresh jarvis home each:

1. a custom provider `zeroeval` on the loopback fake (tests/fake_provider.py, in this
   process) serving the dataset's priced models; `jarvis providers add`, `jarvis
   models sync` and `jarvis models set --input-price/--output-price` (real CLI);
2. the training half's outcomes (fixed seed, routing_data.SPLIT_SEED) written as JSON
   Lines and imported with `jarvis outcomes import` (real CLI);
3. each held-out prompt routed by SelectionEngine.select in this process — the same
   call `jarvis select` makes with the same SelectionRequest (`--all-versions`, so
   every dataset model is a candidate); `--check N` also runs the real `jarvis select
   --json` on N prompts and fails if it chose differently;
4. the chosen model's correctness and cost looked up in the dataset.

Printed per task: every single model, random, cheapest, most accurate, oracle, a kNN
router (TF-IDF, k = 20; its own lambda sweep), jarvis's strategies and the `--prefer`
sweep, each with accuracy, cost per 1,000 prompts and the top model shares; the AIQ
of the single-model hull, the kNN sweep and jarvis's sweep; the acceptance checks.
`--plot` draws the curves (needs matplotlib: `pip install -e '.[bench]'`).

`--data DIR` replays another folder laid out the same way (a held-back task:
`--data DIR --tasks NAME`); `--seed` draws another split; `--splits N` then replays
seeds 0..N-1 too and prints how often each bar holds, for jarvis and the baselines
(routing_splits.py): one split is one draw of the held-out half's noise.
"""

from __future__ import annotations

import os
import sys

# benchmarks/select.py is named like the stdlib `select` that subprocess imports: keep
# this directory behind the stdlib on sys.path (it still provides the helpers).
_HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != _HERE] + [_HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(_HERE)
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import routing_data as rd  # noqa: E402
import routing_noise  # noqa: E402
import routing_splits  # noqa: E402
from _timing import bench_env, jarvis_command  # noqa: E402

from tests.fake_provider import FakeProvider  # noqa: E402

PROVIDER = "zeroeval"
PREFER = (0.0, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 1.0)
KNN_LAMBDAS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 1e9)


def run(jarvis: list[str], env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(
        [*jarvis, *args], input=stdin, env=env, text=True, capture_output=True, timeout=600
    )
    if proc.returncode != 0:
        raise SystemExit(f"jarvis {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout


def set_up(task: rd.Task, home: Path, base_url: str, jarvis: list[str]) -> dict[str, str]:
    env = bench_env(home)
    home.mkdir(mode=0o700)
    run(jarvis, env, "providers", "add", PROVIDER, "--base-url", base_url)
    run(jarvis, env, "models", "sync", PROVIDER)
    for m in task.models:
        run(
            jarvis,
            env,
            "models",
            "set",
            f"{PROVIDER}/{m.name}",
            "--input-price",
            str(m.in_usd_per_mtok),
            "--output-price",
            str(m.out_usd_per_mtok),
        )
    lines = [
        json.dumps(
            {
                "prompt": task.prompts[p],
                "model": f"{PROVIDER}/{m.name}",
                "score": task.correct[(p, m.name)],
                "cost_usd": task.cost[(p, m.name)],
            }
        )
        for p in task.train
        for m in task.models
    ]
    train_file = home / "train.jsonl"
    train_file.write_text("\n".join(lines) + "\n")
    run(jarvis, env, "outcomes", "import", str(train_file))
    return env


def route(
    task: rd.Task, env: dict[str, str], check: int, jarvis: list[str]
) -> tuple[list[rd.Point], float]:
    """jarvis's strategies and the --prefer sweep over the held-out half, and the mean
    milliseconds per selection."""
    os.environ.update(env)
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.selection.engine import SelectionEngine
    from jarvis_cli.core.selection.types import SelectionRequest

    ctx = Context()
    engine = SelectionEngine(ctx)
    runs: list[tuple[str, dict[str, object]]] = [
        (f"jarvis {s}", {"strategy": s}) for s in ("quality", "balanced", "cost")
    ]
    runs += [(f"jarvis --prefer {p:g}", {"prefer": p}) for p in PREFER]
    points = []
    started = time.perf_counter()
    for label, options in runs:
        choice = {}
        for p in task.test:
            request = SelectionRequest(prompt=task.prompts[p], all_versions=True, **options)  # type: ignore[arg-type]
            choice[p] = engine.select(request).model_name
        points.append(rd.score(task, label, choice))
        for p in task.test[:check]:
            args = ["select", task.prompts[p], "--all-versions", "--json", "--no-stdin"]
            if "strategy" in options:
                args += ["--strategy", str(options["strategy"])]
            else:
                args += ["--prefer", str(options["prefer"])]
            chosen = json.loads(run(jarvis, env, *args))["model_name"]
            if chosen != choice[p]:
                raise SystemExit(f"{label}: jarvis select chose {chosen}, in-process {choice[p]}")
    per = (time.perf_counter() - started) * 1000 / (len(runs) * len(task.test))
    ctx.close()
    return points, per


def show(points: list[rd.Point], title: str) -> None:
    print(f"\n  {title}")
    print(f"  {'router':44s} {'acc %':>6s} {'$/1k':>8s}  shares")
    for pt in points:
        shares = ", ".join(f"{m} {s:.0%}" for m, s in list(pt.shares.items())[:3])
        print(f"  {pt.label:44s} {pt.accuracy * 100:6.1f} {pt.cost * 1000:8.3f}  {shares}")


def replay(
    name: str, check: int, data: Path = rd.DATA, seed: int = rd.SPLIT_SEED
) -> dict[str, Any]:
    """Route `name`'s held-out half (split `seed`) with jarvis and the baselines; the
    figures, the AIQs and the acceptance checks, unprinted (see `report`)."""
    task = rd.load_task(name, data, seed)
    singles = sorted(rd.single_models(task), key=lambda pt: pt.cost)
    lo, hi = singles[0].cost, singles[-1].cost
    base = rd.baselines(task)
    knn = rd.knn_sweep(task, KNN_LAMBDAS)
    jarvis = jarvis_command()
    with (
        FakeProvider(models=[m.name for m in task.models]) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        env = set_up(task, Path(tmp) / "home", f"{fake.base_url}", jarvis)
        mine, per_ms = route(task, env, check, jarvis)
    pts = lambda ps: [(p.cost, p.accuracy) for p in ps]  # noqa: E731
    sweep = [p for p in mine if "prefer" in p.label]
    aiqs = {
        "single-model hull": rd.aiq(pts(singles), lo, hi),
        "kNN sweep": rd.aiq(pts(knn), lo, hi),
        "jarvis --prefer sweep": rd.aiq(pts(sweep), lo, hi),
        "train-chosen single": rd.aiq(pts(routing_noise.train_chosen_sweep(task)), lo, hi),
    }
    best = max(singles, key=lambda pt: (pt.accuracy, -pt.cost))
    by = {p.label: p for p in mine}
    q, b = by["jarvis quality"], by["jarvis balanced"]
    nothing_cheaper = not any(
        s.cost < best.cost and s.accuracy >= 0.97 * best.accuracy for s in singles
    )
    checks = {
        f"quality within 1.5 pt of {best.label} ({best.accuracy * 100:.1f} %)": q.accuracy
        >= best.accuracy - 0.015,
        "balanced >= 97 % of it at <= 25 % of its cost (or is it, nothing cheaper within 97 %)": (
            b.accuracy >= 0.97 * best.accuracy and b.cost <= 0.25 * best.cost
        )
        or (nothing_cheaper and b.shares.get(best.label, 0) > 0.5),
        "sweep AIQ >= hull AIQ - 0.002": aiqs["jarvis --prefer sweep"]
        >= aiqs["single-model hull"] - 0.002,
    }
    return {
        "task": name,
        "seed": seed,
        "sizes": (len(task.models), len(task.prompts), len(task.train), len(task.test)),
        "per_ms": per_ms,
        "runs": len(mine),
        "singles": singles,
        "base": base,
        "knn": knn,
        "mine": mine,
        "sweep": sweep,
        "aiq": aiqs,
        "range": (lo, hi),
        "best": best,
        "checks": checks,
        "noise": routing_noise.top_models(task),
        "ranks": {m: routing_noise.rank_of(task, m) for m, *_ in routing_noise.top_models(task)},
    }


def report(r: dict[str, Any]) -> None:
    models, prompts, train, test = r["sizes"]
    print(
        f"\n== {r['task']}: {models} priced models, {prompts} prompts, "
        f"{train} train / {test} held out (seed {r['seed']})"
    )
    print(f"  ({r['runs']} x {test} selections in process, {r['per_ms']:.1f} ms each)")
    show(r["singles"], "single models (held-out half)")
    show(r["base"], "baselines")
    show(r["knn"], "kNN router (TF-IDF, k=20): argmax est. accuracy - lambda x cost / dearest")
    show(r["mine"], "jarvis (outcomes of the training half imported)")
    lo, hi = r["range"]
    print(
        "\n  AIQ over the single models' cost range "
        f"(${lo * 1000:.3f}..${hi * 1000:.3f} per 1k prompts):"
    )
    for k, v in r["aiq"].items():
        print(f"    {k:24s} {v:.4f}")
    print("\n  split noise: best on the training half, accuracy % (95 % CI), training / held out")
    for m, a, ca, b, cb in r["noise"]:
        train_s, held_s = f"{a * 100:5.1f} ±{ca * 100:.1f}", f"{b * 100:5.1f} ±{cb * 100:.1f}"
        print(f"    #{r['ranks'][m]:<2d} {m:40s} {train_s}   {held_s}")
    print("\n  acceptance:")
    for k, ok in r["checks"].items():
        print(f"    {'PASS' if ok else 'FAIL'}  {k}")


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6.5 * len(results), 5))
    axes = axes if len(results) > 1 else [axes]
    for ax, r in zip(axes, results, strict=True):
        singles, knn, sweep = r["singles"], r["knn"], r["sweep"]
        aiq = r["aiq"]
        ax.scatter(
            [p.cost * 1000 for p in singles],
            [p.accuracy * 100 for p in singles],
            c="grey",
            s=14,
            label="single models",
        )
        h = rd.hull([(p.cost, p.accuracy) for p in singles])
        ax.plot(
            [c * 1000 for c, _ in h],
            [a * 100 for _, a in h],
            c="grey",
            ls=":",
            label=f"single-model hull (AIQ {aiq['single-model hull']:.3f})",
        )
        for pts, style, label in (
            (knn, "s--", f"kNN TF-IDF (AIQ {aiq['kNN sweep']:.3f})"),
            (sweep, "o-", f"jarvis --prefer (AIQ {aiq['jarvis --prefer sweep']:.3f})"),
        ):
            xs = sorted((p.cost * 1000, p.accuracy * 100) for p in pts)
            ax.plot([x for x, _ in xs], [y for _, y in xs], style, ms=4, label=label)
        labels: dict[tuple[float, float], list[str]] = {}
        for p in r["mine"][:2]:  # quality and balanced; one label where they coincide
            labels.setdefault((p.cost * 1000, p.accuracy * 100), []).append(
                p.label.replace("jarvis ", "")
            )
        for xy, names in labels.items():
            ax.annotate(
                " = ".join(names), xy, fontsize=8, xytext=(4, -10), textcoords="offset points"
            )
        ax.set_xscale("log")
        ax.set_xlabel("USD per 1,000 prompts (log)")
        ax.set_ylabel("accuracy on the held-out half (%)")
        ax.set_title(f"ZeroEval {r['task']}: held-out half")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"\nplot: {path}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", default="gsm,math-l5")
    parser.add_argument("--plot", type=Path, default=None)
    parser.add_argument("--check", type=int, default=3, help="prompts also routed by the CLI")
    parser.add_argument(
        "--data", type=Path, default=rd.DATA, help="the replay set's folder (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=rd.SPLIT_SEED, help="the split's seed")
    parser.add_argument(
        "--splits",
        type=int,
        default=0,
        help="also replay seeds 0..N-1 and count how often each bar holds",
    )
    args = parser.parse_args()
    tasks = [t for t in args.tasks.split(",") if t]
    results = [replay(t, args.check, args.data, args.seed) for t in tasks]
    for r in results:
        report(r)
    if args.plot:
        plot(results, args.plot)
    if args.splits > 0:
        print(f"\nreplaying {args.splits} more splits per task ...")
        many = routing_splits.run(lambda t, seed: replay(t, 0, args.data, seed), tasks, args.splits)
        routing_splits.summarize(many)
    return 0


if __name__ == "__main__":
    sys.exit(main())
