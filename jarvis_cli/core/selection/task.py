"""Which kind of task a prompt is, so that quality can be scored for that task.

The categories are LiveBench's (the source of most bundled quality scores), plus
`general`, which scores a model by its overall quality. Inference reads the prompt
(and piped stdin) in three steps:

1. coding, for certain: a code fence, a unified diff or a stack trace;
2. otherwise a small linear model (`task_model.py`) over words, word pairs,
   characters of unspaced scripts, meaningful punctuation, structure (source-like
   lines, a signature with a docstring, `assert f(...) ==`, LaTeX, equations, tables,
   how many numbers the prose has) and per-category keyword lists
   (`task_lexicon.py`). Its weights are derived by `scripts/derive_task_model.py`
   from 1,400 labelled real prompts (../shared/data/tasks; held-out accuracy in
   docs/architecture.md). A prompt in any language gets a category;
3. a prompt the model calls `general` that holds an arithmetic expression ("What is
   17*23?") is mathematics: the development set has almost no bare sums, so the
   model never learnt them, and `general` only means nothing else showed. A model's
   other choice stands ("why is 0.1+0.2 not 0.3 in Python?" stays coding).

The rule shown (`task_rule` in `--json`) names the evidence: the structure of step 1,
or the model's strongest features for its choice and its probability.
`agentic_coding` is never inferred (a prompt does not say whether tools will be
used); ask for it with `--task agentic_coding`. Only the first 2,500 and the last 700
characters are read (`task_features.clip`), so a large piped file costs no more.
"""

# No `from __future__ import annotations`: typing.NamedTuple compiles each string
# annotation at import (a ForwardRef per field), ~40 % of its classes' cost.

import re
from functools import lru_cache
from typing import NamedTuple

from jarvis_cli.core.registry.quality import CATEGORIES

GENERAL = "general"
TASKS = (GENERAL, *CATEGORIES)  # general = a model's overall score


class Task(NamedTuple):
    """A task category and the rule that chose it (`--task` when the user said so)."""

    category: str
    rule: str

    @property
    def quality_key(self) -> str | None:
        """The category whose score quality uses; None = the overall score."""
        return None if self.category == GENERAL else self.category


# (name, substrings one of which the prompt must hold, pattern): the pattern is compiled
# only for a prompt holding one (~0.5 ms for the three, at every `select PROMPT`).
_CERTAIN: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("code fence", ("```", "~~~"), r"^\s*(```|~~~)"),
    ("diff", ("diff --git ", "@@ -"), r"^(diff --git |@@ -\d+(,\d+)? \+\d+(,\d+)? @@)"),
    (
        "stack trace",
        ("Traceback (", "at ", "Exception in thread ", "panicked at ", "File \"",
         "Segmentation fault", "error[E"),
        r"Traceback \(most recent call last\)|^\s+at [\w$.<>]+\(.*:\d+\)|Exception in thread "
        r"|panicked at |^\s*File \".*\", line \d+|\bSegmentation fault\b|^error\[E\d+\]",
    ),
)  # fmt: skip


def infer_task(prompt: str | None) -> Task:
    """The task category of `prompt` by the steps in the module docstring."""
    if not prompt or not prompt.strip():
        return Task(GENERAL, "no prompt")
    # Imported here: the weight table and the feature patterns cost nothing until a
    # prompt is classified (`jarvis --help` never pays for them).
    from jarvis_cli.core.selection.task_features import clip

    return _infer_clipped(clip(prompt))


@lru_cache(maxsize=16)
def _infer_clipped(text: str) -> Task:
    # Cached: one selection asks twice (ranking, then qualify) for the same prompt.
    from jarvis_cli.core.selection.task_model import shipped_model

    for name, marks, pattern in _CERTAIN:
        if any(mark in text for mark in marks) and re.search(pattern, text, re.MULTILINE):
            return Task("coding", name)
    guess = shipped_model().classify(text)
    if guess.category == GENERAL and any(op in text for op in "+*×÷^/"):  # noqa: RUF001
        sum_ = re.search(_ARITHMETIC, text)
        if sum_ is not None:
            return Task("mathematics", f"arithmetic {sum_.group(0)!r}")
    if not guess.evidence:
        return Task(GENERAL, "no task evidence")
    return Task(guess.category, f"{', '.join(guess.evidence)} (p {guess.probability:.2f})")


# Two numbers joined by +, *, the multiplication or division sign, ^ or a spaced /
# (step 3 of the module docstring); not `-` (years and ranges, "1914-1918"), not `x`
# ("1920x1080"). Compiled by re's cache, only for a prompt with an operator.
_ARITHMETIC = r"\d+(\.\d+)?\s*[+*×÷^]\s*\(?-?\d+(\.\d+)?|\d+\s+/\s+\d+"  # noqa: RUF001


def resolve_task(requested: str | None, prompt: str | None) -> Task:
    """`--task` if given (validated), else the inferred task."""
    if requested is None:
        return infer_task(prompt)
    name = requested.strip().lower().replace("-", "_").replace(" ", "_")
    if name not in TASKS:
        from jarvis_cli.core.errors import UsageError

        raise UsageError(f"unknown task {requested!r}", hint=f"known tasks: {', '.join(TASKS)}")
    return Task(name, "--task")
