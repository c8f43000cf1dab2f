"""`--help` says what its source says.

Typer renders help with rich markup, so a config.toml table named in a help string
(`[log] content`, `[defaults] timeout_s`, `[selection.weights.NAME]`) is taken for a
style tag and silently dropped: "(default: [defaults] timeout_s)" printed as
"(default:  timeout_s)". `tidy_help` escapes each such bracket on the command that
is about to run (and every command under it), so no help string has to remember to;
a bracket already escaped (`list\\[str]`) is left as it is.

(typer 0.29 also wrote `<bool>` for every flag; the typer below 0.29 that jarvis
requires writes no type for flags, and tests/cli/test_help_text.py checks it.) And a
hidden argument (`keys add`'s catch for a key
typed after the provider) is left out of the usage line, where typer still showed it
as `[stray]...`.
"""

from __future__ import annotations

import re
from typing import Any

# What rich takes for a tag (rich.markup.RE_TAGS): "[" + a lowercase letter, #, / or @,
# up to the next "]" with no "[" between. Not preceded by a backslash: already escaped.
# Compiled (re's cache) only for a text with such a bracket: jarvis's own help escapes
# its brackets, so a command's start-up usually compiles nothing.
_TAG = r"(?<!\\)\[(?=[a-z#/@][^\[]*?\])"


def escape(text: str) -> str:
    """`text` with every bracket rich would read as markup escaped."""
    if "[" not in text.replace("\\[", ""):  # no bracket, or every one escaped already
        return text
    return re.sub(_TAG, r"\\[", text)


def tidy_help(command: Any) -> None:
    """Escape the help of `command`, its parameters and its subcommands, and keep hidden
    arguments out of their usage lines, in place."""
    for attribute in ("help", "short_help", "epilog"):
        text = getattr(command, attribute, None)
        if isinstance(text, str):
            setattr(command, attribute, escape(text))
    for param in getattr(command, "params", ()):
        if isinstance(getattr(param, "help", None), str):
            param.help = escape(param.help)
        if param.param_type_name == "argument" and getattr(param, "hidden", False):
            param.get_usage_pieces = _no_usage
    for sub in (getattr(command, "commands", None) or {}).values():
        tidy_help(sub)


def _no_usage(ctx: Any) -> list[str]:
    return []
