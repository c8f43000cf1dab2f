"""Fixtures of the `jarvis serve` tests: two fake providers and a running server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_jarvis
from tests.fake_provider import FakeProvider
from tests.serve.server import ALPHA_KEY, BETA_KEY, JarvisServer, configure, serve_env


@dataclass
class Served:
    alpha: FakeProvider
    beta: FakeProvider
    server: JarvisServer
    home: Path

    @property
    def url(self) -> str:
        return self.server.url

    def jarvis(self, *args: str) -> object:
        return run_jarvis(*args, env=serve_env(self.home))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One open (no tokens, loopback) server for a module; providers reset per test."""
    home = tmp_path_factory.mktemp("serve") / "home"
    with (
        FakeProvider(api_key=ALPHA_KEY, models=["fake-chat", "fake-embed"]) as alpha,
        FakeProvider(api_key=BETA_KEY, models=["fake-chat"]) as beta,
    ):
        configure(home, alpha, beta)
        server = JarvisServer(home)
        try:
            yield Served(alpha, beta, server, home)
        finally:
            server.stop()


@pytest.fixture
def srv(served: Served) -> Iterator[Served]:
    served.alpha.reset()
    served.beta.reset()
    yield served
