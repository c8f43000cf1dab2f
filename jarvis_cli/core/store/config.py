"""config.toml: what a person edits. Read with tomllib, validated once, written atomically.

Validation is strict: an unknown key, a wrong type or a bad value is reported with
the file, the dotted key and what was expected, and the file is never rewritten
behind the user's back (only explicit commands such as `jarvis providers add`
write it, through `save_raw`). The schema is config_schema.py, loaded only when there
is a file to check, as is tomllib: a home without config.toml pays for neither.
"""

# No `from __future__ import annotations` here: typing.NamedTuple compiles every
# string annotation (a ForwardRef per field), ~40 % of these classes' import cost.

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from jarvis_cli.core.errors import ConfigError
from jarvis_cli.core.store.files import atomic_write, check_not_exposed

# The built-in strategies (selection/scoring.py BUILTIN_WEIGHTS; store cannot import it).
STRATEGIES = ("quality", "balanced", "cost", "performance", "reliability")


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
    import tomllib

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse_config(raw, path)


def parse_config(raw: dict[str, Any], path: Path) -> Config:
    """Validate a parsed TOML document and build the typed Config."""
    from jarvis_cli.core.store.config_schema import SCHEMA, validate

    validate(raw, SCHEMA, "", path)
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


def __getattr__(name: str) -> Any:
    """The schema's names, still importable from here (PEP 562), loaded on first use."""
    if name in ("SCHEMA", "NAME_RE", "ENV_NAME_RE", "WEIGHT_KEYS"):
        from jarvis_cli.core.store import config_schema

        return getattr(config_schema, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
