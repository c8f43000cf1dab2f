"""A machine whose master key is the key file never pays for the OS keyring."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_jarvis

RESOLVE = (
    "import sys\n"
    "from jarvis_cli.core.context import Context\n"
    "from jarvis_cli.core.vault.keys import KeyManager\n"
    "from jarvis_cli.core.providers.presets import PRESETS\n"
    "key = KeyManager(Context()).resolve(PRESETS['openai'])\n"
    "print(key.source, key.fingerprint, 'keyring' in sys.modules)\n"
)


def test_decrypting_with_the_key_file_does_not_import_keyring(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JARVIS_MASTER_KEY")
    added = run_jarvis(
        "keys", "add", "openai", "--stdin", "--no-validate", input="sk-file-first-0123456789\n"
    )
    assert added.returncode == 0, added.stderr
    assert (home / "master.key").exists()
    out = subprocess.run(
        [sys.executable, "-c", RESOLVE],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["vault", "sk-…6789", "False"]
