"""The `jarvis` script and `python -m jarvis_cli`: tune the process, then run the CLI.

The GC threshold (jarvis_cli.GC_GEN0_THRESHOLD) is raised here, before the CLI's
modules and typer are imported: raised only in `cli.main`, after them, a `select
--json` spent ~2 ms more scanning for cycles among objects that all live to the end.

When the command is done, the process leaves without the interpreter's teardown
(`_leave`): the exit handlers run and the standard streams are flushed as at any
exit, but the ~200 modules and every object still alive are not freed one by one,
~1.5 ms of a `select --json` spent on memory the OS takes back anyway. A process with
another thread still running, an exit that is not a plain code, or a stream that
cannot be flushed exits the ordinary way.
"""

import gc
import os
import sys
from typing import NoReturn

from jarvis_cli import GC_GEN0_THRESHOLD


def main() -> None:
    gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])
    from jarvis_cli.cli import main as cli_main

    try:
        cli_main()
    except SystemExit as exc:
        _leave(exc)


def _leave(exc: SystemExit) -> NoReturn:
    """Exit with `exc`'s code: at once when nothing but the teardown is left to do."""
    code = 0 if exc.code is None else exc.code
    threading = sys.modules.get("threading")
    if not isinstance(code, int) or (threading is not None and threading.active_count() > 1):
        raise exc
    import atexit

    atexit._run_exitfuncs()  # what an ordinary exit runs first (and only once)
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        raise exc from None  # the interpreter reports it and sets the exit status
    os._exit(code)
