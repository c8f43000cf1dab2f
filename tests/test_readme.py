"""The README's set-up commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import JarvisRunner
from tests.fake_provider import FakeProvider

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


# --- Every command the README shows exists, with the options it names -------------
# (a newcomer's walk found `jarvis models --capability vision`: `models` has no such
# option, `models list` has)

_OTHER_PROGRAMS = {"jq", "head", "grep", "awk", "tail", "wc", "sort", "xargs"}


def readme_jarvis_commands() -> list[str]:
    """What follows `jarvis ` in every sh/unlabelled code block line and inline code span."""
    text = (ROOT / "README.md").read_text()
    found: list[str] = []
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)
    for language, block in blocks:
        if language not in ("", "sh"):
            continue
        for line in block.replace("\\\n", " ").splitlines():
            match = re.search(r"(?:^|[|;&(]\s*|\$\(|^\s*)jarvis (.*)", line)
            if match:
                found.append(match.group(1))
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    spans = re.findall(r"`([^`\n]+)`", prose)
    found += [span[len("jarvis ") :] for span in spans if span.startswith("jarvis ")]
    return found


def _options(command: object) -> set[str]:
    names = {"-h", "--help"}
    for param in getattr(command, "params", ()):
        names.update(getattr(param, "opts", ()))
        names.update(getattr(param, "secondary_opts", ()))
    return names


def _command_problems(line: str) -> list[str]:
    from jarvis_cli.cli import COMMANDS, build_command

    words = re.split(r"\s#\s|\s#$", line)[0].replace("[", " ").replace("]", " ").split()
    if not words or words[0].startswith("sk-"):  # the key-in-argv example
        return []
    if words[0].startswith("-"):
        return [] if words[0] in ("--version", "--help", "-h") else [f"no root option {words[0]}"]
    if words[0] not in COMMANDS:
        return [f"no command {words[0]!r}"]
    command, parent, i = build_command(words[0]), None, 1
    while getattr(command, "commands", None) and i < len(words) and words[i] in command.commands:
        parent, command = command, command.commands[words[i]]
        i += 1
    problems = []
    if getattr(command, "commands", None) and i < len(words):
        word = words[i]
        takes_args = any(p.param_type_name == "argument" for p in command.params)
        alternatives = word.split("/")  # `providers add/remove`
        if all(w in command.commands for w in alternatives):
            command = command.commands[alternatives[0]]
        elif not word.startswith(("-", "|")) and not takes_args:
            problems.append(f"no subcommand {word!r} of jarvis {words[0]}")
    for word in words[i:]:
        if word in _OTHER_PROGRAMS:
            break
        if parent is not None and word in parent.commands:  # `list [--json] | show NAME`
            command = parent.commands[word]
            continue
        option = re.fullmatch(r"(--?[A-Za-z][\w-]*)(=.*)?[,.:;)]*", word)
        if option and option.group(1) not in _options(command):
            problems.append(f"jarvis {' '.join(words[:i])}: no option {option.group(1)}")
    return problems


def test_every_command_and_option_the_readme_shows_exists() -> None:
    assert _command_problems("models --capability vision") == [
        "jarvis models: no option --capability"
    ]
    assert _command_problems("models lst") == ["no subcommand 'lst' of jarvis models"]
    commands = readme_jarvis_commands()
    assert len(commands) > 80  # the code blocks and the prose, not a handful
    problems = {c: p for c in commands if (p := _command_problems(c))}
    assert problems == {}


# --- The config.toml reference is valid and complete ---------------------------------


def _schema_paths(schema: object, prefix: str = "") -> set[str]:
    if isinstance(schema, tuple) and schema and schema[0] == "map":
        return _schema_paths(schema[1], prefix + "*.") or {prefix + "*"}
    if isinstance(schema, dict):
        return set().union(
            *(_schema_paths(v, f"{prefix}{k}.") or {prefix + k} for k, v in schema.items())
        )
    return set()


def _example_paths(schema: object, value: object, prefix: str = "") -> set[str]:
    if isinstance(schema, tuple) and schema and schema[0] == "map":
        assert isinstance(value, dict)
        if not isinstance(schema[1], dict):
            return {prefix + "*"}
        return set().union(*(_example_paths(schema[1], v, prefix + "*.") for v in value.values()))
    if isinstance(schema, dict):
        assert isinstance(value, dict)
        return set().union(
            *(
                _example_paths(schema[k], v, f"{prefix}{k}.")
                for k, v in value.items()
                if k in schema
            )
        )
    return {prefix.rstrip(".")}


def test_config_reference_is_valid_and_names_every_key() -> None:
    import tomllib

    from jarvis_cli.core.store.config import SCHEMA, parse_config

    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration reference (`config.toml`)", 1)[1]
    example = tomllib.loads(section.split("```toml\n", 1)[1].split("```", 1)[0])
    parse_config(example, ROOT / "README.md")  # raises ConfigError naming the bad key
    schema = {p.rstrip(".") for p in _schema_paths(SCHEMA)}
    assert _example_paths(SCHEMA, example) == schema


# --- The README's JSON examples have the fields the commands print --------------------


def _readme_json(after: str) -> dict[str, object]:
    import json

    text = (ROOT / "README.md").read_text()
    block = text.split(after, 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    return json.loads(block.replace("…", "x"))


def _key_paths(doc: object, prefix: str = "") -> set[str]:
    """Dotted key paths of `doc`; a list stands for its first element (`attempts[]`)."""
    if isinstance(doc, list):
        return _key_paths(doc[0], prefix + "[].") if doc else set()
    if not isinstance(doc, dict):
        return set()
    paths = set()
    for key, value in doc.items():
        paths.add(prefix + key)
        if key not in ("usage", "weights", "scores", "learned"):  # open-ended maps
            paths |= _key_paths(value, f"{prefix}{key}.")
    return paths


def test_complete_and_select_json_examples_have_every_field(
    fake_provider: FakeProvider, home: Path, jarvis: JarvisRunner
) -> None:
    import json

    fake_provider.set_models(["gpt-4o-mini"])
    home.mkdir(parents=True, exist_ok=True)
    config = home / "config.toml"
    config.write_text(f'[providers.openai]\nbase_url = "{fake_provider.base_url}"\n')
    config.chmod(0o600)
    env = {"OPENAI_API_KEY": "sk-readme-test-0123456789"}
    assert jarvis("models", "sync", "openai", env=env).returncode == 0

    done = jarvis(
        "complete", "hi", "-m", "openai/gpt-4o-mini", "--max-cost", "1", "--json", env=env
    )
    assert done.returncode == 0, done.stderr
    example = _readme_json("`complete --json` (and `embed --json`")
    assert _key_paths(json.loads(done.stdout)) == _key_paths(example)

    chosen = jarvis("select", "hi", "--json", env=env)
    assert chosen.returncode == 0, chosen.stderr
    actual = json.loads(chosen.stdout)
    assert actual["excluded"]  # the catalog's other providers: no key
    assert _key_paths(actual) == _key_paths(_readme_json("`select --json`:"))


def test_wide_is_listed_on_exactly_the_commands_that_have_it() -> None:
    from jarvis_cli.cli import COMMANDS, build_command

    text = " ".join((ROOT / "README.md").read_text().split())
    listed = text.split("`--wide` (on ", 1)[1].split(")", 1)[0]
    documented = set(re.findall(r"`([a-z ]+)`", listed))
    having = set()
    for name in COMMANDS:
        command = build_command(name)
        subcommands = getattr(command, "commands", None) or {}
        for path, cmd in [(name, command), *((f"{name} {s}", c) for s, c in subcommands.items())]:
            if "--wide" in _options(cmd):
                having.add(path)
    assert documented == having


# --- Tables the README copies from the code ----------------------------------------


def _table_rows(header: str) -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    table = text.split(header, 1)[1].split("\n\n", 1)[0]
    lines = table.splitlines()[2:]
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]


def test_built_in_providers_table_matches_the_presets() -> None:
    from jarvis_cli.core.providers.presets import PRESETS

    documented = {
        row[0]: (row[1], row[2]) for row in _table_rows("| name | base URL | key variable |")
    }
    actual = {
        name: (spec.base_url, spec.api_key_env if spec.needs_key else "none needed")
        for name, spec in PRESETS.items()
    }
    assert documented == actual


def test_attachment_size_table_matches_the_limits() -> None:
    from jarvis_cli.core.providers.presets import (
        ATTACHMENT_LIMITS,
        DEFAULT_ATTACHMENT_LIMIT,
        MB,
    )

    def mib(cell: str) -> int:
        return int(cell.split()[0]) * MB

    rows = _table_rows("| provider | images | PDFs | source |")
    documented = {row[0]: {"image": mib(row[1]), "pdf": mib(row[2])} for row in rows}
    default = documented.pop("any other or custom")
    assert default == {"image": DEFAULT_ATTACHMENT_LIMIT, "pdf": DEFAULT_ATTACHMENT_LIMIT}
    assert documented == ATTACHMENT_LIMITS


def test_readme_attaches_only_what_attach_takes() -> None:
    # `-a invoices.csv` was an example: a CSV is text, refused with exit 2.
    attached = []
    for command in readme_jarvis_commands():
        words = command.split()
        attached += [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-a", "--attach")]
    assert len(attached) >= 5
    allowed = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".pdf")
    for value in attached:
        value = value.strip("\"'")
        assert value == "-" or value.startswith("https://") or value.endswith(allowed), value
