"""`--help` shows what its source says (cli/help_text.py).

Found walking the README as a newcomer: typer renders help as rich markup, so the
config.toml tables named in help strings vanished ("Prompts are kept only while the
content log is on ( content)", "Seconds per probe (default:  timeout_s)", "or a  of
config.toml"), and every flag carried a `<bool>` type as if it took a value.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import JarvisRunner


def _commands() -> list[tuple[str, Any]]:
    import typer

    from jarvis_cli.cli import COMMANDS, app, build_command

    found: list[tuple[str, Any]] = [("jarvis", typer.main.get_command(app))]

    def walk(path: str, command: Any) -> None:
        found.append((path, command))
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(f"{path} {name}", sub)

    for name in COMMANDS:
        walk(f"jarvis {name}", build_command(name))
    return found


def test_every_help_string_renders_as_written() -> None:
    from rich.text import Text

    checked = 0
    for path, command in _commands():
        texts = [command.help, *(getattr(p, "help", None) for p in command.params)]
        for text in texts:
            if not text:
                continue
            checked += 1
            # What the source says, once rich has read the escapes it needed.
            assert Text.from_markup(text).plain == text.replace("\\[", "["), path
    assert checked > 200  # every command and option of the CLI, not a handful


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (["select"], "[selection.weights.NAME] of config.toml"),
        (["models", "probe"], "(default: [defaults] timeout_s)"),
        (["outcomes", "import"], "([log] content)"),
        (["complete"], "list[str] list[int]"),  # escaped by hand before: still once
    ],
)
def test_config_table_names_survive_in_help(
    jarvis: JarvisRunner, command: list[str], shown: str
) -> None:
    result = jarvis(*command, "--help", env={"COLUMNS": "250"})
    assert result.returncode == 0, result.stderr
    assert shown in result.stdout
    assert "\\[" not in result.stdout


def test_flags_show_no_value_type(jarvis: JarvisRunner) -> None:
    for command in ([], ["complete"], ["keys", "add"]):
        result = jarvis(*command, "--help")
        assert result.returncode == 0, result.stderr
        assert "<bool>" not in result.stdout, command
    # Options that take a value still say what kind.
    assert "<int range>" in jarvis("complete", "--help").stdout


def test_root_help_ends_with_first_steps_that_exist(jarvis: JarvisRunner) -> None:
    from jarvis_cli.cli import FIRST_STEPS
    from tests.test_readme import _command_problems

    shown = jarvis("--help", env={"COLUMNS": "80"})
    assert shown.returncode == 0
    steps = [
        line.split("   ")[0] for line in FIRST_STEPS.splitlines() if line.startswith("jarvis ")
    ]
    assert len(steps) == 4
    for step in steps:
        assert step in shown.stdout  # whole, on one line, at 80 columns
        assert _command_problems(step[len("jarvis ") :]) == [], step
    no_args = jarvis()  # what a newcomer types first
    assert no_args.returncode == 2 and "First steps:" in no_args.stdout + no_args.stderr


def test_complete_and_embed_help_show_examples(jarvis: JarvisRunner) -> None:
    shown = jarvis("complete", "--help")
    assert shown.returncode == 0
    assert 'git diff | jarvis complete "Write a commit message for this diff"' in shown.stdout
    assert "is refused (exit 7)" in shown.stdout and "(exit 6 when none is left)" in shown.stdout
    assert 'jarvis embed "first text" "second text" --json' in jarvis("embed", "--help").stdout
    batch = jarvis("batch", "--help", env={"COLUMNS": "120"}).stdout
    assert "jarvis batch eval.jsonl -o results.jsonl --concurrency 32 --max-total-cost 5" in batch
    assert '{"id": "case-1", "prompt": "…"}' in batch


def test_hidden_arguments_stay_out_of_the_usage_line(jarvis: JarvisRunner) -> None:
    for command in (["keys", "add"], ["keys", "rotate"]):
        shown = jarvis(*command, "--help")
        assert shown.returncode == 0
        usage = f"Usage: jarvis {' '.join(command)} [OPTIONS] {{provider}}"
        assert re.search(re.escape(usage) + r" *\n", shown.stdout), shown.stdout
        assert "stray" not in shown.stdout
    # It still catches a key typed after the provider, without echoing it.
    caught = jarvis("keys", "add", "openai", "sk-abcdefghijklmnopqrs123")
    assert caught.returncode == 2
    assert "keys are never taken from the command line" in caught.stderr
    assert "sk-abcdefghijklmnopqrs123" not in caught.stderr


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("(default: [defaults] timeout_s)", "(default: \\[defaults] timeout_s)"),
        ("list\\[str] stays", "list\\[str] stays"),
        ("\\[a] and [b]", "\\[a] and \\[b]"),
        ("[[log] content", "[\\[log] content"),
        ("\\\\[x]", "\\\\[x]"),
        ("[1, 2] is not a tag", "[1, 2] is not a tag"),
        ("no bracket", "no bracket"),
    ],
)
def test_escape_leaves_escaped_brackets_and_escapes_tags(text: str, escaped: str) -> None:
    """Only a bracket rich would take for a tag is escaped; a text whose brackets are all
    escaped already is returned as it is (without compiling the pattern)."""
    from jarvis_cli.cli.help_text import escape

    assert escape(text) == escaped
