"""The per-process context every core service is built from: paths, config, store."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property

from jarvis_cli.core.store.config import Config, load_config
from jarvis_cli.core.store.connection import StoreHandle
from jarvis_cli.core.store.paths import Paths, resolve_paths
from jarvis_cli.core.store.url import configured_url


class Context:
    """Lazily opens what a command needs; nothing is read until first use."""

    def __init__(self, paths: Paths | None = None, env: Mapping[str, str] | None = None) -> None:
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.paths = paths if paths is not None else resolve_paths(self.env)

    @cached_property
    def config(self) -> Config:
        return load_config(self.paths.config_file)

    @cached_property
    def store_url(self) -> tuple[str, str] | None:
        """The PostgreSQL store's URL and where it was set, or None for the SQLite file.

        JARVIS_STORE_URL wins over config.toml's [store] url (a CI job's secret
        overrides a laptop's file); config.toml is read only when the variable is unset.
        """
        if self.env.get("JARVIS_STORE_URL"):
            return configured_url(self.env, None)
        return configured_url(self.env, self.config.store_url)

    def store_exists(self) -> bool:
        """Whether there is a store to read (without creating one): a configured team
        store always is; the local file once something was written."""
        return self.store_url is not None or self.paths.db_file.exists()

    @cached_property
    def store(self) -> StoreHandle:
        found = self.store_url
        if found is not None:
            return _connect_pg(*found)
        from jarvis_cli.core.store.database import Store

        return Store.open(self.paths.db_file)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
            del self.__dict__["store"]


def _connect_pg(url: str, where: str) -> StoreHandle:
    try:
        from jarvis_cli.core.store.pg import PgStore  # psycopg only for a team store
    except ImportError:
        from jarvis_cli.core.errors import StoreError

        raise StoreError(
            f"{where} names a PostgreSQL store, but psycopg is not installed",
            hint="install jarvis with its postgres extra: pip install '.[postgres]' in "
            "jarvis's checkout (or unset it to use the local store)",
        ) from None
    return PgStore.connect(url)
