"""Task inference: the certain structures, the kinds of real prompt issue 24 found
misread, other languages, the evidence shown, what is read of a long prompt, --task."""

from __future__ import annotations

import re

import pytest

from jarvis_cli.core.errors import ExitCode, UsageError
from jarvis_cli.core.selection.task import TASKS, infer_task, resolve_task
from jarvis_cli.core.selection.task_features import HEAD_CHARS, TAIL_CHARS

SIGNATURE_AND_DOCSTRING = '''def median(xs: list[float]) -> float:
    """Return the median of xs.

    The list may be unsorted and may have an even number of items, in which case
    the mean of the two middle values is returned. An empty list raises ValueError.
    For example, the median of [3, 1, 2] is 2 and the median of [4, 1, 3, 2] is 2.5.
    """
'''


@pytest.mark.parametrize(
    ("prompt", "rule"),
    [
        ("Summarize what this does:\n```\nx = 1\n```", "code fence"),
        ("diff --git a/x.py b/x.py\n@@ -1,2 +1,2 @@\n-a\n+b\n", "diff"),
        ('Traceback (most recent call last):\n  File "a.py", line 3\nKeyError: 1', "stack trace"),
        ("Exception in thread main java.lang.NullPointerException", "stack trace"),
    ],
)
def test_a_fence_diff_or_stack_trace_is_coding_whatever_the_words(prompt: str, rule: str) -> None:
    assert infer_task(prompt) == ("coding", rule)


# Prompts written for these tests (none is in the development set), one or more per
# kind of miss that issue 24 names, plus plain requests of each category.
@pytest.mark.parametrize(
    ("category", "prompt"),
    [
        # Word problems without symbols or keywords; LaTeX with \cdot.
        (
            "mathematics",
            "Tom has 3 boxes with 12 apples each. He gives 7 apples to his sister. "
            "How many apples does he have left?",
        ),
        ("mathematics", r"Simplify $\frac{3x \cdot 2y}{6xy}$ for nonzero $x$ and $y$."),
        ("mathematics", "Prove that there are infinitely many primes"),
        ("mathematics", "Find x if 3x + 5 = 20"),
        # A Python signature with a long docstring; `assert f(...) ==` lines.
        ("coding", SIGNATURE_AND_DOCSTRING),
        (
            "coding",
            "Write a function that removes duplicates from a list.\n"
            "assert dedupe([1, 1, 2]) == [1, 2]\nassert dedupe([3, 3, 3]) == [3]\n"
            "assert dedupe([]) == []",
        ),
        ("coding", "Refactor the payment module to remove duplication"),
        ("coding", "fix the bug"),
        # Logic, date and ordering puzzles.
        (
            "reasoning",
            "Ravi says Mia lies. Mia says Sam lies. Sam says both Ravi and Mia lie. "
            "Does Ravi tell the truth?",
        ),
        ("reasoning", "Yesterday was April 30, 2021. What is the date tomorrow in MM/DD/YYYY?"),
        (
            "reasoning",
            "On a shelf there are three books: red, green, blue. The red book is to the left "
            "of the green one. The blue book is the rightmost. Which book is in the middle?",
        ),
        # Format constraints.
        ("instruction_following", "Write a cover letter for a barista in fewer than 4 sentences."),
        ("instruction_following", "List three benefits of exercise. Wrap the answer in XML."),
        ("instruction_following", "Write a blog post about remote work of at least 300 words."),
        # "grammatically"; translation and summaries.
        ("language", "Is this sentence grammatically correct? 'She don't like apples.'"),
        ("language", "Translate this letter into German"),
        (
            "language",
            "Summarize the following article in two sentences:\nThe city council met on Tuesday "
            "to discuss the new budget, which funds parks, roads and schools.",
        ),
        # Tables.
        ("data_analysis", "name,age,city\nann,31,oslo\nbob,42,rome\ncid,25,lima\n"),
        (
            "data_analysis",
            "Here are monthly sales:\nmonth,sales\nJan,120\nFeb,135\nMar,160\nApr,150\n"
            "Which month grew the most?",
        ),
        # General: knowledge, advice, creative writing.
        ("general", "What are the best places to visit in Portugal in spring?"),
        ("general", "Who was the first emperor of Rome?"),
        ("general", "Explain the causes of the French Revolution."),
        ("general", "hi"),
    ],
)
def test_real_kinds_of_prompt_get_their_category(category: str, prompt: str) -> None:
    assert infer_task(prompt).category == category


def test_correlation_in_an_essay_question_is_not_data_analysis() -> None:
    task = infer_task(
        "Write an essay discussing whether there is a correlation between wealth and happiness."
    )
    assert task.category != "data_analysis"


