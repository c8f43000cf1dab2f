"""Where jarvis keeps its files: platformdirs, or everything under JARVIS_HOME."""

# No `from __future__ import annotations`: typing.NamedTuple compiles each string
# annotation at import (a ForwardRef per field), ~40 % of its classes' cost.

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

APP_NAME = "jarvis"

# Shipped inside the package: model facts derived from LiteLLM's price map (MIT).
BUNDLED_CATALOG_FILE = Path(__file__).resolve().parents[2] / "data" / "catalog.json"


class Paths(NamedTuple):
    """The config directory (config.toml, master-key file) and data directory (jarvis.db)."""

    config_dir: Path
    data_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def db_file(self) -> Path:
        return self.data_dir / "jarvis.db"

    @property
    def master_key_file(self) -> Path:
        return self.config_dir / "master.key"


def resolve_paths(env: Mapping[str, str] | None = None) -> Paths:
    """JARVIS_HOME=DIR puts both directories under DIR; otherwise platform defaults."""
    env = os.environ if env is None else env
    home = env.get("JARVIS_HOME")
    if home:
        root = Path(home).expanduser().absolute()
        return Paths(config_dir=root, data_dir=root)
    import platformdirs

    return Paths(
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
    )
