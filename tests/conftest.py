"""Shared fixtures: every test gets its own JARVIS_HOME and a clean environment.

`jarvis(...)` runs the real CLI in a subprocess (`python -m jarvis_cli`), the way
users and scripts run it, and returns the CompletedProcess (text mode).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

# A fixed master key so tests never touch the real OS keyring. Tests of the
# keyring/key-file sources remove it with monkeypatch.delenv.
TEST_MASTER_KEY = base64.b64encode(bytes(range(32))).decode()

# Variables that would leak the developer's own setup into a test.
_SCRUB_PREFIXES = (
    "JARVIS_",
    "OPENAI_",
    "ANTHROPIC_",
    "GEMINI_",
    "GROQ_",
    "MISTRAL_",
    "DEEPSEEK_",
    "TOGETHER_",
    "OPENROUTER_",
    "FIREWORKS_",
    "OLLAMA_",
    "VLLM_",
    "LMSTUDIO_",
    "PYTHON_KEYRING_",
    "_JARVIS_COMPLETE",
)

JarvisRunner = Callable[..., subprocess.CompletedProcess[str]]
# Read before any test scrubs JARVIS_* variables: .ci/run sets it so that CI fails
# instead of skipping the PostgreSQL tests when no server can be started.
_REQUIRE_PG = bool(os.environ.get("JARVIS_TEST_REQUIRE_PG"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="run every test on this store (postgresql: a fresh database per test on the "
        "session's PostgreSQL server; for finding dialect bugs, not for CI)",
    )


@pytest.fixture(autouse=True)
def jarvis_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Path]:
    """Point jarvis at a fresh home under tmp_path and scrub provider variables."""
    for name in list(os.environ):
        if name.startswith(_SCRUB_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "jarvis-home"
    monkeypatch.setenv("JARVIS_HOME", str(home))
    monkeypatch.setenv("JARVIS_MASTER_KEY", TEST_MASTER_KEY)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    # Keep the OS keyring out of every test unless a test opts in.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    if request.config.getoption("--store") == "postgresql":
        monkeypatch.setenv("JARVIS_STORE_URL", request.getfixturevalue("pg_url"))
    from jarvis_cli.cli.common import reset_context

    reset_context()
    yield home
    reset_context()


@pytest.fixture
def home(jarvis_env: Path) -> Path:
    """The JARVIS_HOME of this test."""
    return jarvis_env


def run_jarvis(
    *args: str,
    input: str | None = None,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 60,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m jarvis_cli ARGS` with the test's environment (+ `env` overrides;
    a None value removes a variable). stdin is /dev/null unless `input` is given."""
    full_env = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    return subprocess.run(
        [sys.executable, "-m", "jarvis_cli", *args],
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=cwd,
    )


@pytest.fixture
def jarvis() -> JarvisRunner:
    """The CLI as a subprocess; see `run_jarvis`."""
    return run_jarvis


from tests.fake_provider import FakeProvider  # noqa: E402 - appended fixture section


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    """A loopback OpenAI-compatible server (tests/fake_provider.py), started for this test."""
    with FakeProvider() as fake:
        yield fake


# --- A real PostgreSQL server for the team-store tests (issue 16) -----------------
from tests.pg_server import PgServer, find_unavailable_reason, start_server  # noqa: E402


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server per test session, started in a temp dir; skips with the
    reason when neither psycopg nor the server binaries are available."""
    reason = find_unavailable_reason()
    if reason is not None:
        if _REQUIRE_PG:  # .ci/run: CI must run these tests
            pytest.fail(f"JARVIS_TEST_REQUIRE_PG is set but {reason}")
        pytest.skip(reason)
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a fresh, empty database of its own for this test."""
    url = pg_server.fresh_database()
    try:
        yield url
    finally:
        pg_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_backend(
    request: pytest.FixtureRequest, jarvis_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Run the test once on the local SQLite store and once on a PostgreSQL team store
    (a fresh database of the session's server, named by JARVIS_STORE_URL, which both
    in-process Contexts and `jarvis` subprocesses read). Use it with
    `pytestmark = pytest.mark.usefixtures("store_backend")`."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    url = request.getfixturevalue("pg_url")
    monkeypatch.setenv("JARVIS_STORE_URL", url)
    from jarvis_cli.cli.common import reset_context

    reset_context()
    yield url
    reset_context()


# --- A real llama.cpp server (issue 23): see tests/llama_server.py -----------------
from tests.llama_server import llama_server  # noqa: E402, F401 - the session fixture
