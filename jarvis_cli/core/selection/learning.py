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
   weigh as much as the benchmark, a hundred outweigh it ten to one. An outcome on
   another task t counts as `q0 + score - q0_t`, q0_t the model's bundled prior for t
   (residual transfer: what the user found relative to the benchmark carries over,
   not the other task's level: 40 perfect maths answers of a model with maths prior
   0.8 lift its language prior 0.6 to 0.76, not 0.92). A user, config or default
   quality is the same on every task, so there it is the score itself. Then over the
   outcomes of the request's task, `(m * TASK_PRIOR + sum(w * score)) / (TASK_PRIOR +
   sum(w))`, so a task with few outcomes borrows from the model's others.
2. **Per prompt**, when the request has a prompt and at least MIN_NEIGHBOURS of
   its K most similar past prompts (cosine >= MIN_SIMILARITY over hashed TF-IDF,
   core/selection/prompt_terms.py) have outcomes for the model: those outcomes,
   weighted by similarity, shrunk towards step 1's value with NEIGHBOUR_PRIOR:
   `(step1 * NEIGHBOUR_PRIOR + sum(sim * w * score)) / (NEIGHBOUR_PRIOR + sum(sim * w))`.
   NEIGHBOUR_PRIOR = 60: twenty neighbours at cosine ~0.3 weigh ~6 outcomes, so they
   move a value a tenth of the way; with weight 1 they replaced it, and on the replay
   (benchmarks/routing.py, development tasks) that routed prompts on noise: `quality`
   lost 0.8 point on gsm against the model the outcomes rank first. Chosen among 1,
   20, 60 and 200 (gsm: 94.5 / 94.5 / 95.3 / 95.3 % for `quality`, sweep AIQ 0.950 /
   0.956 / 0.954 / 0.952; math-l5 the same for all).
   Only outcomes that kept their prompt (content log on) take part, the most
   recent MAX_EXAMPLES distinct prompts.

A model without outcomes keeps its quality exactly, so without outcomes selection
is unchanged. Selection ranks on quality less its margin (selection/quality.py: how
much lower the truth may be, by source); a learned value keeps the prior's margin
only in proportion to the prior's share of the evidence, n0 / (n0 + sum(w)), so the
bound tightens as outcomes accumulate. Each learned value also has a posterior SD
(tradeoff.posterior_var: its square, over the evidence behind it): ranking on quality alone or
`--prefer` treats the learned candidates within one SD of the difference from the
best as tied with it (tradeoff.py), so split noise does not pick the dearer model.

Everything is read from snapshots (`snapshots` table, keyed on
`data_versions('outcomes')`, which triggers bump on any change): the sums always,
the past prompts only for a request with a prompt. The sums include each model's
billed output tokens, which set its expected output (learned_output.py).
"""

from __future__ import annotations

import marshal
import sys
from array import array
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from jarvis_cli.core.selection.learned_output import LearnedOutputs
from jarvis_cli.core.selection.learned_view import Facts, Learned, LearnedColumn
from jarvis_cli.core.selection.quality import UNSCORED, Quality
from jarvis_cli.core.store.connection import Connection
from jarvis_cli.core.store.snapshots import UNCHANGED, data_version, load_snapshot, save_snapshot

if TYPE_CHECKING:
    from jarvis_cli.core.selection.prompt_terms import TermIndex

PRIOR_OUTCOMES = 10.0
UNSCORED_PRIOR_OUTCOMES = 2.0
TASK_PRIOR = 20.0
K = 20
MIN_NEIGHBOURS = 3
MIN_SIMILARITY = 0.1
NEIGHBOUR_PRIOR = 60.0
MAX_EXAMPLES = 5_000
LEARNED = "outcomes"  # Quality.source of a learned value
_SNAPSHOT = "learned_outcomes"
_PROMPTS_SNAPSHOT = "learned_prompts"
_UNLOADED = object()
_FORMAT = f"2:{marshal.version}:{sys.version_info[0]}.{sys.version_info[1]}"
__all__ = ["Learned", "LearnedColumn", "LearnedOutcomes", "load_learned"]


class PromptExamples:
    """Past prompts with outcomes, as flat arrays: example e's outcomes are positions
    offsets[e]:offsets[e+1] of (model index, sum of w*score, sum of w)."""

    def __init__(self, index: TermIndex, offsets: array[int], models: array[int],
                 sw: array[float], w: array[float]) -> None:  # fmt: skip
        self.index, self.offsets, self.models, self.sw, self.w = index, offsets, models, sw, w

    def of(self, doc: int) -> dict[int, tuple[float, float]]:
        lo, hi = self.offsets[doc], self.offsets[doc + 1]
        return {self.models[i]: (self.sw[i], self.w[i]) for i in range(lo, hi)}


class LearnedOutcomes:
    """The outcomes as selection uses them: sums per model and per (model, task), as
    arrays aligned with `models`, and the past prompts (loaded only for a prompt)."""

    def __init__(self, data: Any, prompts: Callable[[], PromptExamples | None]) -> None:
        self.models: list[str] = data[0]
        self.tasks: list[str] = data[1]
        self.total_sw, self.total_w = _doubles(data[2]), _doubles(data[3])
        self.total_n = _ints(data[4])
        self.entry_model, self.entry_task = _ints(data[5]), _ints(data[6])
        self.entry_sw, self.entry_w, self.entry_n = (
            _doubles(data[7]),
            _doubles(data[8]),
            _ints(data[9]),
        )
        self.outputs = LearnedOutputs(  # expected output tokens (learned_output.py)
            self.models, self.tasks, (_doubles(data[12]), _ints(data[13])),
            (self.entry_model, self.entry_task, _doubles(data[10]), _ints(data[11])),
        )  # fmt: skip
        self._prompts = prompts
        self._examples: object = _UNLOADED
        self._rows: dict[str, list[tuple[float, float, float, float, int, float | None]]] = {}
        self._entries: list[list[tuple[int, float, float]]] | None = None
        self.index_of = {m: i for i, m in enumerate(self.models)}

    def task_sums(self, task: str) -> dict[int, tuple[float, float, int]]:
        """model index -> (sum of w*score, sum of w, count) for `task`."""
        if task not in self.tasks:
            return {}
        t = self.tasks.index(task)
        et, em = self.entry_task, self.entry_model
        sw, w, n = self.entry_sw, self.entry_w, self.entry_n
        return {em[i]: (sw[i], w[i], n[i]) for i in range(len(et)) if et[i] == t}

    def _task_rows(self, task: str) -> list[tuple[float, float, float, float, int, float | None]]:
        """Per model index, for `task`: (model's sum of w*score, sum of w, the task's sum
        of w*score, sum of w, count (negated: the model's count, when it has none for
        the task), the score shown), built once per task and kept
        (the object lives as long as the outcomes' data version)."""
        rows = self._rows.get(task)
        if rows is None:
            sums = self.task_sums(task)
            rows = []
            for m, (msw, mw, mn) in enumerate(
                zip(self.total_sw, self.total_w, self.total_n, strict=True)
            ):
                sw, w, n = sums.get(m, (0.0, 0.0, 0))
                if n:
                    rows.append((msw, mw, sw, w, n, sw / w if w > 0 else None))
                else:  # shown: what the model's outcomes on other tasks say (n < 0)
                    rows.append((msw, mw, 0.0, 0.0, -mn, msw / mw if mw > 0 else None))
            self._rows[task] = rows
        return rows

    def prompts(self) -> PromptExamples | None:
        if self._examples is _UNLOADED:
            self._examples = self._prompts()
        return self._examples  # type: ignore[return-value]

    def near(self, prompt: str) -> dict[int, tuple[int, float, float]]:
        """model index -> (similar prompts with outcomes for it, sum of sim*w*score,
        sum of sim*w) over the K past prompts most similar to `prompt`."""
        examples = self.prompts()
        if examples is None:
            return {}
        # Here, not at the top: a store without outcomes (most selections) never needs
        # the prompt index (~0.4 ms of a `select`'s start-up).
        from jarvis_cli.core.selection.prompt_terms import prompt_terms

        acc: dict[int, tuple[int, float, float]] = {}
        get = acc.get
        offsets, models, sws, ws = examples.offsets, examples.models, examples.sw, examples.w
        for doc, sim in examples.index.nearest(prompt_terms(prompt), K, MIN_SIMILARITY):
            for i in range(offsets[doc], offsets[doc + 1]):
                m = models[i]
                k, num, den = get(m, (0, 0.0, 0.0))
                acc[m] = (k + 1, num + sim * sws[i], den + sim * ws[i])
        return acc

    def _by_model(self) -> list[list[tuple[int, float, float]]]:
        """Per model index: its (task index, sum of w*score, sum of w) entries."""
        if self._entries is None:
            self._entries = [[] for _ in self.models]
            for m, t, sw, w in zip(self.entry_model, self.entry_task, self.entry_sw,
                                   self.entry_w, strict=True):  # fmt: skip
                self._entries[m].append((t, sw, w))
        return self._entries

    def _residual_shift(
        self, m: int, t_self: int, j: int, prior: float,
        prior_on: Callable[[int, str], float | None],
    ) -> tuple[float, float | None]:  # fmt: skip
        """What re-expressing model m's outcomes on other tasks as residuals from their
        own priors adds to its sum of w*score for a task of prior `prior` (each outcome
        counts as `prior + score - its task's prior`), and those priors' weighted mean
        (None when no other task's prior differs from this one)."""
        shift = wsum = psum = 0.0
        for t, _, w in self._by_model()[m]:
            if t == t_self:
                continue
            p = prior_on(j, self.tasks[t])
            if p is None:
                return 0.0, None
            shift += (prior - p) * w
            wsum += w
            psum += p * w
        if wsum <= 0 or shift == 0.0:
            return 0.0, None
        return shift, psum / wsum

    def estimate(
        self,
        positions: Sequence[int],
        ids: Sequence[str],
        priors: Sequence[Quality],
        task: str,
        prompt: str | None,
        prior_on: Callable[[int, str], float | None] | None = None,
    ) -> LearnedColumn:
        """Each candidate's learned quality (aligned with ids; `positions` are their table
        positions, which key the details); the prior itself where there is no outcome.
        `prior_on(j, other_task)` is candidate j's prior on another task, asked only of
        a bundled prior (Quality.model_id set: user, config and default qualities are
        the same on every task); None: no such prior."""
        index_of = self.index_of
        rows = self._task_rows(task)
        near = self.near(prompt) if prompt else {}
        qualities = list(priors)
        facts: dict[int, Facts] = {}
        t_self = self.tasks.index(task) if task in self.tasks else -1
        for j, m in enumerate(map(index_of.get, ids)):
            if m is None:
                continue
            prior = priors[j]
            n0 = UNSCORED_PRIOR_OUTCOMES if prior.source == UNSCORED else PRIOR_OUTCOMES
            msw, mw, sw, w, n, task_score = rows[m]
            other: float | None = None
            # outcomes on other tasks, as residuals from a bundled (per-task) prior
            if mw > w and prior.model_id is not None and prior_on is not None:
                shift, other = self._residual_shift(m, t_self, j, prior.value, prior_on)
                msw += shift
            value = (prior.value * n0 + msw) / (n0 + mw)
            if other is not None:
                value = min(max(value, 0.0), 1.0)
            # the prior's uncertainty counts only for its share of the evidence
            margin = prior.margin * n0 / (n0 + mw)
            evidence = n0 + mw
            if n > 0:
                value = (value * TASK_PRIOR + sw) / (TASK_PRIOR + w)
                evidence = TASK_PRIOR + w
            similar: float | None = None
            k = 0
            got = near.get(m) if near else None
            if got is not None:
                k, num, den = got
                if k >= MIN_NEIGHBOURS and den > 0:
                    similar = num / den
                    value = (value * NEIGHBOUR_PRIOR + num) / (NEIGHBOUR_PRIOR + den)
            qualities[j] = Quality(value, LEARNED, prior.model_id, margin)
            facts[positions[j]] = (prior, task_score, n, similar, k, evidence, other)
        return LearnedColumn(qualities, facts)


def _arr(code: str, data: bytes) -> Any:
    out = array(code)
    out.frombytes(data)
    return out


def _doubles(data: bytes) -> array[float]:
    out = array("d")
    out.frombytes(data)
    return out


def _ints(data: bytes) -> array[int]:
    out = array("q")
    out.frombytes(data)
    return out


def load_learned(
    conn: Connection,
    cache: dict[str, LearnedOutcomes | None] | None = None,
    version: str | None = None,
) -> LearnedOutcomes | None:
    """The outcomes of the store as selection uses them; None when there are none.

    `cache` (one per store, kept by the caller: the selection engine) keeps the last
    version's object, so warm selections reuse its per-task sums and loaded prompt
    index; any change of the outcomes bumps the version and replaces it. `version`:
    data_version(conn, "outcomes") when the caller has read it."""
    if version is None:
        version = data_version(conn, "outcomes")
    if version == UNCHANGED:  # never written to: no query beyond the counter
        return None
    key = f"{_FORMAT}:{version}"
    if cache is not None:
        if key not in cache:
            cache.clear()
            cache[key] = _load_learned(conn, key)
        return cache[key]
    return _load_learned(conn, key)


def _load_learned(conn: Connection, key: str) -> LearnedOutcomes | None:
    data = _load(conn, _SNAPSHOT, key)
    if data is None:
        data, prompts = _build(conn)
        save_snapshot(conn, _SNAPSHOT, key, marshal.dumps(data))
        save_snapshot(conn, _PROMPTS_SNAPSHOT, key, marshal.dumps(prompts))
    if not data[0]:
        return None

    def load_prompts() -> PromptExamples | None:
        found = _load(conn, _PROMPTS_SNAPSHOT, key)
        if found is None:
            found = _build(conn)[1]
        if found is None:
            return None
        from jarvis_cli.core.selection.prompt_terms import TermIndex

        index = TermIndex.from_data(found[0])
        return PromptExamples(index, _ints(found[1]), _arr("i", found[2]), _arr("f", found[3]),
                              _arr("f", found[4]))  # fmt: skip

    return LearnedOutcomes(data, load_prompts)


def _load(conn: Connection, name: str, key: str) -> Any:
    blob = load_snapshot(conn, name, key)
    if blob is None:
        return None
    try:
        return marshal.loads(blob)
    except (ValueError, EOFError, TypeError):
        return None  # damaged or from another Python: rebuild


def _build(conn: Connection) -> tuple[Any, Any]:
    """Both snapshots' data: the sums, and the past prompts (None without any)."""
    models: dict[str, int] = {}
    tasks: dict[str, int] = {}
    totals: list[list[float]] = []
    entries: list[tuple[int, int, float, float, int, float, int]] = []
    for model, task, sw, w, n, out_sum, out_n in conn.execute(
        "SELECT model_id, task, SUM(score * weight), SUM(weight), COUNT(*), "
        "SUM(output_tokens), COUNT(output_tokens) FROM outcomes GROUP BY model_id, task"
    ):  # the output tokens' sums: learned_output.py
        m = models.setdefault(model, len(models))
        if m == len(totals):
            totals.append([0.0, 0.0, 0, 0.0, 0])
        t = tasks.setdefault(task, len(tasks))
        row = (float(sw), float(w), int(n), float(out_sum or 0), int(out_n))
        totals[m] = [a + b for a, b in zip(totals[m], row, strict=True)]
        entries.append((m, t, *row))
    data = (
        list(models), list(tasks),
        *(array(code, [x[i] for x in totals]).tobytes() for i, code in enumerate("ddq")),
        *(array(code, [e[i] for e in entries]).tobytes() for i, code in enumerate("qqddqdq")),
        *(array(code, [x[i + 3] for x in totals]).tobytes() for i, code in enumerate("dq")),
    )  # fmt: skip
    by_terms: dict[str, dict[int, tuple[float, float]]] = {}
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
        m = models[model]
        s, w = ex.get(m, (0.0, 0.0))
        ex[m] = (s + score * weight, w + weight)
    if not by_terms:
        return data, None
    offsets, ex_models, ex_sw, ex_w = array("q", [0]), array("i"), array("f"), array("f")
    for ex in by_terms.values():
        for m, (s, w) in ex.items():
            ex_models.append(m)
            ex_sw.append(s)
            ex_w.append(w)
        offsets.append(len(ex_models))
    from jarvis_cli.core.selection.prompt_terms import TermIndex, decode_terms

    index = TermIndex.build([decode_terms(t) for t in by_terms]).to_data()
    return data, (index, offsets.tobytes(), ex_models.tobytes(), ex_sw.tobytes(), ex_w.tobytes())
