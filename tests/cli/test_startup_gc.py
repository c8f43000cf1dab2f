"""The CLI process scans for reference cycles less often, but still collects (issue 28)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from jarvis_cli.cli import GC_GEN0_THRESHOLD
from tests.conftest import run_jarvis
from tests.fake_provider import FakeProvider

PROBE = """
import atexit, gc, sys
atexit.register(lambda: print("threshold", gc.get_threshold()[0], "enabled", gc.isenabled()))
sys.argv = ["jarvis", "--version"]
from jarvis_cli.cli import main
main()
"""


def test_jarvis_raises_the_gc_threshold_and_keeps_the_gc_on() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert f"threshold {GC_GEN0_THRESHOLD} enabled True" in proc.stdout
    assert 10_000 <= GC_GEN0_THRESHOLD <= 100_000  # rare scans, bounded garbage


EARLY_PROBE = """
import atexit, builtins, gc, runpy, sys
seen = []
real_import = builtins.__import__
def spy(name, *args, **kwargs):
    if name == "typer" and not seen:
        seen.append(gc.get_threshold()[0])
    return real_import(name, *args, **kwargs)
builtins.__import__ = spy
atexit.register(lambda: print("threshold at typer's import", seen[0]))
sys.argv = ["jarvis", "--version"]
runpy.run_module("jarvis_cli", run_name="__main__")
"""


def test_python_m_jarvis_cli_raises_the_threshold_before_typer_is_imported() -> None:
    """`python -m jarvis_cli` (and the `jarvis` script, jarvis_cli.launch:main) raise it
    before the CLI's imports, which are most of a short command's allocations."""
    proc = subprocess.run(
        [sys.executable, "-c", EARLY_PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert f"threshold at typer's import {GC_GEN0_THRESHOLD}" in proc.stdout.splitlines()


FREEZE_PROBE = """
import atexit, gc, sys
atexit.register(lambda: print("frozen", gc.get_freeze_count() > 0))
sys.argv = ["jarvis", *sys.argv[1:]]
from jarvis_cli.cli import main
main()
"""


def test_jarvis_keeps_its_heap_out_of_the_exit_collection() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", FREEZE_PROBE, "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [proc.stdout.splitlines()[0], "frozen True"]


def test_complete_closes_its_store_before_the_heap_is_frozen(home: Path) -> None:
    # Closing is what checkpoints the WAL into the store and removes the -wal file: a
    # store left open in a frozen reference cycle would never be closed.
    with FakeProvider() as fake:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        (home / "config.toml").write_text(f'[providers.openai]\nbase_url = "{fake.base_url}"\n')
        (home / "config.toml").chmod(0o600)
        env = {"OPENAI_API_KEY": "sk-gc-0123456789abcdefghij"}
        done = run_jarvis("complete", "--model", "openai/fake-chat", "--no-stream", "hi", env=env)
        assert done.returncode == 0, done.stderr
        assert done.stdout == "Hello from fake\n"
    if not os.environ.get("JARVIS_STORE_URL"):
        assert (home / "jarvis.db").exists()
        assert not (home / "jarvis.db-wal").exists()
    shown = run_jarvis("log", "--json")
    assert shown.returncode == 0, shown.stderr
    (row,) = json.loads(shown.stdout)
    assert row["model_id"] == "openai/fake-chat" and row["ok"] is True
