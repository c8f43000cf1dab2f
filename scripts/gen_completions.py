"""Regenerate completions/jarvis.{bash,zsh,fish} from the app (Typer's source_<shell>).

Run after changing the CLI: `python scripts/gen_completions.py`. A test fails if the
committed files differ from what this produces.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHELLS = ("bash", "zsh", "fish")


def generate(shell: str) -> str:
    env = {**os.environ, "_JARVIS_COMPLETE": f"source_{shell}"}
    out = subprocess.run(
        [sys.executable, "-c", "from jarvis_cli.cli import main; main()"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    # Typer derives the program name from argv[0]; pin it to `jarvis`.
    return out.stdout


def main() -> None:
    for shell in SHELLS:
        path = ROOT / "completions" / f"jarvis.{shell}"
        path.write_text(generate(shell))
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
