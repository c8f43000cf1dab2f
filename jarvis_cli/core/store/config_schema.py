"""The schema config.toml is validated against (config.py): each key's check, and the
walk that reports the file, the dotted key and what was expected.

Imported only when a config file is read or written, so that a command run in a
home without one compiles none of these patterns.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jarvis_cli.core.errors import ConfigError
from jarvis_cli.core.store.url import redact_url

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
WEIGHT_KEYS = ("performance", "cost", "reliability", "quality")

Check = Callable[[Any], str | None]  # returns what was expected, or None if fine


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def num(lo: float | None = None, hi: float | None = None, *, positive: bool = False) -> Check:
    def check(v: Any) -> str | None:
        want = "a number"
        if positive:
            want = "a number > 0"
        elif lo is not None and hi is not None:
            want = f"a number from {lo:g} to {hi:g}"
        elif lo is not None:
            want = f"a number >= {lo:g}"
        if not _is_num(v):
            return want
        if (positive and v <= 0) or (lo is not None and v < lo) or (hi is not None and v > hi):
            return want
        return None

    return check


def integer(lo: int, hi: int) -> Check:
    def check(v: Any) -> str | None:
        ok = isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
        return None if ok else f"a whole number from {lo} to {hi}"

    return check


def string(pattern: re.Pattern[str] | None = None, what: str = "a string") -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, str) or (pattern is not None and not pattern.match(v)):
            return what
        return None

    return check


def header_names(v: Any) -> str | None:
    ok = isinstance(v, list) and all(
        isinstance(n, str) and re.match(r"^[A-Za-z0-9-]{1,32}$", n) for n in v
    )
    return None if ok else "a list of HTTP header names"


def boolean(v: Any) -> str | None:
    return None if isinstance(v, bool) else "true or false"


def one_of(*choices: str) -> Check:
    def check(v: Any) -> str | None:
        return None if v in choices else "one of " + ", ".join(repr(c) for c in choices)

    return check


def url(v: Any) -> str | None:
    ok = isinstance(v, str) and re.match(r"^https?://[^\s/]+", v) is not None
    return None if ok else "an http:// or https:// URL"


ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
Schema = Mapping[str, Any]  # key -> Check | Schema | ("map", value-schema-or-check, key check)

_LIMITS: Schema = {"daily_usd": num(0), "monthly_usd": num(0)}

SCHEMA: Schema = {
    "defaults": {
        "strategy": string(what="a strategy name"),
        "model": string(what="a model id such as openai/gpt-4o-mini"),
        "max_fallbacks": integer(0, 10),
        "retries": integer(0, 10),
        "timeout_s": num(positive=True),
        "max_tokens": integer(1, 10_000_000),
    },
    "providers": (
        "map",
        {
            "base_url": url,
            "api_key_env": string(ENV_NAME_RE, "an environment variable name"),
            "headers": ("map", string(), None),
            "secret_headers": header_names,
            "needs_key": boolean,
            "timeout_s": num(positive=True),
            "send_openai_org": boolean,
        },
        NAME_RE,
    ),
    "selection": {
        "window_calls": integer(1, 1_000_000),
        "window_days": num(positive=True),
        "weights": ("map", {k: num(0) for k in WEIGHT_KEYS}, NAME_RE),
    },
    "budgets": {
        **_LIMITS,
        "providers": ("map", _LIMITS, NAME_RE),
        "reservation_grace_s": num(0),
        "max_output_tokens": integer(1, 10_000_000),
    },
    "retry": {
        "max_retry_after_s": num(0),
        "backoff_base_s": num(0),
        "backoff_max_s": num(0),
    },
    "cooldown": {
        "failures": integer(1, 1000),
        "window_s": num(positive=True),
        "duration_s": num(0),
    },
    "quality": ("map", num(0, 1), None),
    "log": {"content": boolean, "retention_days": integer(1, 36_500)},
    "store": {"url": string(re.compile(r"^postgres(ql)?://\S+$"), "a postgresql:// URL")},
}


def _type_name(v: Any) -> str:
    return {
        bool: "boolean",
        int: "integer",
        float: "float",
        str: "string",
        dict: "table",
        list: "array",
    }.get(type(v), type(v).__name__)


def validate(data: Any, schema: Any, where: str, file: Path) -> None:
    def fail(expected: str, got: Any) -> None:
        shown = repr(got) if not isinstance(got, dict | list) else _type_name(got)
        if isinstance(got, str) and "://" in got:
            shown = repr(redact_url(got))  # a store URL may hold a password
        raise ConfigError(
            f"{file}: {where or 'top level'}: expected {expected}, got {shown}",
            hint="fix the file by hand; jarvis never rewrites it on its own",
        )

    if callable(schema):
        expected = schema(data)
        if expected is not None:
            fail(expected, data)
        return
    if isinstance(schema, tuple):
        _, value_schema, key_re = schema
        if not isinstance(data, dict):
            fail("a table", data)
        for key, value in data.items():
            if key_re is not None and not key_re.match(key):
                raise ConfigError(
                    f"{file}: {where}: bad name {key!r}: expected lowercase letters, "
                    "digits, '-' or '_' (at most 40)"
                )
            validate(value, value_schema, f"{where}.{key}", file)
        return
    if not isinstance(data, dict):
        fail("a table", data)
    for key, value in data.items():
        if key not in schema:
            known = ", ".join(sorted(schema))
            raise ConfigError(
                f"{file}: unknown key {(where + '.' if where else '') + key!r} "
                f"(known keys here: {known})"
            )
        validate(value, schema[key], f"{where}.{key}" if where else key, file)
