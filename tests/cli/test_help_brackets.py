"""Help text is rendered as rich markup: a literal `[defaults]` (a config.toml table)
written without its escape vanished from `--help`. Every option's help must show its
bracketed words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from jarvis_cli.cli import COMMANDS, build_command
from tests.conftest import JarvisRunner

_BRACKETED = re.compile(r"\\?\[([a-z_.]+)\]")  # `[defaults]` or its escaped form `\\[defaults]`


def _commands(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, [*path, name])


def _cases() -> list[tuple[list[str], str]]:
    cases = []
    for name in COMMANDS:
        for path, command in _commands(build_command(name), [name]):
            for param in command.params:
                for word in _BRACKETED.findall(getattr(param, "help", None) or ""):
                    cases.append((path, f"[{word}]"))
    return cases


def test_the_helper_finds_bracketed_help() -> None:
    assert (["models", "probe"], "[defaults]") in _cases()


@pytest.mark.parametrize(("path", "word"), _cases())
def test_bracketed_words_in_option_help_are_shown(
    jarvis: JarvisRunner, path: list[str], word: str
) -> None:
    result = jarvis(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert word in result.stdout