@pytest.mark.parametrize(
    ("category", "prompt"),
    [
        ("mathematics", "Maria hat 3 Äpfel und kauft 5 weitere. Wie viele Äpfel hat sie jetzt?"),
        (
            "mathematics",
            "Un tren recorre 60 km por hora. ¿Cuántos kilómetros recorre en 4 horas?",
        ),
        ("coding", "Напиши функцию на Python, которая проверяет, является ли строка палиндромом."),
        ("coding", "用Python写一个快速排序"),
        ("language", "请把这句话翻译成英文：我今天很忙。"),  # noqa: RUF001 (a Chinese colon)
        ("language", "Traduis en anglais : « Je voudrais réserver une table pour ce soir. »"),
    ],
)
def test_a_prompt_in_another_language_gets_a_task(category: str, prompt: str) -> None:
    assert infer_task(prompt).category == category


@pytest.mark.parametrize(
    ("prompt", "rule"),
    [
        ("What is 2+2?", "arithmetic '2+2'"),
        ("what is 17*23", "arithmetic '17*23'"),
        ("quick one: 3.5 + 2.25", "arithmetic '3.5 + 2.25'"),
        ("7 × 8", "arithmetic '7 × 8'"),  # noqa: RUF001 (the multiplication sign is meant)
        ("what's 12 / 4", "arithmetic '12 / 4'"),
    ],
)
def test_a_sum_the_model_calls_general_is_mathematics(prompt: str, rule: str) -> None:
    assert infer_task(prompt) == ("mathematics", rule)


@pytest.mark.parametrize(
    ("prompt", "category"),
    [
        ("What happened in Europe in 1914-1918?", "general"),  # a range, not a sum
        ("Which 1920x1080 monitor is best?", "general"),
        ("Rate this movie 5/5", "general"),
        ("In Python, why does 0.1+0.2 == 0.3 print False?", "coding"),  # the model's call
    ],
)
def test_numbers_that_are_not_a_sum_or_another_task_stay_put(prompt: str, category: str) -> None:
    assert infer_task(prompt).category == category


def test_the_rule_names_the_evidence_and_the_probability() -> None:
    task = infer_task("Write a blog post about remote work of at least 300 words.")
    assert task.rule.startswith("'at least N words'")
    assert re.search(r" \(p [01]\.\d\d\)$", task.rule), task.rule
    assert infer_task("hello there").quality_key is None
    assert infer_task("fix the bug").quality_key == "coding"
    assert infer_task("   ") == ("general", "no prompt")
    assert infer_task(None) == ("general", "no prompt")


def test_only_the_head_and_the_tail_of_a_long_prompt_are_read() -> None:
    filler = "lorem ipsum dolor sit amet " * 2000
    hidden = filler[:HEAD_CHARS] + "\n```python\nx = 1\n```\n" + filler
    assert infer_task(hidden).rule != "code fence"
    # A format constraint at the end of a long prompt is still seen.
    tail = "Tell me about the weather. " + filler + "\nAnswer in at most 50 words, all lowercase."
    assert len(tail) > HEAD_CHARS + TAIL_CHARS
    assert infer_task(tail).category == "instruction_following"


def test_task_option_overrides_inference_and_rejects_unknown_names() -> None:
    assert resolve_task("agentic-coding", "summarize this") == ("agentic_coding", "--task")
    assert resolve_task("Mathematics", "Write a poem") == ("mathematics", "--task")
    assert set(TASKS) >= {"general", "coding", "agentic_coding", "language"}
    with pytest.raises(UsageError) as info:
        resolve_task("poetry", None)
    assert info.value.exit_code == ExitCode.USAGE
    assert "unknown task 'poetry'" in info.value.message
    assert "instruction_following" in (info.value.hint or "")


def test_the_patterns_skipped_on_prose_still_see_what_they_need() -> None:
    # Patterns are tried only on a text holding the character they need (task_structure,
    # task_features); a digit that is not ASCII still counts as a number.
    from jarvis_cli.core.selection.task_features import features
    from jarvis_cli.core.selection.task_structure import structure

    assert structure("لدي ٣ تفاحات و ٥ برتقالات") == {"s:numbers 1-2"}  # noqa: RUF001
    assert {"s:call", "s:equation", "s:numbers 1-2"} <= structure("x = 3 and f(x) here")
    assert structure("plain prose only") == set()
    got = features("see a[0], \\frac, snake_case, camelCase, <b>, **bold**")
    assert {"p:[]", "p:\\", "p:_", "p:camel", "p:<tag>", "p:*"} <= got
    assert not {f for f in features("Plain prose, nothing more.") if f.startswith("p:")}
