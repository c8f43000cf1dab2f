"""Selection: which model should answer a request, and why.

Owns the request and result types (`types`), qualification (`qualify`), the
arithmetic of strategies (`scoring`), ranking (`ranking`), the one-sentence
explanation (`reasoning`), cost estimates (`cost`), measured performance
(`metrics`), cooldowns (`cooldown`) and `SelectionEngine` (`engine`), which gathers
the inputs from the store, registry and vault and hands them to the pure ranking.

May import: `registry`, `vault`, `providers`, `store`, `context` and the top-level
`errors`/`redact`. Never `runs` or the CLI. Public names are re-exported here and
loaded on first use, so importing one submodule does not load the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jarvis_cli.core.selection.engine import SelectionEngine
    from jarvis_cli.core.selection.qualify import exclusion_summary
    from jarvis_cli.core.selection.types import (
        Exclusion,
        PreferredModelOutcome,
        RankInputs,
        ScoredCandidate,
        SelectionRequest,
        SelectionResult,
    )

__all__ = [
    "Exclusion",
    "PreferredModelOutcome",
    "RankInputs",
    "ScoredCandidate",
    "SelectionEngine",
    "SelectionRequest",
    "SelectionResult",
    "exclusion_summary",
]

_HOME = {
    "SelectionEngine": "engine",
    "exclusion_summary": "qualify",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    module = import_module(f"{__name__}.{_HOME.get(name, 'types')}")
    return getattr(module, name)
