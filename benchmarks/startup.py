"""Start-up time of `jarvis --help` and `jarvis doctor --json` against Typer's own floor.

Usage: python benchmarks/startup.py [--rounds N]

Prints, from N (>= 10) interleaved runs, the median wall time of each command and its
ratio to `python -c "import typer.rich_utils"` (what Typer costs to render help at
all) and to `python -c pass`. Target: `jarvis --help` <= 1.2x the Typer floor.
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/select.py shares its name with the stdlib `select` module (which
# subprocess imports): keep this directory behind the stdlib on sys.path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse  # noqa: E402
import tempfile  # noqa: E402

from _timing import bench_env, interleaved, jarvis_command, print_ratio, report  # noqa: E402

TARGET = 1.2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", "--runs", type=int, default=15, dest="runs")
    args = parser.parse_args()
    runs = max(10, args.runs)
    jarvis = jarvis_command()
    with tempfile.TemporaryDirectory() as tmp:
        env = bench_env(Path(tmp))
        samples = interleaved(
            {
                "python -c pass": [sys.executable, "-c", "pass"],
                "import typer.rich_utils": [sys.executable, "-c", "import typer.rich_utils"],
                "jarvis --help": [*jarvis, "--help"],
                "jarvis doctor --json": [*jarvis, "doctor", "--json"],
            },
            runs,
            env,
        )
    print(f"{runs} interleaved runs each ({' '.join(jarvis)})\n")
    medians = report(samples, "import typer.rich_utils")
    print_ratio(
        medians, "jarvis --help", "import typer.rich_utils", TARGET, "jarvis --help / typer floor"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
