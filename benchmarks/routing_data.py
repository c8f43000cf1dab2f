"""The ZeroEval replay set and the baselines a router is measured against.

Pure Python (no numpy): loading `../shared/data/routing/zeroeval/` as its README's
replay protocol says (pool = priced models, prompts on which every pooled model has
a row, cost = chars/4 tokens at the model's prices), the fixed 50/50 split, the
baseline routers (every single model, random, cheapest, most accurate, oracle, kNN
over TF-IDF) and RouterBench's AIQ.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "routing" / "zeroeval"
SPLIT_SEED = 25  # one fixed seed for every task and every router


@dataclass(frozen=True)
class Model:
    name: str
    in_usd_per_mtok: float
    out_usd_per_mtok: float


@dataclass(frozen=True)
class Task:
    """One task's pooled models and prompts, with correctness and cost per (prompt, model)."""

    name: str
    models: tuple[Model, ...]
    prompts: dict[str, str]  # id -> text
    correct: dict[tuple[str, str], int]  # (prompt id, model) -> 0/1
    cost: dict[tuple[str, str], float]  # (prompt id, model) -> USD
    train: tuple[str, ...]
    test: tuple[str, ...]


def load_task(task: str, data: Path = DATA, seed: int = SPLIT_SEED) -> Task:
    """The pool and prompts of `task` (README "Replay protocol", steps 1-2) and the
    50/50 split drawn with `seed`. `A+B` is one task of A's and B's prompts together,
    pooled over the models that answered both (easy and hard prompts mixed: what
    per-prompt routing can tell apart)."""
    parts = task.split("+")
    models = []
    with (data / "models.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            if row["input_usd_per_mtok"].strip():
                models.append(
                    Model(
                        row["model"],
                        float(row["input_usd_per_mtok"]),
                        float(row["output_usd_per_mtok"]),
                    )
                )
    prompts: dict[str, str] = {}
    task_of: dict[str, str] = {}
    with (data / "prompts.jsonl").open() as f:
        for line in f:
            rec = json.loads(line)
            if rec["task"] in parts:
                prompts[rec["id"]] = rec["prompt"]
                task_of[rec["id"]] = rec["task"]
    if set(task_of.values()) != set(parts):
        found = sorted({json.loads(line)["task"] for line in (data / "prompts.jsonl").open()})
        raise SystemExit(
            f"no prompts of task {task!r} in {data / 'prompts.jsonl'} (it has: {', '.join(found)})"
        )
    pooled = {m.name: m for m in models}
    rows: dict[tuple[str, str], tuple[int, int]] = {}
    with (data / "outcomes.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            if row["model"] in pooled and row["id"] in prompts:
                rows[(row["id"], row["model"])] = (int(row["correct"]), int(row["output_chars"]))
    present = [{m for p, m in rows if task_of[p] == part} for part in parts]
    pool = tuple(m for m in models if all(m.name in answered for answered in present))
    ids = sorted(
        (p for p in prompts if all((p, m.name) in rows for m in pool)),
        key=lambda s: int(s.rsplit("-", 1)[1]),
    )
    correct = {k: v[0] for k, v in rows.items()}
    cost = {}
    for (p, name), (_, out_chars) in rows.items():
        m = pooled[name]
        cost[(p, name)] = (
            len(prompts[p]) / 4 * m.in_usd_per_mtok + out_chars / 4 * m.out_usd_per_mtok
        ) / 1e6
    shuffled = list(ids)
    random.Random(seed).shuffle(shuffled)
    half = len(shuffled) // 2
    return Task(
        task,
        pool,
        {p: prompts[p] for p in ids},
        correct,
        cost,
        tuple(sorted(shuffled[:half])),
        tuple(sorted(shuffled[half:])),
    )


@dataclass(frozen=True)
class Point:
    """A router's figures on the held-out half: accuracy (0..1) and USD per prompt."""

    label: str
    accuracy: float
    cost: float
    shares: dict[str, float]


def score(task: Task, label: str, choice: dict[str, str]) -> Point:
    """Accuracy, mean cost and model shares of `choice` (prompt id -> model) over task.test."""
    n = len(task.test)
    acc = sum(task.correct[(p, choice[p])] for p in task.test) / n
    cost = sum(task.cost[(p, choice[p])] for p in task.test) / n
    counts = Counter(choice[p] for p in task.test)
    return Point(label, acc, cost, {m: c / n for m, c in counts.most_common()})


def single_models(task: Task) -> list[Point]:
    return [score(task, m.name, {p: m.name for p in task.test}) for m in task.models]


def train_means(task: Task) -> dict[str, tuple[float, float]]:
    """Each model's (accuracy, cost per prompt) on the training half."""
    n = len(task.train)
    return {
        m.name: (
            sum(task.correct[(p, m.name)] for p in task.train) / n,
            sum(task.cost[(p, m.name)] for p in task.train) / n,
        )
        for m in task.models
    }


def baselines(task: Task) -> list[Point]:
    """Random (expected), cheapest and most accurate (chosen on the training half), oracle."""
    means = train_means(task)
    singles = {pt.label: pt for pt in single_models(task)}
    k = len(task.models)
    rand = Point(
        "random",
        sum(pt.accuracy for pt in singles.values()) / k,
        sum(pt.cost for pt in singles.values()) / k,
        {m.name: 1 / k for m in task.models},
    )
    cheapest = min(means, key=lambda m: means[m][1])
    best = max(means, key=lambda m: (means[m][0], -means[m][1]))
    oracle = {}
    for p in task.test:
        by_cost = sorted(task.models, key=lambda m: task.cost[(p, m.name)])
        right = [m for m in by_cost if task.correct[(p, m.name)]]
        oracle[p] = (right or by_cost)[0].name
    pc, pb = singles[cheapest], singles[best]
    return [
        rand,
        Point(f"cheapest ({cheapest})", pc.accuracy, pc.cost, pc.shares),
        Point(f"most accurate ({best})", pb.accuracy, pb.cost, pb.shares),
        score(task, "oracle", oracle),
    ]


_WORD = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


def tfidf(texts: Sequence[str]) -> tuple[list[dict[str, float]], Callable[[str], dict[str, float]]]:
    """Unit TF-IDF vectors of `texts` and a function vectorizing a new text the same way."""
    docs = [Counter(_WORD.findall(t.lower())) for t in texts]
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d.keys())
    n = len(docs)
    idf = {w: math.log((1 + n) / (1 + c)) + 1 for w, c in df.items()}

    def vec(counts: Counter[str]) -> dict[str, float]:
        v = {w: (1 + math.log(c)) * idf[w] for w, c in counts.items() if w in idf}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {w: x / norm for w, x in v.items()}

    return [vec(d) for d in docs], lambda t: vec(Counter(_WORD.findall(t.lower())))


def knn_estimates(task: Task, k: int = 20) -> dict[str, dict[str, float]]:
    """Per held-out prompt, each model's mean correctness over its k nearest training
    prompts (cosine over TF-IDF, similarity-weighted)."""
    train = list(task.train)
    vecs, vectorize = tfidf([task.prompts[p] for p in train])
    index: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for i, v in enumerate(vecs):
        for w, x in v.items():
            index[w].append((i, x))
    out = {}
    for p in task.test:
        sims: dict[int, float] = defaultdict(float)
        for w, x in vectorize(task.prompts[p]).items():
            for i, y in index.get(w, ()):
                sims[i] += x * y
        near = sorted(sims.items(), key=lambda kv: -kv[1])[:k]
        total = sum(s for _, s in near) or 1.0
        out[p] = {
            m.name: sum(s * task.correct[(train[i], m.name)] for i, s in near) / total
            for m in task.models
        }
    return out


def knn_sweep(task: Task, lambdas: Sequence[float], k: int = 20) -> list[Point]:
    """The kNN router: argmax estimated accuracy - lambda * cost / (most expensive mean cost)."""
    est = knn_estimates(task, k)
    means = train_means(task)
    ref = max(c for _, c in means.values())
    points = []
    for lam in lambdas:
        choice = {
            p: max(task.models, key=lambda m: est[p][m.name] - lam * means[m.name][1] / ref).name
            for p in task.test
        }
        points.append(score(task, f"knn lambda={lam:g}", choice))
    return points


def hull(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The non-decreasing upper convex hull of (cost, accuracy) points, cheapest first."""
    rising: list[tuple[float, float]] = []
    for c, a in sorted(points, key=lambda pt: (pt[0], -pt[1])):
        if not rising or a > rising[-1][1]:
            rising.append((c, a))
    upper: list[tuple[float, float]] = []
    for pt in rising:
        while len(upper) >= 2:
            (x1, y1), (x2, y2) = upper[-2], upper[-1]
            # drop the middle point when it lies on or under the chord
            if (x2 - x1) * (pt[1] - y1) - (y2 - y1) * (pt[0] - x1) >= 0:
                upper.pop()
            else:
                break
        upper.append(pt)
    return upper


def aiq(points: Sequence[tuple[float, float]], lo: float, hi: float) -> float:
    """RouterBench's AIQ: the area under hull(points) over [lo, hi] divided by hi - lo.

    The curve is 0 below its cheapest point (that accuracy cannot be had for less) and
    flat after its most expensive one."""
    h = hull(points)
    if hi <= lo or not h:
        return 0.0

    def at(x: float) -> float:
        if x < h[0][0]:
            return 0.0
        for (x1, y1), (x2, y2) in itertools.pairwise(h):
            if x1 <= x <= x2:
                return y1 if x2 == x1 else y1 + (y2 - y1) * (x - x1) / (x2 - x1)
        return h[-1][1]

    # exact for a piecewise-linear curve: integrate between consecutive breakpoints
    xs = sorted({lo, hi, *(x for x, _ in h if lo < x < hi)})
    area = 0.0
    for a, b in itertools.pairwise(xs):
        if a < h[0][0] <= b:  # the step up at the cheapest point
            area += (b - h[0][0]) * (at(h[0][0]) + at(b)) / 2
        else:
            area += (b - a) * (at(a) + at(b)) / 2
    return area / (hi - lo)
