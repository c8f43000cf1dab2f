"""Reading and changing one config.toml setting by its dotted name (`jarvis config`).

Only plain settings can be set this way (`defaults.model`, `cooldown.failures`,
`log.retention_days`, ...): the keys of config.SCHEMA that hold one value. Tables of
names (providers, weights, [quality], per-provider budgets) have their own commands
or are edited by hand. A value is read as TOML when it parses (`3`, `0.5`, `true`,
`"text"`), else taken as a string, then the whole file is validated by `save_raw`
before it is written, so a bad value is refused with the usual config message and
the file is left as it was.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jarvis_cli.core.errors import UsageError
from jarvis_cli.core.store.config import Config, save_raw
from jarvis_cli.core.store.config_schema import SCHEMA


def settable_keys(schema: Mapping[str, Any] = SCHEMA, prefix: str = "") -> list[str]:
    """Every dotted key that holds one value (sorted)."""
    keys = []
    for name, sub in schema.items():
        if isinstance(sub, Mapping):
            keys += settable_keys(sub, f"{prefix}{name}.")
        elif callable(sub):
            keys.append(f"{prefix}{name}")
    return sorted(keys)


def _path(key: str) -> list[str]:
    if key not in settable_keys():
        raise UsageError(
            f"unknown or not settable config key {key!r}",
            hint=f"settable keys: {', '.join(settable_keys())}",
        )
    return key.split(".")


def parse_value(text: str) -> Any:
    """`3` -> 3, `0.5` -> 0.5, `true` -> True, anything that is not TOML -> the text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def get_key(config: Config, key: str) -> Any:
    """The value of `key` as config.toml has it (None when unset)."""
    node: Any = config.raw
    for part in _path(key):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def set_key(config: Config, path: Path, key: str, value: Any) -> Config:
    """Write `key = value` into config.toml (validated first); the new Config."""
    parts = _path(key)
    raw: dict[str, Any] = copy.deepcopy(dict(config.raw))
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return save_raw(path, raw)


def unset_key(config: Config, path: Path, key: str) -> bool:
    """Remove `key` from config.toml; False when it was not set."""
    parts = _path(key)
    raw: dict[str, Any] = copy.deepcopy(dict(config.raw))
    node = raw
    for part in parts[:-1]:
        if part not in node:
            return False
        node = node[part]
    if parts[-1] not in node:
        return False
    del node[parts[-1]]
    save_raw(path, raw)
    return True
