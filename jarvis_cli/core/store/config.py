"""config.toml: what a person edits. Read with tomllib, validated once, written atomically.

Validation is strict: an unknown key, a wrong type or a bad value is reported with
the file, the dotted key and what was expected, and the file is never rewritten
behind the user's back (only explicit commands such as `jarvis providers add`
write it, through `save_raw`).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from jarvis_cli.core.errors import ConfigError
from jarvis_cli.core.store.files import atomic_write, check_not_exposed
from jarvis_cli.core.store.url import redact_url

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# The built-in strategies (selection/scoring.py BUILTIN_WEIGHTS; store cannot import it).
STRATEGIES = ("quality", "balanced", "cost", "performance", "reliability")
WEIGHT_KEYS = ("performance", "cost", "reliability", "quality")


class ProviderSettings(NamedTuple):
    """A user-defined provider, or user overrides of a preset."""

    name: str
    base_url: str | None = None
    api_key_env: str | None = None
    headers: Mapping[str, str] = {}
    needs_key: bool | None = None
    timeout_s: float | None = None
    send_openai_org: bool | None = None  # send OPENAI_ORG_ID / OPENAI_PROJECT_ID here
    # Headers whose values are sealed in the vault (label `header.<name>`), not in here.
    secret_headers: tuple[str, ...] = ()


class Defaults(NamedTuple):
    strategy: str = "balanced"
    model: str | None = None
    max_fallbacks: int = 2
    retries: int = 2
    timeout_s: float = 120.0
    max_tokens: int | None = None


class SelectionSettings(NamedTuple):
    window_calls: int = 200
    window_days: float = 30.0
    weights: Mapping[str, Mapping[str, float]] = {}


class BudgetLimits(NamedTuple):
    daily_usd: float | None = None
    monthly_usd: float | None = None


class Budgets(NamedTuple):
    daily_usd: float | None = None
    monthly_usd: float | None = None
    providers: Mapping[str, BudgetLimits] = {}
    # How long past its request's timeout a reservation outlives a crashed process.
    reservation_grace_s: float = 60.0
    # The output limit sent (and reserved) with a budgeted request that gives no
    # --max-tokens, capped by the model's known maximum output (issue 23).
    max_output_tokens: int = 1024


class RetryPolicy(NamedTuple):
    max_retry_after_s: float = 30.0
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0


class CooldownPolicy(NamedTuple):
    failures: int = 3
    window_s: float = 60.0
    duration_s: float = 120.0


class LogSettings(NamedTuple):
    content: bool = True  # store prompts and answers (numbers are always recorded)
    retention_days: int | None = None  # prune older content and attempts automatically


class Config(NamedTuple):
    """The validated contents of config.toml (defaults where the file is silent)."""

    providers: Mapping[str, ProviderSettings] = {}
    defaults: Defaults = Defaults()
    selection: SelectionSettings = SelectionSettings()
    budgets: Budgets = Budgets()
    retry: RetryPolicy = RetryPolicy()
    cooldown: CooldownPolicy = CooldownPolicy()
    quality: Mapping[str, float] = {}
    log: LogSettings = LogSettings()
    store_url: str | None = None  # [store] url: a PostgreSQL team store (store/url.py)
    raw: Mapping[str, Any] = {}


# --- schema -------------------------------------------------------------------

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


def _validate(data: Any, schema: Any, where: str, file: Path) -> None:
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
            _validate(value, value_schema, f"{where}.{key}", file)
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
        _validate(value, schema[key], f"{where}.{key}" if where else key, file)


# --- load / save --------------------------------------------------------------


def load_config(path: Path) -> Config:
    """Read and validate `path`; a missing file is an empty config."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return Config()
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    check_not_exposed(path, "config file")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse_config(raw, path)


def parse_config(raw: dict[str, Any], path: Path) -> Config:
    """Validate a parsed TOML document and build the typed Config."""
    _validate(raw, SCHEMA, "", path)
    d = raw.get("defaults", {})
    sel = raw.get("selection", {})
    bud = raw.get("budgets", {})
    weights = {name: dict(w) for name, w in sel.get("weights", {}).items()}
    strategy = d.get("strategy", "balanced")
    if strategy not in STRATEGIES and strategy not in weights:
        raise ConfigError(
            f"{path}: defaults.strategy: unknown strategy {strategy!r} "
            f"(built in: {', '.join(STRATEGIES)}; or define [selection.weights.{strategy}])"
        )
    providers = {
        name: ProviderSettings(
            name=name,
            base_url=p.get("base_url"),
            api_key_env=p.get("api_key_env"),
            headers=dict(p.get("headers", {})),
            needs_key=p.get("needs_key"),
            timeout_s=p.get("timeout_s"),
            send_openai_org=p.get("send_openai_org"),
            secret_headers=tuple(p.get("secret_headers", ())),
        )
        for name, p in raw.get("providers", {}).items()
    }
    return Config(
        providers=providers,
        defaults=Defaults(**d),
        selection=SelectionSettings(
            window_calls=sel.get("window_calls", 200),
            window_days=sel.get("window_days", 30.0),
            weights=weights,
        ),
        budgets=Budgets(
            daily_usd=bud.get("daily_usd"),
            monthly_usd=bud.get("monthly_usd"),
            providers={k: BudgetLimits(**v) for k, v in bud.get("providers", {}).items()},
            reservation_grace_s=bud.get("reservation_grace_s", 60.0),
            max_output_tokens=bud.get("max_output_tokens", 1024),
        ),
        retry=RetryPolicy(**raw.get("retry", {})),
        cooldown=CooldownPolicy(**raw.get("cooldown", {})),
        quality=dict(raw.get("quality", {})),
        log=LogSettings(**raw.get("log", {})),
        store_url=raw.get("store", {}).get("url"),
        raw=raw,
    )


def save_raw(path: Path, raw: dict[str, Any]) -> Config:
    """Validate `raw` and write it atomically as the new config.toml (0600)."""
    import tomli_w

    try:
        config = parse_config(raw, path)
    except ConfigError as exc:
        # The value being written is the bad one (the file on disk loaded): not the
        # loader's "fix the file by hand", which sends a `config set` user to an
        # editor for a file that was never touched.
        raise ConfigError(exc.message, hint=f"nothing was written: {path} is unchanged") from None
    atomic_write(path, tomli_w.dumps(raw).encode("utf-8"))
    return config
