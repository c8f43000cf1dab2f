"""Task inference: each documented rule, its precedence, and --task."""

from __future__ import annotations

import pytest

from jarvis_cli.core.errors import ExitCode, UsageError
from jarvis_cli.core.selection.task import SCAN_CHARS, TASKS, infer_task, resolve_task

PYTHON = "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n"


@pytest.mark.parametrize(
    ("prompt", "category", "rule"),
    [
        ("Why does this fail?\n```python\nprint(1/0)\n```", "coding", "code fence"),
        ("diff --git a/x.py b/x.py\n@@ -1,2 +1,2 @@\n-a\n+b\n", "coding", "diff"),
        (
            'Traceback (most recent call last):\n  File "a.py", line 3, in <module>\nKeyError: 1',
            "coding",
            "stack trace",
        ),
        ("Exception in thread main java.lang.NullPointerException", "coding", "stack trace"),
        (PYTHON, "coding", "source code"),
        ("Refactor the payment module to remove duplication", "coding", "keyword 'refactor'"),
        ("Find x if 3x + 5 = 20", "mathematics", "math notation"),
        (r"Compute \int_0^1 x^2 dx", "mathematics", "math notation"),
        ("Prove that there are infinitely many primes", "mathematics", "keyword 'prove'"),
        ("name,age,city\nann,31,oslo\nbob,42,rome\ncid,25,lima\n", "data_analysis", "table"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "data_analysis", "table"),
        ("Analyze the data from our sales survey", "data_analysis", "keyword 'analyze the data'"),
        (
            "Summarize the attached design document in five bullet points",
            "language",
            "keyword 'summarize'",
        ),
        ("Translate this letter into German", "language", "keyword 'translate'"),
        ("Solve this logic puzzle about three doors", "mathematics", "keyword 'solve'"),
        ("Here is a riddle: what has keys but no locks?", "reasoning", "keyword 'riddle'"),
        ("Reply in exactly 12 words about autumn", "instruction_following", "keyword "),
        ("hi", "general", "no rule matched"),
        (None, "general", "no prompt"),
    ],
)
def test_each_rule_infers_its_category(prompt: str | None, category: str, rule: str) -> None:
    task = infer_task(prompt)
    assert task.category == category
    assert task.rule.startswith(rule)


def test_structure_beats_keywords_and_general_scores_overall() -> None:
    # A fenced snippet is coding even when the words say "summarize".
    assert infer_task("Summarize what this does:\n```\nx = 1\n```").category == "coding"
    assert infer_task("hello there").quality_key is None
    assert infer_task("fix the bug").quality_key == "coding"


def test_only_the_first_characters_are_scanned() -> None:
    late = "a" * (SCAN_CHARS + 10) + "\n```python\nx = 1\n```"
    assert infer_task(late).category == "general"


def test_task_option_overrides_inference_and_rejects_unknown_names() -> None:
    assert resolve_task("agentic-coding", "summarize this") == ("agentic_coding", "--task")
    assert set(TASKS) >= {"general", "coding", "agentic_coding", "language"}
    with pytest.raises(UsageError) as info:
        resolve_task("poetry", None)
    assert info.value.exit_code == ExitCode.USAGE
    assert "unknown task 'poetry'" in info.value.message
    assert "instruction_following" in (info.value.hint or "")
