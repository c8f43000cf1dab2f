"""Issue 24: `select` names the inferred task of a real prompt and its evidence, in the
table header and in `--json`; piped stdin counts; `--task` overrides."""

from __future__ import annotations

import json
import re

from tests.conftest import JarvisRunner

WORD_PROBLEM = (
    "Tom has 3 boxes with 12 apples each. He gives 7 apples to his sister. "
    "How many apples does he have left?"
)


def test_json_names_the_task_and_its_evidence(jarvis: JarvisRunner) -> None:
    proc = jarvis("select", "--all", "--json", WORD_PROBLEM)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["task"] == "mathematics"
    assert data["task_rule"].startswith("'how many'")
    assert re.search(r"\(p [01]\.\d\d\)$", data["task_rule"])
    assert all(c["task"] == "mathematics" for c in data["candidates"])


def test_the_table_header_shows_the_task_and_its_evidence(jarvis: JarvisRunner) -> None:
    proc = jarvis("select", "--all", "Is this sentence grammatically correct? 'Me and him goes.'")
    assert proc.returncode == 0, proc.stderr
    assert "strategy, task language: top 10 of" in proc.stdout
    assert re.search(
        r"\ntask language: inferred from 'grammatically'.* \(p [01]\.\d\d; --task overrides\)\n",
        proc.stdout,
    )


def test_piped_stdin_counts_toward_the_task(jarvis: JarvisRunner) -> None:
    diff = "diff --git a/app.py b/app.py\n@@ -1,2 +1,2 @@\n-x = 1\n+x = 2\n"
    proc = jarvis("select", "--all", "--json", "Write a commit message for this", input=diff)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["task"], data["task_rule"]) == ("coding", "diff")


def test_task_option_overrides_the_inferred_task(jarvis: JarvisRunner) -> None:
    proc = jarvis("select", "--all", "--json", "--task", "reasoning", WORD_PROBLEM)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["task"], data["task_rule"]) == ("reasoning", "--task")
