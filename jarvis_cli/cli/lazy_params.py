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

import enum
import types
import typing
from typing import Any


class _CoerceOnFirstValue:
    """Stands in for typer's RuntimeParam until a parameter gets a value."""

    __slots__ = ("_real",)

    def __init__(self) -> None:
        self._real: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:  # what typer's RuntimeParam.coerce returns for a missing value
            return () if param.multiple or param.nargs == -1 else None
        if _already_typed(value, param):
            return value
        if self._real is None:
            from typer._coercion import build_runtime_param

            self._real = build_runtime_param(param.type_descriptor)
        return self._real.coerce(value, param=param, ctx=ctx)


def _already_typed(value: Any, param: Any) -> bool:
    """A str or bool value for a plain `str`/`bool` (optional or not) parameter without a
    parser, or a member of an Enum parameter's own Enum (a default): typer's adapter would
    hand it back unchanged, so it is not built for it."""
    if param.multiple or param.nargs != 1:
        return False
    descriptor = param.type_descriptor
    if getattr(descriptor.parameter_info, "parser", None) is not None:
        return False
    annotation = descriptor.annotation
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        # A choice's default arrives as the member itself (`--kind`'s Kind.chat).
        return isinstance(value, annotation)
    kind = type(value)
    if kind not in (str, bool):
        return False
    if annotation is kind:
        return True
    optional = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return optional and set(typing.get_args(annotation)) == {kind, type(None)}


def defer_coercion(command: Any) -> None:
    """Make each typer parameter of `command` (and of its subcommands) build its coercion
    only for a given value."""
    for param in command.params:
        _defer(param)
    # --help is made on the fly, at parse time, by get_help_option.
    made = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = made(ctx)
        _defer(option)
        return option

    command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        defer_coercion(sub)


def _defer(param: Any) -> None:
    if hasattr(param, "type_descriptor") and getattr(param, "_runtime_param", 0) is None:
        param._runtime_param = _CoerceOnFirstValue()
