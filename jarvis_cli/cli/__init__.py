"""The jarvis command line: a thin Typer shell over `jarvis_cli.core`.

`main()` is the single catch point: a JarvisError becomes `error: ...` on stderr
and its exit code; anything else is a bug (exit 1) whose traceback is shown only
with JARVIS_DEBUG=1. Every message passes through `redact` first.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer._click.exceptions import ClickException
from typer.core import TyperGroup

from jarvis_cli import GC_GEN0_THRESHOLD, __version__
from jarvis_cli.cli.stdio import (
    ended_by_broken_pipe,
    guard_closed_stdio,
    is_output_error,
    print_output_error,
    silence_stdout,
)
from jarvis_cli.core.errors import ExitCode, JarvisError, StoreError
from jarvis_cli.core.redact import SECRET_HINT, redact, secret_shaped

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}
PAIR_METAVAR = "KEY VALUE"

# name -> (module, attribute, summary): a command function or a sub-app, and the first
# line of its help. Help lists them in this order, the daily ones first. A module is
# imported only when its command runs: `jarvis select` imports and builds `select`
# alone, and `jarvis --help` (or completing the first word) shows the summaries
# without importing any command module. tests/cli/test_root.py keeps the summaries
# equal to the commands' own help.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "complete": (
        "jarvis_cli.cli.complete",
        "complete",
        "Complete a prompt with the best model your keys and budget allow.",
    ),
    "chat": (
        "jarvis_cli.cli.chat",
        "chat",
        "Chat interactively; the model is chosen once (or given with --model).",
    ),
    "embed": (
        "jarvis_cli.cli.complete",
        "embed",
        "Embed texts with the selected (or given) embedding model.",
    ),
    "batch": (
        "jarvis_cli.cli.batch",
        "batch",
        "Run many requests from a JSONL file: routed, concurrent, within budget, resumable.",
    ),
    "select": (
        "jarvis_cli.cli.select",
        "select",
        "Show the model jarvis would pick for a request, its fallbacks and the reasoning.",
    ),
    "rate": (
        "jarvis_cli.cli.rate",
        "rate",
        "Rate an answer (good, bad or 0..1): selection learns from it.",
    ),
    "outcomes": (
        "jarvis_cli.cli.outcomes",
        "app",
        "Outcomes selection learns from: ratings, automatic signals and imported evaluations.",
    ),
    "models": (
        "jarvis_cli.cli.models",
        "app",
        "The model registry: models synced from providers plus bundled price/context facts.",
    ),
    "providers": (
        "jarvis_cli.cli.providers",
        "app",
        "Providers: built-in OpenAI-compatible presets and your own endpoints.",
    ),
    "keys": (
        "jarvis_cli.cli.keys",
        "app",
        "Provider API keys: stored encrypted (AES-256-GCM) under a master key.",
    ),
    "stats": (
        "jarvis_cli.cli.stats",
        "stats",
        "Per-model calls, success rate, latency, tokens and spend, and budget status.",
    ),
    "log": (
        "jarvis_cli.cli.log",
        "app",
        "The most recent attempts (one row per provider call, retries and fallbacks included).",
    ),
    "templates": (
        "jarvis_cli.cli.templates",
        "app",
        "Prompt templates: a saved prompt, system prompt and options, applied with -t NAME.",
    ),
    "store": (
        "jarvis_cli.cli.store",
        "app",
        "The store: the local SQLite file, or a PostgreSQL team store shared by a team.",
    ),
    "config": (
        "jarvis_cli.cli.config",
        "app",
        "Read and change config.toml settings by name (e.g. defaults.model).",
    ),
    "serve": (
        "jarvis_cli.cli.serve",
        "app",
        "Serve the OpenAI API on HTTP for agents and editors, with routing, fallbacks, budgets.",
    ),
    "doctor": (
        "jarvis_cli.cli.doctor",
        "doctor",
        "Show version, paths, store and config health, master-key source and providers.",
    ),
}


# The root help's epilog: a newcomer's first commands, in order.
FIRST_STEPS = """First steps:
jarvis select --all "Summarize this"   what jarvis would pick (no key yet)
jarvis keys add openai                 store a key (a prompt, or --stdin)
jarvis models sync                     fetch the models your keys unlock
jarvis complete "Explain CRDTs"        the answer (model and cost: stderr)

Every command has --help; --json prints its data for scripts; jarvis doctor checks the set-up."""


class LazyCommandGroup(TyperGroup):
    """The root group: lists summaries, builds a command only when it is resolved to run."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Stand-ins that carry only the summary, for help, completion and "did you mean".
        for name, (_, _, summary) in COMMANDS.items():
            self.commands[name] = typer.core.TyperCommand(name, help=summary)
        self._built: set[str] = set()
        from jarvis_cli.cli.help_text import tidy_help

        tidy_help(self)

    # ctx is typer's vendored click Context; typed Any to avoid importing a private module.
    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name in COMMANDS and name not in self._built:
            self.commands[name] = build_command(name)
            self._built.add(name)
        return super().resolve_command(ctx, args)

    # Typer prints its own usage errors ("No such command 'sk-…'", "Invalid value",
    # "Got unexpected extra argument"), quoting what was typed: every parse of the
    # command line runs under these two methods, so their messages are redacted here.
    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except ClickException as exc:
            _redact_click_error(exc)
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ClickException as exc:
            _redact_click_error(exc)
            raise


