"""`jarvis config`: read and change one setting of config.toml by its dotted name."""

from typing import Annotated

import typer

from jarvis_cli.cli import render
from jarvis_cli.cli.common import JsonOption, get_context

app = typer.Typer(
    add_completion=False,
    name="config",
    help="Read and change config.toml settings by name (e.g. defaults.model).",
    no_args_is_help=True,
)

KeyArg = Annotated[
    str,
    typer.Argument(
        help="Dotted setting name, e.g. defaults.model, defaults.strategy, cooldown.failures."
    ),
]


@app.command("get")
def get(key: KeyArg, json_output: JsonOption = False) -> None:
    """Print a setting's value as config.toml has it (exit 1 quietly when it is unset)."""
    from jarvis_cli.core.store.config_keys import get_key

    value = get_key(get_context().config, key)
    if json_output:
        render.emit_json({"key": key, "value": value, "set": value is not None})
        return
    if value is None:
        raise typer.Exit(1)
    render.line(str(value).lower() if isinstance(value, bool) else str(value))


@app.command("set")
def set_(
    key: KeyArg,
    value: Annotated[
        str, typer.Argument(help="The value: a number, true/false, or text.", show_default=False)
    ],
) -> None:
    """Set a setting in config.toml; the whole file is validated before it is written.

    `jarvis config set defaults.model llama/smollm2` makes `complete` and `chat` use
    that model when --model is not given (with the same fallback rules as --model).
    """
    from jarvis_cli.core.store.config_keys import parse_value, set_key

    ctx = get_context()
    parsed = parse_value(value)
    if key == "defaults.model":
        from jarvis_cli.core.registry.records import split_model_id

        parsed = value  # a model id is text, whatever it looks like
        split_model_id(value)  # UsageError naming what is wrong with it
    set_key(ctx.config, ctx.paths.config_file, key, parsed)
    render.message(f"set {key} = {parsed!r} in {ctx.paths.config_file}")


@app.command("unset")
def unset(key: KeyArg) -> None:
    """Remove a setting from config.toml (its default applies again)."""
    from jarvis_cli.core.store.config_keys import unset_key

    ctx = get_context()
    if unset_key(ctx.config, ctx.paths.config_file, key):
        render.message(f"removed {key} from {ctx.paths.config_file}")
    else:
        render.message(f"{key} was not set")


@app.command("keys")
def keys(json_output: JsonOption = False) -> None:
    """List the settings `config set` can change."""
    from jarvis_cli.core.store.config_keys import settable_keys

    names = settable_keys()
    if json_output:
        render.emit_json({"keys": names})
        return
    for name in names:
        render.line(name)
