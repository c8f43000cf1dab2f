"""Expected output tokens learned from outcomes: what each model's answers are billed.

A request's expected cost prices its output at an expected number of tokens. Without
outcomes that is DEFAULT_OUTPUT_TOKENS (500) for every model, but models differ a lot:
on the ZeroEval replay (benchmarks/routing.py) the models' mean answers run from 86
to 213 tokens on gsm and from 146 to 842 on math-l5, and reasoning models bill their
hidden reasoning as output. Outcomes carry the output
tokens of their answer (`outcomes.output_tokens`: the completion tokens billed for a
rated or signalled request; given by an import line, or estimated there from its
`cost_usd` and the model's prices). A candidate's expected output for a request is:

1. the mean over its outcomes for the request's task that have a figure, when at
   least MIN_OUTPUT_SAMPLES do;
2. else the mean over all its outcomes that have one, under the same rule;
3. else DEFAULT_OUTPUT_TOKENS, as before —

always capped by the request's output limit (cost.request_cost; in qualification by
`[budgets] max_output_tokens`, `[defaults] max_tokens` and the model's maximum). An
explicit `select --output-tokens N` is the request's own expectation and is used as
given. Each outcome with a figure counts once, unweighted (an answer both rated and
signalled counts twice: both describe the same bill). MIN_OUTPUT_SAMPLES = 5: a
model's answer lengths on the replay have an SD of 0.4 (gsm) to 0.8 (math-l5) times
their mean (the median over models), so five put the mean within a fifth to a third
of itself, closer than the default, which is off by up to six times there; fewer
would let one long answer set a model's price.

The sums come with the learned snapshot (learning._build, one SQL aggregate with the
score sums); `for_task` is computed once per task and kept with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from jarvis_cli.core.selection.cost import ExpectedOutput

if TYPE_CHECKING:
    from array import array

    from jarvis_cli.core.registry.model_table import ModelTable

MIN_OUTPUT_SAMPLES = 5


class LearnedOutputs:
    """Sums and counts of output tokens per model and per (model, task), aligned with the
    learned snapshot's models and entries."""

    def __init__(
        self,
        models: Sequence[str],
        tasks: Sequence[str],
        totals: tuple[array[float], array[int]],
        entries: tuple[array[int], array[int], array[float], array[int]],
    ) -> None:
        self.models, self.tasks = models, tasks
        self.total_sum, self.total_n = totals
        self.entry_model, self.entry_task, self.entry_sum, self.entry_n = entries
        self._by_task: dict[str, dict[str, ExpectedOutput]] = {}

    def for_task(self, task: str) -> dict[str, ExpectedOutput]:
        """Model id -> expected output for `task`, for the models with enough figures."""
        found = self._by_task.get(task)
        if found is not None:
            return found
        models = self.models
        found = {
            models[m]: ExpectedOutput(_mean(s, n), n, None)
            for m, (s, n) in enumerate(zip(self.total_sum, self.total_n, strict=True))
            if n >= MIN_OUTPUT_SAMPLES
        }
        if task in self.tasks:
            t = self.tasks.index(task)
            for m, et, s, n in zip(
                self.entry_model, self.entry_task, self.entry_sum, self.entry_n, strict=True
            ):
                if et == t and n >= MIN_OUTPUT_SAMPLES:
                    found[models[m]] = ExpectedOutput(_mean(s, n), n, task)
        self._by_task[task] = found
        return found


def _mean(total: float, n: int) -> int:
    return int(total / n + 0.5)


def learned_outputs(
    table: ModelTable,
    cand: Sequence[int],
    expected: Mapping[str, ExpectedOutput],
    limit: int | None,
) -> dict[int, int]:
    """Position -> the output tokens each candidate with a learned expected output is
    priced at: its mean, capped by the request's output `limit` and the model's maximum
    (calibration.per_model_costs prices them)."""
    if not expected:
        return {}
    ids = table.ids
    max_out = table.columns["max_output_tokens"]
    get = expected.get
    outputs: dict[int, int] = {}
    for i in cand:
        e = get(ids[i])
        if e is None:
            continue
        tokens = e.tokens
        if limit is not None and tokens > limit:
            tokens = limit
        if tokens > max_out[i]:  # NaN (unknown maximum) compares False
            tokens = int(max_out[i])
        outputs[i] = tokens
    return outputs


__all__ = ["MIN_OUTPUT_SAMPLES", "ExpectedOutput", "LearnedOutputs", "learned_outputs"]
