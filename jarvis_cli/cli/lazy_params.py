"""Options that were not given cost nothing to parse (issue 28).

Recent typer coerces each parameter's value through a pydantic TypeAdapter that it
builds the first time the parameter is processed — and every parameter of the command
that runs is processed, given or not. `complete` has ~30 options: ~1 ms each, a few
percent of a whole request. A value that was not given (None) needs no coercion (typer's
own RuntimeParam returns None, or () for a repeatable option, without looking at the
adapter), so the adapter is built only when a value arrives.

This touches one private attribute of typer's parameters; with a typer that has none
(older releases coerce with click types) it does nothing.
"""

from __future__ import annotations

from typing import Any


class _CoerceOnFirstValue:
    """Stands in for typer's RuntimeParam until a parameter gets a value."""

    __slots__ = ("_real",)

    def __init__(self) -> None:
        self._real: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:  # what typer's RuntimeParam.coerce returns for a missing value
            return () if param.multiple or param.nargs == -1 else None
        if self._real is None:
            from typer._coercion import build_runtime_param

            self._real = build_runtime_param(param.type_descriptor)
        return self._real.coerce(value, param=param, ctx=ctx)


def defer_coercion(command: Any) -> None:
    """Make each typer parameter of `command` (and of its subcommands) build its coercion
    only for a given value."""
    for param in command.params:
        if hasattr(param, "type_descriptor") and getattr(param, "_runtime_param", 0) is None:
            param._runtime_param = _CoerceOnFirstValue()
    for sub in getattr(command, "commands", {}).values():
        defer_coercion(sub)
