#!/usr/bin/env python3
"""Enforce the core's layers with the shared import-graph tool.

Usage: python scripts/check_layers.py [PATH_TO/import_graph.py]
(default: ../shared/tools/import_graph.py beside this checkout).

The layers are the ones drawn in docs/architecture.md and jarvis_cli/core/__init__.py:
a package may import only packages in lower layers; packages in one layer may not
import each other. Exit 1 on any finding (cycles, modules over 400 lines, a
forbidden edge), as the tool reports them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CORE = "jarvis_cli.core"
# Bottom first. A tuple is one layer of siblings.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "redact"),
    ("store",),
    ("context",),
    ("providers",),
    ("vault", "registry"),
    ("selection",),
    ("runs",),
    ("doctor",),
]


def forbidden_edges() -> list[str]:
    """One `SRC:DST` per rule: nothing in a layer imports a layer above or a sibling."""
    # serve (issue 26) sits above core beside cli: core imports neither; they import
    # not each other.
    rules = [f"{CORE}:jarvis_cli.cli", f"{CORE}:jarvis_cli.serve"]
    rules += ["jarvis_cli.serve:jarvis_cli.cli"]
    for i, layer in enumerate(LAYERS):
        above = [p for upper in LAYERS[i + 1 :] for p in upper]
        for src in layer:
            for dst in [*(s for s in layer if s != src), *above]:
                rules.append(f"{CORE}.{src}:{CORE}.{dst}")
    return rules


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    tool = Path(argv[0]) if argv else root.parent / "shared" / "tools" / "import_graph.py"
    if not tool.is_file():
        print(f"check_layers: {tool} not found", file=sys.stderr)
        return 2
    args = [sys.executable, str(tool), str(root / "jarvis_cli")]
    for rule in forbidden_edges():
        args += ["--forbid", rule]
    return subprocess.run(args, cwd=root).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
