"""The README's set-up commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Set-up (two commands)", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section, flags=re.S)


def test_readme_gives_two_setup_commands() -> None:
    install, test = readme_commands()
    assert "pip install" in install and "jarvis " in install
    assert "pip install" in test and "pytest" in test


def test_main_job_prints_the_table_and_json_is_documented_for_scripts() -> None:
    # issue 27: a newcomer's first command showed 1,263 lines of JSON.
    install, _ = readme_commands()
    assert "select --all" in install and "--json" not in install
    section = (ROOT / "README.md").read_text().split("## Set-up (two commands)", 1)[1]
    assert "Scripts add `--json`" in section.split("\n## ", 1)[0]


def test_readme_installs_from_the_checkout_not_by_a_taken_name() -> None:
    import tomllib

    text = (ROOT / "README.md").read_text()
    assert "pip install 'jarvis-cli" not in text
    name = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    assert name == "jarvis-llm-router" and f"`{name}`" in text
    install, _ = readme_commands()
    assert "pip install -q ." in install


def test_ci_runs_exactly_the_readme_test_command() -> None:
    _, test = readme_commands()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci_lines


def test_exit_code_table_matches_the_code() -> None:
    from jarvis_cli.core.errors import ExitCode

    text = (ROOT / "README.md").read_text()
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", text, flags=re.M)}
    assert documented == {int(c) for c in ExitCode}
