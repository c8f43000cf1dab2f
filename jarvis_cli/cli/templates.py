"""`jarvis templates`: save, list, show, edit and delete prompt templates."""

from typing import Annotated

import typer

from jarvis_cli.cli import render, tables
from jarvis_cli.cli.common import JsonOption, WideOption, get_context

app = typer.Typer(
    add_completion=False,
    name="templates",
    help="Prompt templates: a saved prompt, system prompt and options, applied with -t NAME.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="Template name (letters, digits, '.', '-', '_').")]


@app.command("save")
def save(
    name: NameArg,
    system: Annotated[str | None, typer.Option("--system", "-s", help="System message.")] = None,
    prompt: Annotated[
        str | None,
        typer.Option("--prompt", help="The prompt; $input is the argument/stdin, $name a -p."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model to use (PROVIDER/NAME).")
    ] = None,
    strategy: Annotated[str | None, typer.Option(help="Selection strategy.")] = None,
    task: Annotated[
        str | None, typer.Option(help="Task category for selection (kept for --task).")
    ] = None,
    max_tokens: Annotated[int | None, typer.Option(min=1, help="Most tokens to generate.")] = None,
    temperature: Annotated[
        float | None, typer.Option(min=0.0, max=2.0, help="Sampling temperature.")
    ] = None,
) -> None:
    """Save (or replace) a template; at least one option is needed.

    Example: jarvis templates save summary -s "Be brief." --prompt 'Summarize: $input'
    """
    from jarvis_cli.core.errors import ConfigError, UsageError
    from jarvis_cli.core.store.templates import Template, check_name, save_template

    check_name(name)
    template = Template(
        name=name,
        system=system,
        prompt=prompt,
        model=model,
        strategy=strategy,
        task=task,
        max_tokens=max_tokens,
        temperature=temperature,
    )
    if not template.as_toml_dict():
        raise UsageError(
            "a template needs at least one of --prompt, -s, --model, --strategy, --task, "
            "--max-tokens, --temperature"
        )
    try:
        path = save_template(get_context().paths.config_dir, template)
    except ConfigError as exc:  # e.g. a stray $ in --prompt: the command line is wrong
        raise UsageError(exc.message, hint=exc.hint) from None
    render.message(f"saved template {name} ({path})")


@app.command("list")
def list_(wide: WideOption = False, json_output: JsonOption = False) -> None:
    """The saved templates with their prompts."""
    from jarvis_cli.core.errors import ConfigError
    from jarvis_cli.core.store.templates import list_templates, load_template

    config_dir = get_context().paths.config_dir
    entries = []
    for name in list_templates(config_dir):
        try:
            t = load_template(config_dir, name)
        except ConfigError as exc:
            entries.append({"name": name, "error": exc.message})
            continue
        entries.append({"name": name, **t.as_toml_dict()})
    if json_output:
        render.emit_json(entries)
        return
    if not entries:
        render.message("no templates yet: jarvis templates save NAME --prompt '…'")
        return
    from jarvis_cli.cli.tables import ID, TEXT, Column

    tables.table(
        [
            Column("name", ID),
            Column("model", ID, priority=1),
            Column("prompt", TEXT, min_width=20),
            Column("system", TEXT, priority=2),
        ],
        [
            (
                e["name"],
                e.get("model", ""),
                e.get("error") or e.get("prompt", ""),
                e.get("system", ""),
            )
            for e in entries
        ],
        wide=wide,
    )


@app.command("show")
def show(name: NameArg, json_output: JsonOption = False) -> None:
    """One template as its TOML file says it."""
    import sys

    from jarvis_cli.core.store.templates import dump_template, load_template

    template = load_template(get_context().paths.config_dir, name)
    if json_output:
        render.emit_json({"name": name, **template.as_toml_dict()})
        return
    sys.stdout.write(dump_template(template))


@app.command("edit")
def edit(name: NameArg) -> None:
    """Open a template in $EDITOR; the result is checked before it replaces the file.

    A new name starts from an empty file. If the edited text is not a valid template,
    the saved file is left as it was (exit 3).
    """
    import os
    import shlex
    import subprocess
    import tempfile
    from pathlib import Path

    from jarvis_cli.core.errors import ConfigError, UsageError
    from jarvis_cli.core.store.files import atomic_write, ensure_private_dir
    from jarvis_cli.core.store.templates import parse_template, template_path

    ctx = get_context()
    path = template_path(ctx.paths.config_dir, name)
    editor = ctx.env.get("VISUAL") or ctx.env.get("EDITOR")
    if not editor:
        raise UsageError("no editor: set $EDITOR (or $VISUAL)", hint=f"or edit {path} by hand")
    try:
        original = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        original = '# prompt = "Summarize: $input"\n# system = "Be brief."\n'
    ensure_private_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{name}.", suffix=".toml")
    tmp = Path(tmp_name)
    with os.fdopen(fd, "w", encoding="utf-8") as f:  # mkstemp makes it 0600
        f.write(original)
    try:
        status = subprocess.call([*shlex.split(editor), str(tmp)])
    except (OSError, ValueError) as exc:  # not found, not executable, unbalanced quotes
        tmp.unlink(missing_ok=True)
        raise UsageError(
            f"cannot run the editor {editor!r}: {getattr(exc, 'strerror', None) or exc}",
            hint="set $EDITOR (or $VISUAL) to an editor command, e.g. EDITOR=nano",
        ) from None
    try:
        text = tmp.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:  # the editor removed it, or wrote bytes
        raise ConfigError(
            f"cannot read the edited text ({getattr(exc, 'strerror', None) or exc}); "
            f"{path} is unchanged",
            hint=f"the edit (if any) is in {tmp}",
        ) from None
    if status != 0 or (text == original and path.exists()):
        tmp.unlink(missing_ok=True)
        if status != 0:
            raise ConfigError(f"the editor exited with status {status}; {path} is unchanged")
        render.message(f"template {name} unchanged")
        return
    try:
        parse_template(name, text, path)
    except ConfigError as exc:
        # The edit is kept (0600, beside the template) so that no typing is lost.
        raise ConfigError(
            f"{exc.message} (the edit was not saved; {path} is unchanged)",
            hint=f"your edited text is in {tmp}; fix it there and copy it over, or edit again",
        ) from None
    atomic_write(path, text.encode("utf-8"))
    tmp.unlink(missing_ok=True)
    render.message(f"saved template {name} ({path})")


@app.command("delete")
def delete(name: NameArg) -> None:
    """Delete a template."""
    from jarvis_cli.core.store.templates import delete_template

    delete_template(get_context().paths.config_dir, name)
    render.message(f"deleted template {name}")
