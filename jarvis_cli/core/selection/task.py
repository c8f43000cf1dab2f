"""Which kind of task a prompt is, so that quality can be scored for that task.

The categories are LiveBench's (the source of most bundled quality scores), plus
`general`, which scores a model by its overall quality. Inference is a handful of
ordered rules over the prompt (and piped stdin); the first that fires wins:

1. coding: a code fence, a unified diff, a stack trace, or text whose lines look
   like source code (at least 3 lines and 40 % of the non-blank ones);
2. mathematics: LaTeX or math symbols, or an equation with a variable
   (`3x + 5 = 20`, `x^2`);
3. data_analysis: a table (Markdown `|---|`, or 3+ lines of CSV/TSV with the same
   number of separators);
4. keywords, checked in this order: coding (refactor, function, bug, compile, …),
   mathematics (prove, solve, integral, …), data_analysis (analyze the data,
   dataset, csv, …), language (summarize, translate, rewrite, proofread, …),
   reasoning (puzzle, riddle, logic, deduce, step by step, …),
   instruction_following (exactly N words, respond only with, …);
5. otherwise general.

`agentic_coding` is never inferred (a prompt does not say whether tools will be
used); ask for it with `--task agentic_coding`. Only the first 20,000 characters
are looked at, so a large piped file costs no more than that.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from jarvis_cli.core.registry.quality import CATEGORIES

GENERAL = "general"
TASKS = (GENERAL, *CATEGORIES)  # general = a model's overall score
SCAN_CHARS = 20_000


class Task(NamedTuple):
    """A task category and the rule that chose it (`--task` when the user said so)."""

    category: str
    rule: str

    @property
    def quality_key(self) -> str | None:
        """The category whose score quality uses; None = the overall score."""
        return None if self.category == GENERAL else self.category


_FENCE = re.compile(r"^\s*(```|~~~)", re.MULTILINE)
_DIFF = re.compile(r"^(diff --git |@@ -\d+(,\d+)? \+\d+(,\d+)? @@|--- a/|\+\+\+ b/)", re.MULTILINE)
_TRACE = re.compile(
    r"Traceback \(most recent call last\)|^\s+at [\w$.<>]+\(.*:\d+\)|Exception in thread "
    r"|panicked at |^\s*File \".*\", line \d+|\bSegmentation fault\b|^error\[E\d+\]",
    re.MULTILINE,
)
_SOURCE_LINE = re.compile(
    r"^\s*(def |class |import |from \S+ import |#include|function |const |let |var |fn "
    r"|pub |public |private |return\b|if \(|for \(|while \(|}\s*$|.*[;{]\s*$|@\w+|package "
    r"|func |SELECT |INSERT |CREATE TABLE |(if|elif|else|for|while|try|except|with)\b.*:\s*$"
    r"|[\w.\[\]]+\s*[-+*/%]?=\s*\S)"
)
_MATH_NOTATION = re.compile(
    r"\\(frac|int|sum|sqrt|lim|begin\{(equation|align)\})|[∫∑√∞≤≥≠∂πθ]"
    r"|\b\d*[a-z]\s*\^\s*\d|\b\d+\s*[a-z]\s*[-+*/]\s*\d+\s*=\s*-?\d"
    r"|\b[a-z]\s*[-+*/]\s*\d+\s*=\s*-?\d"
)
_MD_TABLE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$", re.MULTILINE)


def _words(*terms: str) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(terms) + r")\b", re.IGNORECASE)


_KEYWORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "coding",
        _words(
            r"refactor\w*",
            r"debug\w*",
            r"compile[sd]?",
            r"compiler",
            r"function",
            r"bug",
            r"unit tests?",
            r"regex",
            r"sql query",
            r"python",
            r"javascript",
            r"typescript",
            r"rust",
            r"golang",
            r"java",
            r"c\+\+",
            r"code",
            r"script",
            r"api endpoint",
            r"stack trace",
            r"implement\w*",
        ),
    ),
    (
        "mathematics",
        _words(
            r"prove",
            r"proof",
            r"solve",
            r"integral",
            r"derivative",
            r"equation",
            r"theorem",
            r"lemma",
            r"probability",
            r"polynomial",
            r"matrix",
            r"eigenvalues?",
        ),
    ),
    (
        "data_analysis",
        _words(
            r"analy[sz]e the data",
            r"data ?set",
            r"csv",
            r"spreadsheet",
            r"pivot",
            r"column",
            r"rows",
            r"statistics",
            r"correlation",
            r"average of",
        ),
    ),
    (
        "language",
        _words(
            r"summari[sz]e",
            r"summary",
            r"translate",
            r"translation",
            r"rewrite",
            r"rephrase",
            r"paraphrase",
            r"proofread",
            r"grammar",
            r"tl;?dr",
        ),
    ),
    (
        "reasoning",
        _words(
            r"puzzle",
            r"riddle",
            r"logic(al)?",
            r"deduce",
            r"step by step",
            r"which of the following",
            r"if all",
            r"knights and knaves",
            r"who is lying",
        ),
    ),
    (
        "instruction_following",
        re.compile(
            r"\b(exactly \d+ (words|sentences|lines)|respond only with|answer only with"
            r"|do not use the (letter|word)|all (lower|upper)case|without using the)\b",
            re.IGNORECASE,
        ),
    ),
)


def _looks_like_source(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 3:
        return False
    hits = sum(1 for line in lines if _SOURCE_LINE.match(line))
    return hits >= 3 and hits >= 0.4 * len(lines)


def _looks_tabular(text: str) -> bool:
    if _MD_TABLE.search(text):
        return True
    for sep in (",", "\t", ";"):
        counts = [line.count(sep) for line in text.splitlines() if line.strip()]
        run = best = 0
        for prev, cur in zip([None, *counts], counts, strict=False):
            run = run + 1 if cur >= 2 and cur == prev else (1 if cur >= 2 else 0)
            best = max(best, run)
        if best >= 3:
            return True
    return False


def infer_task(prompt: str | None) -> Task:
    """The task category of `prompt` by the rules in the module docstring."""
    if not prompt:
        return Task(GENERAL, "no prompt")
    text = prompt[:SCAN_CHARS]
    if _FENCE.search(text):
        return Task("coding", "code fence")
    if _DIFF.search(text):
        return Task("coding", "diff")
    if _TRACE.search(text):
        return Task("coding", "stack trace")
    if _looks_like_source(text):
        return Task("coding", "source code")
    if _MATH_NOTATION.search(text):
        return Task("mathematics", "math notation")
    if _looks_tabular(text):
        return Task("data_analysis", "table")
    for category, pattern in _KEYWORDS:
        found = pattern.search(text)
        if found:
            return Task(category, f"keyword {found.group(0).lower()!r}")
    return Task(GENERAL, "no rule matched")


def resolve_task(requested: str | None, prompt: str | None) -> Task:
    """`--task` if given (validated), else the inferred task."""
    if requested is None:
        return infer_task(prompt)
    name = requested.strip().lower().replace("-", "_").replace(" ", "_")
    if name not in TASKS:
        from jarvis_cli.core.errors import UsageError

        raise UsageError(f"unknown task {requested!r}", hint=f"known tasks: {', '.join(TASKS)}")
    return Task(name, "--task")
