"""Fast start: the CLI must not import heavy modules until a command needs them."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("openai", "keyring", "cryptography", "httpx", "httpx2")


def loaded_after(code: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    probe = (
        f"{code}\nimport sys, json\n"
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]), file=sys.__stderr__)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    last = out.stderr.strip().splitlines()[-1]
    return list(json.loads(last))


def test_importing_the_cli_loads_no_heavy_module() -> None:
    assert loaded_after("import jarvis_cli.cli") == []


def test_help_loads_no_heavy_module() -> None:
    code = (
        "from jarvis_cli.cli import run\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    run(['--help'])"
    )
    assert loaded_after(code) == []


def test_help_opens_no_store() -> None:
    code = (
        "from jarvis_cli.cli import run\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    run(['--help'])"
    )
    assert loaded_after(code, ("sqlite3", "_sqlite3")) == []


def test_doctor_json_loads_no_heavy_module() -> None:
    code = (
        "from jarvis_cli.cli import run\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    run(['doctor', '--json'])"
    )
    assert loaded_after(code) == []
