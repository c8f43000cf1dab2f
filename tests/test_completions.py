"""Shell completion files: committed files match what the app generates, and they work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from gen_completions import SHELLS, generate  # noqa: E402


@pytest.mark.parametrize("shell", SHELLS)
def test_committed_completion_is_current(shell: str) -> None:
    committed = (ROOT / "completions" / f"jarvis.{shell}").read_text()
    assert committed == generate(shell), (
        f"completions/jarvis.{shell} is stale: run `python scripts/gen_completions.py`"
    )
    assert "_JARVIS_COMPLETE" in committed


def test_bash_completion_completes_commands() -> None:
    env = {
        **os.environ,
        "_JARVIS_COMPLETE": "complete_bash",
        "COMP_WORDS": "jarvis doc",
        "COMP_CWORD": "1",
    }
    out = subprocess.run(
        [sys.executable, "-c", "from jarvis_cli.cli import main; main()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0
    assert out.stdout.split() == ["doctor"]


def test_wheel_installs_completions_under_share(tmp_path: Path) -> None:
    import zipfile

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("jarvis_llm_router-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = next(n.split("/")[0] for n in names if ".data/" in n)
    for installed in (
        "share/bash-completion/completions/jarvis",
        "share/zsh/site-functions/_jarvis",
        "share/fish/vendor_completions.d/jarvis.fish",
    ):
        assert f"{data}/data/{installed}" in names
    assert "jarvis_cli/py.typed" in names
    # Task inference's weights and their sources' notices ship in the wheel (issue 24).
    assert {"jarvis_cli/data/task_model.tsv", "jarvis_cli/data/task_model.NOTICE"} <= set(names)
