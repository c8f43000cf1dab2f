"""Prompt templates: one TOML file per template in `<config dir>/templates/`.

A person may edit them, so reading is strict (an unknown key or a wrong type is a
ConfigError naming the file and the key; the file is left as it is) and writing is
atomic and 0600. A prompt or system prompt may use `$input` (the argument and piped
stdin) and `$name` variables given with `-p name value`; `$$` is a literal `$`.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from jarvis_cli.core.errors import ConfigError, UsageError
from jarvis_cli.core.store.config_schema import integer, num, validate
from jarvis_cli.core.store.config_schema import string as str_check
from jarvis_cli.core.store.files import atomic_write, check_not_exposed

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
FIELDS = ("system", "prompt", "model", "strategy", "task", "max_tokens", "temperature")
SCHEMA: Mapping[str, Any] = {
    "system": str_check(),
    "prompt": str_check(),
    "model": str_check(what="a model id such as openai/gpt-4o-mini"),
    "strategy": str_check(what="a strategy name"),
    "task": str_check(what="a task category"),
    "max_tokens": integer(1, 10_000_000),
    "temperature": num(0, 2),
}


@dataclass(frozen=True)
class Template:
    """A saved prompt and the options that go with it (None: not set)."""

    name: str
    system: str | None = None
    prompt: str | None = None
    model: str | None = None
    strategy: str | None = None
    task: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None

    def as_toml_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "name" and v is not None}

    def variables(self) -> list[str]:
        """The variables its prompt and system use, in order of first use."""
        found: list[str] = []
        for text in (self.system, self.prompt):
            for name in _variables(text or ""):
                if name not in found:
                    found.append(name)
        return found


def templates_dir(config_dir: Path) -> Path:
    return config_dir / "templates"


def check_name(name: str) -> str:
    """A usage error (exit 2) for a name that could leave the templates directory."""
    if "/" in name or "\\" in name or ".." in name or not NAME_RE.match(name):
        raise UsageError(
            f"bad template name {name!r}: use letters, digits, '.', '-' or '_' "
            "(no '/' or '..'; at most 64)"
        )
    return name


def template_path(config_dir: Path, name: str) -> Path:
    return templates_dir(config_dir) / f"{check_name(name)}.toml"


def parse_template(name: str, text: str, path: Path) -> Template:
    """Validate the TOML text of a template; a ConfigError names the file and the key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: invalid TOML: {exc}", hint="fix it with: jarvis templates edit " + name
        ) from None
    validate(raw, SCHEMA, "", path)
    template = Template(name=name, **raw)
    for text_field in ("system", "prompt"):
        value = getattr(template, text_field)
        if value is not None:
            _check_syntax(value, path, text_field)
    return template


def load_template(config_dir: Path, name: str) -> Template:
    """The template `name`; a usage error (exit 2) when there is none."""
    path = template_path(config_dir, name)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"no template {name!r}",
            hint="see `jarvis templates list`; save one with "
            f"`jarvis templates save {name} --prompt …`",
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    check_not_exposed(path, "template")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None
    return parse_template(name, text, path)


def dump_template(template: Template) -> str:
    import tomli_w

    return tomli_w.dumps(template.as_toml_dict())


def save_template(config_dir: Path, template: Template) -> Path:
    """Validate and write `template` atomically (0600); returns its path."""
    path = template_path(config_dir, template.name)
    text = dump_template(template)
    parse_template(template.name, text, path)  # what is written must read back
    atomic_write(path, text.encode("utf-8"))
    return path


def list_templates(config_dir: Path) -> list[str]:
    """Names of the saved templates, sorted."""
    folder = templates_dir(config_dir)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.toml") if NAME_RE.match(p.stem))


def delete_template(config_dir: Path, name: str) -> None:
    path = template_path(config_dir, name)
    try:
        path.unlink()
    except FileNotFoundError:
        raise UsageError(f"no template {name!r}", hint="see `jarvis templates list`") from None


def apply_template(
    template: Template, input_text: str | None, params: Mapping[str, str]
) -> tuple[str | None, str]:
    """(system, prompt) with variables filled; a usage error names a missing variable.

    Input that the prompt does not place with `$input` is appended to it.
    """
    values = dict(params)
    if input_text is not None:
        values["input"] = input_text
    system = _fill(template.system, values, "system")
    if template.prompt is None:
        if input_text is None:
            raise UsageError(
                f"template {template.name!r} has no prompt: give one as an argument or on stdin"
            )
        return system, input_text
    prompt = _fill(template.prompt, values, "prompt")
    assert prompt is not None
    if input_text is not None and "input" not in _variables(template.prompt):
        prompt = f"{prompt}\n\n{input_text}" if prompt else input_text
    return system, prompt


def _fill(text: str | None, values: Mapping[str, str], where: str) -> str | None:
    if text is None:
        return None
    try:
        return string.Template(text).substitute(values)
    except KeyError as exc:
        name = exc.args[0]
        how = "give it as an argument or on stdin" if name == "input" else f"-p {name} VALUE"
        raise UsageError(
            f"the template's {where} uses ${name}, which was not given", hint=how
        ) from None


def _variables(text: str) -> list[str]:
    pattern = string.Template.pattern
    names = []
    for m in pattern.finditer(text):
        name = m.group("named") or m.group("braced")
        if name:
            names.append(name)
    return names


def _check_syntax(text: str, path: Path, key: str) -> None:
    for m in string.Template.pattern.finditer(text):
        if m.group("invalid") is not None:
            raise ConfigError(
                f"{path}: {key}: a '$' at character {m.start() + 1} is neither "
                "$name, ${name} nor $$",
                hint="write $$ for a literal dollar sign",
            )
