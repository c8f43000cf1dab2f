"""Reading secrets: a hidden prompt on a terminal, or one line of stdin with --stdin.

There is deliberately no way to pass a key value in argv (shell history, /proc).
Every value read is registered with `redact` before anything else happens.
"""

from __future__ import annotations

import sys

from jarvis_cli.core.errors import UsageError
from jarvis_cli.core.redact import register_secret


def read_secret(what: str, *, from_stdin: bool, command: str) -> str:
    """Read one secret: `what` names it in the prompt and messages; `command` is the
    command line to suggest when there is no terminal."""
    if from_stdin:
        line = sys.stdin.readline()
        source = "stdin"
    elif sys.stdin is not None and sys.stdin.isatty():
        import getpass

        # getpass writes the prompt to the terminal (or stderr), never to stdout.
        line = getpass.getpass(f"{what} (input hidden): ")
        source = "the prompt"
    else:
        raise UsageError(
            f"no terminal to prompt for the {what}",
            hint=f"pipe it in with --stdin, e.g. `printenv MY_KEY | {command} --stdin`",
        )
    value = line.strip()
    if not value:
        raise UsageError(f"no {what} was given on {source} (empty input)")
    register_secret(value)
    if not all(" " <= c <= "~" for c in value):
        # Sent in an HTTP header, which carries printable ASCII only: such a key failed
        # every request as a "malformed response" (exit 8, "retry later").
        raise UsageError(
            f"the {what} given on {source} holds characters an HTTP header cannot carry "
            "(non-ASCII letters or control characters); nothing was changed",
            hint="check what was copied: a key is plain ASCII (letters, digits, - _ . and "
            "the like)",
        )
    return value


def confirm(question: str) -> bool:
    """Ask yes/no on the terminal (prompt on stderr); False on EOF or anything but yes."""
    sys.stderr.write(f"{question} [y/N]: ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")
