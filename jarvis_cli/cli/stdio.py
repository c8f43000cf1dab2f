"""The process's standard streams when they fail: a reader that went away (EPIPE), a
stream that cannot be written (`> /dev/full`, an I/O error) or one closed at start (`>&-`).

Used by the catch point (`jarvis_cli.cli.run` / `main`); imports nothing heavy.
"""

from __future__ import annotations

import errno
import os
import sys

from jarvis_cli.core.errors import ExitCode


def silence_stdout() -> None:
    """Point descriptor 1 at /dev/null, so later flushes of a dead stdout stay silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is already gone; there is nothing left to protect


def ended_by_broken_pipe(exc: SystemExit) -> bool:
    # Rich and Typer turn a BrokenPipeError inside a command (a long `--help | head -c1`)
    # into exit 1: the reader went away, which is exit 0 here as everywhere else.
    cause = exc.__context__
    while cause is not None:
        if isinstance(cause, BrokenPipeError):
            return True
        cause = cause.__context__
    return False


# A write to stdout or stderr that failed (`> /dev/full`, a closed descriptor, an I/O
# error): a stream write carries no file name, where opening or writing a named file does.
_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EIO, errno.EBADF, errno.EFBIG, errno.EDQUOT})


def is_output_error(exc: Exception) -> bool:
    """Whether `exc` is a failed write to stdout/stderr rather than a bug."""
    return (
        isinstance(exc, OSError)
        and exc.errno in _OUTPUT_ERRNOS
        and exc.filename is None
        and not isinstance(exc, BrokenPipeError)
    )


def print_output_error(exc: Exception) -> int:
    """Say that the output could not be written (not a bug), exit 1."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    try:
        silence_stdout()
        sys.stderr.write(
            f"error: cannot write the output: {reason}\n"
            "hint: check where the output goes (stdout, -o FILE): a full disk, a closed or "
            "failing descriptor\n"
        )
    except (OSError, ValueError, AttributeError):
        pass  # stderr is gone too: the exit code is all that is left
    return int(ExitCode.INTERNAL)


def guard_closed_stdio() -> int | None:
    """Refuse to run with stdout closed (`>&-`); keep a closed stderr from crashing.

    Python leaves sys.stdout/sys.stderr None when descriptor 1 or 2 is closed at start,
    and the next file jarvis opened would take that number. Both are pointed at
    /dev/null first; then a closed stdout is a usage error, so a command is not paid
    for whose answer has nowhere to go. Returns the exit code to stop with, or None."""
    closed_out = sys.stdout is None
    for fd, name in ((1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is None:
            devnull = os.open(os.devnull, os.O_WRONLY)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
            setattr(sys, name, open(fd, "w", closefd=False))  # noqa: SIM115 - process-wide
    if not closed_out:
        return None
    sys.stderr.write(
        "error: standard output is closed\n"
        "hint: redirect it instead (`> FILE` or `> /dev/null`), not `>&-`\n"
    )
    return int(ExitCode.USAGE)
