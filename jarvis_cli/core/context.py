"""The per-process context every core service is built from: paths, config, store."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property

from jarvis_cli.core.store.config import Config, load_config
from jarvis_cli.core.store.database import Store
from jarvis_cli.core.store.paths import Paths, resolve_paths


class Context:
    """Lazily opens what a command needs; nothing is read until first use."""

    def __init__(self, paths: Paths | None = None, env: Mapping[str, str] | None = None) -> None:
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.paths = paths if paths is not None else resolve_paths(self.env)

    @cached_property
    def config(self) -> Config:
        return load_config(self.paths.config_file)

    @cached_property
    def store(self) -> Store:
        return Store.open(self.paths.db_file)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
            del self.__dict__["store"]
