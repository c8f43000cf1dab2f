"""Shared fixtures: every test gets its own JARVIS_HOME and a clean environment.

`jarvis(...)` runs the real CLI in a subprocess (`python -m jarvis_cli`), the way
users and scripts run it, and returns the CompletedProcess (text mode).

The suite runs in parallel (pytest-xdist, `-n auto --dist loadgroup` in pyproject's
addopts; `-n 0` runs it in one process). Any test may run in any worker, next to any
other test, so everything a test starts must be its own or safely shared:

- ports: bind port 0 and read the port back (never a fixed port); files: under
  `tmp_path` / `tmp_path_factory` (never the repository, HOME or /tmp by fixed name);
  environment: through `monkeypatch` (the autouse `jarvis_env` gives each test its own
  JARVIS_HOME); module-level state: reset by the fixture that changes it.
- a cheap service (the fake provider): a function-scoped fixture, one per test.
- an expensive service started once (a PostgreSQL server, a llama.cpp server): a
  session-scoped fixture that goes through `tests/shared_service.py` — declare a
  `ServiceKind(name, start, dump, load, stop)` whose `dump` describes the running
  service in JSON (port, paths, pid) and whose `stop` works from *any* process given
  that description (stop by pid or by the server's own tool, not by a Popen object),
  then `with shared_service(KIND, run_directory(tmp_path_factory.getbasetemp())) as s:
  yield s`. The first worker starts it under a file lock, the others attach, the last
  one stops it, and the controller stops what a crashed worker left (`pg_server` below
  is the example). What each test gets from it must be isolated per test (a fresh
  database per test, its own model name or request id), never "the" shared state.
- a service that must serve the tests of one module in order (a module-scoped
  fixture that is costly to start, like the LiteLLM proxy): mark the module
  `pytest.mark.xdist_group("NAME")` so `--dist loadgroup` keeps its tests in one
  worker and the fixture starts once.
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
from tests.shared_service import (  # noqa: E402
    ServiceKind,
    run_directory,
    shared_service,
    stop_leftovers,
    xdist_worker,
)

PG_SERVICE = ServiceKind(
    "postgresql",
    start=start_server,
    dump=PgServer.describe,
    load=PgServer.from_description,
    stop=PgServer.stop,
)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    """One PostgreSQL server for the whole run, shared by the xdist workers; skips with
    the reason when neither psycopg nor the server binaries are available."""
    reason = find_unavailable_reason()
    if reason is not None:
        if _REQUIRE_PG:  # .ci/run: CI must run these tests
            pytest.fail(f"JARVIS_TEST_REQUIRE_PG is set but {reason}")
        pytest.skip(reason)
    with shared_service(PG_SERVICE, run_directory(tmp_path_factory.getbasetemp())) as server:
        yield server


def _restore_sigint() -> None:
    """Give the jarvis processes the tests start a default Ctrl-C.

    A shell without job control starts a background job (`pytest … &`, CI runners
    that detach) with SIGINT ignored, and children inherit an ignored signal across
    exec: Python then installs no KeyboardInterrupt handler, and every test that
    sends SIGINT to a jarvis process would wait on a process that cannot hear it.
    A handled signal is reset to its default at exec, so handling it here is enough.
    Runs in the controller and in every xdist worker (each loads this conftest)."""
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


_restore_sigint()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Byte-compile jarvis_cli once, on the controller, before any worker starts.

    Most tests run `python -m jarvis_cli` in a subprocess. With PYTHONDONTWRITEBYTECODE
    set (as on these machines) an editable install never caches its bytecode, so each
    of those thousands of processes would compile every jarvis module it imports from
    source (~50 ms of CPU each); Python still reads .pyc files that exist."""
    if xdist_worker() is None:
        import compileall

        import jarvis_cli

        compileall.compile_dir(Path(jarvis_cli.__file__).parent, quiet=1)


def _expected_seconds(item: pytest.Item) -> float:
    mark = item.get_closest_marker("slow")
    if mark is not None:
        return float(mark.args[0]) if mark.args else 10.0
    return 5.0 if "llama_server" in getattr(item, "fixturenames", ()) else 0.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first, so the xdist workers finish together.

    `--dist loadgroup` hands tests out in collection order (after the xdist_group
    modules, largest first), one at a time to whichever worker is free. In file order
    the slowest tests (the llama.cpp budget runs, minutes on a loaded machine) came
    last and ran alone while the other core idled. `@pytest.mark.slow(SECONDS)` gives a
    test's typical duration (measured; only the order matters); tests on the real
    llama.cpp server count as slow too. The sort is stable: the rest keep file order."""
    items.sort(key=lambda item: -_expected_seconds(item))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On the xdist controller, once every worker is done: stop any shared service a
    crashed worker left running (tests/shared_service.py)."""
    if xdist_worker() is None and hasattr(session.config, "_tmp_path_factory"):
        stop_leftovers(session.config._tmp_path_factory.getbasetemp())


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