def _redact_click_error(exc: Any) -> None:
    """Scrub a Click usage error's message in place, saying why when a key was in it."""
    original = str(exc.message)
    exc.message = redact(original)
    if secret_shaped(original):
        exc.message += f"\n{SECRET_HINT}"


def build_command(name: str) -> typer.core.TyperCommand:
    """The click command for `name`, from its module's function or sub-app."""
    import importlib

    module, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    if not isinstance(target, typer.Typer):
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        target = single
    command = typer.main.get_command(target)
    command.name = name
    for param in command.params:
        # typer has no list-of-pairs type: an option with this metavar takes two values
        # each time it is given (`-p KEY VALUE`); see cli/request_content.py.
        if param.metavar == PAIR_METAVAR:
            param.nargs = 2
    from jarvis_cli.cli.help_text import tidy_help

    tidy_help(command)  # `[log] content` in a help string is text, not rich markup
    return command  # type: ignore[return-value]


app = typer.Typer(
    name="jarvis",
    cls=LazyCommandGroup,
    help="Orchestrate LLM providers: encrypted keys, a model registry, strategy-based "
    "model selection, and completions with automatic fallback.",
    epilog=FIRST_STEPS,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings=CONTEXT_SETTINGS,
)


def _version_callback(value: bool) -> None:
    if value:
        sys.stdout.write(f"jarvis {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=_version_callback,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Orchestrate LLM providers from the terminal."""


def _debug() -> bool:
    return os.environ.get("JARVIS_DEBUG", "") not in ("", "0")


def _print_error(exc: JarvisError, argv: list[str] | None = None) -> int:
    """Print `exc` redacted, with provider-quoted controls shown, never emitted; return its
    exit code, 2 when it quotes a key-shaped argument."""
    from jarvis_cli.cli.render import visible

    code = int(exc.exit_code)
    sys.stderr.write(f"error: {visible(redact(exc.message), keep_lines=True)}\n")
    args = sys.argv[1:] if argv is None else argv
    quoted = [s for s in secret_shaped(exc.message) if any(s in a for a in args)]
    if quoted:
        # A key typed where a name goes: the error is the argument, whatever failed next.
        sys.stderr.write(f"hint: {SECRET_HINT}\n")
        code = int(ExitCode.USAGE)
    if exc.hint:
        sys.stderr.write(f"hint: {visible(redact(exc.hint), keep_lines=True)}\n")
    return code


def _print_traceback() -> None:
    import traceback

    sys.stderr.write(redact(traceback.format_exc()))


def run(argv: list[str] | None = None) -> int:
    """Run the CLI with `argv` and return the exit code instead of exiting."""
    if "_JARVIS_COMPLETE" in os.environ:
        # Shell completion request: register Typer's shell classes (add_completion
        # is off, so this is not done at every start).
        from typer._completion_classes import completion_init

        completion_init()
    try:
        app(args=argv, prog_name="jarvis", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        if code is None or (code == 1 and ended_by_broken_pipe(exc)):
            return 0
        return code if isinstance(code, int) else 1
    except JarvisError as exc:
        if _debug():
            _print_traceback()
        return _print_error(exc, argv)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # Reader went away (`jarvis log --json | head`); nothing more to say.
        silence_stdout()
        return 0
    except Exception as exc:
        if _debug():
            _print_traceback()
        if _is_database_error(exc):
            # A store that was fine at open but fails later (truncated, corrupted).
            return _print_error(StoreError(f"store error: {exc}", hint="run `jarvis doctor`"))
        if is_output_error(exc):
            return print_output_error(exc)
        sys.stderr.write(
            f"error: internal error: {_visible(redact(type(exc).__name__ + ': ' + str(exc)))}\n"
            "hint: this is a bug in jarvis; rerun with JARVIS_DEBUG=1 for a traceback\n"
        )
        return int(ExitCode.INTERNAL)
    return 0


def _visible(text: str) -> str:
    from jarvis_cli.cli.render import visible

    return visible(text, keep_lines=True)


def _is_database_error(exc: Exception) -> bool:
    # sqlite3 is not imported just to catch its errors: `jarvis --help` never loads it.
    sqlite3 = sys.modules.get("sqlite3")
    return sqlite3 is not None and isinstance(exc, sqlite3.DatabaseError)


def _close_context() -> None:
    """Close the process's store now, while everything it needs is still alive."""
    common = sys.modules.get("jarvis_cli.cli.common")
    if common is None:
        return
    try:
        common.reset_context()
    except Exception:  # every write is already committed: exit as the command said
        if _debug():
            _print_traceback()


def main() -> None:
    """The CLI process's entry (jarvis_cli.launch.main calls it, after raising the GC
    threshold before typer's import; it is raised here too for a caller that did not)."""
    import gc

    gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])
    closed = guard_closed_stdio()
    if closed is not None:
        sys.exit(closed)
    code = run()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    except OSError as exc:  # buffered output that could not be written at exit
        code = print_output_error(exc) if code == 0 else code
    _close_context()
    # Interpreter shutdown runs full collections over every object still alive, then
    # tears the classes down: after the SDK's import that is ~76,000 tracked objects
    # (its pydantic classes, schemas, validators), ~80-100 ms of CPU spent freeing
    # memory the OS takes back anyway. The command is done and its store closed:
    # freezing moves what exists now out of the collector's sight; atexit handlers,
    # module teardown and reference-count finalizers still run.
    gc.freeze()
    sys.exit(code)
