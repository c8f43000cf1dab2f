"""Quality that learns from outcomes (issue 25): the benchmark prior, updated.

An outcome is a 0..1 score of one answer by one model (`jarvis rate`, automatic
signals, `jarvis outcomes import`), with a weight (how many outcomes it counts
for: a rating 1, an automatic signal less; see core/runs/outcomes.py). For each
candidate and the request's task:

1. **Per model, then per model and task** (Beta posteriors with the level above as
   pseudo-counts): over all the model's outcomes,
   `m = (q0 * n0 + sum(w * score)) / (n0 + sum(w))`, where q0 is the quality
   selection had before (user, config, bundled table or default) and n0 =
   PRIOR_OUTCOMES (UNSCORED_PRIOR_OUTCOMES when q0 is only the default): ten outcomes
   weigh as much as the benchmark, a hundred outweigh it ten to one. Then over the
   outcomes of the request's task, `(m * TASK_PRIOR + sum(w * score)) / (TASK_PRIOR +
   sum(w))`, so a task with few outcomes borrows from the model's others.
2. **Per prompt**, when the request has a prompt and at least MIN_NEIGHBOURS of
   its K most similar past prompts (cosine >= MIN_SIMILARITY over hashed TF-IDF,
   core/selection/prompt_terms.py) have outcomes for the model: those outcomes,
   weighted by similarity, shrunk towards step 1's value with NEIGHBOUR_PRIOR:
   `(step1 * NEIGHBOUR_PRIOR + sum(sim * w * score)) / (NEIGHBOUR_PRIOR + sum(sim * w))`.
   Only outcomes that kept their prompt (content log on) take part, the most
   recent MAX_EXAMPLES distinct prompts.

A model without outcomes keeps its quality exactly, so without outcomes selection
is unchanged. Everything is read from one snapshot (`snapshots` table, keyed on
`data_versions('outcomes')`, which triggers bump on any change), so a warm
selection decodes one blob whoever recorded the outcomes.
"""

from __future__ import annotations

import marshal
import math
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

from jarvis_cli.core.selection.prompt_terms import TermIndex, decode_terms, prompt_terms
from jarvis_cli.core.selection.quality import UNSCORED, Quality
from jarvis_cli.core.store.connection import Connection
from jarvis_cli.core.store.snapshots import data_version, load_snapshot, save_snapshot

PRIOR_OUTCOMES = 10.0
UNSCORED_PRIOR_OUTCOMES = 2.0
TASK_PRIOR = 20.0
K = 20
MIN_NEIGHBOURS = 3
MIN_SIMILARITY = 0.1
NEIGHBOUR_PRIOR = 1.0
MAX_EXAMPLES = 5_000
LEARNED = "outcomes"  # Quality.source of a learned value
_SNAPSHOT = "learned_outcomes"
_FORMAT = f"1:{marshal.version}:{sys.version_info[0]}.{sys.version_info[1]}"


class Learned(NamedTuple):
    """What outcomes say of one candidate for one request, next to the prior."""

    value: float  # the quality selection uses
    prior: float
    prior_source: str
    task_score: float | None  # step 1 (None = no outcomes for this model and task)
    task_n: int  # outcomes behind it
    similar_score: float | None  # step 2 (None = not enough similar prompts)
    similar_k: int

    def describe(self) -> str:
        """`you: 0.91, n=23; similar prompts: 0.88, k=10; prior 0.80 (lb)`."""
        parts = []
        if self.task_score is not None:
            parts.append(f"you: {self.task_score:.2f}, n={self.task_n}")
        if self.similar_score is not None:
            parts.append(f"similar prompts: {self.similar_score:.2f}, k={self.similar_k}")
        parts.append(f"prior {self.prior:.2f} ({self.prior_source})")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, object]:
        return {
            "value": round(self.value, 4),
            "prior": round(self.prior, 4),
            "prior_source": self.prior_source,
            "you": None
            if self.task_score is None
            else {"score": round(self.task_score, 4), "n": self.task_n},
            "similar_prompts": None
            if self.similar_score is None
            else {"score": round(self.similar_score, 4), "k": self.similar_k},
        }


