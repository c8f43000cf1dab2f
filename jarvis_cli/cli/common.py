"""Pieces shared by the command modules: options, the process context."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    # Command modules are imported to build `--help`; the core loads only when a
    # command runs (config parsing and sqlite3 cost ~30 ms at start-up).
    from jarvis_cli.core.context import Context

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document to stdout (stable; see README).")
]
WideOption = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Show every column at full width, even past the terminal's edge (by default "
        "columns are hidden to fit).",
    ),
]
# Selection options shared by `select` and `complete`.
TaskOption = Annotated[
    str | None,
    typer.Option(
        "--task",
        help="Task category whose quality scores count: general, reasoning, coding, "
        "agentic_coding, mathematics, data_analysis, language, instruction_following "
        "(default: inferred from the prompt).",
        show_default=False,
    ),
]
MinQualityOption = Annotated[
    float | None,
    typer.Option(
        "--min-quality",
        min=0,
        max=1,
        help="Exclude models whose quality for the task is below Q (0..1).",
        show_default=False,
    ),
]

PreferOption = Annotated[
    float | None,
    typer.Option(
        "--prefer",
        min=0,
        max=1,
        help="Trade-off knob instead of a strategy: 0 = cheapest, 1 = most accurate; "
        "ranks by quality - 10^(3-6P) x cost / dearest candidate's cost.",
        show_default=False,
    ),
]

_context: Context | None = None


def get_context() -> Context:
    """The process-wide Context (paths from JARVIS_HOME or platform defaults)."""
    global _context
    if _context is None:
        from jarvis_cli.core.context import Context

        _context = Context()
    return _context


def reset_context() -> None:
    """Forget the process context (used by in-process tests between invocations)."""
    global _context
    if _context is not None:
        _context.close()
    _context = None
