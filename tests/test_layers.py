"""The core's layers hold: no import cycles, no module over 400 lines, no upward edge."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT.parent / "shared" / "tools" / "import_graph.py"
sys.path.insert(0, str(ROOT / "scripts"))

from check_layers import forbidden_edges  # noqa: E402


def test_rules_forbid_upward_and_sibling_edges() -> None:
    rules = set(forbidden_edges())
    core = "jarvis_cli.core"
    assert f"{core}:jarvis_cli.cli" in rules
    assert f"{core}.store:{core}.providers" in rules
    assert f"{core}.selection:{core}.runs" in rules
    assert f"{core}.vault:{core}.registry" in rules and f"{core}.registry:{core}.vault" in rules
    assert f"{core}.runs:{core}.selection" not in rules  # downward is allowed


@pytest.mark.skipif(
    not TOOL.exists(), reason="../shared/tools/import_graph.py not beside this checkout"
)
def test_import_graph_has_no_findings() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_layers.py"), str(TOOL)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().endswith("0 finding(s)")