class LearnedOutcomes:
    """The outcomes as selection uses them: sums per (model, task) and the prompt index."""

    def __init__(
        self,
        sums: dict[tuple[str, str], tuple[float, float, int]],
        examples: list[dict[str, tuple[float, float]]],
        index: TermIndex | None,
    ) -> None:
        self.sums = sums  # (model, task) -> (sum of w*score, sum of w, count)
        totals: dict[str, tuple[float, float, int]] = {}
        for (model, _), (sw, w, n) in sums.items():
            tsw, tw, tn = totals.get(model, (0.0, 0.0, 0))
            totals[model] = (tsw + sw, tw + w, tn + n)
        self.totals = totals  # model -> the same over all tasks
        self.examples = examples  # per distinct prompt: model -> (sum w*score, sum w)
        self.index = index

    def estimate(
        self, ids: Sequence[str], priors: Sequence[Quality], task: str, prompt: str | None
    ) -> tuple[list[Quality], list[Learned | None]]:
        """Each candidate's learned quality (aligned with ids); unchanged where no outcome."""
        sums = self.sums
        neighbours: list[tuple[int, float]] = []
        if prompt and self.index is not None:
            neighbours = self.index.nearest(prompt_terms(prompt), K, MIN_SIMILARITY)
        qualities = list(priors)
        details: list[Learned | None] = [None] * len(ids)
        totals = self.totals
        if not neighbours:
            touched = [(j, m) for j, m in enumerate(ids) if m in totals]
        else:
            touched = list(enumerate(ids))
        examples = self.examples
        for j, model in touched:
            prior = priors[j]
            n0 = UNSCORED_PRIOR_OUTCOMES if prior.source == UNSCORED else PRIOR_OUTCOMES
            value = prior.value
            task_score: float | None = None
            msw, mw, mn = totals.get(model, (0.0, 0.0, 0))
            if mn:
                value = (prior.value * n0 + msw) / (n0 + mw)
            sw, w, n = sums.get((model, task), (0.0, 0.0, 0))
            if n:
                value = (value * TASK_PRIOR + sw) / (TASK_PRIOR + w)
                task_score = sw / w if w > 0 else None
            elif mn:  # what the model's outcomes on other tasks say
                task_score, n = (msw / mw if mw > 0 else None), mn
            similar: float | None = None
            k = 0
            num = den = 0.0
            for doc, sim in neighbours:
                found = examples[doc].get(model)
                if found is not None:
                    k += 1
                    num += sim * found[0]
                    den += sim * found[1]
            if k >= MIN_NEIGHBOURS and den > 0:
                similar = num / den
                value = (value * NEIGHBOUR_PRIOR + num) / (NEIGHBOUR_PRIOR + den)
            elif not n:
                continue
            qualities[j] = Quality(value, LEARNED, prior.model_id)
            details[j] = Learned(value, prior.value, prior.source, task_score, n, similar, k)
        return qualities, details


def load_learned(conn: Connection) -> LearnedOutcomes | None:
    """The outcomes of the store as selection uses them; None when there are none."""
    version = data_version(conn, "outcomes")
    if version == "1":  # never written to: no query beyond the counter
        return None
    key = f"{_FORMAT}:{version}"
    blob = load_snapshot(conn, _SNAPSHOT, key)
    if blob is not None:
        try:
            return _decode(marshal.loads(blob))
        except (ValueError, EOFError, TypeError):
            pass  # damaged or from another Python: rebuild
    data = _build(conn)
    save_snapshot(conn, _SNAPSHOT, key, marshal.dumps(data))
    return _decode(data)


def _build(conn: Connection) -> Any:
    sums = [
        (m, t, float(sw), float(w), int(n))
        for m, t, sw, w, n in conn.execute(
            "SELECT model_id, task, SUM(score * weight), SUM(weight), COUNT(*) "
            "FROM outcomes GROUP BY model_id, task"
        )
    ]
    by_terms: dict[str, dict[str, tuple[float, float]]] = {}
    cursor = conn.execute(
        "SELECT terms, model_id, score, weight FROM outcomes "
        "WHERE terms IS NOT NULL ORDER BY at DESC, id DESC"
    )
    for terms, model, score, weight in cursor:
        ex = by_terms.get(terms)
        if ex is None:
            if len(by_terms) >= MAX_EXAMPLES:
                continue
            ex = by_terms[terms] = {}
        s, w = ex.get(model, (0.0, 0.0))
        ex[model] = (s + score * weight, w + weight)
    examples = list(by_terms.values())
    index = TermIndex.build([decode_terms(t) for t in by_terms]).to_data() if examples else None
    return (sums, [list(e.items()) for e in examples], index)


def _decode(data: Any) -> LearnedOutcomes | None:
    sums_data, examples_data, index_data = data
    if not sums_data:
        return None
    sums = {(m, t): (sw, w, n) for m, t, sw, w, n in sums_data}
    examples = [dict(e) for e in examples_data]
    index = None if index_data is None else TermIndex.from_data(index_data)
    return LearnedOutcomes(sums, examples, index)


def prefer_totals(
    qualities: Sequence[float], costs: Sequence[float | None], prefer: float
) -> list[float]:
    """The `--prefer P` totals: quality - lambda(P) * cost / (dearest candidate's cost).

    lambda(P) = 10^(3 - 6P): at P = 0.5 a model may cost the dearest candidate's
    whole price for +1.0 quality, and each 1/6 of P is a factor 10 on what a point of
    quality is worth. P = 1 is quality alone, P = 0 the cheapest (by quality among
    equal costs). Costs are linear, not logarithmic, so sweeping P traces the
    cost-accuracy frontier (a per-request Lagrangian)."""
    known = [c for c in costs if c is not None]
    ref = max(known) if known else 0.0
    if prefer >= 1.0 or ref <= 0.0:
        return list(qualities)
    rel = [1.0 if c is None else c / ref for c in costs]
    if prefer <= 0.0:
        return [-r for r in rel]
    lam = math.pow(10.0, 3.0 - 6.0 * prefer)
    return [q - lam * r for q, r in zip(qualities, rel, strict=True)]
