"""The jarvis command line: a thin Typer shell over `jarvis_cli.core`.

`main()` is the single catch point: a JarvisError becomes `error: ...` on stderr
and its exit code; anything else is a bug (exit 1) whose traceback is shown only
with JARVIS_DEBUG=1. Every message passes through `redact` first.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from jarvis_cli import __version__
from jarvis_cli.core.errors import ExitCode, JarvisError, StoreError
from jarvis_cli.core.redact import redact

app = typer.Typer(
    name="jarvis",
    help="Orchestrate LLM providers: encrypted keys, a model registry, strategy-based "
    "model selection, and completions with automatic fallback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
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


def _register_commands() -> None:
    # Help lists commands in this order: the daily ones first.
    from jarvis_cli.cli import (
        chat,
        complete,
        doctor,
        keys,
        models,
        providers,
        select,
        stats,
    )

    app.command("complete")(complete.complete)
    app.command("chat")(chat.chat)
    app.command("embed")(complete.embed)
    app.command("select")(select.select)
    app.add_typer(models.app, name="models")
    app.add_typer(providers.app, name="providers")
    app.add_typer(keys.app, name="keys")
    app.command("stats")(stats.stats)
    app.command("log")(stats.log)
    app.command("doctor")(doctor.doctor)


_register_commands()


def _debug() -> bool:
    return os.environ.get("JARVIS_DEBUG", "") not in ("", "0")


def _print_error(exc: JarvisError) -> None:
    sys.stderr.write(f"error: {redact(exc.message)}\n")
    if exc.hint:
        sys.stderr.write(f"hint: {redact(exc.hint)}\n")


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
        if code is None:
            return 0
        return code if isinstance(code, int) else 1
    except JarvisError as exc:
        if _debug():
            _print_traceback()
        _print_error(exc)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # Reader went away (`jarvis log --json | head`); nothing more to say.
        _silence_stdout()
        return 0
    except Exception as exc:
        if _debug():
            _print_traceback()
        if _is_database_error(exc):
            # A store that was fine at open but fails later (truncated, corrupted).
            _print_error(StoreError(f"store error: {exc}", hint="run `jarvis doctor`"))
            return int(ExitCode.CONFIG)
        sys.stderr.write(
            f"error: internal error: {redact(type(exc).__name__ + ': ' + str(exc))}\n"
            "hint: this is a bug in jarvis; rerun with JARVIS_DEBUG=1 for a traceback\n"
        )
        return int(ExitCode.INTERNAL)
    return 0


def _is_database_error(exc: Exception) -> bool:
    # sqlite3 is not imported just to catch its errors: `jarvis --help` never loads it.
    sqlite3 = sys.modules.get("sqlite3")
    return sqlite3 is not None and isinstance(exc, sqlite3.DatabaseError)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is already gone; there is nothing left to protect


def main() -> None:
    """Console-script entry point."""
    code = run()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    sys.exit(code)
