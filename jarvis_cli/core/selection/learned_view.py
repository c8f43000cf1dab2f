"""What learning (learning.py) tells the table, `--explain` and `--json` about each
candidate: the value used next to the prior and the evidence behind it."""

# No `from __future__ import annotations`: typing.NamedTuple compiles each string
# annotation at import (a ForwardRef per field), ~40 % of its classes' cost.

from collections.abc import Callable, Sequence
from typing import NamedTuple

from jarvis_cli.core.selection.quality import Quality
from jarvis_cli.core.selection.tradeoff import posterior_var

# Per table position: the prior, the task's (or other tasks') score and count (< 0:
# other tasks), the similar prompts' score and count, the evidence behind the value,
# and the other tasks' weighted prior when outcomes transferred from them as residuals.
Facts = tuple[Quality, float | None, int, float | None, int, float, float | None]


class Learned(NamedTuple):
    """What outcomes say of one candidate for one request, next to the prior."""

    value: float  # the quality selection uses
    prior: float
    prior_source: str
    task_score: float | None  # step 1 (None = no outcomes for this model and task)
    task_n: int  # outcomes behind it
    similar_score: float | None  # step 2 (None = not enough similar prompts)
    similar_k: int
    # False: the model has no outcomes for this task, and task_score/task_n are its
    # outcomes on other tasks (what the model level says); for display only
    task_own: bool = True
    # the model's priors on those other tasks, weighted by their outcomes, when they
    # differ from this task's: the outcomes count by how far they are above or below
    # them (learning.py, residual transfer); None otherwise
    other_prior: float | None = None

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
            # what "you" covers: the request's task, or (none for it) the model's other tasks
            "you_scope": "task" if self.task_own else "other tasks",
            "other_tasks_prior": None if self.other_prior is None else round(self.other_prior, 4),
        }


class LearnedColumn:
    """The learned qualities of a candidate list (`qualities`, aligned with it) and a
    `Learned` per table position, built on demand (the table shows ten of 10,000)."""

    def __init__(
        self,
        qualities: list[Quality],
        facts: dict[int, Facts],
    ) -> None:
        self.qualities, self._facts = qualities, facts

    def variance_of(
        self, positions: Sequence[int], qualities: Sequence[Quality]
    ) -> tuple[Callable[[int], float | None], float]:
        """A function of a candidate's index in `positions` (aligned with `qualities`)
        giving its learned value's posterior variance (None: no outcomes), and the
        largest variance of any learned value (computed on demand: only quality alone
        and --prefer need them)."""
        get = self._facts.get
        widest = max((0.25 / (f[5] + 1.0) for f in self._facts.values()), default=0.0)

        def variance(j: int) -> float | None:
            found = get(positions[j])
            return None if found is None else posterior_var(qualities[j].value, found[5])

        return variance, widest

    def detail(self, position: int, value: float) -> Learned | None:
        """What outcomes say of the model at table `position`, whose learned quality is
        `value`; None when it has none."""
        found = self._facts.get(position)
        if found is None:
            return None
        prior, task_score, n, similar, k, _, other = found
        return Learned(
            value, prior.value, prior.source, task_score, abs(n), similar, k, n > 0, other
        )
