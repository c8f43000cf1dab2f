"""`jarvis select` read by a developer: a realistic setup (openai, anthropic and gemini
presets on loopback fake providers, synced, so the bundled catalog's prices and
quality scores apply), on a real 80-column terminal and piped. Each test is a defect
found by reading the output on real prompts (../shared/data/tasks)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.test_complete import write_config
from tests.conftest import run_jarvis
from tests.fake_provider import FakeProvider
from tests.terminal import terminal

KEYS = {
    "OPENAI_API_KEY": "sk-test-openai-0000000000",
    "ANTHROPIC_API_KEY": "sk-ant-test-0000000000",
    "GEMINI_API_KEY": "gemini-test-0000000000",
}
LISTED = {
    "openai": ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5",
               "gpt-5-mini", "gpt-5-nano", "gpt-5.4", "o3", "o4-mini", "text-embedding-3-small",
               "text-embedding-3-large", "dall-e-3", "whisper-1"],
    "anthropic": ["claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-7", "claude-sonnet-5"],
    "gemini": ["gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro",
               "gemini-embedding-001"],
}  # fmt: skip
CODING = "Refactor this:\n```python\ndef f(x):\n    return x*2 if x else x*2\n```\n"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Three:
    home: Path
    env: dict[str, str]
    fakes: dict[str, FakeProvider]

    def run(self, *args: str) -> tuple[int, str, str]:
        proc = run_jarvis(*args, env=self.env)
        return proc.returncode, proc.stdout, proc.stderr

    def tty(self, *args: str, columns: int = 80) -> str:
        """What an 80-column terminal shows (stdout and stderr), colours stripped."""
        with terminal(*args, env={**os.environ, **self.env}, columns=columns) as term:
            shown = term.drain(quiet_s=1.0)
            assert term.wait() == 0, shown
        return ANSI.sub("", shown.decode().replace("\r\n", "\n"))


@pytest.fixture
def three(home: Path) -> Iterator[Three]:
    fakes = {name: FakeProvider(api_key=KEYS[f"{name.upper()}_API_KEY"], models=models)
             for name, models in LISTED.items()}  # fmt: skip
    for fake in fakes.values():
        fake.start()
    try:
        write_config(home, "".join(
            f'[providers.{n}]\nbase_url = "{f.base_url}"\n' for n, f in fakes.items()
        ))  # fmt: skip
        three = Three(home, dict(KEYS), fakes)
        code, _, err = three.run("models", "sync")
        assert code == 0, err
        yield three
    finally:
        for fake in fakes.values():
            fake.stop()


def test_the_table_fits_80_columns_with_its_title_on_one_line(three: Three) -> None:
    shown = three.tty("select", "--no-stdin", "--", CODING)
    lines = shown.splitlines()
    assert all(len(line) <= 80 for line in lines), [ln for ln in lines if len(ln) > 80]
    # the title used to carry the task's evidence and wrap ("...: top\n10 of 20 ...")
    assert re.fullmatch(r"balanced strategy, task coding: top 10 of \d+ candidates", lines[0])
    assert "task coding: the prompt holds a code fence (--task overrides)" in shown
    # the confidence says what holds it down, the fallbacks where they are in the table
    joined = re.sub(r"\n  (?! )", " ", shown)  # lines wrapped at 80 columns, rejoined
    assert re.search(r"\nchosen: \S+ \(confidence 0\.\d\d: [^)]*no calls measured yet", joined)
    assert re.search(r"\nfallbacks: \S+ \(#\d+\), \S+ \(#\d+\)", joined)


def test_the_legend_explains_the_marks_on_screen_and_only_those(three: Three) -> None:
    code, out, err = three.run("select", "--no-stdin", "--", CODING)
    assert code == 0, err
    table = out.split("quality sources: ")[0]
    marks = set(re.findall(r"\b[01]\.\d\d(?:±\.\d\d)? (\S+)", table))
    legend = out.split("quality sources: ")[1].split(";")[0]
    assert {part.split(" = ")[0] for part in legend.split(", ")} == marks
    assert "cfg = " not in out and "user = " not in out  # no such row: no such entry


def test_learned_quality_and_measured_latency_read_right(three: Three, tmp_path: Path) -> None:
    # 40 outcomes for one model: its margin rounds to nothing, shown as "±.00" before
    lines = [
        {"prompt": f"How many apples are left? case {i}", "model": "openai/gpt-5-nano",
         "score": 1.0 if i % 10 else 0.0, "task": "mathematics"}
        for i in range(40)
    ]  # fmt: skip
    path = tmp_path / "outcomes.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    code, _, err = three.run("outcomes", "import", str(path))
    assert code == 0, err
    # a measured call on the fake takes milliseconds: it read "0.0s meas"
    code, _, err = three.run("complete", "--no-stdin", "--model", "openai/gpt-5-nano", "hi")
    assert code == 0, err
    code, out, err = three.run(
        "select", "--no-stdin", "--task", "mathematics", "--explain", "--", "Add 2 and 3"
    )
    assert code == 0, err
    row = next(line for line in out.splitlines() if " openai/gpt-5-nano " in line)
    assert re.search(r" 0\.\d\d you ", row) and "±.00" not in row, row
    assert re.search(r" \d+ms meas ", row) and "0.0s" not in row, row
    assert "you = learnt from your outcomes (rate, outcomes import; --explain)" in out
    assert re.search(
        r"\nlearned: openai/gpt-5-nano 0\.\d\d: prior 0\.\d\d \(livebench [\d-]+\); your "
        r"mathematics outcomes 0\.90 \(n=40\)",
        out,
    ), out
    # another task: "you" is what the model scored on other tasks, and says so
    code, out, err = three.run("select", "--no-stdin", "--explain", "--json", "--", CODING)
    assert code == 0, err
    (nano,) = [c for c in json.loads(out)["candidates"] if c["model_id"] == "openai/gpt-5-nano"]
    assert nano["learned"]["you"] == {"score": 0.9, "n": 40}
    assert nano["learned"]["you_scope"] == "other tasks"
    # they count by how far they are from nano's mathematics prior, on its coding prior
    code, out, err = three.run(
        "select", "--no-stdin", "--task", "mathematics", "--json", "--explain", "--", "2+3?"
    )
    assert code == 0, err
    (as_math,) = [c for c in json.loads(out)["candidates"] if c["model_id"] == "openai/gpt-5-nano"]
    p_math, p_code = as_math["learned"]["prior"], nano["learned"]["prior"]
    assert abs(p_math - p_code) > 0.02, (p_math, p_code)  # the bundled table tells them apart
    assert nano["learned"]["other_tasks_prior"] == p_math
    expected = (p_code * 10 + 40 * (0.9 + p_code - p_math)) / (10 + 40)
    assert abs(nano["learned"]["value"] - expected) < 1e-3, (nano["learned"], expected)
    code, out, _ = three.run("select", "--no-stdin", "--explain", "--", CODING)
    assert "openai/gpt-5-nano" in out and (
        "no coding outcomes; your outcomes on other tasks 0.90 (n=40) against their prior "
        f"{p_math:.2f}" in out
    )


def test_explain_lists_a_provider_reason_once_per_provider(three: Three) -> None:
    code, out, err = three.run("select", "--no-stdin", "--explain", "--", "hi")
    assert code == 0, err
    group = re.search(r"\n  no key \(\d+\):\n((?:    .*\n)+)", out)
    assert group is not None, out
    rows = group.group(1).splitlines()
    # "openrouter (310 models): no key for openrouter (set ...)", not five openrouter rows
    assert re.match(r"    openrouter \(\d+ models\): no key for openrouter \(set ", rows[0]), rows
    assert all(re.match(r"    [a-z]+ \(\d+ models?\): no key for ", r) for r in rows[:-1])
    assert re.fullmatch(r"    \.\.\. and \d+ more providers", rows[-1]), rows
    assert "unavailable (" not in out or (
        "not listed by their provider at the last sync; `jarvis models sync PROVIDER`" in out
    )


def test_explain_states_the_prefer_formula_and_warns_when_it_overrides(three: Three) -> None:
    code, out, err = three.run(
        "select", "--no-stdin", "--explain", "--prefer", "0.5", "--strategy", "cost", "--", "hi"
    )
    assert code == 0, err
    assert "warning: --prefer 0.5 replaces the strategy: --strategy cost is ignored" in err
    # it read "score = 0.50 x cost + 0.50 x quality": not what --prefer ranks on
    assert "score = quality - 1 x estimated cost / the dearest candidate's (--prefer 0.5" in out
    assert "the task's (general) 0..1 quality less its uncertainty ±m" in out


def test_a_refusal_leads_with_the_limit_the_user_set(three: Three) -> None:
    code, _, err = three.run("select", "--no-stdin", "--max-cost", "0.00000001", "--", "hi")
    assert code == 6
    first = err.split("closest to qualifying:\n")[1].splitlines()[0]
    # the cheapest model and the budget it needs; it led with "make the embedding
    # model a chat model" and offered the first model by id, not the cheapest
    assert re.match(r"  \S+: estimated \$0\.000\d+ > max \$1e-08 -> raise --max-cost to", first)
    assert "text-embedding-3-small --type chat" not in err
    assert "gemini-embedding-001 --type chat" not in err
    code, _, err = three.run("select", "--no-stdin", "--min-quality", "0.99", "--", "hi")
    assert code == 6
    first = err.split("closest to qualifying:\n")[1].splitlines()[0]
    assert re.search(r"< --min-quality 0\.99 -> lower --min-quality to 0\.\d\d$", first), first


def test_help_shows_its_bracketed_text(three: Three) -> None:
    code, out, _ = three.run("select", "--help")
    assert code == 0
    flat = " ".join(re.sub(r"[│╭╮╰╯─]", " ", out).split())
    assert "or a [selection.weights.NAME] of config.toml" in flat  # rich ate it as markup
    assert "Expected output tokens [default: each model's mean from outcomes" in flat


@pytest.mark.parametrize(
    ("rule", "line"),
    [
        ("'number', 'return', 'text' (p 0.24)",
         "task coding: a weak guess (p 0.24) from 'number', 'return', 'text'; --task sets "
         "the right one"),
        ("'python', 'function' (p 1.00)",
         "task coding: inferred from 'python', 'function' (p 1.00; --task overrides)"),
        ("stack trace", "task coding: the prompt holds a stack trace (--task overrides)"),
        ("--task", "task coding: set by --task"),
    ],
)  # fmt: skip
def test_the_task_line_says_why_and_calls_a_weak_guess_one(rule: str, line: str) -> None:
    from jarvis_cli.cli.select_render import task_line

    assert task_line("coding", rule) == line


def test_fallbacks_out_of_table_order_say_why(three: Three) -> None:
    # embeddings: openai's second model is #2, gemini's is #3 and comes first
    code, out, err = three.run("select", "--no-stdin", "--type", "embedding", "--", "some text")
    assert code == 0, err
    line = next(ln for ln in out.splitlines() if ln.startswith("fallbacks: "))
    ranks = [int(r) for r in re.findall(r"\(#(\d+)\)", line)]
    assert len(ranks) == 2 and ranks != sorted(ranks), line
    assert line.endswith("; other providers first"), line


def test_an_unknown_preferred_model_says_where_to_look(three: Three) -> None:
    code, out, err = three.run("select", "--no-stdin", "--model", "openai/gpt-9", "--", "hi")
    assert code == 0 and out.startswith("balanced strategy"), err
    assert (
        "warning: preferred model openai/gpt-9 not used: not in the registry (see `jarvis "
        "models list --provider openai`; `jarvis models sync openai` fetches new ones)\n"
    ) in err
